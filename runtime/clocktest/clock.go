// Package clocktest provides a fake clock for tests of the runtime and of
// code built on it. Time stands still until the test moves it with Advance,
// so timer actions, snapshots, deactivation and scheduled invocations fire
// exactly when the test says, with no sleeping.
//
// A *Clock satisfies runtime.Clock.
package clocktest

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Clock is a manual clock. It is safe for concurrent use. Create one with New.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	seq     uint64   // arming order, to fire timers due at the same instant in order
	timers  []*timer // armed timers, unordered
	changed chan struct{}
}

// New returns a clock that reads start until it is advanced.
func New(start time.Time) *Clock {
	return &Clock{now: start, changed: make(chan struct{})}
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc arms a timer that calls f once the clock has been advanced by
// at least d. A d <= 0 makes f due now: it runs on the next Advance, even
// Advance(0).
//
// The result is an interface{ Stop() bool } so that *Clock satisfies
// runtime.Clock, whose Timer is an alias of that type.
func (c *Clock) AfterFunc(d time.Duration, f func()) interface{ Stop() bool } {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &timer{c: c, when: c.now.Add(max(d, 0)), seq: c.seq, f: f}
	c.timers = append(c.timers, t)
	c.notifyLocked()
	return t
}

// Advance moves the clock forward by d and runs every timer that falls due,
// earliest first (timers due at the same instant run in the order they were
// armed). While a timer runs, Now reads the instant it was due.
//
// Timers run synchronously on the goroutine that calls Advance, with no
// lock held, so they may arm or stop timers; one armed for a time within
// the advanced span runs before Advance returns. When Advance returns, every
// due function has returned, but goroutines they started may still be
// running: wait for those with your own channels.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(max(d, 0))
	for {
		t := c.nextDueLocked(end)
		if t == nil {
			break
		}
		c.removeLocked(t)
		c.now = t.when
		c.mu.Unlock()
		t.f()
		c.mu.Lock()
	}
	c.now = end
	c.mu.Unlock()
}

// Next returns when the earliest armed timer is due; ok is false when none
// is armed. A test that must let the work each timer sets off finish
// before the next fires advances to Next, waits, and repeats.
func (c *Clock) Next() (due time.Time, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.timers {
		if !ok || t.when.Before(due) {
			due, ok = t.when, true
		}
	}
	return due, ok
}

// Pending returns the number of armed timers.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// BlockUntil waits until at least n timers are armed. It is how a test knows
// that the code under test has armed its timers before it calls Advance.
// It waits forever if that never happens; see BlockUntilContext.
func (c *Clock) BlockUntil(n int) {
	_ = c.BlockUntilContext(context.Background(), n)
}

// BlockUntilContext is BlockUntil with a way out: it returns ctx.Err() if
// ctx ends first.
func (c *Clock) BlockUntilContext(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		if len(c.timers) >= n {
			c.mu.Unlock()
			return nil
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *Clock) nextDueLocked(end time.Time) *timer {
	var next *timer
	for _, t := range c.timers {
		if t.when.After(end) {
			continue
		}
		if next == nil || t.when.Before(next.when) || (t.when.Equal(next.when) && t.seq < next.seq) {
			next = t
		}
	}
	return next
}

// removeLocked reports whether t was armed.
func (c *Clock) removeLocked(t *timer) bool {
	i := slices.Index(c.timers, t)
	if i < 0 {
		return false
	}
	c.timers = slices.Delete(c.timers, i, i+1)
	c.notifyLocked()
	return true
}

// notifyLocked wakes every BlockUntil waiter so it can recount.
func (c *Clock) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

type timer struct {
	c    *Clock
	when time.Time
	seq  uint64
	f    func()
}

// Stop disarms the timer. It reports false if the timer has already fired
// or been stopped.
func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	return t.c.removeLocked(t)
}
