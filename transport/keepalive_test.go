package transport

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/protocol"
)

// countingServer serves h and counts the connections clients open to it.
func countingServer(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func hostAnswer(w http.ResponseWriter, _ *http.Request) {
	b, _ := proto.Marshal(&protocol.ActorInvocationResponse{UpdatedContext: &protocol.Context{}})
	w.Header().Set("Content-Type", contentTypeProtobuf)
	_, _ = w.Write(b)
}

func proxyAnswer(w http.ResponseWriter, _ *http.Request) {
	b, _ := proto.Marshal(&protocol.InvocationResponse{Status: &protocol.RequestStatus{Status: protocol.Status_OK}})
	w.Header().Set("Content-Type", contentTypeProtobuf)
	_, _ = w.Write(b)
}

// Sequential calls through the clients' own HTTP client use one kept-alive
// connection: every answer is read to its end, so the connection goes back
// to the pool before the next call.
func TestClientsKeepOneConnectionForSequentialCalls(t *testing.T) {
	ctx := context.Background()
	t.Run("host client", func(t *testing.T) {
		srv, conns := countingServer(t, http.HandlerFunc(hostAnswer))
		hc := NewHostClient(srv.URL, nil)
		defer hc.client.CloseIdleConnections()
		for range 50 {
			if _, err := hc.Call(ctx, &protocol.ActorInvocation{ActionName: "a"}); err != nil {
				t.Fatal(err)
			}
		}
		if n := conns.Load(); n != 1 {
			t.Fatalf("50 sequential host calls opened %d connections, want 1", n)
		}
	})
	t.Run("proxy client", func(t *testing.T) {
		srv, conns := countingServer(t, http.HandlerFunc(proxyAnswer))
		pc := NewProxyClient(srv.URL, nil, nil)
		defer pc.CloseIdleConnections()
		for range 50 {
			if _, err := pc.Invoke(ctx, "s", "a", &protocol.InvocationRequest{ActionName: "a"}); err != nil {
				t.Fatal(err)
			}
		}
		if n := conns.Load(); n != 1 {
			t.Fatalf("50 sequential proxy calls opened %d connections, want 1", n)
		}
	})
}

// Concurrent callers reuse their connections round after round: the idle
// pool holds as many as there were calls at once, so no round after the
// first dials again. (With Go's default of 2 idle connections per host,
// or the 32 this package kept before, every round reopened most of them.)
func TestClientsKeepConnectionsForConcurrentCalls(t *testing.T) {
	const callers, rounds = 64, 5
	ctx := context.Background()
	srv, conns := countingServer(t, http.HandlerFunc(hostAnswer))
	hc := NewHostClient(srv.URL, nil)
	defer hc.client.CloseIdleConnections()
	for range rounds {
		var wg sync.WaitGroup
		errs := make(chan error, callers)
		for range callers {
			wg.Go(func() {
				if _, err := hc.Call(ctx, &protocol.ActorInvocation{ActionName: "a"}); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n > callers {
		t.Fatalf("%d rounds of %d concurrent calls opened %d connections, want at most %d", rounds, callers, n, callers)
	}
}
