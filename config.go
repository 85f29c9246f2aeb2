package spawn

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"go.uber.org/zap"
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
	proxyAddr   string
	mode        mode
	dataDir     string
	memory      bool
	logger      *zap.Logger
	stopTimeout time.Duration
}

// Defaults, matching the proxy and the other Spawn SDKs.
const (
	DefaultSystem   = "spawn-system"
	DefaultHostPort = 8090
	DefaultProxy    = "127.0.0.1:9001"
)

// loadConfig reads the environment variables the other Spawn SDKs read,
// then applies opts on top.
func loadConfig(getenv func(string) string, opts []Option) (config, error) {
	c := config{
		system:      or(getenv("PROXY_ACTOR_SYSTEM_NAME"), DefaultSystem),
		dataDir:     getenv("SPAWN_DATA_DIR"),
		stopTimeout: 30 * time.Second,
	}
	host := or(getenv("USER_FUNCTION_HOST"), "0.0.0.0")
	port := or(getenv("USER_FUNCTION_PORT"), strconv.Itoa(DefaultHostPort))
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return c, fmt.Errorf("spawn: USER_FUNCTION_PORT=%q is not a port number", port)
	}
	c.hostAddr = net.JoinHostPort(host, port)

	// The operator injects SPAWN_PROXY_*; the Node and Python SDKs read
	// PROXY_HTTP_*. Either one means a proxy is there to register with.
	phost := or(getenv("PROXY_HTTP_HOST"), getenv("SPAWN_PROXY_INTERFACE"))
	pport := or(getenv("PROXY_HTTP_PORT"), getenv("SPAWN_PROXY_PORT"))
	if phost != "" || pport != "" {
		if pport == "" {
			pport = "9001"
		}
		if _, err := strconv.ParseUint(pport, 10, 16); err != nil {
			return c, fmt.Errorf("spawn: proxy port %q (PROXY_HTTP_PORT or SPAWN_PROXY_PORT) is not a port number", pport)
		}
		if phost == "" || phost == "0.0.0.0" || phost == "::" {
			phost = "127.0.0.1" // a bind-all address means "this machine" to a client
		}
		c.proxyAddr = net.JoinHostPort(phost, pport)
		c.mode = modeProxy
	}
	for _, o := range opts {
		o.applyOption(&c)
	}
	if c.system == "" {
		return c, errors.New("spawn: WithSystem needs a name")
	}
	if c.mode == modeProxy {
		if _, _, err := net.SplitHostPort(c.proxyAddr); err != nil {
			return c, fmt.Errorf("spawn: proxy address %q is not host:port", c.proxyAddr)
		}
	}
	if c.logger == nil {
		c.logger = defaultLogger(getenv)
	}
	return c, nil
}

func defaultLogger(getenv func(string) string) *zap.Logger {
	var cfg zap.Config
	switch getenv("SPAWN_LOG") {
	case "off", "none":
		return zap.NewNop()
	case "debug", "dev":
		cfg = zap.NewDevelopmentConfig()
	default:
		cfg = zap.NewProductionConfig()
		cfg.Sampling = nil
	}
	l, err := cfg.Build()
	if err != nil {
		return zap.NewNop()
	}
	return l
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
// USER_FUNCTION_HOST:USER_FUNCTION_PORT, or 0.0.0.0:8090). Port 0 picks a
// free port, which System.HostAddress reports.
func WithHostAddress(addr string) Option {
	return optionFunc(func(c *config) { c.hostAddr = addr })
}

// WithProxy registers with the Spawn proxy at addr ("host:port") instead
// of running the embedded runtime. Without it, the proxy address comes
// from PROXY_HTTP_HOST/PROXY_HTTP_PORT or SPAWN_PROXY_INTERFACE/SPAWN_PROXY_PORT;
// with none set, actors run on the embedded runtime.
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

// WithLogger sets the logger (default: zap's production logger; SPAWN_LOG=debug
// for the development one, SPAWN_LOG=off for none).
func WithLogger(l *zap.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}

// WithStopTimeout bounds how long Run waits for in-flight invocations when
// it is told to stop (default 30s).
func WithStopTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.stopTimeout = d })
}
