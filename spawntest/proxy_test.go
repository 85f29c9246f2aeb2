package spawntest_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/spawntest"
	"github.com/spawn-go/spawn/transport"
)

// The proxy NewProxy starts calls its host over kept-alive connections:
// rounds of concurrent invocations, each on an actor of its own so that
// the proxy calls the host concurrently, reuse the connections of the
// first round. (A bare http.Client keeps 2 idle connections per host, and
// reopened the others every round.)
func TestProxyKeepsConnectionsToItsHost(t *testing.T) {
	const actors, rounds = 16, 5
	p := spawntest.NewProxy(t)

	var hostConns atomic.Int64
	l, err := net.Listen("tcp", p.HostAddr)
	if err != nil {
		t.Fatal(err)
	}
	host := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := proto.Marshal(&protocol.ActorInvocationResponse{
			UpdatedContext: &protocol.Context{},
			Payload:        &protocol.ActorInvocationResponse_Noop{Noop: &protocol.Noop{}},
		})
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(b)
	}))
	host.Listener.Close()
	host.Listener = l
	host.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			hostConns.Add(1)
		}
	}
	host.Start()
	defer host.Close()

	ctx := context.Background()
	client := transport.NewProxyClient("http://"+p.Addr, nil, nil)
	defer client.CloseIdleConnections()
	reg := map[string]*protocol.Actor{}
	for i := range actors {
		name := fmt.Sprintf("pinger-%d", i)
		reg[name] = &protocol.Actor{
			Id:       &protocol.ActorId{Name: name, System: spawn.DefaultSystem},
			Settings: &protocol.ActorSettings{Kind: protocol.Kind_NAMED},
			Actions:  []*protocol.Action{{Name: "Ping"}},
			Metadata: &protocol.Metadata{},
		}
	}
	_, err = client.Register(ctx, &protocol.RegistrationRequest{
		ServiceInfo: &protocol.ServiceInfo{ServiceName: "test"},
		ActorSystem: &protocol.ActorSystem{Name: spawn.DefaultSystem, Registry: &protocol.Registry{Actors: reg}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for r := range rounds {
		var wg sync.WaitGroup
		errs := make(chan error, actors)
		for _, a := range reg {
			wg.Go(func() {
				resp, err := client.Invoke(ctx, spawn.DefaultSystem, a.Id.Name, &protocol.InvocationRequest{
					System:     &protocol.ActorSystem{Name: spawn.DefaultSystem},
					Actor:      &protocol.Actor{Id: a.Id},
					ActionName: "Ping",
				})
				if err == nil && resp.GetStatus().GetStatus() != protocol.Status_OK {
					err = fmt.Errorf("status %v", resp.GetStatus())
				}
				if err != nil {
					errs <- fmt.Errorf("round %d, %s: %w", r, a.Id.Name, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	if n := hostConns.Load(); n > actors {
		t.Fatalf("%d rounds of %d concurrent invocations opened %d connections to the host, want at most %d", rounds, actors, n, actors)
	}
}
