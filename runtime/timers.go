package runtime

import (
	"time"

	"go.uber.org/zap"

	"github.com/spawn-go/spawn/protocol"
)

// timerKey de-duplicates timer actions per actor instance: reactivating an
// actor does not start its timers twice.
type timerKey struct {
	actor  actorKey
	action string
	period time.Duration
}

// fixedTimer is a running timer action. It fires at a fixed rate from the
// first activation of its actor until Close, through deactivations: each
// tick activates the actor again, as with the real proxy.
type fixedTimer struct {
	key   timerKey
	id    *protocol.ActorId
	next  time.Time // when the armed tick is due; guarded by Engine.mu
	timer Timer     // guarded by Engine.mu
}

func (e *Engine) startTimersLocked(d *definition) {
	for _, ts := range d.timers {
		k := timerKey{actor: d.key, action: ts.action, period: ts.period}
		if _, ok := e.timers[k]; ok {
			continue
		}
		t := &fixedTimer{key: k, id: d.id(), next: e.clock.Now().Add(ts.period)}
		t.timer = e.clock.AfterFunc(ts.period, func() { e.tick(t) })
		e.timers[k] = t
	}
}

func (e *Engine) tick(t *fixedTimer) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.wg.Add(1)
	// Fixed rate: the next tick is due one period after this one was,
	// skipping ticks missed while the process was stalled.
	now := e.clock.Now()
	for !t.next.After(now) {
		t.next = t.next.Add(t.key.period)
	}
	t.timer = e.clock.AfterFunc(t.next.Sub(now), func() { e.tick(t) })
	e.mu.Unlock()
	defer e.wg.Done()

	req := &protocol.InvocationRequest{
		System:     &protocol.ActorSystem{Name: t.id.GetSystem()},
		Actor:      &protocol.Actor{Id: t.id},
		ActionName: t.key.action,
		Payload:    &protocol.InvocationRequest_Noop{Noop: &protocol.Noop{}},
		Async:      true,
		Caller:     t.id,
	}
	if _, err := e.invoke(e.base, req, call{}); err != nil {
		e.log.Error("timer action failed", zap.Stringer("actor", t.key.actor), zap.String("action", t.key.action), zap.Error(err))
	}
}
