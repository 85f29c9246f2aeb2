package runtime

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/state"
)

// Reading an actor's state and its revisions, restoring an earlier
// revision, and giving an actor a state (docs/protocol.md §7.6).
//
// Every save of a stateful actor's state is a new revision, numbered one
// more than the one before: the first save is revision 1. Revisions are
// history: a restore never rewrites one, it saves the restored state as a
// new revision, so that the state before the restore stays in the history.

// CurrentState is an actor's state as the engine holds it, and where it
// stands in the actor's history.
type CurrentState struct {
	// State is the state; nil when the actor has none.
	State *anypb.Any
	// Tags are the actor's tags.
	Tags map[string]string
	// Revision is the number of the latest revision saved of a stateful
	// actor's state; 0 when none has been saved, and for stateless
	// actors.
	Revision int64
	// Unsaved: a stateful actor's state or tags changed since that
	// revision, and will be saved as the next at the next snapshot, at a
	// checkpoint or at deactivation.
	Unsaved bool
}

// RevisionInfo describes one revision of an actor's state kept in the
// store: its number, when it was written (zero when unknown), and the size
// of its state.
type RevisionInfo = state.RevisionInfo

// revisionKey is the context key of the revision given to a host call.
type revisionKey struct{}

// InvocationRevision returns the revision of the state a host call was
// given, when ctx is the context of a host call made by an Engine, or
// derives from it: the latest revision saved of the actor's state when the
// call began (0 when none has been saved yet, and for stateless actors).
// The state the host was given is that revision with the changes made
// since, which are not saved yet. ok is false for any other context.
func InvocationRevision(ctx context.Context) (revision int64, ok bool) {
	revision, ok = ctx.Value(revisionKey{}).(int64)
	return revision, ok
}

// invocationContext is the context of a host call: the message being
// handled, seen as its caller's context, which also answers the revision
// of the state the host is given. Being the message itself, it costs no
// allocation.
type invocationContext message

func (c *invocationContext) Deadline() (time.Time, bool) { return c.ctx.Deadline() }
func (c *invocationContext) Done() <-chan struct{}       { return c.ctx.Done() }
func (c *invocationContext) Err() error                  { return c.ctx.Err() }

func (c *invocationContext) Value(key any) any {
	if _, ok := key.(revisionKey); ok {
		return c.revision
	}
	return c.ctx.Value(key)
}

// current reports the instance's state, a copy of it.
func (i *instance) current() *CurrentState {
	i.mu.Lock()
	defer i.mu.Unlock()
	cur := &CurrentState{Tags: maps.Clone(i.tags)}
	if i.state != nil {
		cur.State = proto.CloneOf(i.state)
	}
	if i.c.def.stateful {
		cur.Revision = i.revision
		cur.Unsaved = i.unsavedLocked()
	}
	return cur
}

// unsavedLocked reports whether the state or tags changed since the last
// save, or may have (the stored state could not be read).
func (i *instance) unsavedLocked() bool {
	return i.loadFailed || (i.state != nil && !(i.hasSaved && i.saved.equal(i.state, i.tags)))
}

// State returns the current state and tags of an actor, activating it if
// needed. An empty id.system means the engine's system; id.parent is not
// needed, since names are unique within a system.
func (e *Engine) State(ctx context.Context, id *protocol.ActorId) (*protocol.ActorState, error) {
	cur, err := e.CurrentState(ctx, id)
	if err != nil {
		return nil, err
	}
	return &protocol.ActorState{State: cur.State, Tags: cur.Tags}, nil
}

// CurrentState returns an actor's current state and tags, with the number
// of the latest revision saved and whether the state changed since,
// activating the actor if needed. It waits for the messages queued before
// it. An empty id.system means the engine's system.
func (e *Engine) CurrentState(ctx context.Context, id *protocol.ActorId) (CurrentState, error) {
	if !e.enter() {
		return CurrentState{}, errClosed
	}
	defer e.wg.Done()
	key, err := e.apiKey("state", id)
	if err != nil {
		return CurrentState{}, err
	}
	m := &message{kind: msgRead, ctx: ctx, done: make(chan struct{})}
	if err := e.deliverAPI(ctx, key, m); err != nil {
		return CurrentState{}, err
	}
	select {
	case <-m.done:
		if m.res.err != nil {
			return CurrentState{}, m.res.err
		}
		return *m.res.current, nil
	case <-ctx.Done():
		return CurrentState{}, errorf("state of actor %q: %v", id.GetName(), ctx.Err())
	}
}

// apiKey checks the id given to an API call and returns its registry key.
func (e *Engine) apiKey(op string, id *protocol.ActorId) (actorKey, error) {
	sys := id.GetSystem()
	if sys == "" {
		sys = e.system
	}
	if err := e.checkSystem(sys); err != nil {
		return actorKey{}, err
	}
	if id.GetName() == "" {
		return actorKey{}, errorf("%s: actor id has no name", op)
	}
	return actorKey{name: id.GetName(), system: sys}, nil
}

// deliverAPI delivers m, a message of an API call, to the actor of key; an
// unknown actor may be waited for during the registration grace.
func (e *Engine) deliverAPI(ctx context.Context, key actorKey, m *message) error {
	var wait *graceWait
	for {
		changed := e.registryChange()
		err := e.deliver(key, m)
		if err == nil || !isNotFound(err) {
			return err
		}
		if wait == nil {
			wait = e.newGraceWait(ctx, 0)
		}
		if err := wait.wait(changed, key, err); err != nil {
			return err
		}
	}
}

// storeTarget is what an API call about an actor's stored state needs: the
// key of its state in the store, and its definition when it is known.
type storeTarget struct {
	key   actorKey
	store state.Key
	def   *definition // nil: neither registered nor spawned
}

// storeTargetOf resolves id for a call about its stored state. An actor
// that is neither registered nor spawned still has a store key, from id
// (its parent included), so that what is stored for it can be read.
func (e *Engine) storeTargetOf(op string, id *protocol.ActorId) (storeTarget, error) {
	key, err := e.apiKey(op, id)
	if err != nil {
		return storeTarget{}, err
	}
	e.mu.Lock()
	t, err := e.lookupLocked(key)
	e.mu.Unlock()
	if err != nil {
		return storeTarget{key: key, store: state.Key{System: key.system, Name: key.name, Parent: id.GetParent()}}, nil
	}
	st := storeTarget{key: key, store: state.Key{System: key.system, Name: key.name, Parent: t.id.GetParent()}, def: t.def}
	if !t.def.stateful {
		return st, errorf("%s: actor %q is not stateful: it keeps no revisions", op, key.name)
	}
	return st, nil
}

// Revisions lists the revisions kept of an actor's state, oldest first,
// with when each was written and its size. It reads the store only: the
// actor is not activated, and changes not saved yet are not listed (see
// CurrentState). An actor that is neither registered nor spawned is found
// by its id, parent included, when something is stored for it. An empty
// id.system means the engine's system.
func (e *Engine) Revisions(ctx context.Context, id *protocol.ActorId) ([]RevisionInfo, error) {
	if !e.enter() {
		return nil, errClosed
	}
	defer e.wg.Done()
	t, err := e.storeTargetOf("revisions", id)
	if err != nil {
		return nil, err
	}
	list, err := e.store.Revisions(ctx, t.store)
	if err != nil {
		return nil, errorf("revisions of actor %q: %v", t.key.name, err)
	}
	if len(list) == 0 && t.def == nil {
		return nil, notFoundf("actor %q not found in system %q, and nothing is stored for it", t.key.name, t.key.system)
	}
	return list, nil
}

// StateAt returns the state and tags that revision rev of an actor's state
// holds, from the store; the actor is not activated. An unknown revision
// is ACTOR_NOT_FOUND, with the revisions kept in the message.
func (e *Engine) StateAt(ctx context.Context, id *protocol.ActorId, rev int64) (*protocol.ActorState, error) {
	if !e.enter() {
		return nil, errClosed
	}
	defer e.wg.Done()
	t, err := e.storeTargetOf("state at a revision", id)
	if err != nil {
		return nil, err
	}
	rec, err := e.loadRevision(ctx, t, rev)
	if err != nil {
		return nil, err
	}
	return &protocol.ActorState{State: recordState(rec), Tags: rec.Tags}, nil
}

// loadRevision reads revision rev of t's state; a missing one is
// ACTOR_NOT_FOUND, saying which revisions are kept.
func (e *Engine) loadRevision(ctx context.Context, t storeTarget, rev int64) (state.Record, error) {
	if rev <= 0 {
		return state.Record{}, errorf("actor %q: revision %d: revisions are numbered from 1", t.key.name, rev)
	}
	rec, err := e.store.LoadRevision(ctx, t.store, rev)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return state.Record{}, notFoundf("actor %q has no revision %d: %s", t.key.name, rev, e.keptRevisions(ctx, t.store))
	case err != nil:
		return state.Record{}, errorf("actor %q: reading revision %d: %v", t.key.name, rev, err)
	}
	return rec, nil
}

// keptRevisions says which revisions the store keeps for key, for
// messages.
func (e *Engine) keptRevisions(ctx context.Context, key state.Key) string {
	list, err := e.store.Revisions(ctx, key)
	switch {
	case err != nil:
		return "the revisions kept could not be listed: " + err.Error()
	case len(list) == 0:
		return "none is stored"
	case len(list) == 1:
		return fmt.Sprintf("it keeps revision %d only", list[0].Revision)
	case list[len(list)-1].Revision-list[0].Revision == int64(len(list)-1):
		return fmt.Sprintf("it keeps revisions %d to %d", list[0].Revision, list[len(list)-1].Revision)
	}
	return fmt.Sprintf("it keeps %d revisions, from %d to %d", len(list), list[0].Revision, list[len(list)-1].Revision)
}

// restoreSpec is what a msgRestore asks for: a revision to restore, or a
// state to give the actor.
type restoreSpec struct {
	revision int64
	state    *protocol.ActorState
}

// Restore makes revision rev the actor's state again, at once: the state it
// held is saved first if it changed (so it stays in the history), then the
// state of revision rev, with its tags, is saved as a new revision (one
// more than the latest), and the actor is activated again from it: its
// init action runs, as at any activation. An actor that is not active is
// activated so. The restore waits its turn in the actor's mailbox, behind
// the messages queued before it; those after it see the restored state.
//
// It works for named actors and for instances of unnamed ones; an
// instance that has been forgotten since it deactivated is spawned again
// from id.parent. It fails, and changes nothing, for an unknown revision
// (ACTOR_NOT_FOUND, saying which are kept), for a stateless actor, and when
// the save fails. An empty id.system means the engine's system.
func (e *Engine) Restore(ctx context.Context, id *protocol.ActorId, rev int64) error {
	if !e.enter() {
		return errClosed
	}
	defer e.wg.Done()
	t, err := e.restoreTarget("restore", id)
	if err != nil {
		return err
	}
	if _, err := e.loadRevision(ctx, t, rev); err != nil {
		return err
	}
	return e.restoreNow(ctx, t.key, &restoreSpec{revision: rev})
}

// SetState gives an actor st, its state and tags, as if it had been
// stored so: for a stateful actor, st is saved as a new revision, the state
// it held being saved first if it changed; then the actor is activated
// again from st, as Restore does, its init action included. A stateless
// actor keeps st in memory only. It is for tests and tools; actions change
// state by their replies. A stateful actor needs a state in st. It fails
// for POOLED actors, whose instances have no state of their own, and for
// actors that keep none.
func (e *Engine) SetState(ctx context.Context, id *protocol.ActorId, st *protocol.ActorState) error {
	if !e.enter() {
		return errClosed
	}
	defer e.wg.Done()
	t, err := e.restoreTarget("set state", id)
	if err != nil && (t.def == nil || t.def.stateful) {
		return err
	}
	switch {
	case t.def.discardState:
		return errorf("set state: actor %q keeps no state (it is stateless, and registered none)", t.key.name)
	case t.def.poolMax > 1:
		return errorf("set state: actor %q is POOLED: its instances have no state of their own", t.key.name)
	case t.def.stateful && st.GetState() == nil:
		return errorf("set state: actor %q is stateful, and a state to save is needed", t.key.name)
	}
	st = &protocol.ActorState{State: proto.CloneOf(st.GetState()), Tags: maps.Clone(st.GetTags())}
	return e.restoreNow(ctx, t.key, &restoreSpec{state: st})
}

// restoreTarget resolves id for Restore and SetState: a registered actor,
// a spawned instance, or an instance to spawn again from id.parent.
func (e *Engine) restoreTarget(op string, id *protocol.ActorId) (storeTarget, error) {
	t, err := e.storeTargetOf(op, id)
	if err != nil {
		return t, err
	}
	if t.def == nil {
		if id.GetParent() == "" {
			return t, notFoundf("%s: actor %q not found in system %q", op, t.key.name, t.key.system)
		}
		if err := e.spawnRef(t.key, id.GetParent()); err != nil {
			return t, err
		}
		return e.storeTargetOf(op, id)
	}
	return t, nil
}

// restoreNow queues the restore spec on the actor of key and waits for it.
// If ctx ends before the restore has begun, it is dropped.
func (e *Engine) restoreNow(ctx context.Context, key actorKey, spec *restoreSpec) error {
	m := &message{kind: msgRestore, ctx: ctx, done: make(chan struct{}), restore: spec}
	if err := e.deliverAPI(ctx, key, m); err != nil {
		return err
	}
	select {
	case <-m.done:
		return m.res.err
	case <-ctx.Done():
	}
	if m.stage.CompareAndSwap(stageQueued, stageDropped) {
		return reasonf(NotApplied, "actor %q: the time ran out (%v) while the restore waited in the actor's mailbox; it was not applied", key.name, context.Cause(ctx))
	}
	// Begun: its outcome is on its way, and it is the truth.
	<-m.done
	return m.res.err
}

// restore carries out a msgRestore on the instance, which may or may not
// be active.
func (i *instance) restore(ctx context.Context, spec *restoreSpec) error {
	e, d := i.c.e, i.c.def
	// Once begun, a restore ends with the truth, whatever the caller's
	// context says.
	ctx = context.WithoutCancel(ctx)
	var st *anypb.Any
	var tags map[string]string
	if spec.state != nil {
		st, tags = spec.state.GetState(), spec.state.GetTags()
	} else {
		rec, err := i.c.e.loadRevision(ctx, storeTarget{key: i.c.key, store: i.storeKey()}, spec.revision)
		if err != nil {
			return err
		}
		st, tags = recordState(rec), rec.Tags
	}
	if i.c.instance {
		// An explicit restore supersedes the revision a spawn asked for.
		e.mu.Lock()
		if s := e.instances[i.c.key]; s != nil {
			s.revision = 0
		}
		e.mu.Unlock()
	}
	if i.active {
		// The changes since the last save stay in the history.
		if err := i.persist(ctx, SavedByRestore); err != nil {
			return errorf("actor %q: saving the changes made since revision %d failed, so nothing was restored: %v", i.c.key.name, i.revision, err)
		}
	} else {
		l := i.load()
		i.mu.Lock()
		i.state, i.tags, i.revision = l.state, l.tags, l.revision
		i.saved, i.hasSaved, i.loadFailed = l.saved, l.hasSaved, l.loadFailed
		i.active = true
		i.mu.Unlock()
	}
	if d.stateful && i.loadFailed {
		// Which revision is the latest is unknown: look again, since a new
		// revision must not overwrite one.
		latest, err := e.store.Load(ctx, i.storeKey())
		switch {
		case err == nil:
			i.mu.Lock()
			i.revision, i.saved, i.hasSaved, i.loadFailed = latest.Revision, savedState{latest.TypeURL, latest.Data, latest.Tags}, true, false
			i.mu.Unlock()
		case errors.Is(err, state.ErrNotFound):
			i.mu.Lock()
			i.revision, i.hasSaved, i.loadFailed = 0, false, false
			i.mu.Unlock()
		default:
			return errorf("actor %q: its stored state cannot be read (%v), so a new revision could overwrite one; nothing was restored", i.c.key.name, err)
		}
	}
	i.mu.Lock()
	prevState, prevTags := i.state, i.tags
	i.state, i.tags = st, tags
	i.mu.Unlock()
	if d.stateful {
		if err := i.persist(ctx, SavedByRestore); err != nil {
			i.mu.Lock()
			i.state, i.tags = prevState, prevTags
			i.mu.Unlock()
			return errorf("actor %q: saving the restored state failed, and it was not applied: %v", i.c.key.name, err)
		}
	}
	i.runInit(st, tags)
	i.c.announced.Store(true)
	if e.obs.Activated != nil {
		i.mu.Lock()
		rev := i.revision
		i.mu.Unlock()
		e.obs.Activated(Activation{Actor: refOf(i.c.id), At: e.clock.Now(), Revision: rev})
	}
	return nil
}
