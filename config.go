package spawn

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/spawn-go/spawn/internal/enginehook"
	"github.com/spawn-go/spawn/internal/logging"
	"github.com/spawn-go/spawn/internal/telemetry"
	"github.com/spawn-go/spawn/protocol"
)

// Option configures Start and Run. Options are passed among the actors:
//
//	spawn.Run(&Joe{}, spawn.WithSystem("shop"))
type Option interface {
	applyOption(*config)
}

type optionFunc func(*config)

func (f optionFunc) applyOption(c *config) { f(c) }

type mode int

const (
	modeAuto mode = iota
	modeEmbedded
	modeProxy
)

type config struct {
	system      string
	hostAddr    string
	mount       func(pattern string, h http.Handler)
	proxyAddr   string
	mode        mode
	dataDir     string
	memory      bool
	logger      *zap.Logger
	stopTimeout time.Duration
	token       string
	// Bounds, from the environment; 0 keeps each package's default.
	maxInflightBytes int64
	maxMailbox       int
	maxAsyncBytes    int64
	keepRevisions    int
	// engineHooks adjust the embedded runtime (spawntest's, through
	// internal/enginehook).
	engineHooks []enginehook.Hook

	// Telemetry: the providers and propagator asked for, and the
	// instrumentation built from them.
	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	propagator     propagation.TextMapPropagator
	tel            *telemetry.T

	// activatorAddr is where the JSON activator listens; "" for nowhere.
	activatorAddr string
	// dashboardAddr is where the dashboard listens; "" for nowhere.
	dashboardAddr string
}

// DefaultSystem is the actor system served when neither
// PROXY_ACTOR_SYSTEM_NAME nor WithSystem names one; the proxy's default too.
const DefaultSystem = protocol.DefaultSystem

// loadConfig reads the environment variables the other Spawn SDKs read,
// then applies opts on top.
func loadConfig(getenv func(string) string, opts []Option) (config, error) {
	c := config{
		system:      or(getenv(protocol.EnvSystem), DefaultSystem),
		dataDir:     getenv(protocol.EnvDataDir),
		stopTimeout: 30 * time.Second,
	}
	host := getenv(protocol.EnvHostHost)
	port := or(getenv(protocol.EnvHostPort), strconv.Itoa(protocol.DefaultHostPort))
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return c, fmt.Errorf("spawn: %s=%q is not a port number", protocol.EnvHostPort, port)
	}
	if host != "" {
		c.hostAddr = net.JoinHostPort(host, port)
	}
	c.token = getenv(protocol.EnvToken)
	c.activatorAddr = getenv(protocol.EnvActivatorAddr)
	c.dashboardAddr = getenv(protocol.EnvDashboardAddr)
	for _, n := range []struct {
		name string
		set  func(int64)
	}{
		{protocol.EnvMaxInflightBytes, func(v int64) { c.maxInflightBytes = v }},
		{protocol.EnvMaxMailbox, func(v int64) { c.maxMailbox = int(v) }},
		{protocol.EnvMaxAsyncBytes, func(v int64) { c.maxAsyncBytes = v }},
		{protocol.EnvKeepRevisions, func(v int64) { c.keepRevisions = int(v) }},
	} {
		if v := getenv(n.name); v != "" {
			x, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return c, fmt.Errorf("spawn: %s=%q is not an integer", n.name, v)
			}
			n.set(x)
		}
	}

	// The operator injects SPAWN_PROXY_*; the Node and Python SDKs read
	// PROXY_HTTP_*. Either one means a proxy is there to register with.
	phost := or(getenv(protocol.EnvProxyHost), getenv(protocol.EnvOperatorProxyHost))
	pport := or(getenv(protocol.EnvProxyPort), getenv(protocol.EnvOperatorProxyPort))
	if phost != "" || pport != "" {
		addr, err := proxyAddress(phost, pport)
		if err != nil {
			return c, fmt.Errorf("spawn: proxy address from %s/%s or %s/%s: %w",
				protocol.EnvProxyHost, protocol.EnvProxyPort, protocol.EnvOperatorProxyHost, protocol.EnvOperatorProxyPort, err)
		}
		c.proxyAddr, c.mode = addr, modeProxy
	}
	envProxy := c.proxyAddr
	for _, o := range opts {
		o.applyOption(&c)
	}
	if c.system == "" {
		return c, errors.New("spawn: WithSystem needs a name")
	}
	if c.mode == modeProxy {
		if c.proxyAddr != envProxy {
			// WithProxy's address, read as the environment's is.
			addr, err := parseProxyAddress(c.proxyAddr)
			if err != nil {
				return c, fmt.Errorf("spawn: WithProxy(%q): %w", c.proxyAddr, err)
			}
			c.proxyAddr = addr
		}
		phost, _, _ := net.SplitHostPort(c.proxyAddr)
		if c.hostAddr == "" {
			// The host endpoint runs whatever state it is sent: it listens
			// on loopback when its proxy is on this machine (or in this
			// pod, whose containers share loopback), and on every
			// interface only for a proxy elsewhere.
			bind := "0.0.0.0"
			if isLoopback(phost) {
				bind = "127.0.0.1"
			}
			c.hostAddr = net.JoinHostPort(bind, port)
		}
	}
	c.tel = newTelemetry(&c)
	if c.logger == nil {
		l, err := logging.FromEnv(getenv)
		if err != nil {
			return c, fmt.Errorf("spawn: %w", err)
		}
		c.logger = l
	}
	return c, nil
}

// parseProxyAddress reads a proxy address as WithProxy takes it:
// "host:port", ":port" or "host", each as proxyAddress reads them.
func parseProxyAddress(addr string) (string, error) {
	if strings.Contains(addr, "://") {
		return "", fmt.Errorf("proxy address %q is not host:port: drop the scheme", addr)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		// A host alone, like the environment's PROXY_HTTP_HOST without
		// PROXY_HTTP_PORT; an IPv6 address may come with brackets.
		host, port = strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]"), ""
		if host == "" || strings.ContainsAny(host, "[]/") || (strings.Contains(host, ":") && net.ParseIP(host) == nil) {
			return "", fmt.Errorf("proxy address %q is not host:port", addr)
		}
	}
	return proxyAddress(host, port)
}

// proxyAddress is the address to dial the proxy at, from a host and a
// port as the environment or WithProxy give them: the port defaults to
// the proxy's (9001), and an empty or bind-all host (0.0.0.0, ::) means
// this machine, which a client dials on loopback.
func proxyAddress(host, port string) (string, error) {
	if port == "" {
		port = strconv.Itoa(protocol.DefaultProxyPort)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", fmt.Errorf("proxy port %q is not a port number", port)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// isLoopback reports whether host names this machine's loopback.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// WithSystem sets the actor system (default: PROXY_ACTOR_SYSTEM_NAME, or
// "spawn-system"). The real proxy serves only the system it was started with.
func WithSystem(name string) Option {
	return optionFunc(func(c *config) { c.system = name })
}

// WithHostAddress sets where the host listens for the proxy (default:
// USER_FUNCTION_HOST:USER_FUNCTION_PORT; without USER_FUNCTION_HOST,
// 127.0.0.1 when the proxy's address is loopback, as in a pod whose
// sidecar shares it, and 0.0.0.0 when the proxy is elsewhere; the port
// defaults to 8090). Port 0 picks a free port, which System.HostAddress
// reports.
func WithHostAddress(addr string) Option {
	return optionFunc(func(c *config) { c.hostAddr = addr })
}

// WithMount serves the host endpoint on an HTTP server of your own instead
// of a listener of its own: Start hands the endpoint's path and handler to
// mount, then registers with the proxy. Serve your server before Start, since
// the proxy may call the host as soon as it registers the actors:
//
//	mux := http.NewServeMux()
//	go http.ListenAndServe(":8090", mux)
//	sys, err := spawn.Start(ctx, &Joe{}, spawn.WithMount(mux.Handle), spawn.WithProxy("127.0.0.1:9001"))
//
// The handler answers POST only. With the embedded runtime, which needs no
// host endpoint, mount is not called (Start logs a warning).
func WithMount(mount func(path string, h http.Handler)) Option {
	return optionFunc(func(c *config) { c.mount = mount })
}

// WithProxy registers with the Spawn proxy at addr ("host:port") instead
// of running the embedded runtime. Without it, the proxy address comes
// from PROXY_HTTP_HOST/PROXY_HTTP_PORT or SPAWN_PROXY_INTERFACE/SPAWN_PROXY_PORT;
// with none set, actors run on the embedded runtime. addr takes the forms
// those variables do: the port defaults to 9001 ("proxy" is "proxy:9001"),
// and an empty or bind-all host means this machine (":9001" and
// "0.0.0.0:9001" dial 127.0.0.1:9001).
func WithProxy(addr string) Option {
	return optionFunc(func(c *config) { c.proxyAddr, c.mode = addr, modeProxy })
}

// WithEmbedded runs actors on the embedded runtime even when a proxy
// address is set in the environment.
func WithEmbedded() Option {
	return optionFunc(func(c *config) { c.mode = modeEmbedded })
}

// WithDataDir sets where the embedded runtime keeps state (default:
// SPAWN_DATA_DIR, or a "spawn" folder under the user's state directory).
func WithDataDir(dir string) Option {
	return optionFunc(func(c *config) { c.dataDir = dir })
}

// WithMemoryStore keeps the embedded runtime's state in memory only: it
// is gone when the program stops. For tests.
func WithMemoryStore() Option {
	return optionFunc(func(c *config) { c.memory = true })
}

// WithLogger sets the logger; nil means the default. By default SPAWN_LOG chooses the level
// (debug, info, warn, error, or off; default info) and the format (console,
// or json; default console, and json on Kubernetes), as in SPAWN_LOG=debug,json.
func WithLogger(l *zap.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}

// WithStopTimeout bounds how long Run waits for in-flight invocations when
// it is told to stop (default 30s).
func WithStopTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.stopTimeout = d })
}

// WithToken sets a token shared with spawn-go's proxy (default:
// SPAWN_TOKEN): the host endpoint refuses calls without it, and calls to
// the proxy carry it. The real Spawn proxy sends and checks no token:
// leave it unset there.
func WithToken(token string) Option {
	return optionFunc(func(c *config) { c.token = token })
}
