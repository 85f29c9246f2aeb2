package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/spawn-go/spawn/protocol"
)

// notifyListener reports when it is closed: Shutdown closes listeners
// before it waits for in-flight requests.
type notifyListener struct {
	net.Listener
	once   sync.Once
	closed chan struct{}
}

func (l *notifyListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

func listen(t *testing.T) *notifyListener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return &notifyListener{Listener: l, closed: make(chan struct{})}
}

func TestServerServeAndShutdown(t *testing.T) {
	defer goleak.VerifyNone(t)
	l := listen(t)
	s := NewProxyServer(&fakeAPI{}, nil)
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()

	client := &http.Client{Transport: &http.Transport{}}
	res, err := client.Get("http://" + l.Addr().String() + "/health")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("health: %d", res.StatusCode)
	}

	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v, want nil after Shutdown", err)
	}
	client.CloseIdleConnections()
	if _, err := client.Get("http://" + l.Addr().String() + "/health"); err == nil {
		t.Error("request after Shutdown succeeded")
	}
	// Shutdown leaves readiness down.
	if rec := serve(t, s.Handler(), "GET", "/health/readiness", "", nil); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("readiness after Shutdown: %d", rec.Code)
	}
}

func TestServerShutdownLetsInFlightRequestFinish(t *testing.T) {
	defer goleak.VerifyNone(t)
	entered, release := make(chan struct{}), make(chan struct{})
	s := NewHostServer(func(ctx context.Context, body []byte) (int, []byte) {
		close(entered)
		<-release
		return http.StatusOK, []byte("done: " + string(body))
	}, nil)
	l := listen(t)
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()

	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	type result struct {
		code int
		body string
		err  error
	}
	answered := make(chan result, 1)
	go func() {
		res, err := client.Post("http://"+l.Addr().String()+protocol.HostPath, "application/octet-stream", strings.NewReader("inv"))
		if err != nil {
			answered <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		answered <- result{code: res.StatusCode, body: string(b), err: err}
	}()

	<-entered
	shutdown := make(chan error, 1)
	go func() { shutdown <- s.Shutdown(context.Background()) }()
	<-l.closed // no new connections from here on

	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned %v while a request was in flight", err)
	default:
	}
	close(release)

	r := <-answered
	if r.err != nil || r.code != http.StatusOK || r.body != "done: inv" {
		t.Fatalf("in-flight request: %d %q %v", r.code, r.body, r.err)
	}
	if err := <-shutdown; err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v", err)
	}
}

func TestServerShutdownDeadline(t *testing.T) {
	defer goleak.VerifyNone(t)
	entered, release := make(chan struct{}), make(chan struct{})
	s := NewHostServer(func(context.Context, []byte) (int, []byte) {
		close(entered)
		<-release
		return http.StatusOK, nil
	}, nil)
	l := listen(t)
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()

	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	answered := make(chan error, 1)
	go func() {
		res, err := client.Post("http://"+l.Addr().String()+protocol.HostPath, "", nil)
		if err == nil {
			res.Body.Close()
		}
		answered <- err
	}()
	<-entered

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown with a done context = %v, want context.Canceled", err)
	}
	close(release)
	if err := <-answered; err != nil {
		t.Errorf("in-flight request: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v", err)
	}
}

func TestServerServeClosedListener(t *testing.T) {
	l := listen(t)
	l.Close()
	if err := NewHostServer(nil, nil).Serve(l); err == nil {
		t.Fatal("Serve on a closed listener returned nil")
	}
}

func TestSnippet(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", "empty body"},
		{"Not found!", `10 bytes: "Not found!"`},
		{"\xff\x00", "2 bytes: hex ff00"},
		{strings.Repeat("a", 100), `100 bytes: "` + strings.Repeat("a", 64) + `"...`},
		{strings.Repeat("\x01", 100), "100 bytes: hex " + strings.Repeat("01", 32) + "..."},
		// A multi-byte rune cut at the limit is dropped, not shown as hex.
		{strings.Repeat("a", 63) + "é" + "zz", `67 bytes: "` + strings.Repeat("a", 63) + `"...`},
	}
	for _, tt := range tests {
		if got := snippet([]byte(tt.in)); got != tt.want {
			t.Errorf("snippet(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
