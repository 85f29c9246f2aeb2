package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/protocol"
)

// fastRetries shortens Register's backoff for tests.
func fastRetries(p *ProxyClient) *ProxyClient {
	p.firstDelay, p.maxDelay = time.Millisecond, 4*time.Millisecond
	return p
}

func TestProxyClientAgainstProxyServer(t *testing.T) {
	api := &fakeAPI{}
	srv := httptest.NewServer(NewProxyServer(api, nil).Handler())
	defer srv.Close()
	p := NewProxyClient(srv.URL, srv.Client(), nil)
	ctx := context.Background()

	reg, err := p.Register(ctx, testRegistration())
	if err != nil || reg.GetStatus().GetStatus() != protocol.Status_OK || reg.GetProxyInfo() == nil {
		t.Fatalf("Register = %v, %v", reg, err)
	}
	sp, err := p.Spawn(ctx, "spawn-system", &protocol.SpawnRequest{Actors: []*protocol.ActorId{{Name: "i"}}}, 4)
	if err != nil || sp.GetStatus().GetMessage() != "Accepted" || api.lastRev != 4 {
		t.Fatalf("Spawn = %v, %v (revision %d)", sp, err, api.lastRev)
	}
	inv, err := p.Invoke(ctx, "spawn-system", "joe", testInvocation())
	if err != nil || inv.GetStatus().GetStatus() != protocol.Status_OK || inv.GetNoop() == nil {
		t.Fatalf("Invoke = %v, %v", inv, err)
	}

	api.invoke = func(*protocol.InvocationRequest) (*protocol.InvocationResponse, error) {
		return nil, statusErr{protocol.Status_ACTOR_NOT_FOUND, "Actor joe not found"}
	}
	_, err = p.Invoke(ctx, "spawn-system", "joe", testInvocation())
	var se *StatusError
	if !errors.As(err, &se) || se.HTTPStatus != 500 || se.Status != protocol.Status_ACTOR_NOT_FOUND || se.Message != "Actor joe not found" {
		t.Fatalf("err = %#v", err)
	}
}

// recordingProxy answers every request with 200 and resp, and records the
// requests it got.
type recordingProxy struct {
	mu   sync.Mutex
	reqs []*http.Request
	resp proto.Message
}

func (rp *recordingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rp.mu.Lock()
	rp.reqs = append(rp.reqs, r)
	rp.mu.Unlock()
	b, _ := proto.Marshal(rp.resp)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(b)
}

func (rp *recordingProxy) last(t *testing.T) *http.Request {
	t.Helper()
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if len(rp.reqs) == 0 {
		t.Fatal("no request")
	}
	return rp.reqs[len(rp.reqs)-1]
}

func TestProxyClientRequests(t *testing.T) {
	ok := &protocol.RequestStatus{Status: protocol.Status_OK}
	tests := []struct {
		name      string
		resp      proto.Message
		call      func(p *ProxyClient) error
		wantPath  string // escaped
		wantQuery string
	}{
		{
			name: "register", resp: &protocol.RegistrationResponse{Status: ok},
			call:     func(p *ProxyClient) error { _, err := p.Register(context.Background(), testRegistration()); return err },
			wantPath: "/api/v1/system",
		},
		{
			name: "spawn", resp: &protocol.SpawnResponse{Status: ok},
			call: func(p *ProxyClient) error {
				_, err := p.Spawn(context.Background(), "spawn-system", &protocol.SpawnRequest{}, 0)
				return err
			},
			wantPath: "/api/v1/system/spawn-system/actors/spawn",
		},
		{
			name: "spawn revision", resp: &protocol.SpawnResponse{Status: ok},
			call: func(p *ProxyClient) error {
				_, err := p.Spawn(context.Background(), "spawn-system", &protocol.SpawnRequest{}, 12)
				return err
			},
			wantPath: "/api/v1/system/spawn-system/actors/spawn", wantQuery: "revision=12",
		},
		{
			name: "spawn escaped", resp: &protocol.SpawnResponse{Status: ok},
			call: func(p *ProxyClient) error {
				_, err := p.Spawn(context.Background(), "a b/c?", &protocol.SpawnRequest{}, -1)
				return err
			},
			wantPath: "/api/v1/system/a%20b%2Fc%3F/actors/spawn",
		},
		{
			name: "invoke", resp: &protocol.InvocationResponse{Status: ok},
			call: func(p *ProxyClient) error {
				_, err := p.Invoke(context.Background(), "spawn-system", "joe", testInvocation())
				return err
			},
			wantPath: "/api/v1/system/spawn-system/actors/joe/invoke",
		},
		{
			name: "invoke escaped", resp: &protocol.InvocationResponse{Status: ok},
			call: func(p *ProxyClient) error {
				_, err := p.Invoke(context.Background(), "sys", "../x%y", testInvocation())
				return err
			},
			wantPath: "/api/v1/system/sys/actors/..%2Fx%25y/invoke",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp := &recordingProxy{resp: tt.resp}
			srv := httptest.NewServer(rp)
			defer srv.Close()
			if err := tt.call(NewProxyClient(srv.URL, srv.Client(), nil)); err != nil {
				t.Fatal(err)
			}
			r := rp.last(t)
			if r.Method != http.MethodPost || r.URL.EscapedPath() != tt.wantPath || r.URL.RawQuery != tt.wantQuery {
				t.Errorf("request %s %s?%s, want POST %s?%s", r.Method, r.URL.EscapedPath(), r.URL.RawQuery, tt.wantPath, tt.wantQuery)
			}
			for _, h := range []string{"Content-Type", "Accept"} {
				if got := r.Header.Get(h); got != "application/octet-stream" {
					t.Errorf("%s = %q", h, got)
				}
			}
		})
	}
}

func TestProxyClientEmptyNames(t *testing.T) {
	p := NewProxyClient("http://proxy.invalid", nil, nil)
	if _, err := p.Invoke(context.Background(), "", "joe", testInvocation()); err == nil {
		t.Error("Invoke with an empty system succeeded")
	}
	if _, err := p.Invoke(context.Background(), "sys", "", testInvocation()); err == nil {
		t.Error("Invoke with an empty actor succeeded")
	}
	if _, err := p.Spawn(context.Background(), "", &protocol.SpawnRequest{}, 0); err == nil {
		t.Error("Spawn with an empty system succeeded")
	}
}

func TestProxyClientStatusError(t *testing.T) {
	pb := func(st protocol.Status, msg string) []byte {
		return mustMarshal(t, &protocol.InvocationResponse{Status: &protocol.RequestStatus{Status: st, Message: msg}})
	}
	tests := []struct {
		name    string
		code    int
		ct      string
		body    []byte
		want    StatusError // Message: a part of it
		wantErr string
	}{
		{"protobuf error", 500, "application/octet-stream", pb(protocol.Status_ERROR, "boom"),
			StatusError{500, protocol.Status_ERROR, "boom"}, "spawn proxy answered HTTP 500 (ERROR): boom"},
		{"protobuf with charset", 500, "application/octet-stream; charset=utf-8", pb(protocol.Status_ACTOR_NOT_FOUND, "nope"),
			StatusError{500, protocol.Status_ACTOR_NOT_FOUND, "nope"}, "(ACTOR_NOT_FOUND): nope"},
		{"protobuf without content type", 400, "", pb(protocol.Status_ERROR, "bad revision"),
			StatusError{400, protocol.Status_ERROR, "bad revision"}, "bad revision"},
		{"not found text", 404, "text/plain; charset=utf-8", []byte("Not found!"),
			StatusError{404, protocol.Status_UNKNOWN, `body is not a protobuf status (10 bytes: "Not found!")`}, "HTTP 404 (UNKNOWN)"},
		{"JSON", 415, "application/json", []byte(`{"message":"Unsupported Media Type"}`),
			StatusError{415, protocol.Status_UNKNOWN, `"{\"message\":\"Unsupported Media Type\"}"`}, "HTTP 415"},
		{"empty", 500, "application/octet-stream", nil,
			StatusError{500, protocol.Status_UNKNOWN, "empty body"}, "HTTP 500"},
		{"binary garbage", 500, "application/octet-stream", []byte{0xff, 0x01},
			StatusError{500, protocol.Status_UNKNOWN, "hex ff01"}, "HTTP 500"},
		{"protobuf without status", 500, "application/octet-stream",
			mustMarshal(t, &protocol.InvocationResponse{System: &protocol.ActorSystem{Name: "s"}}),
			StatusError{500, protocol.Status_UNKNOWN, "not a protobuf status"}, "HTTP 500"},
		{"long text", 500, "text/html", []byte(strings.Repeat("<p>crash</p>", 100)),
			StatusError{500, protocol.Status_UNKNOWN, `(1200 bytes: "<p>crash</p>`}, `"...)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.ct != "" {
					w.Header().Set("Content-Type", tt.ct)
				} else {
					w.Header()["Content-Type"] = nil // no sniffing
				}
				w.WriteHeader(tt.code)
				w.Write(tt.body)
			}))
			defer srv.Close()
			_, err := NewProxyClient(srv.URL, srv.Client(), nil).Invoke(context.Background(), "s", "a", testInvocation())
			var se *StatusError
			ok := errors.As(err, &se)
			if !ok {
				t.Fatalf("err = %v, want a *StatusError", err)
			}
			if se.HTTPStatus != tt.want.HTTPStatus || se.Status != tt.want.Status || !strings.Contains(se.Message, tt.want.Message) {
				t.Errorf("got %+v, want %+v", *se, tt.want)
			}
			if !strings.Contains(se.Error(), tt.wantErr) {
				t.Errorf("Error() = %q, want it to contain %q", se.Error(), tt.wantErr)
			}
			if len(se.Message) > 200 {
				t.Errorf("message of %d bytes: snippets must stay short", len(se.Message))
			}
			if errors.Is(err, ErrUnavailable) {
				t.Error("an answered request is not ErrUnavailable")
			}
		})
	}
}

func TestProxyClientUnavailable(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no upstream", http.StatusBadGateway)
	}))
	defer gateway.Close()

	for _, base := range []string{closed.URL, gateway.URL} {
		p := NewProxyClient(base, nil, nil)
		calls := map[string]func() error{
			"invoke": func() error {
				_, err := p.Invoke(context.Background(), "s", "a", testInvocation())
				return err
			},
			"spawn": func() error {
				_, err := p.Spawn(context.Background(), "s", &protocol.SpawnRequest{}, 0)
				return err
			},
		}
		for name, call := range calls {
			err := call()
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("%s %s: err = %v, want ErrUnavailable", name, base, err)
			}
			for _, part := range []string{base, "PROXY_HTTP_HOST", "PROXY_HTTP_PORT"} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("%s %s: %q does not mention %s", name, base, err, part)
				}
			}
		}
	}
}

func TestProxyClientRegisterRetriesUntilAvailable(t *testing.T) {
	const unavailable = 3
	var attempts atomic.Int32
	proxy := NewProxyServer(&fakeAPI{}, nil).Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if attempts.Add(1) <= unavailable {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()

	core, logs := observer.New(zapcore.InfoLevel)
	p := fastRetries(NewProxyClient(srv.URL, srv.Client(), zap.New(core)))
	resp, err := p.Register(context.Background(), testRegistration())
	if err != nil || resp.GetStatus().GetStatus() != protocol.Status_OK {
		t.Fatalf("Register = %v, %v", resp, err)
	}
	if n := attempts.Load(); n != unavailable+1 {
		t.Errorf("%d attempts, want %d", n, unavailable+1)
	}
	retries := logs.FilterMessageSnippet("retrying registration").All()
	if len(retries) != unavailable {
		t.Fatalf("%d retry logs, want %d", len(retries), unavailable)
	}
	for i, e := range retries {
		f := e.ContextMap()
		if f["attempt"] != int64(i+1) || f["delay"] == nil {
			t.Errorf("retry log %d: %v", i, f)
		}
		if d := f["delay"].(time.Duration); d <= 0 || d > p.maxDelay {
			t.Errorf("retry %d: delay %v outside (0, %v]", i, d, p.maxDelay)
		}
	}
}

func TestProxyClientRegisterWaitsForListener(t *testing.T) {
	// Find a free port, and leave it closed until the client has been
	// refused a few times.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	refused := make(chan struct{}, 100)
	core, _ := observer.New(zapcore.InfoLevel)
	logger := zap.New(core, zap.Hooks(func(e zapcore.Entry) error {
		if strings.Contains(e.Message, "retrying registration") {
			select {
			case refused <- struct{}{}:
			default: // enough seen; never block the client
			}
		}
		return nil
	}))

	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	defer client.CloseIdleConnections()
	p := fastRetries(NewProxyClient("http://"+addr, client, logger))
	type result struct {
		resp *protocol.RegistrationResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := p.Register(context.Background(), testRegistration())
		done <- result{resp, err}
	}()

	for range 3 {
		<-refused
	}
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("re-binding %s: %v", addr, err)
	}
	s := NewProxyServer(&fakeAPI{}, nil)
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()

	r := <-done
	if r.err != nil || r.resp.GetStatus().GetStatus() != protocol.Status_OK {
		t.Fatalf("Register = %v, %v", r.resp, r.err)
	}
	client.CloseIdleConnections()
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v", err)
	}
}

func TestProxyClientRegisterGivesUp(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := fastRetries(NewProxyClient(closed.URL, nil, nil)).Register(ctx, testRegistration())
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrUnavailable and DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "gave up after") {
		t.Errorf("err = %q", err)
	}
}

func TestProxyClientRegisterFinalErrors(t *testing.T) {
	tests := []struct {
		name       string
		code       int
		ct         string
		body       []byte
		wantStatus protocol.Status
	}{
		{"refused registration", 500, "application/octet-stream",
			mustMarshal(t, &protocol.RegistrationResponse{Status: &protocol.RequestStatus{Status: protocol.Status_ERROR, Message: "Error on create Actors"}}),
			protocol.Status_ERROR},
		{"bad request", 400, "application/octet-stream",
			mustMarshal(t, &protocol.RegistrationResponse{Status: &protocol.RequestStatus{Status: protocol.Status_ERROR, Message: "malformed"}}),
			protocol.Status_ERROR},
		{"wrong address", 404, "text/plain", []byte("Not found!"), protocol.Status_UNKNOWN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var attempts atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				attempts.Add(1)
				w.Header().Set("Content-Type", tt.ct)
				w.WriteHeader(tt.code)
				w.Write(tt.body)
			}))
			defer srv.Close()
			resp, err := fastRetries(NewProxyClient(srv.URL, srv.Client(), nil)).Register(context.Background(), testRegistration())
			var se *StatusError
			ok := errors.As(err, &se)
			if !ok || se.HTTPStatus != tt.code || se.Status != tt.wantStatus || resp != nil {
				t.Fatalf("Register = %v, %v", resp, err)
			}
			if n := attempts.Load(); n != 1 {
				t.Errorf("%d attempts, want 1", n)
			}
		})
	}
}

func TestProxyClientReusesConnections(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(NewProxyServer(&fakeAPI{}, nil).Handler())
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	p := NewProxyClient(srv.URL, nil, nil)
	for range 5 {
		if _, err := p.Invoke(context.Background(), "spawn-system", "joe", testInvocation()); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 5 sequential calls, want 1", n)
	}
}

func TestProxyClientAlive(t *testing.T) {
	live := httptest.NewServer(NewProxyServer(&fakeAPI{}, nil).Handler())
	defer live.Close()
	c := NewProxyClient(live.URL, nil, nil)
	inst, err := c.Alive(context.Background())
	if err != nil || inst == "" {
		t.Fatalf("live proxy: %q, %v", inst, err)
	}
	if _, err := c.Register(context.Background(), testRegistration()); err != nil {
		t.Fatal(err)
	}
	if c.RegisteredWith() != inst {
		t.Fatalf("registered with %q, alive says %q", c.RegisteredWith(), inst)
	}
	other := httptest.NewServer(NewProxyServer(&fakeAPI{}, nil).Handler())
	defer other.Close()
	if inst2, _ := NewProxyClient(other.URL, nil, nil).Alive(context.Background()); inst2 == inst || inst2 == "" {
		t.Fatalf("two proxies share the instance %q", inst2)
	}

	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	defer down.Close()
	if _, err := NewProxyClient(down.URL, nil, nil).Alive(context.Background()); err == nil || errors.Is(err, ErrUnavailable) {
		t.Fatalf("418: got %v, want a plain error", err)
	}
	addr := down.Listener.Addr().String()
	down.Close()
	if _, err := NewProxyClient("http://"+addr, nil, nil).Alive(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("closed: got %v, want ErrUnavailable", err)
	}
}

// A request the proxy received but never answered (it crashed, or the
// connection broke) may have run: it is ErrNoAnswer, never ErrUnavailable,
// which promises the call did not reach the proxy.
func TestProxyClientNoAnswer(t *testing.T) {
	received := make(chan struct{}, 4)
	hangup := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		received <- struct{}{}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
	}))
	defer hangup.Close()
	gatewayTimeout := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "upstream timed out", http.StatusGatewayTimeout)
	}))
	defer gatewayTimeout.Close()

	for _, base := range []string{hangup.URL, gatewayTimeout.URL} {
		_, err := NewProxyClient(base, nil, nil).Invoke(context.Background(), "s", "a", testInvocation())
		if !errors.Is(err, ErrNoAnswer) || errors.Is(err, ErrUnavailable) {
			t.Fatalf("%s: err = %v, want ErrNoAnswer and not ErrUnavailable", base, err)
		}
		if !strings.Contains(err.Error(), "may have run") {
			t.Errorf("%s: %q does not say the request may have run", base, err)
		}
	}
	select {
	case <-received:
	default:
		t.Fatal("the hanging-up server never received the request")
	}
}

// failingTransport fails every request with err.
type failingTransport struct{ err error }

func (f failingTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, f.err }

// TestProxyClientTransportErrors checks how the errors of the HTTP client
// are classified: a connection the proxy closed as idle when the request
// went out is unavailable (nothing ran, retry), a reset after sending is
// no answer.
func TestProxyClientTransportErrors(t *testing.T) {
	for _, tt := range []struct {
		name                  string
		err                   error
		unavailable, noAnswer bool
	}{
		{"server closed idle connection", errors.New("http: server closed idle connection"), true, false},
		{"connection reset", syscall.ECONNRESET, false, true},
		{"something else", errors.New("tls: bad certificate"), false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := NewProxyClient("http://127.0.0.1:1", &http.Client{Transport: failingTransport{tt.err}}, nil)
			_, err := p.Invoke(context.Background(), "s", "a", testInvocation())
			if errors.Is(err, ErrUnavailable) != tt.unavailable || errors.Is(err, ErrNoAnswer) != tt.noAnswer {
				t.Fatalf("got %v, want unavailable %v, no answer %v", err, tt.unavailable, tt.noAnswer)
			}
		})
	}
}
