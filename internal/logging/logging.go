// Package logging builds the zap logger that spawn-go programs and
// `spawn proxy` use unless they are given one, from SPAWN_LOG.
package logging

import (
	"fmt"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/spawn-go/spawn/protocol"
)

// Help describes SPAWN_LOG, for usage texts and error messages.
const Help = `SPAWN_LOG sets the log level and format, as a comma-separated list:
a level (debug, info, warn, error; default info) or off, and a format
(console or json). The default format is console, readable in a terminal,
except on Kubernetes (KUBERNETES_SERVICE_HOST set), where it is json.`

// Config is what SPAWN_LOG asks for.
type Config struct {
	Off   bool
	Level zapcore.Level
	JSON  bool
}

// Parse reads SPAWN_LOG from getenv.
func Parse(getenv func(string) string) (Config, error) {
	c := Config{Level: zapcore.InfoLevel, JSON: getenv("KUBERNETES_SERVICE_HOST") != ""}
	v := getenv(protocol.EnvLog)
	for _, item := range strings.Split(v, ",") {
		item = strings.ToLower(strings.TrimSpace(item))
		switch item {
		case "":
		case "off", "none":
			c.Off = true
		case "json":
			c.JSON = true
		case "console", "text", "dev":
			c.JSON = false
			if item == "dev" {
				c.Level = zapcore.DebugLevel
			}
		default:
			var l zapcore.Level
			if err := l.UnmarshalText([]byte(item)); err != nil {
				return c, fmt.Errorf("%s=%q: %q is neither a level nor a format\n%s", protocol.EnvLog, v, item, Help)
			}
			c.Level = l
		}
	}
	return c, nil
}

// New returns the logger Config asks for, writing to standard error.
func New(c Config) *zap.Logger {
	if c.Off {
		return zap.NewNop()
	}
	l, err := zapConfig(c).Build()
	if err != nil {
		return zap.NewNop()
	}
	return l
}

// zapConfig is the zap configuration of c, writing to standard error.
func zapConfig(c Config) zap.Config {
	var cfg zap.Config
	if c.JSON {
		cfg = zap.NewProductionConfig()
		cfg.Sampling = nil
	} else {
		cfg = zap.NewDevelopmentConfig()
		cfg.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
		cfg.EncoderConfig.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05.000")
		cfg.Development = false
	}
	// In either format, the caller would point into the SDK, not at the
	// user's code.
	cfg.DisableCaller = true
	cfg.Level = zap.NewAtomicLevelAt(c.Level)
	cfg.DisableStacktrace = true
	return cfg
}

// FromEnv is Parse then New; an invalid SPAWN_LOG is an error.
func FromEnv(getenv func(string) string) (*zap.Logger, error) {
	c, err := Parse(getenv)
	if err != nil {
		return nil, err
	}
	return New(c), nil
}
