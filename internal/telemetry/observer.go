package telemetry

import (
	"context"
	"sync"

	"github.com/spawn-go/spawn/runtime"
)

// The runtime's metrics from the runtime's own events: Observer turns them
// into the calls of runtime.go, and ObserveEngine reads the mailboxes at
// each collection.

// actorName is how the runtime metrics name an actor: an instance of an
// unnamed actor under the unnamed actor's name, so that instances add no
// series.
func actorName(r runtime.ActorRef) string {
	if r.Parent != "" {
		return r.Parent
	}
	return r.Name
}

// Observer returns the runtime.Observer that records spawn.actor.active,
// spawn.snapshot.duration, spawn.checkpoint.duration and
// spawn.registrations from the events of one engine. It leaves Invoked
// unset: calls are measured where they are served.
//
// The engine reports an actor activated again by a restore without a
// deactivation first; the observer keeps the set of active actors, so that
// each counts once however often it is reported.
func (t *T) Observer() runtime.Observer {
	var mu sync.Mutex
	active := make(map[runtime.ActorRef]struct{})
	ctx := context.Background()
	return runtime.Observer{
		Activated: func(a runtime.Activation) {
			mu.Lock()
			_, known := active[a.Actor]
			active[a.Actor] = struct{}{}
			mu.Unlock()
			if !known {
				t.Activated(ctx, actorName(a.Actor))
			}
		},
		Deactivated: func(d runtime.Deactivation) {
			mu.Lock()
			_, known := active[d.Actor]
			delete(active, d.Actor)
			mu.Unlock()
			if known {
				t.Deactivated(ctx, actorName(d.Actor))
			}
		},
		Saved: func(s runtime.Save) {
			code := OK
			if s.Err != nil {
				code = Unknown
			}
			switch s.Cause {
			case runtime.SavedBySnapshot:
				t.Snapshot(ctx, actorName(s.Actor), s.Took, code)
			case runtime.SavedByCheckpoint:
				t.Checkpoint(ctx, actorName(s.Actor), s.Took, code)
			}
		},
		Registered: func(runtime.Registration) { t.Registered(ctx, OK) },
	}
}

// Engine is what ObserveEngine reads of a runtime: its active actors.
type Engine interface {
	Activations() []runtime.ActivationInfo
}

// ObserveEngine makes the mailboxes of eng's active actors the source of
// spawn.mailbox.depth. It returns the function that stops it.
func (t *T) ObserveEngine(eng Engine) (stop func() error, err error) {
	return t.ObserveMailboxes(func(report func(actor string, waiting int)) {
		for _, a := range eng.Activations() {
			report(actorName(a.Actor), a.Mailbox)
		}
	})
}
