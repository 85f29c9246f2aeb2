package logging

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"
)

func TestParse(t *testing.T) {
	const k8s = "KUBERNETES_SERVICE_HOST"
	tests := []struct {
		name string
		env  map[string]string
		want Config
	}{
		{"unset", nil, Config{Level: zapcore.InfoLevel}},
		{"unset on Kubernetes", map[string]string{k8s: "10.0.0.1"}, Config{Level: zapcore.InfoLevel, JSON: true}},
		{"debug", map[string]string{"SPAWN_LOG": "debug"}, Config{Level: zapcore.DebugLevel}},
		{"info", map[string]string{"SPAWN_LOG": "info"}, Config{Level: zapcore.InfoLevel}},
		{"warn", map[string]string{"SPAWN_LOG": "warn"}, Config{Level: zapcore.WarnLevel}},
		{"error", map[string]string{"SPAWN_LOG": "error"}, Config{Level: zapcore.ErrorLevel}},
		{"upper case", map[string]string{"SPAWN_LOG": "WARN"}, Config{Level: zapcore.WarnLevel}},
		{"off", map[string]string{"SPAWN_LOG": "off"}, Config{Off: true, Level: zapcore.InfoLevel}},
		{"none", map[string]string{"SPAWN_LOG": "none"}, Config{Off: true, Level: zapcore.InfoLevel}},
		{"json", map[string]string{"SPAWN_LOG": "json"}, Config{Level: zapcore.InfoLevel, JSON: true}},
		{"console", map[string]string{"SPAWN_LOG": "console"}, Config{Level: zapcore.InfoLevel}},
		{"console on Kubernetes", map[string]string{k8s: "10.0.0.1", "SPAWN_LOG": "console"}, Config{Level: zapcore.InfoLevel}},
		{"text is console", map[string]string{"SPAWN_LOG": "text"}, Config{Level: zapcore.InfoLevel}},
		{"dev is console at debug", map[string]string{k8s: "10.0.0.1", "SPAWN_LOG": "dev"}, Config{Level: zapcore.DebugLevel}},
		{"level and format", map[string]string{"SPAWN_LOG": "debug,json"}, Config{Level: zapcore.DebugLevel, JSON: true}},
		{"format and level, spaced", map[string]string{"SPAWN_LOG": " json , error "}, Config{Level: zapcore.ErrorLevel, JSON: true}},
		{"the last format wins", map[string]string{"SPAWN_LOG": "json,console"}, Config{Level: zapcore.InfoLevel}},
		{"the last level wins", map[string]string{"SPAWN_LOG": "debug,error"}, Config{Level: zapcore.ErrorLevel}},
		{"empty items", map[string]string{"SPAWN_LOG": ",warn,,"}, Config{Level: zapcore.WarnLevel}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(func(k string) string { return tt.env[k] })
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got != tt.want {
				t.Errorf("Parse = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	for _, v := range []string{"loud", "debug,loud", "jsonl", "verbose"} {
		t.Run(v, func(t *testing.T) {
			_, err := Parse(func(k string) string {
				if k == "SPAWN_LOG" {
					return v
				}
				return ""
			})
			if err == nil {
				t.Fatal("no error")
			}
			// The message names the variable and its value, and says what
			// the variable accepts.
			for _, want := range []string{"SPAWN_LOG=", v, Help} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestNew(t *testing.T) {
	if l := New(Config{Off: true, Level: zapcore.DebugLevel}); l.Core().Enabled(zapcore.FatalLevel) {
		t.Error("an off logger logs")
	}
	for _, json := range []bool{false, true} {
		l := New(Config{Level: zapcore.WarnLevel, JSON: json})
		if l.Core().Enabled(zapcore.InfoLevel) || !l.Core().Enabled(zapcore.WarnLevel) {
			t.Errorf("json=%v: a warn logger logs info, or not warn", json)
		}
	}
}

// TestNoCallerField checks that neither format writes the caller, which
// would name a line of the SDK, useless to its users.
func TestNoCallerField(t *testing.T) {
	for _, tt := range []struct {
		name string
		c    Config
	}{
		{"console", Config{Level: zapcore.InfoLevel}},
		{"json", Config{Level: zapcore.InfoLevel, JSON: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "log")
			cfg := zapConfig(tt.c)
			cfg.OutputPaths = []string{out}
			l, err := cfg.Build()
			if err != nil {
				t.Fatal(err)
			}
			l.Info("hello")
			_ = l.Sync()
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), "hello") {
				t.Fatalf("nothing logged: %q", b)
			}
			if strings.Contains(string(b), "caller") || strings.Contains(string(b), ".go:") {
				t.Errorf("the line names the caller: %q", b)
			}
		})
	}
}
