package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestSendsOverOTLP runs the example against a stand-in collector and
// checks that traces and metrics arrive at their OTLP/HTTP paths.
func TestSendsOverOTLP(t *testing.T) {
	collector, got := newCollector(t, nil)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	runAndCheck(t, got)
}

// TestPlainHTTPByDefault checks that with no endpoint set the example
// reaches a collector on localhost:4318 in plain HTTP, as Jaeger and the
// OpenTelemetry Collector listen, not in OpenTelemetry's default HTTPS.
func TestPlainHTTPByDefault(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:4318")
	if err != nil {
		t.Skipf("port 4318 is taken on this machine: %v", err)
	}
	_, got := newCollector(t, l)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	runAndCheck(t, got)
}

type pathCounts struct {
	mu  sync.Mutex
	got map[string]int
}

// newCollector starts a stand-in OTLP/HTTP collector, on l when it is not
// nil, that counts the requests to each path.
func newCollector(t *testing.T, l net.Listener) (*httptest.Server, *pathCounts) {
	counts := &pathCounts{got: map[string]int{}}
	collector := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		counts.mu.Lock()
		counts.got[r.URL.Path]++
		counts.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	if l != nil {
		collector.Listener.Close()
		collector.Listener = l
	}
	collector.Start()
	t.Cleanup(collector.Close)
	return collector, counts
}

// runAndCheck runs the example and checks that traces and metrics arrived.
func runAndCheck(t *testing.T, counts *pathCounts) {
	t.Helper()
	t.Setenv("OTEL_SERVICE_NAME", "otlp-example")
	t.Setenv("SPAWN_DATA_DIR", t.TempDir())
	t.Setenv("SPAWN_LOG", "off")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, 2); err != nil {
		t.Fatal(err)
	}
	counts.mu.Lock()
	defer counts.mu.Unlock()
	if counts.got["/v1/traces"] == 0 || counts.got["/v1/metrics"] == 0 {
		t.Fatalf("the collector got %v; want traces and metrics", counts.got)
	}
}
