package runtime

import (
	"errors"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/protocol"
)

// Observer receives the engine's events: every invocation with its outcome,
// timing and the workflow its reply asked for; activations and
// deactivations; every write of state; registrations; delayed invocations
// stored. It is one hook for tests (what did an action make happen?),
// dashboards (what happened recently?) and metrics (how many, how long,
// how many failed and why?).
//
// Every field is optional; a nil field costs one comparison where its event
// would be. The engine calls the functions synchronously, on its own
// goroutines, often several at once: they must be safe for concurrent use,
// return quickly, and never call the Engine, except its introspection
// methods that do not wait for an actor (Actors, Topics, Activations). The
// events carry plain values; the payloads and metadata in them are the
// engine's own, to read and not to modify or keep beyond the call (clone
// them with proto.Clone and maps.Clone).
type Observer struct {
	// Invoked is called once for every invocation, when it has ended: after
	// its reply was applied (and checkpointed, if asked) and before its
	// workflow starts and its caller hears back; or when it failed or was
	// refused. Ticks of timer actions, broadcast deliveries, side effects,
	// scheduled invocations, the hops of pipes and forwards and init
	// actions are invocations too; their Origin says so.
	Invoked func(Invocation)
	// Activated is called when an actor has been activated: its state is
	// loaded and its init action has run. A pool reports its first
	// instance only.
	Activated func(Activation)
	// Deactivated is called when an actor has been deactivated and its
	// state saved.
	Deactivated func(Deactivation)
	// Saved is called after every write of an actor's state to the store,
	// and after every failed one. States that did not change are not
	// written, and not reported.
	Saved func(Save)
	// Registered is called when a registration has been accepted.
	Registered func(Registration)
	// Scheduled is called when a delayed or scheduled invocation has been
	// stored; it is reported as Invoked, with Origin FromSchedule, when it
	// has run.
	Scheduled func(Delayed)
}

// JoinObservers returns an Observer that passes every event to each of obs,
// in order.
func JoinObservers(obs ...Observer) Observer {
	var out Observer
	for _, o := range obs {
		out.Invoked = join(out.Invoked, o.Invoked)
		out.Activated = join(out.Activated, o.Activated)
		out.Deactivated = join(out.Deactivated, o.Deactivated)
		out.Saved = join(out.Saved, o.Saved)
		out.Registered = join(out.Registered, o.Registered)
		out.Scheduled = join(out.Scheduled, o.Scheduled)
	}
	return out
}

func join[E any](a, b func(E)) func(E) {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return func(e E) {
		a(e)
		b(e)
	}
}

// ActorRef names an actor in events and reports.
type ActorRef struct {
	System string
	Name   string
	// Parent is, for an instance of an UNNAMED actor, the actor it was
	// spawned from; "" otherwise. In a side effect, pipe or forward, it is
	// the register_ref the instance is spawned from if needed.
	Parent string
}

// IsZero reports whether r names no actor, as the caller of a call made
// from outside any actor.
func (r ActorRef) IsZero() bool { return r == ActorRef{} }

// String returns "system/name", followed by the parent if there is one.
func (r ActorRef) String() string {
	if r.Parent == "" {
		return r.System + "/" + r.Name
	}
	return r.System + "/" + r.Name + " (parent " + r.Parent + ")"
}

func refOf(id *protocol.ActorId) ActorRef {
	return ActorRef{System: id.GetSystem(), Name: id.GetName(), Parent: id.GetParent()}
}

// Origin says where an invocation came from.
type Origin string

const (
	// FromCaller: a call made through Engine.Invoke, by a program or by an
	// actor calling another.
	FromCaller Origin = "call"
	// FromTimer: a tick of a timer action.
	FromTimer Origin = "timer"
	// FromBroadcast: the delivery of a broadcast to a subscriber.
	FromBroadcast Origin = "broadcast"
	// FromEffect: a side effect of another invocation.
	FromEffect Origin = "effect"
	// FromSchedule: a delayed or scheduled invocation that fell due, or an
	// async call kept across a restart.
	FromSchedule Origin = "scheduled"
	// FromPipe and FromForward: the next hop of a pipe or a forward.
	FromPipe    Origin = "pipe"
	FromForward Origin = "forward"
	// FromInit: the init action, run at activation.
	FromInit Origin = "init"
)

// origins indexes the Origins by the small numbers messages carry.
var origins = [...]Origin{FromCaller, FromTimer, FromBroadcast, FromEffect, FromSchedule, FromPipe, FromForward, FromInit}

// origin is an Origin as a message carries it: an index into origins.
type origin uint8

const (
	originCaller origin = iota
	originTimer
	originBroadcast
	originEffect
	originSchedule
	originPipe
	originForward
	originInit
)

// Outcome classifies how an invocation ended.
type Outcome string

const (
	// OutcomeOK: the reply was applied.
	OutcomeOK Outcome = "ok"
	// OutcomeActionFailed: the host answered that the action failed: a
	// spawn-go host answers so when the action returns an error or panics
	// (its reply is a spawn.RequestStatus). Nothing was applied.
	OutcomeActionFailed Outcome = "action_failed"
	// OutcomeNotFound: no such actor or action.
	OutcomeNotFound Outcome = "not_found"
	// OutcomeNotApplied: its time ran out first; nothing was applied.
	OutcomeNotApplied Outcome = "not_applied"
	// OutcomeOverloaded: refused by a bound before it ran.
	OutcomeOverloaded Outcome = "overloaded"
	// OutcomeNotReady: its actor was not registered yet.
	OutcomeNotReady Outcome = "not_ready"
	// OutcomeUnavailable: the engine was closing.
	OutcomeUnavailable Outcome = "unavailable"
	// OutcomeError: any other failure, such as a host that could not be
	// reached or an invalid request.
	OutcomeError Outcome = "error"
)

// Invocation is an invocation that has ended (Observer.Invoked).
type Invocation struct {
	Actor  ActorRef
	Action string
	// Caller is the actor that made the call; zero for a call from
	// outside any actor.
	Caller ActorRef
	Origin Origin
	// Async: nobody waited for the reply.
	Async bool
	// Input is the payload the action received, and Reply the one it
	// answered with; nil for none or noop, and Reply for a failure.
	Input, Reply *anypb.Any
	// At is when it ended, by the engine's Clock.
	At time.Time
	// Queued is how long it waited in the actor's mailbox, and Took how
	// long the action then took, the host call and the checkpoint
	// included; both in real time, and 0 for what did not happen.
	Queued, Took time.Duration
	Outcome      Outcome
	// Err says why it failed; nil for OutcomeOK.
	Err error
	// Checkpoint: the reply asked for its state to be saved at once.
	Checkpoint bool
	// Workflow is what the reply asked for besides the reply; nil for
	// nothing, and always for a failure.
	Workflow *Workflow
}

// Workflow is what an action's reply asked for beyond its answer.
type Workflow struct {
	// Effects are its side effects, in order.
	Effects []Effect
	// Broadcast is its broadcast; nil for none.
	Broadcast *Broadcast
	// Route is its pipe or forward; nil for none.
	Route *Route
}

// Effect is a side effect asked for by an action.
type Effect struct {
	To     ActorRef
	Action string
	// Payload is the input it carries; nil for none or noop.
	Payload *anypb.Any
	// Metadata is the effect's own; the source's is merged under it
	// when it runs.
	Metadata map[string]string
	// At is when it is to run; zero for at once.
	At time.Time
}

// Broadcast is a broadcast asked for by an action.
type Broadcast struct {
	Topic string
	// Action is the action every subscriber runs, when the publisher
	// named one (older protocol); "" for each subscriber's own.
	Action string
	// Payload is what subscribers receive; nil for none or noop.
	Payload *anypb.Any
}

// Route is a pipe or a forward asked for by an action.
type Route struct {
	// Pipe: a pipe, which passes on the action's reply; otherwise a
	// forward, which passes on its input.
	Pipe   bool
	To     ActorRef
	Action string
	// Payload is what the target receives; nil for none or noop.
	Payload *anypb.Any
}

// Activation is an actor that has been activated (Observer.Activated).
type Activation struct {
	Actor ActorRef
	// At is when, by the engine's Clock.
	At time.Time
	// Revision is the revision of the state it was activated with: the
	// latest stored, or one asked for by a spawn or a restore; 0 for none.
	Revision int64
}

// Deactivation is an actor that has been deactivated (Observer.Deactivated).
type Deactivation struct {
	Actor ActorRef
	// At is when, by the engine's Clock.
	At time.Time
	// Closing: the engine closed; otherwise the actor was idle for its
	// deactivation timeout.
	Closing bool
}

// SaveCause says why a state was written.
type SaveCause string

const (
	// SavedBySnapshot: the periodic snapshot of a changed state.
	SavedBySnapshot SaveCause = "snapshot"
	// SavedByCheckpoint: a reply asked for a checkpoint.
	SavedByCheckpoint SaveCause = "checkpoint"
	// SavedByDeactivation: the actor deactivated, or the engine closed.
	SavedByDeactivation SaveCause = "deactivation"
	// SavedByRestore: Restore or SetState gave the actor a state, saved
	// as a new revision; or the changes made before it, saved first.
	SavedByRestore SaveCause = "restore"
)

// Save is a write of an actor's state to the store (Observer.Saved).
type Save struct {
	Actor ActorRef
	// Revision is the revision written.
	Revision int64
	Cause    SaveCause
	// Size is the size of the state's bytes.
	Size int
	// At is when, by the engine's Clock.
	At time.Time
	// Took is how long the store took, in real time.
	Took time.Duration
	// Err is why the write failed; nil when it succeeded.
	Err error
}

// Registration is an accepted registration (Observer.Registered).
type Registration struct {
	// Service is the registering host's service name.
	Service string
	// Actors are the actors registered, in order of name.
	Actors []ActorRef
	// At is when, by the engine's Clock.
	At time.Time
}

// Delayed is a delayed or scheduled invocation that has been stored
// (Observer.Scheduled).
type Delayed struct {
	Actor  ActorRef
	Action string
	Caller ActorRef
	// Due is when it is to run.
	Due time.Time
}

// monoBase is where message enqueue times count from: durations between
// them use the monotonic clock, and an int64 keeps messages small.
var monoBase = time.Now()

func monoNow() int64 { return int64(time.Since(monoBase)) }

// statusURL is the type URL of the reply a spawn-go host sends for a
// failed action (see the spawn package's host.go).
var statusURL = protocol.TypeURL((&protocol.RequestStatus{}).ProtoReflect().Descriptor().FullName())

// invoked reports the end of the invocation of message m by actor self.
// queued is false for a message that never reached a mailbox.
func (e *Engine) invoked(m *message, self *protocol.ActorId, resp *protocol.ActorInvocationResponse, err error, took time.Duration) {
	req := m.req
	ev := Invocation{
		Actor:  refOf(self),
		Action: req.GetActionName(),
		Caller: refOf(req.GetCaller()),
		Origin: origins[m.origin],
		Async:  req.GetAsync(),
		Input:  req.GetValue(),
		At:     e.clock.Now(),
		Took:   took,
	}
	if m.enq != 0 {
		ev.Queued = time.Duration(monoNow()-m.enq) - took
	}
	e.fillOutcome(&ev, req, self, resp, err)
	e.obs.Invoked(ev)
}

// refused reports an invocation that failed before it reached a mailbox.
func (e *Engine) refused(req *protocol.InvocationRequest, c call, err error) {
	if e.obs.Invoked == nil {
		return
	}
	id := req.GetActor().GetId()
	ev := Invocation{
		Actor:  ActorRef{System: req.GetSystem().GetName(), Name: id.GetName(), Parent: req.GetRegisterRef()},
		Action: req.GetActionName(),
		Caller: refOf(req.GetCaller()),
		Origin: origins[c.origin],
		Async:  req.GetAsync() || req.GetScheduledTo() != 0,
		Input:  req.GetValue(),
		At:     e.clock.Now(),
	}
	e.fillOutcome(&ev, req, nil, nil, err)
	e.obs.Invoked(ev)
}

func (e *Engine) fillOutcome(ev *Invocation, req *protocol.InvocationRequest, self *protocol.ActorId, resp *protocol.ActorInvocationResponse, err error) {
	if err != nil {
		ev.Outcome, ev.Err = outcomeOf(err), err
		return
	}
	if v := resp.GetValue(); v.GetTypeUrl() == statusURL {
		var st protocol.RequestStatus
		_ = proto.Unmarshal(v.GetValue(), &st)
		ev.Outcome, ev.Err = OutcomeActionFailed, errors.New(st.GetMessage())
		if st.GetStatus() == protocol.Status_ACTOR_NOT_FOUND {
			ev.Outcome = OutcomeNotFound
		}
		return
	}
	ev.Outcome = OutcomeOK
	ev.Reply = resp.GetValue()
	ev.Checkpoint = resp.GetCheckpoint()
	ev.Workflow = workflowOf(req, self, resp)
}

// outcomeOf classifies the error of an invocation.
func outcomeOf(err error) Outcome {
	var e *Error
	if !errors.As(err, &e) {
		return OutcomeError
	}
	switch e.Reason {
	case NotApplied:
		return OutcomeNotApplied
	case Overloaded:
		return OutcomeOverloaded
	case NotReady:
		return OutcomeNotReady
	case Unavailable:
		return OutcomeUnavailable
	}
	if e.Status == protocol.Status_ACTOR_NOT_FOUND {
		return OutcomeNotFound
	}
	return OutcomeError
}

// workflowOf describes the workflow of resp, the reply of self to req;
// nil when it asks for nothing.
func workflowOf(req *protocol.InvocationRequest, self *protocol.ActorId, resp *protocol.ActorInvocationResponse) *Workflow {
	wf := resp.GetWorkflow()
	if len(wf.GetEffects()) == 0 && wf.GetBroadcast() == nil && wf.GetRouting() == nil {
		return nil
	}
	out := &Workflow{}
	for _, fx := range wf.GetEffects() {
		r := fx.GetRequest()
		e := Effect{
			To:       ActorRef{System: r.GetSystem().GetName(), Name: r.GetActor().GetId().GetName(), Parent: r.GetRegisterRef()},
			Action:   r.GetActionName(),
			Payload:  r.GetValue(),
			Metadata: r.GetMetadata(),
		}
		if r.GetScheduledTo() != 0 {
			e.At = time.UnixMilli(r.GetScheduledTo())
		}
		out.Effects = append(out.Effects, e)
	}
	if b := wf.GetBroadcast(); b != nil {
		out.Broadcast = &Broadcast{Topic: b.GetChannelGroup(), Action: b.GetActionName(), Payload: b.GetValue()}
	}
	switch r := wf.GetRouting().(type) {
	case *protocol.Workflow_Pipe:
		out.Route = &Route{Pipe: true, To: ActorRef{System: self.GetSystem(), Name: r.Pipe.GetActor(), Parent: r.Pipe.GetRegisterRef()},
			Action: r.Pipe.GetActionName(), Payload: resp.GetValue()}
	case *protocol.Workflow_Forward:
		out.Route = &Route{To: ActorRef{System: self.GetSystem(), Name: r.Forward.GetActor(), Parent: r.Forward.GetRegisterRef()},
			Action: r.Forward.GetActionName(), Payload: req.GetValue()}
	}
	return out
}
