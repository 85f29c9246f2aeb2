package main

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
	"github.com/spawn-go/spawn/spawntest"
)

// The tests below run the pooled squarer with the test kit: on the real
// embedded engine, with a clock that moves only when the test says.

func TestSquarerSquares(t *testing.T) {
	// A gate for one caller is always open.
	k := spawntest.NewKit(t, &Squarer{Gate: newGate(1)})
	for _, n := range []int64{0, 1, 3, -4} {
		sq, err := spawn.Call(context.Background(), k, (*Squarer).Square, &domain.Count{Value: n})
		if err != nil || sq.Value != n*n {
			t.Errorf("Square(%d) = %v, %v; want %d", n, sq, err, n*n)
		}
	}
}

func TestSquarerServesFourCallsAtOnce(t *testing.T) {
	// The gate opens once four calls wait at it: served one at a time,
	// they would never all get there. The deadline only stops a failing
	// test from hanging.
	k := spawntest.NewKit(t, &Squarer{Gate: newGate(calls)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := make([]error, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			_, errs[i] = spawn.Call(ctx, k, (*Squarer).Square, &domain.Count{Value: int64(i + 1)})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("the calls did not all get through the gate: %v", err)
	}
	got := map[int64]int64{}
	for _, c := range k.CallsTo("squarer", "Square") {
		var in, out domain.Count
		if c.Input.UnmarshalTo(&in) != nil || c.Reply.UnmarshalTo(&out) != nil {
			t.Fatalf("a call without its input or reply: %+v", c)
		}
		got[in.Value] = out.Value
	}
	if len(got) != calls || got[1] != 1 || got[2] != 4 || got[3] != 9 || got[4] != 16 {
		t.Errorf("the squarer answered %v, want 1, 4, 9 and 16", got)
	}
}

func TestAPoolStartsAtItsFirstCallAndStaysReady(t *testing.T) {
	k := spawntest.NewKit(t, &Squarer{Gate: newGate(1)})
	// Pooled actors have no state: the pool starts at its first call.
	if k.Active("squarer") {
		t.Fatal("the pool is active before its first call")
	}
	if _, err := spawn.Call(context.Background(), k, (*Squarer).Square, &domain.Count{Value: 2}); err != nil {
		t.Fatal(err)
	}
	// Idle for its deactivation timeout (30 seconds), a pool sheds the
	// instances beyond min_pool, 1 by default, and so stays active.
	k.Advance(time.Hour)
	if !k.Active("squarer") {
		t.Error("the pool deactivated, though it keeps min_pool=1 instance ready")
	}
}
