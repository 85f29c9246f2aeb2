package runtime

import (
	"time"

	"go.uber.org/zap"
)

// spawned is an instance of an UNNAMED template, spawned explicitly or by
// an invocation's register_ref. It holds no definition of its own: it is
// activated with its template's current one. The engine keeps it only as
// long as it may still be used: while it is active, and for its template's
// deactivation timeout after it was spawned or last ran. After that it
// leaves nothing behind but its stored state, and a later spawn or
// register_ref brings it back with that state.
type spawned struct {
	parent string
	// revision is the revision of its state to restore at its next
	// activation; 0 for the latest.
	revision int64
	// since is when it was spawned or last deactivated: while it has no
	// cell, it is forgotten once its template's deactivation timeout has
	// passed since then.
	since time.Time
}

// armSweepLocked makes sure a sweep runs once an instance of tmpl spawned
// at since may be forgotten. Templates that never deactivate keep their
// instances.
func (e *Engine) armSweepLocked(tmpl *definition, since time.Time) {
	if tmpl.idleAfter <= 0 || e.closed.Load() {
		return
	}
	at := since.Add(tmpl.idleAfter)
	if e.sweepTimer != nil && !e.sweepAt.After(at) {
		return // an earlier sweep will see it, and arm the next one
	}
	if e.sweepTimer != nil {
		e.sweepTimer.Stop()
	}
	e.sweepAt = at
	e.sweepTimer = e.clock.AfterFunc(at.Sub(e.clock.Now()), e.sweep)
}

// sweep forgets the inactive instances whose time has passed, and arms the
// next sweep for the earliest of the others.
func (e *Engine) sweep() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sweepTimer = nil
	if e.closed.Load() {
		return
	}
	now := e.clock.Now()
	var next time.Time
	dropped := 0
	for key, s := range e.instances {
		if e.cells[key] != nil {
			continue // active: its deactivation forgets it
		}
		tmpl := e.defs[actorKey{name: s.parent, system: key.system}]
		if tmpl == nil || tmpl.idleAfter <= 0 {
			if tmpl == nil {
				delete(e.instances, key) // its template is gone: nothing can run it
				dropped++
			}
			continue
		}
		at := s.since.Add(tmpl.idleAfter)
		if !at.After(now) {
			delete(e.instances, key)
			dropped++
			continue
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	if dropped > 0 {
		e.log.Debug("inactive instances forgotten", zap.Int("count", dropped))
		e.shrinkMapsLocked()
	}
	if !next.IsZero() {
		e.sweepAt = next
		e.sweepTimer = e.clock.AfterFunc(next.Sub(now), e.sweep)
	}
}

// deactivatedLocked releases what the engine keeps for the actor of key,
// which has just deactivated, when it is a spawned instance: its timers,
// its subscriptions and its registry entry, unless a spawn since its
// activation asked for a revision, which then waits for the next
// activation, or for the sweep.
func (e *Engine) deactivatedLocked(key actorKey, instance bool) {
	if !instance {
		return
	}
	for _, t := range e.timers[key] {
		t.timer.Stop()
	}
	delete(e.timers, key)
	for _, s := range e.subscribed[key] {
		e.unsubscribeLocked(key, s)
	}
	delete(e.subscribed, key)
	delete(e.tagsWiped, key)
	s := e.instances[key]
	if s == nil {
		return
	}
	if s.revision == 0 {
		delete(e.instances, key)
		return
	}
	s.since = e.clock.Now()
	if tmpl := e.defs[actorKey{name: s.parent, system: key.system}]; tmpl != nil {
		e.armSweepLocked(tmpl, s.since)
	}
}
