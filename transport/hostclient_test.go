package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/protocol"
)

// roundTripFunc answers requests without a network.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func fakeResponse(code int, body []byte) *http.Response {
	return &http.Response{
		StatusCode: code,
		Header:     http.Header{"Content-Type": {"application/octet-stream"}},
		Body:       io.NopCloser(bytes.NewReader(body)),
	}
}

func testInvocationForHost() *protocol.ActorInvocation {
	return &protocol.ActorInvocation{
		Actor:          &protocol.ActorId{Name: "joe", System: "spawn-system"},
		ActionName:     "hi",
		CurrentContext: &protocol.Context{Self: &protocol.ActorId{Name: "joe", System: "spawn-system"}},
		Payload:        &protocol.ActorInvocation_Noop{Noop: &protocol.Noop{}},
	}
}

func TestHostClientCall(t *testing.T) {
	valid := mustMarshal(t, testHostResponse())
	noContext := mustMarshal(t, &protocol.ActorInvocationResponse{ActorName: "joe"})

	tests := []struct {
		name    string
		code    int
		body    []byte
		wantErr string // empty: success
	}{
		{"valid", 200, valid, ""},
		{"status is not checked", 500, valid, ""},
		{"empty", 200, nil, "host answered HTTP 200 with an empty body"},
		{"empty error", 400, nil, "host answered HTTP 400 with an empty body"},
		{"binary garbage", 200, []byte{0xff, 0xfe, 0x00}, "HTTP 200 with a body that is not a spawn.ActorInvocationResponse (3 bytes: hex fffe00)"},
		{"text", 502, []byte("Bad Gateway"), `HTTP 502 with a body that is not a spawn.ActorInvocationResponse (11 bytes: "Bad Gateway")`},
		{"no updated_context", 200, noContext, "without updated_context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *protocol.ActorInvocation
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != "/api/v1/actors/actions" ||
					r.Header.Get("Content-Type") != "application/octet-stream" {
					t.Errorf("request %s %s %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
				}
				got = mustUnmarshal(t, readAll(t, r.Body), new(protocol.ActorInvocation))
				w.WriteHeader(tt.code)
				w.Write(tt.body)
			}))
			defer srv.Close()

			resp, err := NewHostClient(srv.URL+"/", srv.Client()).Call(context.Background(), testInvocationForHost())
			if !proto.Equal(got, testInvocationForHost()) {
				t.Errorf("host got %v", got)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !proto.Equal(resp, testHostResponse()) {
					t.Errorf("response %v", resp)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if resp != nil {
				t.Errorf("response %v with an error", resp)
			}
		})
	}
}

func TestHostClientUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()

	_, err := NewHostClient(url, nil).Call(context.Background(), testInvocationForHost())
	if err == nil || !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), url) {
		t.Fatalf("err = %v, want a refused connection naming %s", err, url)
	}
}

func TestHostClientHonoursDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := NewHostClient(srv.URL, srv.Client()).Call(ctx, testInvocationForHost())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
}

func TestHostClientDefaultTimeout(t *testing.T) {
	valid := mustMarshal(t, testHostResponse())
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want time.Duration
	}{
		{"no deadline", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, hostCallTimeout},
		{"caller's deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 5*time.Minute)
		}, 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var remaining time.Duration
			c := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				d, ok := r.Context().Deadline()
				if !ok {
					t.Error("request without deadline")
				}
				remaining = time.Until(d)
				return fakeResponse(200, valid), nil
			})}
			ctx, cancel := tt.ctx()
			defer cancel()
			if _, err := NewHostClient("http://host.invalid", c).Call(ctx, testInvocationForHost()); err != nil {
				t.Fatal(err)
			}
			if remaining > tt.want || remaining < tt.want-time.Minute {
				t.Errorf("deadline in %v, want about %v", remaining, tt.want)
			}
		})
	}
}

// A host that cannot be reached, or that drops the connection before it
// answers, gave no answer: the error says so (NoAnswer), and the runtime
// keeps acknowledged async work for it rather than drop it. A host that
// answers, however badly, and a call whose own deadline ends, did not.
func TestHostClientNoAnswer(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	drops := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer drops.Close()
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("not protobuf"))
	}))
	defer garbage.Close()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer slow.Close()
	defer close(release)

	for _, tc := range []struct {
		name     string
		url      string
		timeout  time.Duration
		noAnswer bool
	}{
		{"down", down.URL, 0, true},
		{"drops the connection", drops.URL, 0, true},
		{"answers garbage", garbage.URL, 0, false},
		{"the call's deadline", slow.URL, 20 * time.Millisecond, false},
	} {
		ctx := context.Background()
		if tc.timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, tc.timeout)
			defer cancel()
		}
		_, err := NewHostClient(tc.url, nil).Call(ctx, testInvocationForHost())
		var na interface{ NoAnswer() bool }
		if got := errors.As(err, &na) && na.NoAnswer(); got != tc.noAnswer || err == nil {
			t.Errorf("%s: NoAnswer %v, want %v (%v)", tc.name, got, tc.noAnswer, err)
		}
	}
}

// TestHostClientClosedIdleIsNoAnswer: a host that closes a kept-alive
// connection as idle (as it does when it stops) handled nothing, so the
// runtime may give the call to it again.
func TestHostClientClosedIdleIsNoAnswer(t *testing.T) {
	c := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, errors.New("http: server closed idle connection")
	})}
	_, err := NewHostClient("http://127.0.0.1:1", c).Call(context.Background(), testInvocationForHost())
	var na interface{ NoAnswer() bool }
	if !errors.As(err, &na) || !na.NoAnswer() {
		t.Fatalf("a connection closed as idle: %v, want a NoAnswer error", err)
	}
}
