package runtime

import (
	"context"
	"sync"
	"sync/atomic"
)

// tracker counts the engine's work in flight, like a sync.WaitGroup that
// can also be waited on while work keeps coming and going: WaitIdle waits
// for it to reach zero, any number of times. Add and Done cost what a
// WaitGroup's do while nobody waits.
type tracker struct {
	n       atomic.Int64
	waiters atomic.Int32
	mu      sync.Mutex
	zero    chan struct{} // closed at the next time n reaches zero; nil when nobody waits
}

// Add counts d more units of work.
func (t *tracker) Add(d int) { t.n.Add(int64(d)) }

// Done counts one unit of work as finished.
func (t *tracker) Done() {
	n := t.n.Add(-1)
	if n < 0 {
		panic("runtime: negative work count")
	}
	// A waiter announces itself before it reads the count, and Done
	// reads the waiters after it writes the count, so one of the two sees
	// the other.
	if n == 0 && t.waiters.Load() > 0 {
		t.mu.Lock()
		if t.zero != nil {
			close(t.zero)
			t.zero = nil
		}
		t.mu.Unlock()
	}
}

// Wait waits until no work is in flight.
func (t *tracker) Wait() { _ = t.waitZero(context.Background()) }

// waitZero waits until no work is in flight, or ctx ends.
func (t *tracker) waitZero(ctx context.Context) error {
	t.waiters.Add(1)
	defer t.waiters.Add(-1)
	for {
		t.mu.Lock()
		if t.zero == nil {
			t.zero = make(chan struct{})
		}
		ch := t.zero
		t.mu.Unlock()
		if t.n.Load() == 0 {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitIdle waits until the engine has no work in flight: no call being
// made, no message waiting in a mailbox or being handled, no workflow,
// side effect, broadcast, snapshot, activation or deactivation under way.
// Timers and scheduled invocations that are not due yet are not work.
//
// It is for tests on a fake clock (see clocktest): advance the clock, then
// wait for what it set off, with no sleeping. Work started meanwhile, by
// other goroutines or by an action's own goroutines, may keep it waiting;
// it returns ctx's error if ctx ends first.
func (e *Engine) WaitIdle(ctx context.Context) error {
	return e.wg.waitZero(ctx)
}
