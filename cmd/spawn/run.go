package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
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
	spawn help [command]  show help

Run "spawn help proxy" for the flags of spawn proxy.
`

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
-memory) and, when %s is set, encrypted with it.

Environment (flags override it):

`, protocol.HostPath, protocol.EnvStateKey)
	for _, v := range []struct{ name, help string }{
		{protocol.EnvProxyPort, fmt.Sprintf("port to serve the API on, all interfaces (%d)", protocol.DefaultProxyPort)},
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
	port    int
	system  string
	hostURL string
	dataDir string
	memory  bool
	log     logging.Config
}

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
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 && rest[0] == "proxy" {
			_, err := parseProxyFlags([]string{"-h"}, env, stdout)
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stdout, usage)
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
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

	engine, err := runtime.New(runtime.Options{
		System: cfg.system,
		Host:   transport.NewHostClient(cfg.hostURL, nil),
		Store:  store,
		Logger: logger.Named("runtime"),
	})
	if err != nil {
		return fmt.Errorf("starting the runtime: %w", err)
	}
	err = serveProxy(ctx, cfg, engine, logger, stdout, where)

	// However serving ended, the actors get to save their state.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if cerr := engine.Close(cctx); cerr != nil {
		err = errors.Join(err, fmt.Errorf("stopping the runtime: %w", cerr))
	}
	return err
}

// serveProxy serves the proxy API on top of engine until ctx is done, then
// shuts the HTTP server down gracefully.
func serveProxy(ctx context.Context, cfg proxyConfig, engine *runtime.Engine, logger *zap.Logger, stdout io.Writer, where string) error {
	l, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.port))
	if err != nil {
		return fmt.Errorf("listening on port %d (set -port or %s): %w", cfg.port, protocol.EnvProxyPort, err)
	}
	srv := transport.NewProxyServer(engine, logger.Named("http"))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	logger.Info("spawn proxy started", zap.Stringer("addr", l.Addr()), zap.String("system", cfg.system),
		zap.String("host", cfg.hostURL), zap.String("state", where))
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
	var opts []state.Option
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
	}
	return d, where, nil
}
