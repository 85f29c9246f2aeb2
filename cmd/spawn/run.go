package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/spawn-go/spawn/internal/logging"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime"
	"github.com/spawn-go/spawn/state"
	"github.com/spawn-go/spawn/transport"
)

// errUsage marks errors in the command line or environment, which main
// reports with exit status 2.
var errUsage = errors.New("usage")

// shutdownTimeout bounds the graceful shutdown after SIGINT or SIGTERM: in
// flight requests finish, then actors save their state.
const shutdownTimeout = 30 * time.Second

const usage = `spawn is the spawn-go command-line tool.

Usage:

	spawn proxy [flags]   run the standalone Spawn runtime
	spawn store encrypt   encrypt a plaintext state store with SPAWN_STATESTORE_KEY
	spawn store compact   give the space of deleted revisions back to the disk
	spawn help [command]  show help

Run "spawn help proxy" for the flags of spawn proxy, and "spawn help store"
for the store commands.
`

// storeUsage is the help of "spawn store".
func storeUsage() string {
	return fmt.Sprintf(`Usage: spawn store encrypt|compact [-data-dir directory]

Maintains the state store of spawn proxy or of the embedded runtime, which
must not be in use.

	spawn store encrypt   encrypt a plaintext store with %s, then compact it
	spawn store compact   give the space of deleted revisions back to the disk

Flags:

	-data-dir directory   the state store's directory (%s, or %s)
`, protocol.EnvStateKey, protocol.EnvDataDir, state.DefaultDir())
}

// defaultHostHost is where spawn proxy looks for the host program by
// default. The real proxy uses 0.0.0.0, which works as a destination on
// Linux only; a local development proxy means this machine.
const defaultHostHost = "127.0.0.1"

// proxyUsage is the help of "spawn proxy", up to its flags.
func proxyUsage() string {
	var b strings.Builder
	fmt.Fprintf(&b, `Usage: spawn proxy [flags]

Runs the spawn-go runtime as a standalone Spawn proxy: it serves the proxy's
HTTP API (registration, spawn, invoke, health) and calls the host's
POST %s to run actions. Hosts written with any Spawn SDK
can use it for local development. State is kept on disk (or in memory with
-memory) and, when %s is set, encrypted with it. Metrics are served
at GET /metrics in the Prometheus text format. With -dashboard, a web
page on a loopback port of its own shows the actors, their state and
revisions, and the recent invocations (docs/guide/12-dashboard.md).

Environment (flags override it):

`, protocol.HostPath, protocol.EnvStateKey)
	for _, v := range []struct{ name, help string }{
		{protocol.EnvProxyBind, "address to serve the API on (127.0.0.1; 0.0.0.0 for every interface)"},
		{protocol.EnvProxyPort, fmt.Sprintf("port to serve the API on (%d)", protocol.DefaultProxyPort)},
		{protocol.EnvToken, "token hosts must send, and that is sent to the host (none)"},
		{protocol.EnvDashboardAddr, "loopback address to serve the dashboard on (none)"},
		{protocol.EnvKeepRevisions, fmt.Sprintf("revisions kept per actor (%d; -1 keeps all)", state.DefaultKeepRevisions)},
		{protocol.EnvMaxMailbox, fmt.Sprintf("invocations waiting per actor (%d)", runtime.DefaultMaxMailbox)},
		{protocol.EnvMaxAsyncBytes, fmt.Sprintf("payload bytes of async calls waiting (%d)", runtime.DefaultMaxAsyncBytes)},
		{protocol.EnvMaxInflightBytes, fmt.Sprintf("request body bytes held at once (%d)", transport.DefaultMaxInflightBytes)},
		{protocol.EnvRegistrationGrace, fmt.Sprintf("wait for hosts to register after a start (%v)", defaultRegistrationGrace)},
		{protocol.EnvSystem, fmt.Sprintf("actor system served (%s)", protocol.DefaultSystem)},
		{protocol.EnvHostHost, fmt.Sprintf("host program's address (%s; the real proxy uses 0.0.0.0)", defaultHostHost)},
		{protocol.EnvHostPort, fmt.Sprintf("host program's port (%d)", protocol.DefaultHostPort)},
		{protocol.EnvDataDir, "state directory (default: see -data-dir)"},
		{protocol.EnvStateKey, "base64 AES-256 key for state at rest (openssl rand -base64 32)"},
		{protocol.EnvLog, "log level and format, described below"},
	} {
		fmt.Fprintf(&b, "\t%-24s %s\n", v.name, v.help)
	}
	fmt.Fprintf(&b, "\n%s\n\nFlags:\n", logging.Help)
	return b.String()
}

// proxyConfig is the configuration of "spawn proxy".
type proxyConfig struct {
	bind     string
	port     int
	system   string
	hostURL  string
	dataDir  string
	memory   bool
	log      logging.Config
	token    string
	keepRevs int
	limits   limits
	grace    time.Duration
	// dashboard is where the dashboard listens; "" for nowhere.
	dashboard string
}

// limits are the bounds of item "memory" of docs/reliability.md.
type limits struct {
	maxMailbox       int
	maxAsyncBytes    int64
	maxInflightBytes int64
}

// defaultRegistrationGrace is how long a call to an unregistered actor
// waits for its host to register, after spawn proxy starts.
const defaultRegistrationGrace = 10 * time.Second

// run runs the command line args (without the program name), reading the
// environment through env and printing to stdout. It returns when the
// command is done or, for "spawn proxy", when ctx is cancelled and the
// runtime has shut down. The encryption key is read by state.KeyFromEnv,
// from the process environment.
func run(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return nil
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "proxy":
		cfg, err := parseProxyFlags(rest, env, stdout)
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		if err != nil {
			return err
		}
		return runProxy(ctx, cfg, stdout)
	case "store":
		return runStore(rest, env, stdout)
	case "help", "-h", "-help", "--help":
		return help(rest, env, stdout)
	default:
		fmt.Fprint(stdout, usage)
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
}

// help runs "spawn help [topic]": the topics are the commands.
func help(args []string, env func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return nil
	}
	switch args[0] {
	case "proxy":
		_, err := parseProxyFlags([]string{"-h"}, env, stdout)
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	case "store":
		fmt.Fprint(stdout, storeUsage())
		return nil
	}
	fmt.Fprint(stdout, usage)
	return fmt.Errorf("%w: no help for %q; the topics are proxy and store", errUsage, args[0])
}

// parseProxyFlags reads the environment, then the flags that override it.
func parseProxyFlags(args []string, env func(string) string, out io.Writer) (proxyConfig, error) {
	var cfg proxyConfig
	port, err := envPort(env, protocol.EnvProxyPort, protocol.DefaultProxyPort)
	if err != nil {
		return cfg, err
	}
	hostPort, err := envPort(env, protocol.EnvHostPort, protocol.DefaultHostPort)
	if err != nil {
		return cfg, err
	}
	hostAddr := net.JoinHostPort(envOr(env, protocol.EnvHostHost, defaultHostHost), strconv.Itoa(hostPort))
	dataDir := env(protocol.EnvDataDir)
	if dataDir == "" {
		dataDir = state.DefaultDir()
	}

	fs := flag.NewFlagSet("spawn proxy", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, proxyUsage())
		fs.PrintDefaults()
	}
	var err2 error
	num := func(name string, def int64) int64 {
		v := env(name)
		if v == "" || err2 != nil {
			return def
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			err2 = fmt.Errorf("%w: %s=%q is not an integer", errUsage, name, v)
		}
		return n
	}
	grace := defaultRegistrationGrace
	if v := env(protocol.EnvRegistrationGrace); v != "" {
		if grace, err = time.ParseDuration(v); err != nil {
			return cfg, fmt.Errorf("%w: %s=%q is not a duration", errUsage, protocol.EnvRegistrationGrace, v)
		}
	}
	fs.StringVar(&cfg.bind, "bind", envOr(env, protocol.EnvProxyBind, "127.0.0.1"), "`address` to serve the proxy API on; 0.0.0.0 serves every interface")
	tokenFile := ""
	fs.StringVar(&tokenFile, "token-file", "", "read the shared token from `file` (overrides "+protocol.EnvToken+")")
	fs.StringVar(&cfg.dashboard, "dashboard", env(protocol.EnvDashboardAddr), "serve the dashboard on `address`, on loopback (127.0.0.1:9090; :9090 means the same)")
	fs.IntVar(&cfg.keepRevs, "keep-revisions", int(num(protocol.EnvKeepRevisions, state.DefaultKeepRevisions)), "revisions of each actor's state to keep; -1 keeps all")
	fs.IntVar(&cfg.limits.maxMailbox, "max-mailbox", int(num(protocol.EnvMaxMailbox, runtime.DefaultMaxMailbox)), "invocations waiting in one actor's mailbox; -1 for no bound")
	fs.Int64Var(&cfg.limits.maxAsyncBytes, "max-async-bytes", num(protocol.EnvMaxAsyncBytes, runtime.DefaultMaxAsyncBytes), "payload bytes of async calls waiting to run; -1 for no bound")
	fs.Int64Var(&cfg.limits.maxInflightBytes, "max-inflight-bytes", num(protocol.EnvMaxInflightBytes, transport.DefaultMaxInflightBytes), "request body bytes held at once; -1 for no bound")
	fs.DurationVar(&cfg.grace, "registration-grace", grace, "after a start, how long a call to an unregistered actor waits for its host to register")
	if err2 != nil {
		return cfg, err2
	}
	cfg.token = env(protocol.EnvToken)
	fs.IntVar(&cfg.port, "port", port, "`port` to serve the proxy API on; 0 picks a free one")
	fs.StringVar(&cfg.system, "system", envOr(env, protocol.EnvSystem, protocol.DefaultSystem), "actor `system` served")
	fs.StringVar(&hostAddr, "host-addr", hostAddr, "`address` of the host program, host:port or a URL")
	fs.StringVar(&cfg.dataDir, "data-dir", dataDir, "`directory` for actor state")
	fs.BoolVar(&cfg.memory, "memory", false, "keep state in memory only; it is lost on exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("%w: spawn proxy takes no arguments, got %q", errUsage, fs.Args())
	}
	if cfg.port < 0 || cfg.port > 65535 {
		return cfg, fmt.Errorf("%w: -port %d is not a port number", errUsage, cfg.port)
	}
	if cfg.hostURL, err = hostURL(hostAddr); err != nil {
		return cfg, err
	}
	if cfg.log, err = logging.Parse(env); err != nil {
		return cfg, fmt.Errorf("%w: %v", errUsage, err)
	}
	if tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return cfg, fmt.Errorf("%w: -token-file: %v", errUsage, err)
		}
		cfg.token = strings.TrimSpace(string(b))
	}
	return cfg, nil
}

// hostURL turns "host:port" or a URL into the host's base URL.
func hostURL(addr string) (string, error) {
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("%w: host address %q: want host:port or an http:// URL", errUsage, addr)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func envOr(env func(string) string, name, def string) string {
	if v := env(name); v != "" {
		return v
	}
	return def
}

func envPort(env func(string) string, name string, def int) (int, error) {
	v := env(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("%w: %s=%q is not a port number", errUsage, name, v)
	}
	return n, nil
}

// runProxy runs the runtime until ctx is done, then shuts down in the order
// that loses nothing: readiness goes down, in-flight requests finish, actors
// save their state, and the store closes.
func runProxy(ctx context.Context, cfg proxyConfig, stdout io.Writer) (err error) {
	logger := logging.New(cfg.log)
	// Syncing a terminal's stderr fails on some systems; there is nothing
	// left to do about it at exit.
	defer func() { _ = logger.Sync() }()

	store, where, err := openStore(cfg)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("closing the state store: %w", cerr))
		}
	}()

	hostClient := transport.NewHostClient(cfg.hostURL, nil)
	hostClient.SetToken(cfg.token)
	metrics := newProxyMetrics(cfg.system)
	defer func() { _ = metrics.shutdown(context.WithoutCancel(ctx)) }()
	observer := metrics.tel.Observer()
	var dash *proxyDashboard
	if cfg.dashboard != "" {
		if dash, err = listenDashboard(cfg.dashboard); err != nil {
			return err
		}
		defer dash.close()
		observer = runtime.JoinObservers(observer, dash.recent.Observer())
	}
	engine, err := runtime.New(runtime.Options{
		System:            cfg.system,
		Host:              hostClient,
		Store:             store,
		Logger:            logger.Named("runtime"),
		MaxMailbox:        cfg.limits.maxMailbox,
		MaxAsyncBytes:     cfg.limits.maxAsyncBytes,
		RegistrationGrace: cfg.grace,
		Observer:          observer,
	})
	if err != nil {
		return fmt.Errorf("starting the runtime: %w", err)
	}
	if dash != nil {
		if err := dash.serve(engine, cfg, logger, stdout); err != nil {
			_ = engine.Close(context.WithoutCancel(ctx))
			return err
		}
	}
	if err := metrics.observe(engine); err != nil {
		logger.Warn("spawn.mailbox.depth is not recorded", zap.Error(err))
	}
	err = serveProxy(ctx, cfg, metrics.measured(engine), logger, stdout, where, metrics.route())
	if dash != nil {
		// The page is read from the engine: it stops first.
		dash.close()
	}

	// However serving ended, the actors get to save their state.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if cerr := engine.Close(cctx); cerr != nil {
		err = errors.Join(err, fmt.Errorf("stopping the runtime: %w", cerr))
	}
	return err
}

// serveProxy serves the proxy API on top of api until ctx is done, then
// shuts the HTTP server down gracefully. routes are extra routes, such as
// the metrics'.
func serveProxy(ctx context.Context, cfg proxyConfig, api transport.ProxyAPI, logger *zap.Logger, stdout io.Writer, where string, routes ...transport.ServerOption) error {
	l, err := net.Listen("tcp", net.JoinHostPort(cfg.bind, strconv.Itoa(cfg.port)))
	if err != nil {
		return fmt.Errorf("listening on %s port %d (set -bind and -port, or %s and %s): %w", cfg.bind, cfg.port, protocol.EnvProxyBind, protocol.EnvProxyPort, err)
	}
	opts := append([]transport.ServerOption{transport.WithToken(cfg.token), transport.WithMaxInflightBytes(cfg.limits.maxInflightBytes)}, routes...)
	srv := transport.NewProxyServer(api, logger.Named("http"), opts...)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	logger.Info("spawn proxy started", zap.Stringer("addr", l.Addr()), zap.String("system", cfg.system),
		zap.String("host", cfg.hostURL), zap.String("state", where))
	if cfg.token == "" && !isLoopback(cfg.bind) {
		logger.Warn("spawn proxy serves beyond this machine with no token: anyone who reaches "+l.Addr().String()+
			" can register actors, call them and read their state; set "+protocol.EnvToken+" or -token-file, or bind 127.0.0.1",
			zap.String("bind", cfg.bind))
	}
	fmt.Fprintf(stdout, "spawn proxy listening on %s (actor system %q, host %s, state %s)\n",
		l.Addr(), cfg.system, cfg.hostURL, where)

	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err := <-served:
		// Serve returns before Shutdown only when the listener fails.
		return fmt.Errorf("serving the proxy API: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	var errs []error
	if err := srv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping the HTTP server: %w", err))
	}
	if err := <-served; err != nil {
		errs = append(errs, fmt.Errorf("serving the proxy API: %w", err))
	}
	return errors.Join(errs...)
}

// openStore opens the configured state store and describes where it keeps
// state.
func openStore(cfg proxyConfig) (state.Store, string, error) {
	if cfg.memory {
		return state.NewMemory(), "in memory", nil
	}
	opts := []state.Option{state.WithKeepRevisions(cfg.keepRevs)}
	key, err := state.KeyFromEnv()
	if err != nil {
		return nil, "", err
	}
	if key != nil {
		opts = append(opts, state.WithKey(key))
	}
	d, err := state.Open(cfg.dataDir, opts...)
	if err != nil {
		return nil, "", fmt.Errorf("opening the state store (set -data-dir or %s to change it): %w", protocol.EnvDataDir, err)
	}
	where := d.Path()
	if key != nil {
		where += ", encrypted"
	} else {
		where += ", not encrypted (set " + protocol.EnvStateKey + ")"
	}
	for _, w := range d.Warnings() {
		fmt.Fprintln(os.Stderr, "spawn proxy: warning:", w)
	}
	return d, where, nil
}

// runStore runs "spawn store encrypt|compact [-data-dir D]".
func runStore(args []string, env func(string) string, stdout io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(stdout, storeUsage())
		return nil
	}
	if len(args) == 0 || (args[0] != "encrypt" && args[0] != "compact") {
		fmt.Fprint(stdout, storeUsage())
		return fmt.Errorf("%w: spawn store encrypt|compact [-data-dir D]", errUsage)
	}
	fs := flag.NewFlagSet("spawn store "+args[0], flag.ContinueOnError)
	fs.SetOutput(stdout)
	dir := env(protocol.EnvDataDir)
	if dir == "" {
		dir = state.DefaultDir()
	}
	fs.StringVar(&dir, "data-dir", dir, "`directory` of the state store; the store must not be in use")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if args[0] == "compact" {
		if err := state.Compact(dir); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "compacted", dir)
		return nil
	}
	key, err := state.KeyFromEnv()
	if err != nil {
		return err
	}
	if key == nil {
		return fmt.Errorf("%w: spawn store encrypt reads the key from %s, which is not set", errUsage, protocol.EnvStateKey)
	}
	if err := state.Encrypt(dir, key); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "encrypted and compacted", dir)
	return nil
}

// isLoopback reports whether a bind address serves this machine only.
func isLoopback(bind string) bool {
	if bind == "localhost" {
		return true
	}
	ip := net.ParseIP(bind)
	return ip != nil && ip.IsLoopback()
}
