package transport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/protocol"
)

// Bodies are read into pooled buffers: a buffer is never handed to another
// request while the one it was read for still uses it. Many concurrent
// calls, each with bodies of its own content and of sizes on both sides of
// the pool's limit, go through the host server, the host client, the proxy
// server and the proxy client (request bodies read on the servers,
// answers written by them and read by the clients, all pooled); each answer must carry exactly its own
// request's bytes. Run with -race, this also checks that no buffer is
// written while another goroutine reads it.
func TestPooledBuffersAreNotShared(t *testing.T) {
	// The host answers with a response built from the body it was given,
	// after yielding, so that other requests run meanwhile.
	host := func(_ context.Context, body []byte) (int, []byte) {
		var inv protocol.ActorInvocation
		if err := proto.Unmarshal(body, &inv); err != nil {
			return http.StatusBadRequest, nil
		}
		runtime.Gosched()
		b, _ := proto.Marshal(&protocol.ActorInvocationResponse{
			ActorName:      inv.GetActor().GetName(),
			UpdatedContext: &protocol.Context{},
			Payload:        &protocol.ActorInvocationResponse_Value{Value: inv.GetValue()},
		})
		return http.StatusOK, b
	}
	hostAddr := serveOn(t, NewHostServer(host, nil))
	hc := NewHostClient("http://"+hostAddr, nil)
	defer hc.client.CloseIdleConnections()

	api := &fakeAPI{invoke: func(req *protocol.InvocationRequest) (*protocol.InvocationResponse, error) {
		runtime.Gosched()
		return &protocol.InvocationResponse{Payload: &protocol.InvocationResponse_Value{Value: req.GetValue()}}, nil
	}}
	pc := NewProxyClient("http://"+serveOn(t, NewProxyServer(api, nil)), nil, nil)
	defer pc.CloseIdleConnections()

	sizes := []int{0, 10, 1000, 4 << 10, maxPooledBuffer - 100, maxPooledBuffer + 100, 3 * maxPooledBuffer}
	const callers, calls = 8, 30
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for c := range callers {
		wg.Go(func() {
			for i := range calls {
				size := sizes[(c+i)%len(sizes)]
				fill := byte('a' + (c*calls+i)%26)
				want := &anypb.Any{TypeUrl: fmt.Sprintf("type.googleapis.com/c%d.i%d", c, i), Value: bytes.Repeat([]byte{fill}, size)}
				name := fmt.Sprintf("actor-%d-%d", c, i)

				resp, err := hc.Call(context.Background(), &protocol.ActorInvocation{
					Actor:   &protocol.ActorId{Name: name},
					Payload: &protocol.ActorInvocation_Value{Value: want},
				})
				if err != nil {
					errs <- err
					return
				}
				if resp.GetActorName() != name || !proto.Equal(resp.GetValue(), want) {
					errs <- fmt.Errorf("host call %s: answer for %q with %d bytes, want its own %d bytes of %q",
						name, resp.GetActorName(), len(resp.GetValue().GetValue()), size, fill)
					return
				}

				presp, err := pc.Invoke(context.Background(), "s", name, &protocol.InvocationRequest{
					Actor:   &protocol.Actor{Id: &protocol.ActorId{Name: name}},
					Payload: &protocol.InvocationRequest_Value{Value: want},
				})
				if err != nil {
					errs <- err
					return
				}
				if !proto.Equal(presp.GetValue(), want) {
					errs <- fmt.Errorf("proxy call %s: answer of %d bytes (%.20q), want its own %d bytes of %q",
						name, len(presp.GetValue().GetValue()), presp.GetValue().GetValue(), size, fill)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// readInto reads to the end, grows past any starting size, and stops at
// its limit.
func TestReadInto(t *testing.T) {
	for _, n := range []int{0, 1, newBufferSize, newBufferSize + 1, 5 * maxPooledBuffer} {
		src := strings.Repeat("x", n)
		for _, hint := range []int{0, n + 1} {
			buf := getBuffer(hint)
			if err := readInto(strings.NewReader(src), buf, int64(n)); err != nil || string(*buf) != src {
				t.Fatalf("%d bytes, hint %d: got %d bytes, %v", n, hint, len(*buf), err)
			}
			putBuffer(buf)
		}
		if n > 0 {
			buf := getBuffer(0)
			if err := readInto(io.MultiReader(strings.NewReader(src), strings.NewReader("y")), buf, int64(n)); err != errTooLarge {
				t.Fatalf("%d bytes + 1 with limit %d: %v, want errTooLarge", n, n, err)
			}
			putBuffer(buf)
		}
	}
}

// A buffer that grew past the pool's limit is not kept.
func TestLargeBuffersAreNotPooled(t *testing.T) {
	big := getBuffer(maxPooledBuffer + 1)
	*big = append(*big, make([]byte, maxPooledBuffer+1)...)
	putBuffer(big)
	for range 100 {
		if b := getBuffer(0); cap(*b) > maxPooledBuffer {
			t.Fatalf("the pool handed out a buffer of %d bytes, over its limit of %d", cap(*b), maxPooledBuffer)
		}
	}
}
