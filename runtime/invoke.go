package runtime

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/spawn-go/spawn/effects"
	"github.com/spawn-go/spawn/protocol"
)

// maxHops bounds a chain of pipes and forwards, which the real proxy
// follows forever.
const maxHops = 32

// call carries what an internal invocation needs beyond its request.
type call struct {
	// hops counts the pipes and forwards that led to this invocation.
	hops int
	// onDone, for async invocations, is told how the host call ended.
	onDone func(error)
	// origin says where the invocation came from, for the Observer.
	origin origin
}

// Invoke runs an action on an actor (docs/protocol.md §5).
//
// A sync invocation returns the host's payload, or the payload of the last
// actor of a pipe or forward chain. An async one returns once the actor is
// found and the message queued; a scheduled one (scheduled_to != 0) once it
// is stored, whatever async says. Both answer with no payload, and their
// later failures are only logged.
//
// The request-timeout metadata (ms) bounds a sync call. A host failure is
// not retried. The pooled flag is accepted and ignored.
func (e *Engine) Invoke(ctx context.Context, req *protocol.InvocationRequest) (*protocol.InvocationResponse, error) {
	if !e.enter() {
		return nil, errClosed
	}
	defer e.wg.Done()
	return e.invoke(ctx, req, call{})
}

// invoke checks req, then queues it on its actor the way its flags ask:
// scheduled, async, or sync with the workflow of the reply.
func (e *Engine) invoke(ctx context.Context, req *protocol.InvocationRequest, c call) (*protocol.InvocationResponse, error) {
	key, timeout, err := e.resolve(ctx, req)
	if err != nil {
		e.refused(req, c, err)
		return nil, err
	}
	switch {
	case req.GetScheduledTo() != 0:
		return e.invokeScheduled(ctx, key, req, c)
	case req.GetAsync():
		return e.invokeAsync(key, req, c)
	default:
		return e.invokeSync(ctx, key, req, timeout, c)
	}
}

// resolve returns the registry key of req's actor and the timeout its
// metadata sets for a sync call (0 for none). It spawns the actor first
// when req names a register_ref, and fails for an unknown actor or action.
func (e *Engine) resolve(ctx context.Context, req *protocol.InvocationRequest) (actorKey, time.Duration, error) {
	key, err := e.target(req)
	if err != nil {
		return actorKey{}, 0, err
	}
	timeout, err := requestTimeout(req.GetMetadata())
	if err != nil {
		return actorKey{}, 0, err
	}
	var wait *graceWait
	for {
		changed, final, err := e.resolveOnce(key, req)
		if err == nil || final || !isNotFound(err) {
			return key, timeout, err
		}
		if wait == nil {
			wait = e.newGraceWait(ctx, timeout)
		}
		if err := wait.wait(changed, key, err); err != nil {
			return actorKey{}, 0, err
		}
	}
}

// resolveOnce spawns key for req's register_ref, if any, and checks that
// key stands for an actor that accepts req's action. changed is closed at
// the next change to the registry after the check; final says that an
// error will not go away when the registry changes.
func (e *Engine) resolveOnce(key actorKey, req *protocol.InvocationRequest) (changed <-chan struct{}, final bool, err error) {
	// One lock for all the steps: they run on every call.
	e.mu.Lock()
	changed = e.regChanged
	if ref := req.GetRegisterRef(); ref != "" {
		err = e.spawnRefLocked(key, ref)
	}
	var d *definition
	if err == nil {
		d, err = e.definitionLocked(key)
	}
	e.mu.Unlock()
	if err != nil {
		return changed, false, err
	}
	if d.key == key && d.actor.GetSettings().GetKind() == protocol.Kind_UNNAMED {
		// The template itself: activating it would make a named actor of
		// it, with a state of its own that no instance ever sees.
		return changed, true, notFoundf("actor %q is unnamed: call an instance with spawn.Instance(\"id\") (in the protocol, an invocation of the instance's name with register_ref %q)",
			key.name, key.name)
	}
	if !d.accepts(req.GetActionName()) {
		return changed, false, unknownAction(key, d, req.GetActionName())
	}
	return changed, false, nil
}

// invokeScheduled stores req for its time and answers at once
// (docs/protocol.md §5.2).
func (e *Engine) invokeScheduled(ctx context.Context, key actorKey, req *protocol.InvocationRequest, c call) (*protocol.InvocationResponse, error) {
	if err := e.schedule(ctx, req); err != nil {
		e.refused(req, c, err)
		return nil, err
	}
	// Like the real proxy, activate the actor now.
	if err := e.deliver(key, &message{kind: msgActivate, ctx: e.base}); err != nil {
		e.log.Warn("activation for a scheduled invocation failed", zap.Stringer("actor", key), zap.Error(err))
	}
	return okResponse(req), nil
}

// invokeAsync queues req and answers once it is queued. Its payload
// counts against MaxAsyncBytes until it has been handled.
func (e *Engine) invokeAsync(key actorKey, req *protocol.InvocationRequest, c call) (*protocol.InvocationResponse, error) {
	size := int64(len(req.GetValue().GetValue()))
	if !e.reserveAsync(size) {
		err := reasonf(Overloaded, "async invocations holding %d bytes are waiting, the limit; the call to actor %q was refused, retry later",
			e.maxAsyncBytes, key.name)
		e.refused(req, c, err)
		return nil, err
	}
	// Timer ticks and scheduled invocations (c.onDone) are kept
	// elsewhere; every other async call exists only in the mailbox.
	m := &message{kind: msgInvoke, origin: c.origin, ctx: e.base, req: req, after: e.afterAsync(key, req, c, size), keep: c.onDone == nil}
	if err := e.deliver(key, m); err != nil {
		e.releaseAsync(size)
		e.refused(req, c, err)
		return nil, err
	}
	return okResponse(req), nil
}

// reserveAsync counts n more bytes of async payloads, or reports false
// when that would pass MaxAsyncBytes.
func (e *Engine) reserveAsync(n int64) bool {
	if e.maxAsyncBytes < 0 {
		return true
	}
	if e.asyncBytes.Add(n) > e.maxAsyncBytes && n > 0 {
		e.asyncBytes.Add(-n)
		return false
	}
	return true
}

func (e *Engine) releaseAsync(n int64) {
	if e.maxAsyncBytes >= 0 {
		e.asyncBytes.Add(-n)
	}
}

// afterAsync returns what the worker runs once it has handled the async
// invocation req: failures are logged, since nobody waits for them, and the
// workflow starts.
func (e *Engine) afterAsync(key actorKey, req *protocol.InvocationRequest, c call, size int64) func(result) {
	return func(r result) {
		e.releaseAsync(size)
		switch {
		case errors.Is(r.err, errKept):
			e.log.Info("async invocation kept for the next start", zap.Stringer("actor", key), zap.String("action", req.GetActionName()))
		case errors.Is(r.err, errRetrying):
			// keepForRetry has logged it.
		case hostDeclined(r.err) && c.onDone != nil:
			// A timer tick or a scheduled invocation: onDone decides.
			e.noteHostRetry(e.log, "the host did not take an async invocation", zap.Stringer("actor", key), zap.String("action", req.GetActionName()), zap.Error(r.err))
		case r.err != nil:
			e.log.Error("async invocation failed", zap.Stringer("actor", key), zap.String("action", req.GetActionName()), zap.Error(r.err))
		case r.resp.GetWorkflow() != nil:
			// Off the worker: routing may need this very actor.
			if !e.goTracked(func() { e.runAsyncWorkflow(req, r, c.hops) }) {
				e.log.Warn("workflow dropped: engine closing", zap.Stringer("actor", key))
			}
		}
		if c.onDone != nil {
			c.onDone(r.err)
		}
	}
}

// invokeSync runs req, then its workflow, and answers with the reply of
// the last actor of the pipe or forward chain. timeout, when not 0, bounds
// the whole chain.
func (e *Engine) invokeSync(ctx context.Context, key actorKey, req *protocol.InvocationRequest, timeout time.Duration, c call) (*protocol.InvocationResponse, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	r, err := e.await(ctx, key, req, c)
	if err != nil {
		return nil, err
	}
	// The workflow runs on the caller's goroutine, not the actor's, so
	// the actor is free for the next message, a pipe to itself included.
	if next := e.startWorkflow(req, r); next != nil {
		return e.route(ctx, req, next, r.resp, c.hops)
	}
	return replyResponse(req, r.resp), nil
}

// await queues req on the actor and waits for the host's reply.
//
// A caller whose context can never end runs the call itself when the
// actor is idle: nothing could make it stop waiting, so running it here
// rather than on a worker changes nothing but the cost of two goroutine
// hand-offs. A caller that may stop waiting always leaves the call to a
// worker, so that it can walk away on time.
func (e *Engine) await(ctx context.Context, key actorKey, req *protocol.InvocationRequest, c call) (result, error) {
	m := &message{kind: msgInvoke, origin: c.origin, ctx: ctx, req: req}
	if ctx.Done() == nil {
		m.direct = true
	} else {
		m.done = make(chan struct{})
	}
	if err := e.deliver(key, m); err != nil {
		e.refused(req, c, err)
		return result{}, err
	}
	if m.turn != nil {
		m.turn.c.serveDirect(m.turn, m)
		return m.res, m.res.err
	}
	select {
	case <-m.done:
		return m.res, m.res.err
	case <-ctx.Done():
	}
	cause := context.Cause(ctx)
	switch {
	case m.stage.CompareAndSwap(stageQueued, stageDropped):
		return result{}, notRun(key, req, cause)
	case m.stage.CompareAndSwap(stageRunning, stageDropped):
		return result{}, notApplied(key, req, cause)
	}
	// Committed, or dropped by the worker itself: either way the worker
	// is about to answer, and its answer is the truth.
	<-m.done
	return m.res, m.res.err
}

// route runs next, the invocation that req's pipe or forward asks for, and
// answers req with its reply (docs/protocol.md §9.5). hops counts the pipes and forwards before req.
func (e *Engine) route(ctx context.Context, req, next *protocol.InvocationRequest, resp *protocol.ActorInvocationResponse, hops int) (*protocol.InvocationResponse, error) {
	if hops >= maxHops {
		return nil, partial(req, next, errorf("more than %d pipe/forward hops; is there a routing loop?", maxHops))
	}
	res, err := e.invoke(ctx, next, call{hops: hops + 1, origin: routeOrigin(resp)})
	if err != nil {
		return nil, partial(req, next, err)
	}
	out := okResponse(req)
	out.Payload = res.GetPayload()
	return out, nil
}

// routeOrigin is the origin of the invocation that the pipe or forward of
// resp asks for.
func routeOrigin(resp *protocol.ActorInvocationResponse) origin {
	if _, ok := resp.GetWorkflow().GetRouting().(*protocol.Workflow_Pipe); ok {
		return originPipe
	}
	return originForward
}

// partial is the error of a pipe or forward that failed after req's actor
// had applied its change: the chain as a whole was partly applied, so a
// caller must not retry it as if nothing had happened.
func partial(req, next *protocol.InvocationRequest, err error) error {
	if reasonOf(err) == OutcomeUnknown {
		return err // already says so, further down the chain
	}
	return reasonf(OutcomeUnknown, "actor %q applied action %q, then its pipe or forward to actor %q action %q failed: %v",
		req.GetActor().GetId().GetName(), req.GetActionName(), next.GetActor().GetId().GetName(), next.GetActionName(), err)
}

// replyResponse answers req with the payload of resp, the host's reply.
// The answer, its status and its payload are one allocation.
func replyResponse(req *protocol.InvocationRequest, resp *protocol.ActorInvocationResponse) *protocol.InvocationResponse {
	a := new(struct {
		out    protocol.InvocationResponse
		status protocol.RequestStatus
		value  protocol.InvocationResponse_Value
	})
	out := &a.out
	a.status.Status = protocol.Status_OK
	out.Status, out.System, out.Actor = &a.status, req.GetSystem(), req.GetActor()
	switch p := resp.GetPayload().(type) {
	case *protocol.ActorInvocationResponse_Value:
		a.value.Value = p.Value
		out.Payload = &a.value
	case *protocol.ActorInvocationResponse_Noop:
		out.Payload = &protocol.InvocationResponse_Noop{Noop: p.Noop}
	}
	return out
}

// okResponse is a success answering req: it echoes the system and actor.
func okResponse(req *protocol.InvocationRequest) *protocol.InvocationResponse {
	return &protocol.InvocationResponse{Status: okStatus(""), System: req.GetSystem(), Actor: req.GetActor()}
}

// startWorkflow starts the side effects and the broadcast of the reply r
// to req, in that order (docs/protocol.md §9.1), and returns the invocation
// its pipe or forward asks for, or nil.
func (e *Engine) startWorkflow(req *protocol.InvocationRequest, r result) *protocol.InvocationRequest {
	wf := r.resp.GetWorkflow()
	if wf == nil {
		return nil // the common case: nothing to start, nothing to allocate
	}
	e.sideEffects(req, wf.GetEffects())
	e.broadcast(r.self, wf.GetBroadcast())
	return effects.Next(req, r.self, r.resp)
}

// runAsyncWorkflow carries out the workflow of an async invocation's reply.
// Routing still happens; its result has nobody to go to.
func (e *Engine) runAsyncWorkflow(req *protocol.InvocationRequest, r result, hops int) {
	next := e.startWorkflow(req, r)
	if next == nil {
		return
	}
	if hops >= maxHops {
		e.log.Error("routing dropped: too many pipe/forward hops", zap.String("actor", r.self.GetName()), zap.Int("limit", maxHops))
		return
	}
	if _, err := e.invoke(e.base, next, call{hops: hops + 1, origin: routeOrigin(r.resp)}); err != nil {
		e.log.Error("pipe/forward of an async invocation failed", zap.String("actor", r.self.GetName()), zap.Error(err))
	}
}

// target checks the addressing of req and returns its registry key.
func (e *Engine) target(req *protocol.InvocationRequest) (actorKey, error) {
	sys := req.GetSystem().GetName()
	if sys == "" {
		return actorKey{}, errorf("invocation has no system")
	}
	if err := e.checkSystem(sys); err != nil {
		return actorKey{}, err
	}
	name := req.GetActor().GetId().GetName()
	if name == "" {
		return actorKey{}, errorf("invocation has no actor.id.name")
	}
	return actorKey{name: name, system: sys}, nil
}

// checkSystem refuses any actor system but the one served: the real proxy
// would send the call over NATS, which a single node does not have.
func (e *Engine) checkSystem(sys string) error {
	if sys != e.system {
		return errorf("actor system %q is not served here (this proxy serves %q)", sys, e.system)
	}
	return nil
}

func requestTimeout(md map[string]string) (time.Duration, error) {
	v, ok := md[protocol.RequestTimeoutKey]
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil && errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(v, "-") {
		n, err = math.MaxInt64, nil // too large for int64: no limit, as below
	}
	if err != nil || n <= 0 {
		return 0, errorf("metadata %s=%q: want a positive integer number of milliseconds", protocol.RequestTimeoutKey, v)
	}
	if n > maxTimeoutMS {
		// Longer than a time.Duration holds (about 292 years): that is
		// no limit, and must not wrap into a negative one.
		return 0, nil
	}
	return ms(n), nil
}

// maxTimeoutMS is the longest request-timeout a time.Duration holds.
const maxTimeoutMS = math.MaxInt64 / int64(time.Millisecond)

// sideEffects starts each effect's invocation detached, with the source's
// metadata merged under the effect's own (docs/protocol.md §9.4).
func (e *Engine) sideEffects(src *protocol.InvocationRequest, fxs []*protocol.SideEffect) {
	for _, fx := range fxs {
		r, err := effects.EffectRequest(src, fx)
		if err != nil {
			e.log.Error("side effect dropped", zap.String("source", src.GetActor().GetId().GetName()), zap.Error(err))
			continue
		}
		started := e.goTracked(func() {
			if _, err := e.invoke(e.base, r, call{origin: originEffect}); err != nil {
				e.log.Error("side effect failed", zap.String("actor", r.GetActor().GetId().GetName()),
					zap.String("action", r.GetActionName()), zap.Error(err))
			}
		})
		if !started {
			e.log.Warn("side effect dropped: engine closing", zap.String("actor", r.GetActor().GetId().GetName()))
		}
	}
}
