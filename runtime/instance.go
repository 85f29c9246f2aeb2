package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/internal/nearest"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/state"
)

// instance is one running copy of an actor, with its in-memory state. Only
// the worker serving it calls handle; the fields under mu are also read by
// snapshots and deactivation, which run beside the worker.
type instance struct {
	c *cell

	mu       sync.Mutex
	active   bool
	state    *anypb.Any
	tags     map[string]string
	revision int64
	// saved is what the store holds for this actor; persist writes only
	// when the state differs from it.
	saved    savedState
	hasSaved bool
	// loadFailed: the store could not be read at activation, so the
	// revision is unknown; saving could overwrite history, so it is off.
	loadFailed bool

	// saveMu serializes saves, so revisions reach the store in order.
	saveMu sync.Mutex
}

type savedState struct {
	typeURL string
	data    []byte
	tags    map[string]string
}

func (s *savedState) equal(st *anypb.Any, tags map[string]string) bool {
	return s.typeURL == st.GetTypeUrl() && bytes.Equal(s.data, st.GetValue()) && maps.Equal(s.tags, tags)
}

func (i *instance) storeKey() state.Key {
	id := i.c.id
	return state.Key{System: id.GetSystem(), Name: id.GetName(), Parent: id.GetParent()}
}

func (i *instance) handle(m *message) {
	self := i.c.id
	if (m.kind == msgInvoke || m.kind == msgRestore) && !m.stage.CompareAndSwap(stageQueued, stageRunning) {
		// The caller gave up while the message waited in the mailbox,
		// and has been told it did not run.
		if m.kind == msgRestore {
			m.finish(result{self: self, err: errorf("actor %q: the time ran out before the restore began; it was not applied", i.c.key.name)})
			return
		}
		i.finish(m, result{self: self, err: notRun(i.c.key, m.req, context.Cause(m.ctx))}, 0)
		return
	}
	if m.kind == msgRestore {
		// Activated by the restore itself, from the state restored.
		m.finish(result{self: self, err: i.restore(m.ctx, m.restore)})
		return
	}
	if err := m.ctx.Err(); err != nil {
		// The time ran out while the message waited in the mailbox, or
		// the engine is closing and gave up waiting for it.
		m.stage.Store(stageDropped)
		if m.keep {
			i.finish(m, result{self: self, err: i.c.e.keepForLater(m)}, 0)
			return
		}
		i.finish(m, result{self: self, err: notRun(i.c.key, m.req, err)}, 0)
		return
	}
	if !i.active {
		i.activate()
	}
	switch m.kind {
	case msgActivate:
		m.finish(result{self: self})
	case msgRead:
		m.finish(result{self: self, current: i.current()})
	default:
		var start time.Time
		if i.c.e.obs.Invoked != nil {
			start = time.Now()
		}
		resp, err := i.invoke(m, m.req, &m.stage)
		switch {
		case !m.keep:
		case reasonOf(err) == NotApplied:
			// The engine is closing and cancelled the host call: nothing
			// was applied, so the call can run again after the restart.
			err = i.c.e.keepForLater(m)
		case hostDeclined(err):
			// The host is down, restarting or overloaded: nothing was
			// applied, and the call was acknowledged, so it is kept and
			// tried again rather than lost.
			err = i.c.e.keepForRetry(m, err)
		}
		var took time.Duration
		if !start.IsZero() {
			took = time.Since(start)
		}
		i.finish(m, result{self: self, resp: resp, err: err}, took)
	}
}

// finish reports the end of the invocation m to the Observer, then to its
// caller: a test that hears back from a call finds its event recorded.
func (i *instance) finish(m *message, r result, took time.Duration) {
	if i.c.e.obs.Invoked != nil {
		i.c.e.invoked(m, r.self, r.resp, r.err, took)
	}
	m.finish(r)
}

// notRun is the error of an invocation dropped before it ran.
func notRun(key actorKey, req *protocol.InvocationRequest, cause error) *Error {
	return reasonf(NotApplied, "actor %q action %q: the time limit passed (%v) while the call waited in the actor's mailbox; it did not run",
		key.name, req.GetActionName(), cause)
}

// notApplied is the error of an invocation whose host call had not
// answered when its time ran out; its reply, if one comes, is dropped.
func notApplied(key actorKey, req *protocol.InvocationRequest, cause error) *Error {
	return reasonf(NotApplied, "actor %q action %q: the host call had not answered when the time limit passed (%v); nothing was applied",
		key.name, req.GetActionName(), cause)
}

// activate loads the state and runs the init action (docs/protocol.md §7.1).
// Failures are logged: the actor runs on with the registration's state, as
// with the real proxy.
func (i *instance) activate() {
	l := i.load()
	i.mu.Lock()
	i.state, i.tags, i.revision = l.state, l.tags, l.revision
	i.saved, i.hasSaved, i.loadFailed = l.saved, l.hasSaved, l.loadFailed
	i.active = true
	unsaved := i.unsavedLocked()
	i.mu.Unlock()
	if unsaved {
		// The registration's state, or a revision restored, is saved by
		// the next snapshot, as a change would be.
		i.c.snapshotAfterChange()
	}
	i.runInit(l.state, l.tags)
	if i.c.e.obs.Activated != nil && i.c.announced.CompareAndSwap(false, true) {
		i.c.e.obs.Activated(Activation{Actor: refOf(i.c.id), At: i.c.e.clock.Now(), Revision: l.revision})
	}
}

// loaded is what an instance starts with; its fields mirror instance's.
type loaded struct {
	state      *anypb.Any
	tags       map[string]string
	revision   int64
	saved      savedState
	hasSaved   bool
	loadFailed bool
}

// load returns the registration's state, or for a stateful actor the
// latest stored one, or the revision a spawn asked to restore.
func (i *instance) load() loaded {
	e, d := i.c.e, i.c.def
	l := loaded{state: d.actor.GetState().GetState(), tags: d.actor.GetState().GetTags()}
	if !d.stateful {
		return l
	}
	var restore int64
	if i.c.instance {
		e.mu.Lock()
		if s := e.instances[i.c.key]; s != nil {
			restore = s.revision
			s.revision = 0 // a spawn revision is restored once
		}
		e.mu.Unlock()
	}
	key := i.storeKey()
	latest, err := e.store.Load(e.base, key)
	switch {
	case err == nil:
		l.state, l.tags, l.revision = recordState(latest), latest.Tags, latest.Revision
		l.saved, l.hasSaved = savedState{latest.TypeURL, latest.Data, latest.Tags}, true
	case !errors.Is(err, state.ErrNotFound):
		e.log.Error("loading state failed; running on the registered state, which will not be saved", zap.Stringer("actor", i.c.key), zap.Error(err))
		l.loadFailed = true
	}
	if restore > 0 {
		rec, err := e.store.LoadRevision(e.base, key, restore)
		if err != nil {
			e.log.Error("restoring revision failed; using the latest state", zap.Stringer("actor", i.c.key), zap.Int64("revision", restore), zap.Error(err))
		} else {
			// Later saves continue after the latest revision, so the
			// history is kept; hasSaved stays as it is, and the restored
			// state is saved as a new revision once it differs from the
			// latest.
			l.state, l.tags = recordState(rec), rec.Tags
		}
	}
	return l
}

// runInit invokes the actor's init action, if it has one, on the state
// and tags it was activated with (docs/protocol.md §6.2).
func (i *instance) runInit(st *anypb.Any, tags map[string]string) {
	e, d := i.c.e, i.c.def
	if d.initAction == "" {
		return
	}
	self := i.c.id
	inv := &protocol.ActorInvocation{
		Actor:      self,
		ActionName: d.initAction,
		Payload:    &protocol.ActorInvocation_Noop{Noop: &protocol.Noop{}},
		Caller:     self,
		CurrentContext: &protocol.Context{
			State:  st,
			Tags:   tags,
			Caller: self,
			// The real proxy leaves the parent out of self for init.
			Self: &protocol.ActorId{Name: self.GetName(), System: self.GetSystem()},
		},
	}
	var start time.Time
	if e.obs.Invoked != nil {
		start = time.Now()
	}
	i.mu.Lock()
	rev := i.revision
	i.mu.Unlock()
	resp, err := e.host.Call(context.WithValue(e.base, revisionKey{}, rev), inv)
	if err == nil && resp.GetUpdatedContext() == nil {
		err = errors.New("reply has no updated_context")
	}
	if e.obs.Invoked != nil {
		m := &message{origin: originInit, req: &protocol.InvocationRequest{ActionName: d.initAction, Caller: self}}
		// Its workflow never runs, so it is not reported.
		shown := resp
		if resp.GetWorkflow() != nil {
			shown = &protocol.ActorInvocationResponse{Payload: resp.Payload, UpdatedContext: resp.UpdatedContext}
		}
		e.invoked(m, self, shown, err, time.Since(start))
	}
	if err != nil {
		e.log.Error("init action failed", zap.Stringer("actor", i.c.key), zap.String("action", d.initAction), zap.Error(err))
		return
	}
	// Its payload and workflow are ignored, as by the real proxy.
	i.apply(resp.GetUpdatedContext())
}

func recordState(r state.Record) *anypb.Any {
	return &anypb.Any{TypeUrl: r.TypeURL, Value: r.Data}
}

// invoke runs one invocation on the host and applies its reply, unless
// stage shows that the caller stopped waiting first (see stageCommitted).
//
// m is the message being handled: its context is the call's, and the host
// call's context is m as an invocationContext, which also carries the
// revision of the state the host is given.
func (i *instance) invoke(m *message, req *protocol.InvocationRequest, stage *atomic.Int32) (*protocol.ActorInvocationResponse, error) {
	ctx := m.ctx
	d := i.c.def
	self, action := i.c.id, req.GetActionName()
	if d.builtinGet(action) {
		return i.getReply(req), nil
	}
	if !d.accepts(action) {
		// The instance may run an older definition than the one checked
		// before delivery.
		return nil, unknownAction(i.c.key, d, action)
	}
	if d.stateful {
		i.mu.Lock()
		m.revision = i.revision
		i.mu.Unlock()
	}
	resp, err := i.c.e.host.Call((*invocationContext)(m), i.hostInvocation(m, req))
	if cerr := ctx.Err(); cerr != nil || !stage.CompareAndSwap(stageRunning, stageCommitted) {
		// The time ran out during the host call: whatever it answered,
		// nothing is applied, as the caller has been or will be told.
		stage.Store(stageDropped)
		return nil, notApplied(i.c.key, req, context.Cause(ctx))
	}
	if err != nil {
		var ov interface{ Overloaded() bool }
		if errors.As(err, &ov) && ov.Overloaded() {
			e := reasonf(Overloaded, "actor %q action %q: the host refused the call: %v", self.GetName(), action, err)
			e.hostDeclined = true
			return nil, e
		}
		// No retry of a sync call: the real proxy retries until
		// request-timeout, which re-runs the action; failing at once is
		// easier to reason about. Acknowledged async work the host did not
		// take is kept and tried again (see handle).
		e := errorf("actor %q action %q: host call failed: %v", self.GetName(), action, err)
		var na interface{ NoAnswer() bool }
		e.hostDeclined = errors.As(err, &na) && na.NoAnswer()
		return nil, e
	}
	if resp.GetUpdatedContext() == nil {
		return nil, errorf("actor %q action %q: invalid host reply: no updated_context", self.GetName(), action)
	}
	i.mu.Lock()
	prevState, prevTags := i.state, i.tags
	i.mu.Unlock()
	i.apply(resp.GetUpdatedContext())
	if resp.GetCheckpoint() && d.stateful {
		// Saved before the caller gets the reply: that is the intent of
		// the flag (the real proxy fails the call instead). The call is
		// committed, so its time limit no longer applies: a caller whose
		// time runs out now waits for the save, and hears the truth.
		if err := i.persist(context.WithoutCancel(ctx), SavedByCheckpoint); err != nil {
			// Undone, so that the failure the caller gets is the truth:
			// nothing was applied.
			i.mu.Lock()
			i.state, i.tags = prevState, prevTags
			i.mu.Unlock()
			return nil, errorf("actor %q action %q: checkpoint failed, and the change was not applied: %v", self.GetName(), action, err)
		}
	}
	return resp, nil
}

// getReply answers a built-in get (docs/protocol.md §6.1): the state as
// the payload, the state and tags unchanged.
func (i *instance) getReply(req *protocol.InvocationRequest) *protocol.ActorInvocationResponse {
	self := i.c.id
	st := i.state
	if st == nil {
		st = &anypb.Any{}
	}
	return &protocol.ActorInvocationResponse{
		ActorName:      self.GetName(),
		ActorSystem:    self.GetSystem(),
		UpdatedContext: &protocol.Context{State: st, Tags: i.tags, Caller: req.GetCaller(), Self: self},
		Payload:        &protocol.ActorInvocationResponse_Value{Value: st},
	}
}

// hostInvocation is what the host receives for req, the request of m: the
// payload as given, the caller, the metadata, and the instance's state and
// tags. It is built in m's own room for it (message.host), so a call
// costs no allocation of its own here.
func (i *instance) hostInvocation(m *message, req *protocol.InvocationRequest) *protocol.ActorInvocation {
	self := i.c.id
	h := &m.host
	h.ctx.State, h.ctx.Metadata, h.ctx.Tags, h.ctx.Caller, h.ctx.Self = i.state, req.GetMetadata(), i.tags, req.GetCaller(), self
	inv := &h.inv
	inv.Actor, inv.ActionName, inv.Caller, inv.CurrentContext = self, req.GetActionName(), req.GetCaller(), &h.ctx
	switch p := req.GetPayload().(type) {
	case *protocol.InvocationRequest_Value:
		h.value.Value = p.Value
		inv.Payload = &h.value
	case *protocol.InvocationRequest_Noop:
		inv.Payload = &protocol.ActorInvocation_Noop{Noop: p.Noop}
	}
	return inv
}

// unknownAction reports ACTOR_NOT_FOUND, where the real proxy says ERROR,
// so that callers can tell a typo in an action name from a failure.
func unknownAction(key actorKey, d *definition, action string) *Error {
	names := slices.Sorted(maps.Keys(d.actions))
	if n := nearest.Name(action, names); n != "" {
		return notFoundf("action %q not found for actor %q; did you mean %q?", action, key.name, n)
	}
	return notFoundf("action %q not found for actor %q", action, key.name)
}

// apply takes the host's updated context (docs/protocol.md §7.2): the
// state is replaced if present, the tags always (an empty map wipes them).
func (i *instance) apply(uc *protocol.Context) {
	if i.c.def.discardState {
		return
	}
	i.mu.Lock()
	if uc.GetState() != nil {
		i.state = uc.GetState()
	}
	wiped := len(uc.GetTags()) == 0 && len(i.tags) > 0
	i.tags = uc.GetTags()
	i.mu.Unlock()
	i.c.snapshotAfterChange()
	if wiped {
		i.c.e.warnTagsWiped(i.c.key)
	}
}

// warnTagsWiped logs, once per actor, that a reply cleared its tags: hosts
// must echo tags back, and forgetting to is a common mistake.
func (e *Engine) warnTagsWiped(key actorKey) {
	e.mu.Lock()
	_, warned := e.tagsWiped[key]
	e.tagsWiped[key] = struct{}{}
	e.mu.Unlock()
	if !warned {
		e.log.Warn("a host reply with no tags cleared the actor's tags; echo the tags you receive to keep them (logged once per actor)",
			zap.Stringer("actor", key))
	}
}

// persist saves the state as a new revision if it changed since the last
// save. Stateless actors and a nil state are never saved.
func (i *instance) persist(ctx context.Context, cause SaveCause) error {
	rec, ok, err := i.beginSave()
	if !ok {
		return err
	}
	start := time.Now()
	err = i.c.e.store.Save(ctx, i.storeKey(), rec)
	return i.endSave(rec, cause, err, time.Since(start))
}

// beginSave returns the record to save when the state changed since the
// last save, with ok true and the instance's save lock held until
// endSave. Otherwise ok is false, nothing is held, and err says why a
// changed state cannot be saved.
func (i *instance) beginSave() (rec state.Record, ok bool, err error) {
	if !i.c.def.stateful {
		return rec, false, nil
	}
	i.saveMu.Lock()
	i.mu.Lock()
	st, tags, rev := i.state, i.tags, i.revision
	unchanged := !i.active || st == nil || (i.hasSaved && i.saved.equal(st, tags))
	loadFailed := i.loadFailed
	i.mu.Unlock()
	if unchanged {
		i.saveMu.Unlock()
		return rec, false, nil
	}
	if loadFailed {
		i.saveMu.Unlock()
		return rec, false, errors.New("not saved: the stored state could not be loaded at activation, and saving could overwrite it")
	}
	return state.Record{Revision: rev + 1, TypeURL: st.GetTypeUrl(), Data: st.GetValue(), Tags: tags, SavedAt: i.c.e.clock.Now()}, true, nil
}

// endSave records the outcome of writing rec, begun by beginSave, and
// releases the save lock.
func (i *instance) endSave(rec state.Record, cause SaveCause, err error, took time.Duration) error {
	defer i.saveMu.Unlock()
	e := i.c.e
	if e.obs.Saved != nil {
		e.obs.Saved(Save{Actor: refOf(i.c.id), Revision: rec.Revision, Cause: cause, Size: len(rec.Data), At: rec.SavedAt,
			Took: took, Err: err})
	}
	if err != nil {
		return fmt.Errorf("saving revision %d: %w", rec.Revision, err)
	}
	i.mu.Lock()
	i.revision = rec.Revision
	i.saved, i.hasSaved = savedState{rec.TypeURL, rec.Data, rec.Tags}, true
	i.mu.Unlock()
	return nil
}
