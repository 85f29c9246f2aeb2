package runtime

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/state"
)

// scheduledEntry is a delayed invocation waiting in the store. Its fields
// are guarded by Engine.mu.
type scheduledEntry struct {
	s     state.Scheduled
	timer Timer // nil once fired or while parked
	// parked: it fell due while its actor was unknown (typically right
	// after a restart, before the host registers again). It runs at the
	// next Register or Spawn.
	parked bool
	// declined counts the host's refusals in a row, for the backoff.
	declined int
}

// schedule stores req for its scheduled_to time and arms it. The stored
// request is async with scheduled_to cleared, ready to run as it is.
func (e *Engine) schedule(ctx context.Context, req *protocol.InvocationRequest) error {
	r := proto.CloneOf(req)
	r.ScheduledTo = 0
	r.Async = true
	b, err := proto.Marshal(r)
	if err != nil {
		return errorf("encoding scheduled invocation: %v", err)
	}
	s := state.Scheduled{ID: rand.Text(), At: time.UnixMilli(req.GetScheduledTo()), Request: b}
	if err := e.store.PutScheduled(ctx, s); err != nil {
		return errorf("storing scheduled invocation: %v", err)
	}
	if e.obs.Scheduled != nil {
		id := req.GetActor().GetId()
		e.obs.Scheduled(Delayed{Actor: ActorRef{System: req.GetSystem().GetName(), Name: id.GetName(), Parent: req.GetRegisterRef()},
			Action: req.GetActionName(), Caller: refOf(req.GetCaller()), Due: s.At})
	}
	e.arm(s)
	return nil
}

// restoreScheduled re-arms what a previous engine left in the store.
func (e *Engine) restoreScheduled() error {
	list, err := e.store.ListScheduled(context.Background())
	if err != nil {
		return fmt.Errorf("runtime: loading scheduled invocations: %w", err)
	}
	for _, s := range list {
		e.arm(s)
	}
	if len(list) > 0 {
		e.log.Info("scheduled invocations restored", zap.Int("count", len(list)))
	}
	return nil
}

func (e *Engine) arm(s state.Scheduled) {
	entry := &scheduledEntry{s: s}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed.Load() {
		return // still stored: the next engine runs it
	}
	e.scheduled[s.ID] = entry
	d := s.At.Sub(e.clock.Now())
	if d <= 0 {
		// Past due, as after a restart: run now rather than wait for the
		// clock, which a fake clock would only do on its next Advance.
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.fire(entry)
		}()
		return
	}
	entry.timer = e.clock.AfterFunc(d, func() {
		if !e.enter() {
			return
		}
		defer e.wg.Done()
		e.fire(entry)
	})
}

// testHookPark, when a test sets it, runs in fire between an invocation
// that found no actor and the parking of it.
var testHookPark func()

// fire runs a due scheduled invocation; it is deleted from the store once
// the host call has ended, so a crash before then runs it again.
func (e *Engine) fire(entry *scheduledEntry) {
	e.mu.Lock()
	if e.scheduled[entry.s.ID] != entry {
		e.mu.Unlock()
		return
	}
	entry.timer, entry.parked = nil, false
	gen := e.registryGen
	e.mu.Unlock()

	var req protocol.InvocationRequest
	if err := proto.Unmarshal(entry.s.Request, &req); err != nil {
		e.log.Error("dropping undecodable scheduled invocation", zap.String("id", entry.s.ID), zap.Error(err))
		e.forget(entry)
		return
	}
	log := e.log.With(zap.String("id", entry.s.ID), zap.String("actor", req.GetActor().GetId().GetName()), zap.String("action", req.GetActionName()))
	_, err := e.invoke(e.base, &req, call{origin: originSchedule, onDone: func(err error) {
		switch {
		case errors.Is(err, errClosed):
			return // never ran: left in the store for the next engine
		case hostDeclined(err):
			// Nothing was applied: try again once the host may be back,
			// later each time it is still away.
			e.mu.Lock()
			entry.declined++
			d := hostBackoff(entry.declined)
			e.mu.Unlock()
			e.noteHostRetry(log, "the host did not take a scheduled invocation; trying again", zap.Duration("in", d), zap.Error(err))
			e.retryIn(entry, d)
			return
		case err != nil:
			log.Error("scheduled invocation failed", zap.Error(err))
		}
		e.forget(entry)
	}})
	switch {
	case err == nil:
	case errors.Is(err, errClosed):
		// Left in the store for the next engine.
	case isNotFound(err), reasonOf(err) == NotReady:
		if testHookPark != nil {
			testHookPark()
		}
		e.mu.Lock()
		// A registration since the invocation began has already run
		// retryParked, which could not see this entry: try again now
		// rather than wait for the next one.
		changed := e.registryGen != gen
		entry.parked = !changed
		e.mu.Unlock()
		if changed {
			e.goTracked(func() { e.fire(entry) })
			return
		}
		log.Info("scheduled invocation waits for its actor to be registered")
	case reasonOf(err) == Overloaded:
		// Refused before it ran: try again in a moment rather than drop it.
		log.Warn("scheduled invocation refused for now, retrying in a second", zap.Error(err))
		e.retryIn(entry, overloadRetry)
	default:
		log.Error("dropping scheduled invocation", zap.Error(err))
		e.forget(entry)
	}
}

// retryIn fires entry again after d, unless the engine is closing (it
// stays stored for the next one) or entry is gone.
func (e *Engine) retryIn(entry *scheduledEntry, d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed.Load() || e.scheduled[entry.s.ID] != entry {
		return
	}
	entry.timer = e.clock.AfterFunc(d, func() {
		if !e.enter() {
			return
		}
		defer e.wg.Done()
		e.fire(entry)
	})
}

// overloadRetry is how long a scheduled invocation refused as overloaded
// waits before it tries again.
const overloadRetry = time.Second

// hostRetry is how long acknowledged async work that its host did not
// take (see Error.hostDeclined) waits before it is tried again, the first
// time; each refusal in a row doubles it, up to maxHostRetry.
const (
	hostRetry    = time.Second
	maxHostRetry = 30 * time.Second
)

// hostBackoff is the wait before the next try of work its host has
// declined n times in a row (n ≥ 1): a host that is down for long is not
// knocked on every second by every call it owes.
func hostBackoff(n int) time.Duration {
	d := hostRetry
	for i := 1; i < n && d < maxHostRetry; i++ {
		d *= 2
	}
	return min(d, maxHostRetry)
}

// noteHostRetry logs that work its host did not take is kept and tried
// again: at info at most once a second (by the engine's clock), since a
// host that is down declines every call it owes; at debug otherwise.
func (e *Engine) noteHostRetry(log *zap.Logger, msg string, fields ...zap.Field) {
	now := e.clock.Now().UnixNano()
	last := e.hostRetryLogged.Load()
	if now-last >= int64(time.Second) && e.hostRetryLogged.CompareAndSwap(last, now) {
		log.Info(msg, fields...)
		return
	}
	log.Debug(msg, fields...)
}

func (e *Engine) forget(entry *scheduledEntry) {
	e.mu.Lock()
	if e.scheduled[entry.s.ID] == entry {
		delete(e.scheduled, entry.s.ID)
	}
	e.mu.Unlock()
	if err := e.store.DeleteScheduled(e.base, entry.s.ID); err != nil {
		e.log.Error("deleting scheduled invocation failed", zap.String("id", entry.s.ID), zap.Error(err))
	}
}

// retryParked runs the scheduled invocations that were waiting for an
// actor, now that the registry has changed. Its caller has bumped
// registryGen under mu first, so that an invocation failing meanwhile
// retries by itself (see fire).
func (e *Engine) retryParked() {
	e.mu.Lock()
	var parked []*scheduledEntry
	for _, s := range e.scheduled {
		if s.parked {
			s.parked = false
			parked = append(parked, s)
		}
	}
	e.mu.Unlock()
	for _, s := range parked {
		e.goTracked(func() { e.fire(s) })
	}
}

// errKept is the result of an async invocation that the engine closed
// before running, and stored for the next engine instead.
var errKept = reasonf(Unavailable, "the runtime closed before the call ran; it is stored and runs after the restart")

// errRetrying is the result of an async invocation that its host did not
// take, and that is stored and tried again.
var errRetrying = reasonf(Unavailable, "the host did not take the call; it is stored and tried again")

// keepForLater stores the async invocation of m as a scheduled invocation
// due at once, which the next engine on the same store runs: acknowledged
// async work survives a stop that could not wait for it. It returns
// errKept, or the error that made it fail, in which case the call is lost
// and the loss logged.
func (e *Engine) keepForLater(m *message) error {
	if _, err := e.storeAsync(m, e.clock.Now()); err != nil {
		e.log.Error("an acknowledged async invocation is lost: the runtime closed before it ran, and storing it failed",
			zap.String("actor", m.req.GetActor().GetId().GetName()), zap.String("action", m.req.GetActionName()), zap.Error(err))
		return errorf("storing the call for after the restart failed: %v", err)
	}
	return errKept
}

// keepForRetry stores the async invocation of m, which its host did not
// take (cause), as a scheduled invocation due in hostRetry, and arms it:
// acknowledged async work survives a host that is down or restarting. It
// returns errRetrying, or the error that made it fail, in which case the
// call is lost and the loss logged.
func (e *Engine) keepForRetry(m *message, cause error) error {
	s, err := e.storeAsync(m, e.clock.Now().Add(hostRetry))
	if err != nil {
		e.log.Error("an acknowledged async invocation is lost: the host did not take it, and storing it for later failed",
			zap.String("actor", m.req.GetActor().GetId().GetName()), zap.String("action", m.req.GetActionName()),
			zap.NamedError("cause", cause), zap.Error(err))
		return errorf("storing the call to try it again failed: %v (the host did not take it: %v)", err, cause)
	}
	e.noteHostRetry(e.log, "the host did not take an async invocation; it is kept and tried again",
		zap.String("actor", m.req.GetActor().GetId().GetName()), zap.String("action", m.req.GetActionName()),
		zap.Duration("in", hostRetry), zap.Error(cause))
	e.arm(s)
	return errRetrying
}

// storeAsync stores the async invocation of m as a scheduled invocation
// due at at.
func (e *Engine) storeAsync(m *message, at time.Time) (state.Scheduled, error) {
	r := proto.CloneOf(m.req)
	r.ScheduledTo = 0
	r.Async = true
	b, err := proto.Marshal(r)
	if err != nil {
		return state.Scheduled{}, err
	}
	s := state.Scheduled{ID: rand.Text(), At: at, Request: b}
	return s, e.store.PutScheduled(context.WithoutCancel(m.ctx), s)
}
