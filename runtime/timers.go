package runtime

import (
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/spawn-go/spawn/protocol"
)

// fixedTimer is a running timer action. It fires at a fixed rate from the
// first activation of its actor until Close, through deactivations: each
// tick activates the actor again, as with the real proxy
// (docs/protocol.md §8).
type fixedTimer struct {
	actor actorKey
	spec  timerSpec
	id    *protocol.ActorId
	// The fields below are guarded by Engine.mu.
	next  time.Time // when the armed tick is due
	timer Timer
	// pending: the last tick has not been handled yet. Ticks are skipped
	// meanwhile, so a timer action slower than its period does not fill
	// the mailbox.
	pending bool
}

// startTimersLocked makes the running timers of key, whose id is id, those
// d declares. It keeps the ones already running, so that reactivating an
// actor neither restarts nor doubles them, starts the missing ones, and
// stops those that a re-registration dropped or changed.
func (e *Engine) startTimersLocked(key actorKey, id *protocol.ActorId, d *definition) {
	var running []*fixedTimer
	for _, t := range e.timers[key] {
		if slices.Contains(d.timers, t.spec) {
			running = append(running, t)
		} else {
			t.timer.Stop()
		}
	}
	for _, ts := range d.timers {
		if slices.ContainsFunc(running, func(t *fixedTimer) bool { return t.spec == ts }) {
			continue
		}
		t := &fixedTimer{actor: key, spec: ts, id: id, next: e.clock.Now().Add(ts.period)}
		t.timer = e.clock.AfterFunc(ts.period, func() { e.tick(t) })
		running = append(running, t)
	}
	if len(running) == 0 {
		delete(e.timers, key)
		return
	}
	e.timers[key] = running
}

func (e *Engine) tick(t *fixedTimer) {
	e.mu.Lock()
	if e.closed.Load() || !slices.Contains(e.timers[t.actor], t) {
		e.mu.Unlock()
		return // stopped while this tick was on its way
	}
	// Fixed rate: the next tick is due one period after this one was,
	// skipping ticks missed while the process was stalled.
	now := e.clock.Now()
	for !t.next.After(now) {
		t.next = t.next.Add(t.spec.period)
	}
	t.timer = e.clock.AfterFunc(t.next.Sub(now), func() { e.tick(t) })
	skip := t.pending
	t.pending = true
	if !skip {
		e.wg.Add(1)
	}
	e.mu.Unlock()
	if skip {
		e.log.Debug("timer tick skipped: the previous one is still pending", zap.Stringer("actor", t.actor), zap.String("action", t.spec.action))
		return
	}
	defer e.wg.Done()

	handled := func(error) {
		e.mu.Lock()
		t.pending = false
		e.mu.Unlock()
	}
	req := &protocol.InvocationRequest{
		System:     &protocol.ActorSystem{Name: t.id.GetSystem()},
		Actor:      &protocol.Actor{Id: t.id},
		ActionName: t.spec.action,
		Payload:    &protocol.InvocationRequest_Noop{Noop: &protocol.Noop{}},
		Async:      true,
		Caller:     t.id,
	}
	if _, err := e.invoke(e.base, req, call{onDone: handled, origin: originTimer}); err != nil {
		handled(err) // never queued, so onDone will not run
		e.log.Error("timer action failed", zap.Stringer("actor", t.actor), zap.String("action", t.spec.action), zap.Error(err))
	}
}
