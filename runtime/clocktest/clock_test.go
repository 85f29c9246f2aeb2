package clocktest_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/spawn-go/spawn/runtime"
	"github.com/spawn-go/spawn/runtime/clocktest"
)

var _ runtime.Clock = (*clocktest.Clock)(nil)

var start = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func TestAdvanceFiresInOrder(t *testing.T) {
	c := clocktest.New(start)
	var got []string
	var at []time.Duration
	arm := func(name string, d time.Duration) {
		c.AfterFunc(d, func() {
			got = append(got, name)
			at = append(at, c.Now().Sub(start))
		})
	}
	arm("c", 30*time.Millisecond)
	arm("a", 10*time.Millisecond)
	arm("b1", 20*time.Millisecond)
	arm("b2", 20*time.Millisecond) // same instant: arming order
	arm("late", time.Hour)
	// A timer armed by a timer, due within the same Advance, runs in it.
	c.AfterFunc(5*time.Millisecond, func() { arm("chained", 10*time.Millisecond) })

	c.Advance(30 * time.Millisecond)
	if want := []string{"a", "chained", "b1", "b2", "c"}; !slices.Equal(got, want) {
		t.Errorf("fired %v, want %v", got, want)
	}
	if want := []time.Duration{10, 15, 20, 20, 30}; !slices.Equal(at, scale(want, time.Millisecond)) {
		t.Errorf("Now during callbacks = %v", at)
	}
	if now := c.Now(); !now.Equal(start.Add(30 * time.Millisecond)) {
		t.Errorf("Now = %v after Advance", now)
	}
	if c.Pending() != 1 {
		t.Errorf("Pending = %d, want 1", c.Pending())
	}
}

func scale(ds []time.Duration, unit time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d * unit
	}
	return out
}

func TestStop(t *testing.T) {
	c := clocktest.New(start)
	fired := false
	tm := c.AfterFunc(time.Second, func() { fired = true })
	if !tm.Stop() {
		t.Error("Stop of an armed timer = false")
	}
	if tm.Stop() {
		t.Error("second Stop = true")
	}
	c.Advance(time.Hour)
	if fired {
		t.Error("stopped timer fired")
	}
	tm = c.AfterFunc(0, func() { fired = true })
	c.Advance(0)
	if !fired || tm.Stop() {
		t.Errorf("zero-delay timer: fired=%v; Stop after firing should be false", fired)
	}
}

func TestBlockUntil(t *testing.T) {
	c := clocktest.New(start)
	go func() {
		for range 3 {
			c.AfterFunc(time.Second, func() {})
		}
	}()
	c.BlockUntil(3)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.BlockUntilContext(ctx, 4); err == nil {
		t.Error("BlockUntilContext with a cancelled context returned nil")
	}
}

func TestNext(t *testing.T) {
	c := clocktest.New(start)
	if due, ok := c.Next(); ok {
		t.Fatalf("Next with nothing armed = %v, true", due)
	}
	late := c.AfterFunc(time.Hour, func() {})
	c.AfterFunc(time.Minute, func() {})
	if due, ok := c.Next(); !ok || !due.Equal(start.Add(time.Minute)) {
		t.Errorf("Next = %v, %v; want the minute's", due, ok)
	}
	c.Advance(time.Minute)
	if due, ok := c.Next(); !ok || !due.Equal(start.Add(time.Hour)) {
		t.Errorf("Next after the minute = %v, %v; want the hour's", due, ok)
	}
	late.Stop()
	if _, ok := c.Next(); ok {
		t.Error("Next after Stop reports a timer")
	}
}
