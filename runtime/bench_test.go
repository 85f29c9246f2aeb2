package runtime

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/state"
)

// benchHost returns the input as the new state and as the output.
type benchHost struct{}

func (benchHost) Call(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
	return &protocol.ActorInvocationResponse{
		UpdatedContext: &protocol.Context{State: inv.GetValue(), Tags: inv.GetCurrentContext().GetTags()},
		Payload:        &protocol.ActorInvocationResponse_Value{Value: inv.GetValue()},
	}, nil
}

// BenchmarkEngineInvoke measures a sync invocation of a stateful actor with
// a trivial in-memory host: the engine's own overhead per call.
func BenchmarkEngineInvoke(b *testing.B) {
	e, err := New(Options{Host: benchHost{}, Store: state.NewMemory()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	defer e.Close(ctx)
	if _, err := e.Register(ctx, registration(newActor("a", stateful, actions("set")))); err != nil {
		b.Fatal(err)
	}
	r := req("a", "set", str("value"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Invoke(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEngineInvokeObserved is BenchmarkEngineInvoke with an Observer
// that counts the invocations: what observing every call costs.
func BenchmarkEngineInvokeObserved(b *testing.B) {
	var n atomic.Int64
	obs := Observer{Invoked: func(ev Invocation) {
		if ev.Outcome == OutcomeOK {
			n.Add(1)
		}
	}}
	e, err := New(Options{Host: benchHost{}, Store: state.NewMemory(), Observer: obs})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	defer e.Close(ctx)
	if _, err := e.Register(ctx, registration(newActor("a", stateful, actions("set")))); err != nil {
		b.Fatal(err)
	}
	r := req("a", "set", str("value"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Invoke(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	if n.Load() == 0 {
		b.Fatal("nothing observed")
	}
}

// BenchmarkEngineInvokeParallel spreads sync invocations over 64 actors.
func BenchmarkEngineInvokeParallel(b *testing.B) {
	e, err := New(Options{Host: benchHost{}, Store: state.NewMemory()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	defer e.Close(ctx)
	const n = 64
	var actors []*protocol.Actor
	var reqs []*protocol.InvocationRequest
	for i := range n {
		name := string(rune('A'+i%26)) + string(rune('a'+i/26))
		actors = append(actors, newActor(name, stateful, actions("set")))
		reqs = append(reqs, req(name, "set", str("value")))
	}
	if _, err := e.Register(ctx, registration(actors...)); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := reqs[next.Add(1)%n]
		for pb.Next() {
			if _, err := e.Invoke(ctx, r); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
