package main

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/spawn-go/spawn/internal/promtext"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/transport"
)

// TestProxyServesMetrics scrapes spawn proxy's /metrics after a
// registration, a call and a call to an actor nobody serves, and reads the
// text as Prometheus would: the calls as served, the runtime's metrics
// from its own events.
func TestProxyServesMetrics(t *testing.T) {
	host, calls := fakeHost(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(lineWriter, 10)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"proxy", "-memory", "-registration-grace", "0s", "-port", "0", "-system", "test-system", "-host-addr", host.URL}, envMap(nil), out)
	}()
	var line string
	select {
	case line = <-out:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	}
	base := proxyURL(t, line)
	p := transport.NewProxyClient(base, nil, nil)
	if _, err := p.Register(ctx, registration()); err != nil {
		t.Fatalf("Register: %v", err)
	}
	call := func(actor string) error {
		_, err := p.Invoke(ctx, "test-system", actor, &protocol.InvocationRequest{
			System:     &protocol.ActorSystem{Name: "test-system"},
			Actor:      &protocol.Actor{Id: &protocol.ActorId{Name: actor, System: "test-system"}},
			ActionName: "Hi",
			Payload:    &protocol.InvocationRequest_Noop{Noop: &protocol.Noop{}},
		})
		return err
	}
	for range 2 {
		if err := call("joe"); err != nil {
			t.Fatal(err)
		}
		<-calls
	}
	if err := call("nobody"); err == nil {
		t.Fatal("a call to an unknown actor succeeded")
	}

	res, err := http.Get(base + metricsPath)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != promtext.ContentType {
		t.Fatalf("GET /metrics: %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	e, err := promtext.Parse(string(body))
	if err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	for _, tt := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"target_info", map[string]string{"service_name": "spawn-proxy", "spawn_system": "test-system"}, 1},
		// Counted once, by the runtime's Observer.
		{"spawn_registrations_total", nil, 1},
		// The runtime's own events and mailboxes.
		{"spawn_actor_active", map[string]string{"spawn_actor": "joe"}, 1},
		{"spawn_mailbox_depth", map[string]string{"spawn_actor": "joe"}, 0},
		{"rpc_server_call_duration_seconds_count", map[string]string{"rpc_method": "joe/Hi", "rpc_system_name": "spawn", "rpc_response_status_code": "OK"}, 2},
		{"rpc_server_call_duration_seconds_count", map[string]string{"rpc_method": "_OTHER", "error_type": "NOT_FOUND"}, 1},
	} {
		if got, ok := e.Value(tt.name, tt.labels); !ok || got != tt.want {
			t.Errorf("%s%v = %v (found: %v), want %v\n%s", tt.name, tt.labels, got, ok, tt.want, body)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
