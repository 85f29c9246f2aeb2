package runtime

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime/clocktest"
	"github.com/spawn-go/spawn/state"
)

// setHost sets the state to the input of action "set" and echoes the rest.
func setHost(checkpoint bool) *fakeHost {
	return newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		if inv.GetActionName() == "set" {
			r := reply(inv, inv.GetValue(), nil)
			r.Checkpoint = checkpoint
			return r, nil
		}
		return echo(inv), nil
	})
}

func TestSnapshotTimer(t *testing.T) {
	v := newEnv(t, setHost(false))
	v.register(newActor("a", stateful, snapshotEvery(500), actions("set")))
	v.invoke(req("a", "set", str("one")))
	v.blockUntilTimers(1)

	v.clock.Advance(499 * time.Millisecond)
	if _, err := v.loaded("a"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("saved before the snapshot interval: %v", err)
	}
	v.clock.Advance(time.Millisecond)
	rec, err := v.loaded("a")
	if err != nil || rec.Revision != 1 || strOf(t, recordState(rec)) != "one" {
		t.Fatalf("after one interval: %v, %v; want revision 1 holding one", rec, err)
	}

	v.clock.Advance(500 * time.Millisecond) // unchanged: no new revision
	if rec, _ := v.loaded("a"); rec.Revision != 1 {
		t.Errorf("unchanged state saved again as revision %d", rec.Revision)
	}

	v.invoke(req("a", "set", str("two")))
	v.clock.Advance(500 * time.Millisecond)
	if rec, _ := v.loaded("a"); rec.Revision != 2 || strOf(t, recordState(rec)) != "two" {
		t.Errorf("after a change: %v; want revision 2 holding two", rec)
	}
}

// A checkpoint is saved before the caller gets the reply.
func TestCheckpointSavedBeforeReply(t *testing.T) {
	v := newEnv(t, setHost(true))
	v.register(newActor("a", stateful, actions("set")))
	for i, s := range []string{"one", "two"} {
		v.invoke(req("a", "set", str(s)))
		rec, err := v.loaded("a") // no waiting: it must be there already
		if err != nil || rec.Revision != int64(i+1) || strOf(t, recordState(rec)) != s {
			t.Fatalf("after checkpoint %d: %v, %v", i+1, rec, err)
		}
	}
}

func TestDeactivationAndReactivation(t *testing.T) {
	v := newEnv(t, setHost(false))
	v.register(newActor("a", stateful, deactivateAfter(1000), actions("init", "set")))
	v.invoke(req("a", "set", str("kept")))
	v.waitIdle("a")
	v.blockUntilTimers(1)

	// Activity pushes deactivation back: idle for 600 ms, busy, idle again.
	v.clock.Advance(600 * time.Millisecond)
	v.invoke(req("a", "get", nil))
	v.waitIdle("a")
	v.clock.Advance(600 * time.Millisecond)
	if !v.active("a") {
		t.Fatal("deactivated although it was used 600 ms ago")
	}
	if _, err := v.loaded("a"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("saved while active (no snapshot strategy): %v", err)
	}

	v.clock.Advance(400 * time.Millisecond)
	if v.active("a") {
		t.Fatal("still active after 1000 ms idle")
	}
	rec, err := v.loaded("a")
	if err != nil || strOf(t, recordState(rec)) != "kept" {
		t.Fatalf("state saved at deactivation = %v, %v", rec, err)
	}

	// The next invocation reactivates: state reloaded, init run again.
	resp := v.invoke(req("a", "get", nil))
	if got := payloadOf(t, resp); got != "kept" {
		t.Errorf("state after reactivation = %q, want kept", got)
	}
	inits := v.host.matching(called("a", "init"))
	if len(inits) != 2 {
		t.Fatalf("init ran %d times, want 2", len(inits))
	}
	if got := strOf(t, inits[1].GetCurrentContext().GetState()); got != "kept" {
		t.Errorf("second init saw state %q, want kept", got)
	}
}

func TestNoDeactivationStrategyNeverDeactivates(t *testing.T) {
	v := newEnv(t, newHost(nil))
	v.register(newActor("a", actions("x")))
	v.invoke(req("a", "x", nil))
	if n := v.clock.Pending(); n != 0 {
		t.Fatalf("%d timers armed, want none", n)
	}
	v.clock.Advance(24 * time.Hour)
	if !v.active("a") {
		t.Error("deactivated without a strategy")
	}
}

// Timer periods are milliseconds, fire at a fixed rate from activation, keep
// firing after deactivation (reactivating the actor) and are not doubled
// by reactivation.
func TestTimerActions(t *testing.T) {
	v := newEnv(t, newHost(nil))
	v.register(newActor("a", stateful, withMetadata, deactivateAfter(1000), timerAction("tick", 1500), actions("init", "ping")))
	v.host.waitN(t, 1, called("a", "init")) // eager activation
	v.blockUntilTimers(2)                   // tick and deactivation

	// ticksAfter advances the clock and returns how many ticks the host has
	// seen once the mailbox has caught up: a sync ping queues behind any tick.
	ticksAfter := func(d time.Duration) int {
		t.Helper()
		v.clock.Advance(d)
		v.invoke(req("a", "ping", nil))
		return len(v.host.matching(called("a", "tick")))
	}
	if n := ticksAfter(1499 * time.Millisecond); n != 0 {
		t.Fatalf("ticks after 1499 ms = %d, want 0", n)
	}
	if n := ticksAfter(time.Millisecond); n != 1 {
		t.Fatalf("ticks after 1500 ms = %d, want 1", n)
	}
	tick := v.host.matching(called("a", "tick"))[0]
	if _, ok := tick.GetPayload().(*protocol.ActorInvocation_Noop); !ok || tick.GetCaller().GetName() != "a" {
		t.Errorf("tick = %v, want noop payload with the actor as caller", tick)
	}

	// Let it deactivate, then let the timer wake it up.
	v.waitIdle("a")
	v.clock.Advance(1000 * time.Millisecond)
	if v.active("a") {
		t.Fatal("still active after its deactivation timeout")
	}
	v.clock.Advance(500 * time.Millisecond) // 3000 ms: second tick
	v.host.waitN(t, 2, called("a", "tick"))
	v.host.waitN(t, 2, called("a", "init"))
	// The host has seen the tick, but the timer counts it as pending until
	// the worker has finished it, and skips ticks meanwhile. A sync ping
	// queues behind it.
	v.invoke(req("a", "ping", nil))

	if n := ticksAfter(1500 * time.Millisecond); n != 3 {
		t.Errorf("ticks at 4500 ms = %d, want 3 (no duplicate timer after reactivation)", n)
	}
}

// Close saves every stateful actor, waits for in-flight work, leaves no
// goroutine behind and is idempotent; calls after it fail.
func TestClose(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	release := make(chan struct{})
	host := newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		if inv.GetActionName() == "slow" {
			<-release
			return reply(inv, str("late"), nil), nil
		}
		return reply(inv, inv.GetValue(), nil), nil
	})
	store := state.NewMemory()
	e, err := New(Options{Host: host, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := e.Register(ctx, registration(
		newActor("a", stateful, snapshotEvery(60_000), deactivateAfter(60_000), timerAction("tick", 60_000), actions("set", "tick")),
		newActor("b", stateful, actions("slow")),
	)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Invoke(ctx, req("a", "set", str("saved"))); err != nil {
		t.Fatal(err)
	}
	r := req("b", "slow", nil)
	r.Async = true
	if _, err := e.Invoke(ctx, r); err != nil {
		t.Fatal(err)
	}
	host.waitN(t, 1, called("b", "slow"))

	closed := make(chan error)
	go func() { closed <- e.Close(ctx) }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while an invocation was in flight", err)
	default:
	}
	close(release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a": "saved", "b": "late"} {
		rec, err := store.Load(ctx, state.Key{System: sys, Name: name})
		if err != nil || strOf(t, recordState(rec)) != want {
			t.Errorf("%s after Close: %v, %v; want %q saved", name, rec, err, want)
		}
	}
	if err := e.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, err = e.Invoke(ctx, req("a", "set", nil))
	wantStatus(t, err, protocol.Status_ERROR, "closed")
	_, err = e.Register(ctx, registration(newActor("c")))
	wantStatus(t, err, protocol.Status_ERROR, "closed")
}

// Close gives up on in-flight work when its context ends.
func TestCloseContext(t *testing.T) {
	host := newHost(func(ctx context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		<-ctx.Done() // hangs until Close cancels the engine's work
		return echo(inv), nil
	})
	e, err := New(Options{Host: host, Store: state.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	bg := context.Background()
	if _, err := e.Register(bg, registration(newActor("a", actions("hang")))); err != nil {
		t.Fatal(err)
	}
	r := req("a", "hang", nil)
	r.Async = true
	if _, err := e.Invoke(bg, r); err != nil {
		t.Fatal(err)
	}
	host.waitN(t, 1, called("a", "hang"))
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := e.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Close with a cancelled context = %v, want context.Canceled", err)
	}
}

// failingLoads is a store whose reads of actor state fail.
type failingLoads struct{ *state.Memory }

func (failingLoads) Load(context.Context, state.Key) (state.Record, error) {
	return state.Record{}, errors.New("disk on fire")
}

// When the stored state cannot be read, the actor runs on its registered
// state and never overwrites what is stored.
func TestLoadFailureNeverOverwrites(t *testing.T) {
	store := failingLoads{state.NewMemory()}
	prev := state.Record{Revision: 7, TypeURL: str("stored").GetTypeUrl(), Data: str("stored").GetValue()}
	if err := store.Save(context.Background(), state.Key{System: sys, Name: "a"}, prev); err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Host: setHost(true), Store: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := e.Register(ctx, registration(newActor("a", stateful, initialState(str("registered"), nil), actions("set")))); err != nil {
		t.Fatal(err)
	}
	resp, err := e.Invoke(ctx, req("a", "get", nil))
	if err != nil || payloadOf(t, resp) != "registered" {
		t.Fatalf("get = %v, %v; want the registered state", resp, err)
	}
	_, err = e.Invoke(ctx, req("a", "set", str("new")))
	wantStatus(t, err, protocol.Status_ERROR, "checkpoint")
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	rec, err := store.Memory.Load(ctx, state.Key{System: sys, Name: "a"})
	if err != nil || rec.Revision != 7 || strOf(t, recordState(rec)) != "stored" {
		t.Errorf("stored = %v, %v; want revision 7 untouched", rec, err)
	}
}

// blockingSaves is a store whose saves wait for release once armed.
type blockingSaves struct {
	*state.Memory
	armed   chan struct{} // closed: saves block from now on
	saving  chan struct{} // receives when a save starts waiting
	release chan struct{}
}

func (s *blockingSaves) Save(ctx context.Context, key state.Key, rec state.Record) error {
	select {
	case <-s.armed:
		s.saving <- struct{}{}
		<-s.release
	default:
	}
	return s.Memory.Save(ctx, key, rec)
}

// An invocation that arrives while the actor is saving its state at
// deactivation waits for the save, then reactivates on the saved state.
func TestInvokeDuringDeactivation(t *testing.T) {
	store := &blockingSaves{Memory: state.NewMemory(), armed: make(chan struct{}), saving: make(chan struct{}), release: make(chan struct{})}
	clock := clocktest.New(epoch)
	host := setHost(false)
	e, err := New(Options{Host: host, Store: store, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	defer e.Close(ctx)
	if _, err := e.Register(ctx, registration(newActor("a", stateful, deactivateAfter(1000), actions("set")))); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Invoke(ctx, req("a", "set", str("saved at deactivation"))); err != nil {
		t.Fatal(err)
	}
	v := &env{t: t, e: e, clock: clock}
	v.waitIdle("a")
	close(store.armed)
	advanced := make(chan struct{})
	go func() {
		clock.Advance(time.Second) // deactivates; blocks in Save
		close(advanced)
	}()
	<-store.saving

	got := make(chan *protocol.InvocationResponse)
	go func() {
		resp, err := e.Invoke(ctx, req("a", "get", nil))
		if err != nil {
			t.Error(err)
		}
		got <- resp
	}()
	select {
	case <-got:
		t.Fatal("invocation answered while the actor was still saving")
	default:
	}
	close(store.release)
	if resp := <-got; payloadOf(t, resp) != "saved at deactivation" {
		t.Errorf("after reactivation: %v", resp)
	}
	<-advanced
}

func TestStateErrors(t *testing.T) {
	v := newEnv(t, newHost(nil))
	v.register(newActor("a"))
	ctx := context.Background()
	if _, err := v.e.State(ctx, &protocol.ActorId{Name: "a"}); err != nil {
		t.Errorf("State with no system: %v, want the engine's system", err)
	}
	_, err := v.e.State(ctx, &protocol.ActorId{Name: "nobody", System: sys})
	wantStatus(t, err, protocol.Status_ACTOR_NOT_FOUND, "nobody")
	_, err = v.e.State(ctx, &protocol.ActorId{Name: "a", System: "elsewhere"})
	wantStatus(t, err, protocol.Status_ERROR, "elsewhere")
	_, err = v.e.State(ctx, &protocol.ActorId{System: sys})
	wantStatus(t, err, protocol.Status_ERROR, "name")
}

// When a host call ignores cancellation, Close still returns once its
// context ends, and the messages queued behind that call fail at once
// instead of waiting for it and reaching the host after Close.
func TestCloseGivesUpOnHostIgnoringCancellation(t *testing.T) {
	release := make(chan struct{})
	host := newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		if inv.GetActionName() == "hang" {
			<-release // ignores ctx
		}
		return echo(inv), nil
	})
	e, err := New(Options{Host: host, Store: state.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	bg := context.Background()
	if _, err := e.Register(bg, registration(newActor("a", actions("hang", "queued")))); err != nil {
		t.Fatal(err)
	}
	r := req("a", "hang", nil)
	r.Async = true
	if _, err := e.Invoke(bg, r); err != nil {
		t.Fatal(err)
	}
	host.waitN(t, 1, called("a", "hang"))
	queued := make(chan error, 1)
	go func() {
		_, err := e.Invoke(bg, req("a", "queued", nil))
		queued <- err
	}()
	waitFor(t, "the second call to be queued", func() bool {
		e.mu.Lock()
		c := e.cells[actorKey{name: "a", system: sys}]
		e.mu.Unlock()
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.queue) == 1
	})

	ctx, cancel := context.WithCancel(bg)
	cancel()
	closed := make(chan error, 1)
	go func() { closed <- e.Close(ctx) }()
	select {
	case err := <-closed:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Close = %v, want context.Canceled", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Close waited for a host call that ignores cancellation")
	}
	select {
	case err := <-queued:
		wantStatus(t, err, protocol.Status_ERROR, "closed")
	case <-time.After(waitLimit):
		t.Fatal("the queued call still waits after Close")
	}
	close(release)
	e.workers.wait()
	if n := len(host.matching(called("a", "queued"))); n != 0 {
		t.Errorf("the queued call reached the host %d times after Close", n)
	}
}

// Timer actions and subscriptions follow the definition an actor is
// activated with: those a re-registration changed or dropped stop at the
// next activation, instead of running beside the new ones until Close.
func TestReregistrationReplacesTimersAndChannels(t *testing.T) {
	host := newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		r := echo(inv)
		if inv.GetActionName() == "src" {
			r.Workflow = &protocol.Workflow{Broadcast: &protocol.Broadcast{ChannelGroup: "news"}}
		}
		return r, nil
	})
	v := newEnv(t, host)
	v.register(
		newActor("a", deactivateAfter(500), timerAction("tick", 1000), channel("news", ""), actions("ping", "receive")),
		newActor("pub", actions("src")),
	)
	v.invoke(req("a", "ping", nil)) // activates: timer and subscription start
	v.register(newActor("a", deactivateAfter(500), timerAction("tick", 300), actions("ping", "receive")))
	v.waitIdle("a")
	v.clock.Advance(500 * time.Millisecond) // deactivates
	if v.active("a") {
		t.Fatal("still active after its deactivation timeout")
	}
	v.invoke(req("a", "ping", nil)) // activates with the new definition

	v.invoke(req("pub", "src", nil))
	for range 3 { // 800, 1100, 1400 ms; the old 1000 ms timer would fire too
		v.clock.Advance(300 * time.Millisecond)
		v.invoke(req("a", "ping", nil)) // queues behind the ticks
	}
	if n := len(v.host.matching(called("a", "tick"))); n != 3 {
		t.Errorf("ticks = %d, want 3 from the new timer alone", n)
	}
	if got := v.host.matching(called("a", "receive")); len(got) != 0 {
		t.Errorf("a dropped channel still delivers: %v", got)
	}
}

// A tick is skipped while the previous one is still queued or running, so a
// timer action slower than its period does not fill the mailbox.
func TestTimerSkipsTicksWhilePending(t *testing.T) {
	release := make(chan struct{})
	host := newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		if inv.GetActionName() == "tick" {
			<-release
		}
		return echo(inv), nil
	})
	v := newEnv(t, host)
	v.register(newActor("a", timerAction("tick", 100), actions("ping")))
	v.invoke(req("a", "ping", nil))
	v.clock.Advance(100 * time.Millisecond)
	v.host.waitN(t, 1, called("a", "tick"))
	for range 4 {
		v.clock.Advance(100 * time.Millisecond) // the first tick still runs
	}
	close(release)
	v.invoke(req("a", "ping", nil)) // queues behind any tick
	if n := len(v.host.matching(called("a", "tick"))); n != 1 {
		t.Errorf("ticks while the first one ran = %d, want 1", n)
	}
	v.clock.Advance(100 * time.Millisecond)
	v.invoke(req("a", "ping", nil))
	if n := len(v.host.matching(called("a", "tick"))); n != 2 {
		t.Errorf("ticks = %d, want 2 once the first one is done", n)
	}
}
