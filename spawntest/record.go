package spawntest

import (
	"maps"
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/runtime"
)

// What a Kit records. Payloads are protobuf Anys; decode one with its
// UnmarshalTo method:
//
//	var req domain.Request
//	if err := k.Broadcasts()[0].Payload.UnmarshalTo(&req); err != nil { … }

// Call is an invocation an actor handled, or that was refused.
type Call struct {
	Actor  spawn.ActorID
	Action string
	// Caller is the actor that made the call; zero for the test itself.
	Caller spawn.ActorID
	// Origin says what made the call: "call" (Invoke, spawn.Call, or an
	// action calling another), "timer", "broadcast", "effect",
	// "scheduled" (a delayed call), "pipe", "forward", or "init".
	Origin string
	// Input is what the action received, and Reply what it answered; nil
	// for nothing.
	Input, Reply *anypb.Any
	// Err is why the call failed; nil when it succeeded. For an action
	// that returned an error, its message.
	Err error
	// At is when it ended, by the kit's clock.
	At time.Time
}

// Broadcast is a broadcast an action's reply asked for.
type Broadcast struct {
	From    spawn.ActorID
	Topic   string
	Payload *anypb.Any
	// At is when the action returned, by the kit's clock.
	At time.Time
}

// Effect is a side effect an action's reply asked for.
type Effect struct {
	From spawn.ActorID
	// To is the actor it invokes; To.Parent is set for an instance of an
	// unnamed actor (the option Instance).
	To      spawn.ActorID
	Action  string
	Payload *anypb.Any
	// Metadata is the effect's own (WithMetadata and Value.Metadata); the
	// calling action's is merged under it when it runs.
	Metadata map[string]string
	// Due is when it is to run (the options Delay and At); zero for at
	// once.
	Due time.Time
	// At is when the action returned, by the kit's clock.
	At time.Time
}

// Route is a forward or a pipe an action's reply asked for.
type Route struct {
	From spawn.ActorID
	// To is the actor it goes to; To.Parent is set for an instance of an
	// unnamed actor (the option Instance).
	To     spawn.ActorID
	Action string
	// Payload is what To receives: the action's input for a forward, its
	// reply for a pipe.
	Payload *anypb.Any
	// At is when the action returned, by the kit's clock.
	At time.Time
}

// record is the kit's Observer of invocations.
func (k *Kit) record(ev runtime.Invocation) {
	from := idOf(ev.Actor)
	c := Call{Actor: from, Action: ev.Action, Caller: idOf(ev.Caller), Origin: string(ev.Origin),
		Input: ev.Input, Reply: ev.Reply, Err: ev.Err, At: ev.At}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls = append(k.calls, c)
	wf := ev.Workflow
	if wf == nil {
		return
	}
	for _, fx := range wf.Effects {
		k.fx = append(k.fx, Effect{From: from, To: idOf(fx.To), Action: fx.Action, Payload: fx.Payload, Metadata: maps.Clone(fx.Metadata), Due: fx.At, At: ev.At})
	}
	if b := wf.Broadcast; b != nil {
		k.bcast = append(k.bcast, Broadcast{From: from, Topic: b.Topic, Payload: b.Payload, At: ev.At})
	}
	if r := wf.Route; r != nil {
		rt := Route{From: from, To: idOf(r.To), Action: r.Action, Payload: r.Payload, At: ev.At}
		if r.Pipe {
			k.pipes = append(k.pipes, rt)
		} else {
			k.fwd = append(k.fwd, rt)
		}
	}
}

func idOf(r runtime.ActorRef) spawn.ActorID {
	return spawn.ActorID{Name: r.Name, System: r.System, Parent: r.Parent}
}

// Calls returns every call the actors handled or refused since the kit
// started (or since Clear), in the order they ended, once the actors have
// settled (see Settle).
func (k *Kit) Calls() []Call {
	k.t.Helper()
	k.Settle()
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.calls)
}

// CallsTo returns the calls of Calls made to action on actor.
func (k *Kit) CallsTo(actor, action string) []Call {
	k.t.Helper()
	return slices.DeleteFunc(k.Calls(), func(c Call) bool { return c.Actor.Name != actor || c.Action != action })
}

// Broadcasts returns the broadcasts the actions asked for, in order, once
// the actors have settled.
func (k *Kit) Broadcasts() []Broadcast {
	k.t.Helper()
	k.Settle()
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.bcast)
}

// Effects returns the side effects the actions asked for, in order, once
// the actors have settled. A delayed effect is listed as soon as it is
// asked for; it runs when Advance reaches its Due time.
func (k *Kit) Effects() []Effect {
	k.t.Helper()
	k.Settle()
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.fx)
}

// Forwards returns the forwards the actions asked for, in order, once the
// actors have settled.
func (k *Kit) Forwards() []Route {
	k.t.Helper()
	k.Settle()
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.fwd)
}

// Pipes returns the pipes the actions asked for, in order, once the
// actors have settled.
func (k *Kit) Pipes() []Route {
	k.t.Helper()
	k.Settle()
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.pipes)
}

// Clear forgets the calls, broadcasts, side effects, forwards and pipes
// recorded so far, once the actors have settled.
func (k *Kit) Clear() {
	k.t.Helper()
	k.Settle()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls, k.bcast, k.fx, k.fwd, k.pipes = nil, nil, nil, nil, nil
}
