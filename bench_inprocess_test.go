package spawn_test

import (
	"context"
	"testing"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/testpb"
	"github.com/spawn-go/spawn/spawntest"
)

// benchAdder is the stateful actor the invocation benchmarks call: a
// counter whose state is read, changed and kept on every call.
type benchAdder struct {
	spawn.Actor `spawn:"name=adder"`
	State       *testpb.CounterState `spawn:"state"`
}

func (a *benchAdder) Add(ctx *spawn.Context, in *testpb.Add) (*testpb.Total, error) {
	a.State.Value += in.Delta
	return &testpb.Total{Value: a.State.Value}, nil
}

// benchInvoke calls adder.Add until the benchmark is done, then checks
// that every call reached the state, so the numbers measure real work.
func benchInvoke(b *testing.B, sys *spawn.System) {
	ctx := context.Background()
	in := &testpb.Add{Delta: 1}
	out := new(testpb.Total)
	var calls int64
	b.ReportAllocs()
	for b.Loop() {
		if err := sys.Invoke(ctx, "adder", "Add", in, out); err != nil {
			b.Fatal(err)
		}
		calls++
	}
	if out.Value != calls {
		b.Fatalf("the state counts %d calls, want %d", out.Value, calls)
	}
}

// BenchmarkInProcessInvoke measures a sync call of a stateful actor on the
// embedded runtime, beside floor: the least any in-process request and
// reply between goroutines costs. Compare them in one run; the ratio
// sdk/floor is what the SDK and runtime add to a bare hand-off.
func BenchmarkInProcessInvoke(b *testing.B) {
	b.Run("sdk", func(b *testing.B) {
		benchInvoke(b, spawntest.Start(b, &benchAdder{}))
	})
	b.Run("floor", func(b *testing.B) {
		// One goroutine serves requests from a channel, as an actor's
		// worker serves its mailbox, and answers each on the request's
		// own channel, as a sync call is answered; it does no work.
		type request struct {
			delta int64
			reply chan int64
		}
		reqs := make(chan request)
		done := make(chan struct{})
		go func() {
			defer close(done)
			var total int64
			for r := range reqs {
				total += r.delta
				r.reply <- total
			}
		}()
		defer func() {
			close(reqs)
			<-done
		}()
		var calls, total int64
		b.ReportAllocs()
		for b.Loop() {
			r := request{delta: 1, reply: make(chan int64, 1)}
			reqs <- r
			total = <-r.reply
			calls++
		}
		if total != calls {
			b.Fatalf("served %d of %d requests", total, calls)
		}
	})
}
