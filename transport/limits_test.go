package transport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/protocol"
)

func serveOn(t *testing.T, s *Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(l)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		<-done
	})
	return l.Addr().String()
}

// A client that trickles its body is cut off by the read timeout instead
// of holding its connection forever; the server goes on serving.
func TestSlowClientIsCutOff(t *testing.T) {
	for name, srv := range map[string]*Server{
		"host":  NewHostServer(echoHost, nil, WithTimeouts(200*time.Millisecond, 0, 0)),
		"proxy": NewProxyServer(&fakeAPI{}, nil, WithTimeouts(200*time.Millisecond, 0, 0)),
	} {
		addr := serveOn(t, srv)
		path := protocol.HostPath
		if name == "proxy" {
			path = "/api/v1/system/s/actors/a/invoke"
		}
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n", path)
		closed := make(chan error, 1)
		go func() {
			_, err := io.Copy(io.Discard, conn)
			closed <- err
		}()
		// One byte at a time, far slower than the timeout allows for the
		// whole body; the server must close the connection.
		tick := time.NewTicker(20 * time.Millisecond)
	trickle:
		for i := 0; ; i++ {
			select {
			case <-closed:
				break trickle
			case <-tick.C:
				if _, err := conn.Write([]byte{0}); err != nil {
					break trickle
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: the trickling connection is still open after 10s", name)
			}
		}
		tick.Stop()
		conn.Close()
		res, err := http.Get("http://" + addr + "/health")
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("%s: health after the slow client: %v, %v", name, res, err)
		}
		res.Body.Close()
	}
}

func echoHost(_ context.Context, body []byte) (int, []byte) {
	b, _ := proto.Marshal(&protocol.ActorInvocationResponse{UpdatedContext: &protocol.Context{}})
	return http.StatusOK, b
}

// With a token set, only requests that carry it get through; health probes
// need none. Clients send it.
func TestToken(t *testing.T) {
	addr := serveOn(t, NewHostServer(echoHost, nil, WithToken("s3cret")))
	inv := &protocol.ActorInvocation{Actor: &protocol.ActorId{Name: "a"}}
	if _, err := NewHostClient("http://"+addr, nil).Call(context.Background(), inv); err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("without a token: %v, want a refusal naming the token", err)
	}
	c := NewHostClient("http://"+addr, nil)
	c.SetToken("s3cret")
	if _, err := c.Call(context.Background(), inv); err != nil {
		t.Fatalf("with the token: %v", err)
	}
	res, err := http.Get("http://" + addr + "/health")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("health without a token: %v, %v", res, err)
	}
	res.Body.Close()

	api := &fakeAPI{}
	paddr := serveOn(t, NewProxyServer(api, nil, WithToken("s3cret")))
	p := NewProxyClient("http://"+paddr, nil, nil)
	if _, err := p.Invoke(context.Background(), "s", "a", testInvocation()); err == nil {
		t.Fatal("the proxy answered an invocation without the token")
	}
	p.SetToken("s3cret")
	if _, err := p.Invoke(context.Background(), "s", "a", testInvocation()); err != nil {
		t.Fatalf("with the token: %v", err)
	}
}

// Request bodies held at once are bounded: past the bound, a request is
// refused as overloaded before its body is read, and the host client says
// so in a way the runtime recognises.
func TestInflightBodiesBound(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	slow := func(_ context.Context, body []byte) (int, []byte) {
		entered <- struct{}{}
		<-release
		return echoHost(nil, body)
	}
	addr := serveOn(t, NewHostServer(slow, nil, WithMaxInflightBytes(1500)))
	c := NewHostClient("http://"+addr, nil)
	big := &protocol.ActorInvocation{Actor: &protocol.ActorId{Name: strings.Repeat("a", 1000)}}
	first := make(chan error, 1)
	go func() {
		_, err := c.Call(context.Background(), big)
		first <- err
	}()
	<-entered
	_, err := c.Call(context.Background(), big)
	ov, ok := err.(*OverloadedError)
	if !ok || !ov.Overloaded() || !strings.Contains(err.Error(), protocol.OverloadedPrefix) {
		t.Fatalf("second body past the bound: %v (%T), want *OverloadedError", err, err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	go func() { <-entered }()
	if _, err := c.Call(context.Background(), big); err != nil {
		t.Fatalf("after the first finished: %v", err)
	}

	// The proxy API answers 500 with the reason in the RequestStatus.
	api := &fakeAPI{}
	paddr := serveOn(t, NewProxyServer(api, nil, WithMaxInflightBytes(10)))
	_, err = NewProxyClient("http://"+paddr, nil, nil).Invoke(context.Background(), "s", "a", testInvocation())
	se, ok := err.(*StatusError)
	if !ok || se.HTTPStatus != 500 || !strings.HasPrefix(se.Message, protocol.OverloadedPrefix) {
		t.Fatalf("proxy past the bound: %v", err)
	}
	_ = bufio.NewReader
}

// A client that stops reading an answer is cut off by the write timeout,
// counted from the answer's first byte, instead of holding its connection
// (and the handler's goroutine and the answer's bytes) forever; the server
// goes on serving. The answer is far larger than what the socket buffers
// hold, so that only the timeout can end the handler's write.
func TestStalledReaderIsCutOff(t *testing.T) {
	const size = 16 << 20
	hostAnswer := func(context.Context, []byte) (int, []byte) { return http.StatusOK, make([]byte, size) }
	api := &fakeAPI{invoke: func(*protocol.InvocationRequest) (*protocol.InvocationResponse, error) {
		return &protocol.InvocationResponse{Payload: &protocol.InvocationResponse_Value{
			Value: &anypb.Any{TypeUrl: "type.googleapis.com/big", Value: make([]byte, size)}}}, nil
	}}
	for _, tc := range []struct {
		name string
		srv  func(*zap.Logger) *Server
		path string
		body []byte
	}{
		{"host", func(l *zap.Logger) *Server {
			return NewHostServer(hostAnswer, l, WithTimeouts(0, 200*time.Millisecond, 0))
		}, protocol.HostPath, nil},
		{"proxy", func(l *zap.Logger) *Server {
			return NewProxyServer(api, l, WithTimeouts(0, 200*time.Millisecond, 0))
		}, "/api/v1/system/s/actors/a/invoke", mustMarshal(t, testInvocation())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The request log is written once the handler has returned,
			// which it can only do here once its write has been cut off.
			core, logs := observer.New(zapcore.DebugLevel)
			addr := serveOn(t, tc.srv(zap.New(core)))
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n%s",
				tc.path, len(tc.body), tc.body)

			deadline := time.Now().Add(10 * time.Second)
			for logs.FilterMessage("request").Len() == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the handler is still writing to a client that reads nothing, 10s on")
				}
				time.Sleep(10 * time.Millisecond) // polling the log, not synchronising
			}
			// Now read: what the kernel buffered, then the end of a
			// connection the server closed, well short of the answer.
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			n, err := io.Copy(io.Discard, conn)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the connection is still open after the write timeout (%d bytes read)", n)
			}
			if n >= size {
				t.Fatalf("read %d bytes: the whole answer came through; the test did not stall the writer", n)
			}
			t.Logf("cut off after %d bytes of a %d-byte body, headers included (%v)", n, size, err)
			res, err := http.Get("http://" + addr + "/health")
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("health after the stalled client: %v, %v", res, err)
			}
			res.Body.Close()
		})
	}
}

// TestProxyClientRefusedToken checks that a proxy's 401 or 403 gives a
// final error that says which token to set, for every kind of request,
// and that Register does not retry it.
func TestProxyClientRefusedToken(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "no", status)
		}))
		t.Cleanup(srv.Close)
		p := NewProxyClient(srv.URL, nil, nil)
		calls := map[string]func() error{
			"Invoke": func() error { _, err := p.Invoke(context.Background(), "s", "a", testInvocation()); return err },
			"Spawn": func() error {
				_, err := p.Spawn(context.Background(), "s", &protocol.SpawnRequest{}, 0)
				return err
			},
			"Register": func() error {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // returns at once: not retried
				defer cancel()
				_, err := p.Register(ctx, &protocol.RegistrationRequest{})
				return err
			},
		}
		for name, call := range calls {
			t.Run(fmt.Sprintf("%s %d", name, status), func(t *testing.T) {
				err := call()
				var se *StatusError
				if !errors.As(err, &se) || se.HTTPStatus != status || errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNoAnswer) {
					t.Fatalf("got %v, want a final *StatusError with HTTP %d", err, status)
				}
				if !strings.Contains(se.Message, "the proxy at "+srv.URL+" refused the token") ||
					!strings.Contains(se.Message, "set SPAWN_TOKEN or use spawn.WithToken") {
					t.Errorf("message %q does not say what to set", se.Message)
				}
			})
		}
	}
}
