package spawntest

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/enginehook"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime"
	"github.com/spawn-go/spawn/runtime/clocktest"
)

// SettleTimeout bounds how long Settle, and so Advance, wait for the
// actors to finish what they were set off to do. Reaching it fails the
// test: an action is stuck, or calls itself synchronously. It bounds the
// stop at the end of a test too (and Kit.Stop), which reports the actors
// still at work instead of waiting for them.
var SettleTimeout = 10 * time.Second

// Kit runs actors in a test on the real embedded runtime, with their state
// in memory and a clock that moves only when the test says. Nothing in it
// sleeps: Advance moves the clock and fires the timers, snapshots,
// deactivations and delayed calls that fall due, one instant at a time,
// waiting each time until the work they set off has finished.
//
// A Kit is a *spawn.System, so the test invokes actors as a program does
// (Invoke, spawn.Call, State, Spawn, Revisions, Restore, and the rest). It
// also presets and reads state and tags, and records what the actions
// did: every call each actor handled (Calls), and the broadcasts, side
// effects, forwards and pipes their replies asked for.
type Kit struct {
	*spawn.System

	t      testing.TB
	clock  *clocktest.Clock
	engine *runtime.Engine

	mu    sync.Mutex
	calls []Call
	bcast []Broadcast
	fx    []Effect
	fwd   []Route
	pipes []Route
}

// NewKit starts the actors on the embedded runtime, with an in-memory
// store, a logger that writes to t, and a fake clock that reads the
// current time, to the second, until the test moves it. Options may be
// passed among the actors, as with spawn.Start. The actors stop when the
// test ends.
//
// NewKit returns once the actors are registered and those that activate
// at registration (stateful named actors) have run their Init.
func NewKit(t testing.TB, args ...any) *Kit {
	t.Helper()
	k := &Kit{t: t, clock: clocktest.New(time.Now().Truncate(time.Second))}
	hook := enginehook.Hook{
		Configure: func(o *runtime.Options) {
			o.Clock = k.clock
			o.Observer = runtime.JoinObservers(o.Observer, runtime.Observer{Invoked: k.record})
		},
		Started: func(e *runtime.Engine) { k.engine = e },
	}
	args = append([]any{enginehook.Option(hook)}, args...)
	k.System = Start(t, args...)
	k.Settle()
	return k
}

// Now returns the kit's clock: the time the actors see.
func (k *Kit) Now() time.Time { return k.clock.Now() }

// Advance moves the clock forward by d. Every timer that falls due on the
// way fires at its instant, in order: timer actions, snapshots,
// deactivations, delayed and scheduled calls. After each instant, Advance
// waits until the work set off has finished, the calls it made and their
// workflows included, before it goes on. Advance(0) fires what is due now.
func (k *Kit) Advance(d time.Duration) {
	k.t.Helper()
	// Work already set off happens now, before the clock moves: otherwise
	// it could land at a later time and shift the timers it arms.
	k.Settle()
	end := k.clock.Now().Add(d)
	for {
		next, ok := k.clock.Next()
		if !ok || next.After(end) {
			break
		}
		k.clock.Advance(next.Sub(k.clock.Now()))
		k.Settle()
	}
	k.clock.Advance(end.Sub(k.clock.Now()))
	k.Settle()
}

// Settle waits until the actors have finished everything already set off:
// async calls, side effects, broadcasts, pipes and forwards, and the calls
// those make. Calls that wait for the clock are not waited for: Advance
// fires them. It fails the test after SettleTimeout. Never call it from an
// action.
func (k *Kit) Settle() {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), SettleTimeout)
	defer cancel()
	if err := k.engine.WaitIdle(ctx); err != nil {
		k.t.Fatalf("spawntest: the actors are still at work after %v: %s; is an action stuck, or calling itself synchronously?",
			SettleTimeout, busyActors(k.engine))
	}
}

// Stop stops the actors as System.Stop does, but returns within
// SettleTimeout (ctx may end it sooner): when an action is still running
// then, Stop returns an error naming the actors at work, and leaves them
// running, rather than wait for them forever. The test's cleanup stops
// the actors the same way.
func (k *Kit) Stop(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- stopWithin(k.System, func() string { return busyActors(k.engine) }) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("spawntest: stopping the actors: %w; still at work: %s", ctx.Err(), busyActors(k.engine))
	}
}

// SetState gives an actor the state msg, keeping its tags, as if it had
// been stored so: a stateful actor saves it as its next revision, and the
// actor is activated again from it, its Init included. The option
// Instance presets an instance of an unnamed actor, spawning it if needed.
func (k *Kit) SetState(actor string, msg proto.Message, opts ...spawn.RouteOption) {
	k.t.Helper()
	st, err := anypb.New(msg)
	if err != nil {
		k.t.Fatalf("spawntest: SetState(%q): %v", actor, err)
	}
	id := k.id(actor, opts)
	cur := k.current(id)
	k.setState(id, &protocol.ActorState{State: st, Tags: cur.Tags})
}

// SetTags replaces an actor's tags with tags, keeping its state, as
// SetState does.
func (k *Kit) SetTags(actor string, tags map[string]string, opts ...spawn.RouteOption) {
	k.t.Helper()
	id := k.id(actor, opts)
	cur := k.current(id)
	k.setState(id, &protocol.ActorState{State: cur.State, Tags: maps.Clone(tags)})
}

// Tags returns an actor's current tags, activating it if needed.
func (k *Kit) Tags(actor string, opts ...spawn.RouteOption) map[string]string {
	k.t.Helper()
	return k.current(k.id(actor, opts)).Tags
}

// Active reports whether an actor is active: activated and not yet
// deactivated.
func (k *Kit) Active(actor string, opts ...spawn.RouteOption) bool {
	k.t.Helper()
	id := k.id(actor, opts)
	for _, a := range k.engine.Activations() {
		if a.Actor.Name == id.GetName() {
			return true
		}
	}
	return false
}

func (k *Kit) setState(id *protocol.ActorId, st *protocol.ActorState) {
	k.t.Helper()
	if err := k.engine.SetState(context.Background(), id, st); err != nil {
		k.t.Fatalf("spawntest: setting the state of %s: %v", id.GetName(), err)
	}
	k.Settle()
}

func (k *Kit) current(id *protocol.ActorId) runtime.CurrentState {
	k.t.Helper()
	if id.GetParent() != "" {
		// Spawned on first use, as a call with the option Instance does.
		if err := k.Spawn(context.Background(), id.GetParent(), id.GetName()); err != nil {
			k.t.Fatalf("spawntest: %v", err)
		}
	}
	cur, err := k.engine.CurrentState(context.Background(), id)
	if err != nil {
		k.t.Fatalf("spawntest: reading the state of %s: %v", id.GetName(), err)
	}
	return cur
}

// id is the actor that actor and the option Instance name.
func (k *Kit) id(actor string, opts []spawn.RouteOption) *protocol.ActorId {
	k.t.Helper()
	id, err := enginehook.Target(k.System, actor, opts)
	if err != nil {
		k.t.Fatalf("spawntest: %v", err)
	}
	return id
}
