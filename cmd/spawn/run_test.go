package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/internal/logging"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime"
	"github.com/spawn-go/spawn/state"
	"github.com/spawn-go/spawn/transport"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestRunUsage(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantOut string
		wantErr bool
	}{
		{"no arguments", nil, nil, "spawn proxy [flags]", false},
		{"help", []string{"help"}, nil, "spawn proxy [flags]", false},
		{"-h", []string{"-h"}, nil, "spawn help [command]", false},
		{"help proxy", []string{"help", "proxy"}, nil, "-memory", false},
		{"help store", []string{"help", "store"}, nil, "spawn store compact", false},
		{"help store names the flag", []string{"help", "store"}, nil, "-data-dir", false},
		{"store -h", []string{"store", "-h"}, nil, "spawn store encrypt", false},
		{"store without a command", []string{"store"}, nil, "spawn store compact", true},
		{"help on an unknown topic", []string{"help", "serve"}, nil, "spawn proxy [flags]", true},
		{"proxy -h", []string{"proxy", "-h"}, nil, "USER_FUNCTION_HOST", false},
		{"unknown command", []string{"serve"}, nil, "spawn proxy [flags]", true},
		{"unknown flag", []string{"proxy", "-verbose"}, nil, "flag provided but not defined", true},
		{"extra argument", []string{"proxy", "now"}, nil, "", true},
		{"bad port flag", []string{"proxy", "-port", "70000"}, nil, "", true},
		{"bad port env", []string{"proxy"}, map[string]string{"PROXY_HTTP_PORT": "http"}, "", true},
		{"bad host port env", []string{"proxy"}, map[string]string{"USER_FUNCTION_PORT": "-1"}, "", true},
		{"bad host address", []string{"proxy", "-host-addr", "ftp://host"}, nil, "", true},
		{"bad SPAWN_LOG", []string{"proxy"}, map[string]string{"SPAWN_LOG": "loud"}, "", true},
		{"help describes SPAWN_LOG", []string{"help", "proxy"}, nil, logging.Help, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tt.args, envMap(tt.env), &out)
			if tt.wantErr != (err != nil) {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, errUsage) {
				t.Errorf("err = %v, want a usage error", err)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("output %q does not contain %q", out.String(), tt.wantOut)
			}
		})
	}
}

func TestParseProxyFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want proxyConfig
	}{
		{
			name: "defaults",
			env:  map[string]string{"SPAWN_DATA_DIR": "/data"},
			want: proxyConfig{port: 9001, system: "spawn-system", hostURL: "http://127.0.0.1:8090", dataDir: "/data", log: logging.Config{Level: zapcore.InfoLevel}},
		},
		{
			name: "environment",
			env: map[string]string{
				"PROXY_HTTP_PORT": "9100", "PROXY_ACTOR_SYSTEM_NAME": "sys", "USER_FUNCTION_HOST": "::1",
				"USER_FUNCTION_PORT": "8091", "SPAWN_DATA_DIR": "/data", "SPAWN_LOG": "debug",
			},
			want: proxyConfig{port: 9100, system: "sys", hostURL: "http://[::1]:8091", dataDir: "/data", log: logging.Config{Level: zapcore.DebugLevel}},
		},
		{
			name: "flags override the environment",
			args: []string{"-port", "0", "-system", "other", "-host-addr", "https://host.example:443/", "-data-dir", "/tmp/x", "-memory"},
			env:  map[string]string{"PROXY_HTTP_PORT": "9100", "PROXY_ACTOR_SYSTEM_NAME": "sys", "SPAWN_DATA_DIR": "/data"},
			want: proxyConfig{port: 0, system: "other", hostURL: "https://host.example:443", dataDir: "/tmp/x", memory: true, log: logging.Config{Level: zapcore.InfoLevel}},
		},
		{
			name: "json logs on Kubernetes",
			env:  map[string]string{"SPAWN_DATA_DIR": "/data", "KUBERNETES_SERVICE_HOST": "10.0.0.1", "SPAWN_LOG": "warn"},
			want: proxyConfig{port: 9001, system: "spawn-system", hostURL: "http://127.0.0.1:8090", dataDir: "/data", log: logging.Config{Level: zapcore.WarnLevel, JSON: true}},
		},
	}
	tests = append(tests, struct {
		name string
		args []string
		env  map[string]string
		want proxyConfig
	}{
		name: "bounds, token and bind",
		args: []string{"-bind", "0.0.0.0", "-max-mailbox", "5", "-keep-revisions", "-1", "-registration-grace", "1s"},
		env: map[string]string{"SPAWN_DATA_DIR": "/data", "SPAWN_TOKEN": "t", "SPAWN_MAX_ASYNC_BYTES": "7",
			"SPAWN_MAX_INFLIGHT_BYTES": "8", "SPAWN_MAX_MAILBOX": "9"},
		want: proxyConfig{bind: "0.0.0.0", port: 9001, system: "spawn-system", hostURL: "http://127.0.0.1:8090", dataDir: "/data",
			log: logging.Config{Level: zapcore.InfoLevel}, token: "t", keepRevs: -1,
			limits: limits{maxMailbox: 5, maxAsyncBytes: 7, maxInflightBytes: 8}, grace: time.Second},
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProxyFlags(tt.args, envMap(tt.env), &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.want.bind == "" {
				// The defaults of what the older cases do not set.
				tt.want.bind, tt.want.keepRevs, tt.want.grace = "127.0.0.1", state.DefaultKeepRevisions, defaultRegistrationGrace
				tt.want.limits = limits{runtime.DefaultMaxMailbox, runtime.DefaultMaxAsyncBytes, transport.DefaultMaxInflightBytes}
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// lineWriter hands each write to a channel, so that a test can wait for
// what run prints.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) {
	w <- string(p)
	return len(p), nil
}

// fakeHost answers every action with the action's name as a JSON payload.
func fakeHost(t *testing.T) (*httptest.Server, chan *protocol.ActorInvocation) {
	t.Helper()
	calls := make(chan *protocol.ActorInvocation, 10)
	h := transport.NewHostServer(func(_ context.Context, body []byte) (int, []byte) {
		inv := new(protocol.ActorInvocation)
		if err := proto.Unmarshal(body, inv); err != nil {
			t.Errorf("host got a bad invocation: %v", err)
			return http.StatusBadRequest, nil
		}
		calls <- inv
		v, _ := anypb.New(&protocol.JSONType{Content: `"` + inv.GetActionName() + `"`})
		b, _ := proto.Marshal(&protocol.ActorInvocationResponse{
			UpdatedContext: inv.GetCurrentContext(),
			Payload:        &protocol.ActorInvocationResponse_Value{Value: v},
		})
		return http.StatusOK, b
	}, nil)
	srv := httptest.NewServer(h.Handler())
	t.Cleanup(srv.Close)
	return srv, calls
}

func TestRunProxy(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	tests := []struct {
		name      string
		args      []string
		key       string
		wantState string
	}{
		{"memory", []string{"-memory"}, "", "state in memory"},
		{"disk", []string{"-data-dir", "DIR"}, "", "state DIR"},
		{"encrypted disk", []string{"-data-dir", "DIR"}, base64.StdEncoding.EncodeToString(key), ", encrypted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SPAWN_STATESTORE_KEY", tt.key) // read by state.KeyFromEnv
			dir := t.TempDir()
			host, calls := fakeHost(t)
			args := []string{"proxy", "-port", "0", "-system", "test-system", "-host-addr", host.URL}
			for _, a := range tt.args {
				args = append(args, strings.ReplaceAll(a, "DIR", dir))
			}

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := make(lineWriter, 10)
			done := make(chan error, 1)
			go func() { done <- run(ctx, args, envMap(nil), out) }()

			var line string
			select {
			case line = <-out:
			case err := <-done:
				t.Fatalf("run returned early: %v", err)
			}
			if !strings.Contains(line, strings.ReplaceAll(tt.wantState, "DIR", dir)) || !strings.Contains(line, host.URL) {
				t.Errorf("start line %q", line)
			}
			base := proxyURL(t, line)

			res, err := http.Get(base + "/health/readiness")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Errorf("readiness %d", res.StatusCode)
			}

			p := transport.NewProxyClient(base, nil, nil)
			if _, err := p.Register(ctx, registration()); err != nil {
				t.Fatalf("Register: %v", err)
			}
			resp, err := p.Invoke(ctx, "test-system", "joe", &protocol.InvocationRequest{
				System:     &protocol.ActorSystem{Name: "test-system"},
				Actor:      &protocol.Actor{Id: &protocol.ActorId{Name: "joe", System: "test-system"}},
				ActionName: "Hi",
				Payload:    &protocol.InvocationRequest_Noop{Noop: &protocol.Noop{}},
			})
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			var payload protocol.JSONType
			if err := resp.GetValue().UnmarshalTo(&payload); err != nil || payload.GetContent() != `"Hi"` {
				t.Errorf("payload %v (%v)", resp.GetValue(), err)
			}
			if inv := <-calls; inv.GetActor().GetName() != "joe" || inv.GetActionName() != "Hi" {
				t.Errorf("host got %v", inv)
			}

			cancel()
			if err := <-done; err != nil {
				t.Fatalf("run after cancel: %v", err)
			}
			if _, err := http.Get(base + "/health"); err == nil {
				t.Error("proxy still serving after run returned")
			}
		})
	}
}

// proxyURL reads the proxy's address from run's start line.
func proxyURL(t *testing.T, line string) string {
	t.Helper()
	f := strings.Fields(line)
	if len(f) < 5 {
		t.Fatalf("start line %q", line)
	}
	_, port, err := net.SplitHostPort(f[4])
	if err != nil {
		t.Fatalf("start line %q: %v", line, err)
	}
	return "http://127.0.0.1:" + port
}

func registration() *protocol.RegistrationRequest {
	return &protocol.RegistrationRequest{
		ServiceInfo: &protocol.ServiceInfo{ServiceName: "test"},
		ActorSystem: &protocol.ActorSystem{
			Name: "test-system",
			Registry: &protocol.Registry{Actors: map[string]*protocol.Actor{
				"joe": {
					Id:       &protocol.ActorId{Name: "joe", System: "test-system"},
					State:    &protocol.ActorState{},
					Metadata: &protocol.Metadata{},
					Settings: &protocol.ActorSettings{
						Kind: protocol.Kind_NAMED,
						DeactivationStrategy: &protocol.ActorDeactivationStrategy{
							Strategy: &protocol.ActorDeactivationStrategy_Timeout{Timeout: &protocol.TimeoutStrategy{Timeout: 60000}},
						},
					},
					Actions: []*protocol.Action{{Name: "Hi"}},
				},
			}},
		},
	}
}

func TestIsLoopback(t *testing.T) {
	for bind, want := range map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true, "0.0.0.0": false, "": false, "10.0.0.5": false, "::": false} {
		if got := isLoopback(bind); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", bind, got, want)
		}
	}
}
