package runtime

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spawn-go/spawn/protocol"
)

// What the engine holds, for dashboards and tools: the registered actors,
// the topics and their subscribers, and the active actors. These calls
// read a consistent picture of each actor without waiting for any actor,
// so they may be called at any time, Observer functions included. An
// actor's state and revisions are read with CurrentState, Revisions and
// StateAt.

// ActorInfo describes a registered actor.
type ActorInfo struct {
	Actor ActorRef
	// Kind is the actor's kind as the protocol names it: NAMED, UNNAMED,
	// POOLED, PROXY, TASK, PROJECTION (UNKNOW_KIND when unset).
	Kind     string
	Stateful bool
	// Snapshot is how often a changed state is saved; 0 for never.
	Snapshot time.Duration
	// Deactivate is how long the actor stays active with nothing to do;
	// 0 for ever.
	Deactivate time.Duration
	// MinPool and MaxPool bound a POOLED actor's instances; 0 for other
	// kinds.
	MinPool, MaxPool int
	// Actions are the actions it registered, timer actions included, in
	// order of name; Init is the one run at activation, "" for none.
	Actions []string
	Init    string
	// Channels are the topics it listens on, and the action each runs.
	Channels []Subscription
	// Timers are its timer actions.
	Timers []TimerInfo
	// Instances are the names of the instances spawned from an UNNAMED
	// actor that the engine knows: those active, and those spawned or
	// active recently enough to be kept; in order of name.
	Instances []string
}

// Subscription is an action that a topic's broadcasts invoke.
type Subscription struct {
	Topic  string
	Action string
}

// TimerInfo is a timer action.
type TimerInfo struct {
	Action string
	Period time.Duration
	// Next is when it fires next, by the engine's Clock; zero while it is
	// not running (before the actor's first activation).
	Next time.Time
}

// TopicInfo is a topic and the actors listening on it.
type TopicInfo struct {
	Topic       string
	Subscribers []Subscriber
}

// Subscriber is an actor listening on a topic, and the action a broadcast
// runs on it.
type Subscriber struct {
	Actor  ActorRef
	Action string
}

// ActivationInfo describes an active actor.
type ActivationInfo struct {
	Actor ActorRef
	// Since is when it was activated, by the engine's Clock.
	Since time.Time
	// LastActive is when its mailbox last ran empty, by the engine's
	// Clock; kept for actors that deactivate when idle, zero for others.
	LastActive time.Time
	// Mailbox is how many messages wait in its mailbox; Busy how many of
	// its Instances are handling one (at most 1, but for a pool).
	Mailbox, Busy, Instances int
	// Revision is the latest revision saved of a stateful actor's state,
	// and Unsaved says that its state changed since (see CurrentState).
	Revision int64
	Unsaved  bool
}

// Actors lists the registered actors, in order of system and name.
func (e *Engine) Actors() []ActorInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	instances := make(map[actorKey][]string)
	for key, s := range e.instances {
		tmpl := actorKey{name: s.parent, system: key.system}
		instances[tmpl] = append(instances[tmpl], key.name)
	}
	out := make([]ActorInfo, 0, len(e.defs))
	for key, d := range e.defs {
		info := ActorInfo{
			Actor:      refOf(d.id()),
			Kind:       d.actor.GetSettings().GetKind().String(),
			Stateful:   d.stateful,
			Snapshot:   d.snapshotEvery,
			Deactivate: d.idleAfter,
			Actions:    slices.Sorted(maps.Keys(d.actions)),
			Init:       d.initAction,
			Instances:  slices.Sorted(slices.Values(instances[key])),
		}
		if d.actor.GetSettings().GetKind() == protocol.Kind_POOLED {
			info.MinPool, info.MaxPool = d.poolMin, d.poolMax
		}
		for _, s := range d.channels {
			info.Channels = append(info.Channels, Subscription{Topic: s.topic, Action: s.action})
		}
		for _, ts := range d.timers {
			ti := TimerInfo{Action: ts.action, Period: ts.period}
			for _, t := range e.timers[key] {
				if t.spec == ts {
					ti.Next = t.next
				}
			}
			info.Timers = append(info.Timers, ti)
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b ActorInfo) int {
		return cmp.Or(strings.Compare(a.Actor.System, b.Actor.System), strings.Compare(a.Actor.Name, b.Actor.Name))
	})
	return out
}

// Topics lists the topics that active or once active actors listen on, in
// order, each with its subscribers in the order they subscribed. Like the
// real proxy's, subscriptions start at an actor's first activation; an
// actor activated eagerly at registration is subscribed by Register.
func (e *Engine) Topics() []TopicInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]TopicInfo, 0, len(e.topics))
	for topic, subs := range e.topics {
		ti := TopicInfo{Topic: topic}
		for _, s := range subs {
			ti.Subscribers = append(ti.Subscribers, Subscriber{Actor: refOf(s.id), Action: s.action})
		}
		out = append(out, ti)
	}
	slices.SortFunc(out, func(a, b TopicInfo) int { return strings.Compare(a.Topic, b.Topic) })
	return out
}

// Activations lists the active actors, in order of system and name.
func (e *Engine) Activations() []ActivationInfo {
	e.mu.Lock()
	cells := slices.Collect(maps.Values(e.cells))
	e.mu.Unlock()
	out := make([]ActivationInfo, 0, len(cells))
	for _, c := range cells {
		c.mu.Lock()
		info := ActivationInfo{
			Actor:     refOf(c.id),
			Since:     c.since,
			Mailbox:   len(c.queue),
			Busy:      len(c.all) - int(c.nIdle),
			Instances: len(c.all),
		}
		if c.def.idleAfter > 0 {
			info.LastActive = c.lastActive
		}
		insts := slices.Clone(c.all)
		c.mu.Unlock()
		if c.def.stateful && len(insts) > 0 {
			cur := insts[0]
			cur.mu.Lock()
			info.Revision = cur.revision
			info.Unsaved = cur.active && cur.unsavedLocked()
			cur.mu.Unlock()
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b ActivationInfo) int {
		return cmp.Or(strings.Compare(a.Actor.System, b.Actor.System), strings.Compare(a.Actor.Name, b.Actor.Name))
	})
	return out
}
