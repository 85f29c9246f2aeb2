package runtime

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/spawn-go/spawn/protocol"
)

// WaitIdle returns once the work an async call set off has finished, its
// side effects and the calls they make included, and not before.
func TestWaitIdle(t *testing.T) {
	entered, release := make(chan string, 8), make(chan struct{})
	blocking := blockingHost(entered, release)
	fx := req("b", "slow", nil)
	fx.Async = true
	host := newHost(func(ctx context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		if inv.GetActionName() == "src" {
			r := echo(inv)
			r.Workflow = &protocol.Workflow{Effects: []*protocol.SideEffect{{Request: fx}}}
			return r, nil
		}
		return blocking.Call(ctx, inv)
	})
	v := newEnv(t, host)
	v.register(newActor("a", actions("src")), newActor("b", actions("slow")))
	ctx := context.Background()
	if err := v.e.WaitIdle(ctx); err != nil {
		t.Fatalf("WaitIdle with nothing to do: %v", err)
	}

	r := req("a", "src", nil)
	r.Async = true
	v.invoke(r)
	<-entered // the side effect's call is under way, and blocked
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := v.e.WaitIdle(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitIdle while a side effect's call is blocked = %v, want DeadlineExceeded", err)
	}
	close(release)
	long, cancel2 := context.WithTimeout(ctx, waitLimit)
	defer cancel2()
	if err := v.e.WaitIdle(long); err != nil {
		t.Fatalf("WaitIdle: %v", err)
	}
	if n := len(v.host.matching(called("b", "slow"))); n != 1 {
		t.Errorf("b.slow ran %d times by the time WaitIdle returned, want 1", n)
	}
	// Again, any number of times.
	if err := v.e.WaitIdle(long); err != nil {
		t.Fatalf("second WaitIdle: %v", err)
	}
}

// A timer tick set off by a fake clock is work until its action has run.
func TestWaitIdleAfterAdvance(t *testing.T) {
	v := newEnv(t, newHost(nil))
	v.register(newActor("a", stateful, withMetadata, timerAction("tick", 1000)))
	v.blockUntilTimers(1)
	for i := 1; i <= 3; i++ {
		v.clock.Advance(time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		if err := v.e.WaitIdle(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		if n := len(v.host.matching(called("a", "tick"))); n != i {
			t.Fatalf("after %d advances, %d ticks have run", i, n)
		}
	}
}
