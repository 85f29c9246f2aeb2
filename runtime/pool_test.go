package runtime

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spawn-go/spawn/protocol"
)

// A POOLED actor serves up to max_pool_size calls at once, each instance
// with its own copy of the registered state, init run per instance.
func TestPooledParallelism(t *testing.T) {
	const maxSize, calls = 3, 7
	release := make(chan struct{})
	var cur, peak atomic.Int32
	host := newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		if inv.GetActionName() != "work" {
			return echo(inv), nil
		}
		n := cur.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-release
		cur.Add(-1)
		// Each instance appends to its own state.
		return reply(inv, str(anyStr(inv.GetCurrentContext().GetState())+"+"), nil), nil
	})
	v := newEnv(t, host)
	v.register(newActor("p", pool(1, maxSize), initialState(str(""), nil), actions("init", "work")))

	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() { v.invoke(req("p", "work", nil)) })
	}
	waitFor(t, "the pool to fill", func() bool { return cur.Load() == maxSize })
	close(release)
	wg.Wait()
	if p := peak.Load(); p != maxSize {
		t.Errorf("peak parallelism = %d, want %d", p, maxSize)
	}
	if n := len(v.host.matching(called("p", "init"))); n != maxSize {
		t.Errorf("init ran %d times, want once per instance (%d)", n, maxSize)
	}
	// No instance saw another's state: each saw only its own earlier calls.
	for _, inv := range v.host.matching(called("p", "work")) {
		if s := strOf(t, inv.GetCurrentContext().GetState()); len(s) > calls-maxSize {
			t.Errorf("an instance saw state %q: instances share state", s)
		}
	}
}

func TestPooledShrinksToMin(t *testing.T) {
	release := make(chan struct{})
	host := newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		<-release
		return echo(inv), nil
	})
	v := newEnv(t, host)
	v.register(newActor("p", pool(1, 4), deactivateAfter(1000), actions("work")))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { v.invoke(req("p", "work", nil)) })
	}
	v.host.waitN(t, 4, called("p", "work"))
	close(release)
	wg.Wait()
	v.waitIdle("p")
	v.blockUntilTimers(1)
	v.clock.Advance(time.Second)

	v.e.mu.Lock()
	c := v.e.cells[actorKey{name: "p", system: sys}]
	v.e.mu.Unlock()
	if c == nil {
		t.Fatal("pool with min_pool_size 1 fully deactivated")
	}
	c.mu.Lock()
	n := len(c.all)
	c.mu.Unlock()
	if n != 1 {
		t.Errorf("pool kept %d instances, want min_pool_size 1", n)
	}
}
