package runtime

import (
	"context"
	"time"
)

// The registration grace (Options.RegistrationGrace): right after the
// engine starts, an actor that is not registered may simply not be
// registered yet, because its host has not noticed the restart. An
// invocation then waits for the registry to change, rather than answer
// ACTOR_NOT_FOUND for an actor that exists. It is the only wait on this
// path, and only an invocation of an unknown actor pays for it.

// registryChange returns a channel closed at the next change to the
// registry (or when Close begins).
func (e *Engine) registryChange() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.regChanged
}

// graceWait is one invocation's wait for its actor to be registered.
type graceWait struct {
	e        *Engine
	ctx      context.Context
	deadline time.Time // the grace's end, or the invocation's time limit if earlier
}

func (e *Engine) newGraceWait(ctx context.Context, timeout time.Duration) *graceWait {
	w := &graceWait{e: e, ctx: ctx, deadline: e.graceUntil}
	if timeout > 0 {
		if dl := time.Now().Add(timeout); dl.Before(w.deadline) {
			w.deadline = dl
		}
	}
	return w
}

// wait waits for changed to close, and returns nil then. It returns the
// error to answer with, derived from notFound, when the wait is over: the
// grace has ended, the invocation's time ran out, or the engine is
// closing.
func (w *graceWait) wait(changed <-chan struct{}, key actorKey, notFound error) error {
	e := w.e
	if e.closed.Load() {
		return errClosed
	}
	d := time.Until(w.deadline)
	if d <= 0 {
		return w.answer(key, notFound)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-changed:
		if e.closed.Load() {
			return errClosed
		}
		return nil
	case <-t.C:
	case <-w.ctx.Done():
	}
	return w.answer(key, notFound)
}

// answer is the error for an actor still unknown at the end of the wait:
// not ready while no host has registered, or while the grace lasts;
// notFound after.
func (w *graceWait) answer(key actorKey, notFound error) error {
	e := w.e
	if e.graceUntil.IsZero() {
		return notFound // no grace: the registry is complete from the start
	}
	e.mu.Lock()
	registered := e.registered
	e.mu.Unlock()
	switch {
	case !registered:
		return reasonf(NotReady, "actor %q is not registered: no host has registered with this proxy since it started; retry once the host is up", key.name)
	case time.Now().Before(e.graceUntil):
		return reasonf(NotReady, "actor %q is not registered yet: this proxy has just started and its hosts are registering again; retry shortly (%v)", key.name, notFound)
	}
	return notFound
}
