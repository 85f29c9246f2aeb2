package runtime

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime/clocktest"
	"github.com/spawn-go/spawn/state"
)

// savesByCause records the Observer's save events.
type savesByCause struct {
	mu sync.Mutex
	n  map[SaveCause]int
}

func (s *savesByCause) saved(ev Save) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ev.Err == nil {
		s.n[ev.Cause]++
	}
}

func (s *savesByCause) count(c SaveCause) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[c]
}

// newSaveCountingEnv is newEnv with an Observer counting the saves.
func newSaveCountingEnv(t *testing.T, host *fakeHost) (*env, *savesByCause) {
	t.Helper()
	saves := &savesByCause{n: map[SaveCause]int{}}
	store, clock := state.NewMemory(), clocktest.New(epoch)
	e, err := New(Options{Host: host, Store: store, Clock: clock, Observer: Observer{Saved: saves.saved}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &env{t: t, e: e, host: host, store: store, clock: clock}, saves
}

func (v *env) duties() int {
	v.e.upMu.Lock()
	defer v.e.upMu.Unlock()
	return len(v.e.duties)
}

// Many active actors share one timer, and an actor whose state has not
// changed since its last snapshot is neither scheduled nor saved again.
func TestUpkeepOneTimerAndNoResave(t *testing.T) {
	v, saves := newSaveCountingEnv(t, setHost(false))
	v.register(newActor("tmpl", kind(protocol.Kind_UNNAMED), stateful, snapshotEvery(1000), deactivateAfter(60_000), actions("set")))
	const n = 50
	for i := range n {
		r := req(fmt.Sprint("a", i), "set", str(fmt.Sprint("v", i)))
		r.RegisterRef = "tmpl"
		v.invoke(r)
	}
	// The upkeep's, and the one that forgets instances spawned and unused.
	if p := v.clock.Pending(); p != 2 {
		t.Fatalf("%d timers armed for %d actors, want 2", p, n)
	}
	if d := v.duties(); d != 2*n {
		t.Fatalf("%d duties, want %d: a deactivation and a snapshot for each changed actor", d, 2*n)
	}
	v.clock.Advance(time.Second)
	if got := saves.count(SavedBySnapshot); got != n {
		t.Fatalf("%d snapshots after one period, want %d", got, n)
	}
	for i := range n {
		rec, err := v.store.Load(context.Background(), state.Key{System: sys, Name: fmt.Sprint("a", i), Parent: "tmpl"})
		if err != nil || strOf(t, recordState(rec)) != fmt.Sprint("v", i) {
			t.Fatalf("a%d: stored %v, %v", i, rec, err)
		}
	}
	if d := v.duties(); d != n {
		t.Errorf("%d duties once every state is saved, want %d (deactivations only)", d, n)
	}
	// Unchanged: nothing is scheduled, nothing saved.
	v.clock.Advance(10 * time.Second)
	if got := saves.count(SavedBySnapshot); got != n {
		t.Errorf("unchanged states saved again: %d snapshots, want %d", got, n)
	}
	// One change is one more snapshot, in the next period.
	r := req("a7", "set", str("changed"))
	r.RegisterRef = "tmpl"
	v.invoke(r)
	v.clock.Advance(time.Second)
	if got := saves.count(SavedBySnapshot); got != n+1 {
		t.Errorf("%d snapshots after one change, want %d", got, n+1)
	}
}

// A state changed by the same value it had is not saved again.
func TestUpkeepSameValueNotResaved(t *testing.T) {
	v, saves := newSaveCountingEnv(t, setHost(false))
	v.register(newActor("a", stateful, snapshotEvery(500), actions("set")))
	v.invoke(req("a", "set", str("same")))
	v.clock.Advance(500 * time.Millisecond)
	v.invoke(req("a", "set", str("same")))
	v.clock.Advance(500 * time.Millisecond)
	if got := saves.count(SavedBySnapshot); got != 1 {
		t.Errorf("%d snapshots, want 1: the second set changed nothing", got)
	}
	if rec, _ := v.loaded("a"); rec.Revision != 1 {
		t.Errorf("revision %d, want 1", rec.Revision)
	}
}

// A deactivated instance of an unnamed actor leaves nothing in the
// engine but its stored state.
func TestDeactivatedInstanceLeavesNothing(t *testing.T) {
	v, saves := newSaveCountingEnv(t, setHost(false))
	// Deactivated before its first snapshot is due, which is then moot.
	v.register(newActor("tmpl", kind(protocol.Kind_UNNAMED), stateful, snapshotEvery(2000), deactivateAfter(1000),
		channel("news", "set"), actions("set")))
	const n = 20
	for i := range n {
		r := req(fmt.Sprint("i", i), "set", str("kept"))
		r.RegisterRef = "tmpl"
		v.invoke(r)
	}
	for i := range n {
		v.waitIdle(fmt.Sprint("i", i))
	}
	v.clock.Advance(time.Second)
	if got := saves.count(SavedByDeactivation); got != n {
		t.Fatalf("%d saves at deactivation, want %d", got, n)
	}
	e := v.e
	e.mu.Lock()
	left := map[string]int{"cells": len(e.cells), "instances": len(e.instances), "timers": len(e.timers),
		"subscribed": len(e.subscribed), "tagsWiped": len(e.tagsWiped), "topics": len(e.topics["news"])}
	e.mu.Unlock()
	left["duties"] = v.duties()
	for what, k := range left {
		if k != 0 {
			t.Errorf("%d entries left in %s after every instance deactivated", k, what)
		}
	}
	if defs := len(e.defs); defs != 1 {
		t.Errorf("%d definitions, want the template alone", defs)
	}
	if p := v.clock.Pending(); p != 0 {
		t.Errorf("%d timers armed with no actor active, want 0", p)
	}
	// Its state is what remains: it comes back with it.
	r := req("i3", "get", nil)
	r.RegisterRef = "tmpl"
	if got := payloadOf(t, v.invoke(r)); got != "kept" {
		t.Errorf("state after reactivation = %q, want kept", got)
	}
}

// Close saves every changed state, in one batch, whatever the snapshot
// period.
func TestCloseSavesEveryChangedState(t *testing.T) {
	store := state.NewMemory()
	saves := &savesByCause{n: map[SaveCause]int{}}
	e, err := New(Options{Host: setHost(false), Store: store, Clock: clocktest.New(epoch), Observer: Observer{Saved: saves.saved}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := e.Register(ctx, registration(newActor("tmpl", kind(protocol.Kind_UNNAMED), stateful, snapshotEvery(3_600_000), actions("set")))); err != nil {
		t.Fatal(err)
	}
	const n = 30
	for i := range n {
		r := req(fmt.Sprint("c", i), "set", str(fmt.Sprint("v", i)))
		r.RegisterRef = "tmpl"
		if _, err := e.Invoke(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := saves.count(SavedByDeactivation); got != n {
		t.Errorf("%d saves at close, want %d", got, n)
	}
	for i := range n {
		rec, err := store.Load(ctx, state.Key{System: sys, Name: fmt.Sprint("c", i), Parent: "tmpl"})
		if err != nil || strOf(t, recordState(rec)) != fmt.Sprint("v", i) {
			t.Errorf("c%d: stored %v, %v", i, rec, err)
		}
	}
}

// The duties heap runs them in time order, snapshots before deactivations
// due at the same instant, and each cell knows where its duties are.
func TestDutiesOrder(t *testing.T) {
	var h duties
	at := func(ms int) int64 { return epoch.Add(time.Duration(ms) * time.Millisecond).UnixNano() }
	cells := make([]*cell, 7)
	for i := range cells {
		cells[i] = &cell{}
	}
	for i, d := range []duty{{at: at(5), kind: dutyDeactivate}, {at: at(1)}, {at: at(5)}, {at: at(3), kind: dutyDeactivate},
		{at: at(2)}, {at: at(4)}, {at: at(0), kind: dutyDeactivate}} {
		d.c = cells[i]
		h.push(d)
	}
	check := func() {
		t.Helper()
		for i, d := range h {
			if got := int(d.c.dutyAt[d.kind]) - 1; got != i {
				t.Fatalf("duty at %d: its cell says %d", i, got)
			}
		}
	}
	check()
	// Removed from the middle: the 4 ms snapshot.
	if d := h.remove(int(cells[5].dutyAt[dutySnapshot]) - 1); d.c != cells[5] || cells[5].dutyAt[dutySnapshot] != 0 {
		t.Fatalf("removed %v", d)
	}
	check()
	var got []string
	for len(h) > 0 {
		d := h.pop()
		got = append(got, fmt.Sprintf("%d/%d", time.Duration(d.at-epoch.UnixNano()).Milliseconds(), d.kind))
		check()
	}
	if want := "[0/1 1/0 2/0 3/1 5/0 5/1]"; fmt.Sprint(got) != want {
		t.Errorf("order %v, want %s", got, want)
	}
}

// A caller that cannot stop waiting runs its call itself when the actor is
// idle; what arrives meanwhile queues, runs one at a time and in order on
// a worker, and the caller leaves once its own call is done.
func TestDirectCallKeepsOrderAndTurns(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var order []string
	running, overlap := 0, false
	host := newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		mu.Lock()
		running++
		overlap = overlap || running > 1
		order = append(order, anyStr(inv.GetValue()))
		mu.Unlock()
		if anyStr(inv.GetValue()) == "first" {
			close(entered)
			<-release
		}
		mu.Lock()
		running--
		mu.Unlock()
		return reply(inv, inv.GetValue(), inv.GetValue()), nil
	})
	v := newEnv(t, host)
	v.register(newActor("a", stateful, actions("set")))
	ctx := context.Background()
	first := make(chan error)
	go func() {
		_, err := v.e.Invoke(ctx, req("a", "set", str("first")))
		first <- err
	}()
	<-entered
	async := req("a", "set", str("second"))
	async.Async = true
	v.invoke(async)
	third := make(chan *protocol.InvocationResponse)
	go func() {
		resp, err := v.e.Invoke(ctx, req("a", "set", str("third")))
		if err != nil {
			t.Error(err)
		}
		third <- resp
	}()
	waitFor(t, "the third call to queue", func() bool {
		v.e.mu.Lock()
		c := v.e.cells[actorKey{name: "a", system: sys}]
		v.e.mu.Unlock()
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.queue) == 2
	})
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if got := payloadOf(t, <-third); got != "third" {
		t.Errorf("third call answered %q", got)
	}
	v.waitIdle("a")
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(order) != "[first second third]" || overlap {
		t.Errorf("order %v, overlap %v; want first, second, third, one at a time", order, overlap)
	}
	if got := strOf(t, v.state("a").GetState()); got != "third" {
		t.Errorf("state %q, want third", got)
	}
}

// A map that lost most of its entries is replaced by a smaller copy.
func TestShrunk(t *testing.T) {
	m := map[int]int{}
	peak := 0
	for i := range 1000 {
		m[i] = i
	}
	m, peak = shrunk(m, peak)
	if peak != 1000 {
		t.Fatalf("peak %d, want 1000", peak)
	}
	for i := range 900 {
		delete(m, i)
	}
	old := m
	m, peak = shrunk(m, peak)
	if peak != 100 || len(m) != 100 || m[950] != 950 {
		t.Fatalf("after shrinking: peak %d, %d entries", peak, len(m))
	}
	m[-1] = -1 // a copy: the old map does not see it
	if _, ok := old[-1]; ok {
		t.Fatal("the map was not replaced")
	}
}
