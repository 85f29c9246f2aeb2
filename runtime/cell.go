package runtime

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/spawn-go/spawn/protocol"
)

// A cell is one activated actor: a FIFO mailbox served by up to
// def.poolMax instances at a time. An ordinary actor has one instance, so
// it handles one message at a time, in order. A POOLED actor has up to
// max_pool_size stateless instances serving its mailbox in parallel.
//
// A worker (see workers) serves the mailbox with one instance: it takes an
// idle instance, or creates one up to the limit, serves messages until the
// mailbox is empty, then parks the instance. So the instances in all but
// not in idle are exactly those being served.
type cell struct {
	e   *Engine
	def *definition // the definition the cell was activated with
	key actorKey
	id  *protocol.ActorId // the actor's id: def's, or an instance's
	// instance: a spawned instance, forgotten when it deactivates.
	instance bool
	// announced: its activation has been reported to the Observer.
	announced atomic.Bool

	mu    sync.Mutex
	queue []*message
	// invocations counts the msgInvoke messages in queue, which the
	// mailbox bound limits; the engine's own messages do not count.
	invocations int32
	// nIdle counts the idle instances, which are all[:nIdle]; the others
	// are being served. One slice rather than two: idle actors are many.
	nIdle int32
	all   []*instance
	// since is when the cell was activated.
	since time.Time
	// lastActive is when the mailbox last ran empty; kept only for
	// deactivation (def.idleAfter > 0).
	lastActive time.Time
	stopping   bool
	// stopped is made when the cell starts stopping, and closed once its
	// state is saved; an active cell, the common case, needs none.
	stopped chan struct{}
	// snapPending: a snapshot duty is scheduled (see upkeep.go); set when
	// the state changes, cleared when the snapshot runs.
	snapPending atomic.Bool
	// dutyAt is where the cell's duties are in the engine's heap, plus
	// one (0: none), by kind; under the engine's upMu.
	dutyAt [2]int32
}

type msgKind uint8

const (
	msgInvoke   msgKind = iota
	msgActivate         // activate the actor, nothing else
	msgRead             // report the state
	msgRestore          // give the actor a state, saved, and activate it again from it
)

// The stages of an invocation, in message.stage. An invocation's change is
// applied only by the worker that moves it from running to committed; a
// caller that stops waiting moves it from queued or running to dropped
// first, if it can. Whoever wins decides the outcome, so that every
// outcome reported is the true one: a call reported as not applied never
// is, and one that was applied is reported as such, even to a caller whose
// time ran out while it was being applied.
const (
	stageQueued int32 = iota
	stageRunning
	stageCommitted
	stageDropped
)

// message is one entry of a mailbox.
type message struct {
	kind msgKind
	// origin says where an invocation came from, for the Observer.
	origin origin
	// keep: an async invocation acknowledged to its caller and kept
	// nowhere else. If the engine closes before it has run, it is stored
	// as a scheduled invocation, due at once, for the next engine.
	keep bool
	// stage is the invocation's progress, for msgInvoke.
	stage atomic.Int32
	ctx   context.Context
	req   *protocol.InvocationRequest // msgInvoke only
	// done, for a message someone waits for, is closed once res holds the
	// result. Closing never blocks on a caller that gave up, and a
	// chan struct{} costs one allocation where a buffered chan result
	// costs two.
	done chan struct{}
	res  result
	// after, for async invocations, runs on the worker once the message
	// has been handled, before the next message: keep it short.
	after func(result)
	// enq is when the message entered the mailbox (monoNow), when an
	// Observer wants invocations; 0 otherwise.
	enq int64
	// revision is the revision of the state a host call for the message
	// is given; the host reads it from the call's context.
	revision int64
	// restore is what a msgRestore asks for.
	restore *restoreSpec
	// direct: a sync invocation whose caller runs it itself, on its own
	// goroutine, when the actor is idle (see cell.serveDirect); it then
	// never enters the mailbox, and done is made only if it must wait.
	direct bool
	// turn, set by enqueue for a direct message, is the instance the
	// caller was given the actor's turn with; nil when it was queued.
	turn *instance
	// host is the room for the host invocation of a msgInvoke, allocated
	// with the message rather than piece by piece (see hostInvocation).
	host struct {
		inv   protocol.ActorInvocation
		ctx   protocol.Context
		value protocol.ActorInvocation_Value
	}
}

type result struct {
	resp    *protocol.ActorInvocationResponse // msgInvoke
	self    *protocol.ActorId                 // the actor that handled the message
	current *CurrentState                     // msgRead
	err     error
}

func (m *message) finish(r result) {
	m.res = r // read by a direct caller once handle returns
	if m.done != nil {
		close(m.done)
	}
	if m.after != nil {
		m.after(r)
	}
}

// deliver puts m in the mailbox of the actor registered under key,
// activating the actor if needed. It fails only if the actor is unknown or
// the engine is closing.
func (e *Engine) deliver(key actorKey, m *message) error {
	for {
		e.mu.Lock()
		if e.closed.Load() {
			e.mu.Unlock()
			return errClosed
		}
		c := e.cells[key]
		if c == nil {
			t, err := e.lookupLocked(key)
			if ref := m.req.GetRegisterRef(); err != nil && ref != "" && isNotFound(err) {
				// The instance that resolve spawned or found for the
				// register_ref has deactivated since, and was forgotten:
				// spawn it again, as register_ref asks.
				if err = e.spawnRefLocked(key, ref); err == nil {
					t, err = e.lookupLocked(key)
				}
			}
			if err != nil {
				e.mu.Unlock()
				return err
			}
			c = e.newCellLocked(key, t)
			e.cells[key] = c
		}
		e.wg.Add(1) // for m, until a worker has handled it
		e.mu.Unlock()
		switch c.enqueue(m) {
		case enqueued:
			return nil
		case mailboxFull:
			e.wg.Done()
			return reasonf(Overloaded, "actor %q has %d messages waiting, its mailbox's limit; the call was refused, retry later",
				key.name, e.maxMailbox)
		}
		e.wg.Done()
		// The actor is deactivating: wait until its state is saved, so
		// the next activation loads it, then activate again.
		c.mu.Lock()
		stopped := c.stopped
		c.mu.Unlock()
		<-stopped
	}
}

// newCellLocked activates t: subscriptions and timer actions are set up
// here, state and the init action run on the first instance's first message.
func (e *Engine) newCellLocked(key actorKey, t target) *cell {
	d := t.def
	now := e.clock.Now()
	c := &cell{
		e:          e,
		def:        d,
		key:        key,
		id:         t.id,
		instance:   t.instance,
		since:      now,
		lastActive: now,
	}
	e.subscribeLocked(key, t.id, d)
	e.startTimersLocked(key, t.id, d)
	if d.idleAfter > 0 {
		e.addDuty(duty{at: now.Add(d.idleAfter).UnixNano(), c: c, kind: dutyDeactivate})
	}
	return c
}

type enqueueResult int

const (
	enqueued enqueueResult = iota
	cellStopping
	mailboxFull
)

// enqueue adds m to the mailbox and makes sure a worker will serve it,
// unless the cell is stopping or, for an invocation, the mailbox is full.
func (c *cell) enqueue(m *message) enqueueResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping {
		return cellStopping
	}
	if m.kind == msgInvoke {
		if c.e.maxMailbox > 0 && int(c.invocations) >= c.e.maxMailbox {
			return mailboxFull
		}
		c.invocations++
	}
	if c.e.obs.Invoked != nil {
		m.enq = monoNow()
	}
	if m.direct {
		// The caller takes the actor's turn itself when nothing is
		// queued and an instance is free: no worker, no hand-off.
		if len(c.queue) == 0 {
			if inst := c.takeInstanceLocked(); inst != nil {
				c.invocations--
				m.turn = inst
				c.e.wg.Add(1) // for the turn, as for a worker
				return enqueued
			}
		}
		m.done = make(chan struct{})
	}
	c.queue = append(c.queue, m)
	inst := c.takeInstanceLocked()
	if inst == nil {
		return enqueued // every instance is busy; one of them will take m
	}
	c.e.wg.Add(1) // for the worker; under mu, m holds the count above zero
	c.e.workers.run(inst)
	return enqueued
}

// takeInstanceLocked returns an idle instance, or a new one up to the
// pool's size, or nil when every instance is busy.
func (c *cell) takeInstanceLocked() *instance {
	var inst *instance
	switch {
	case c.nIdle > 0:
		c.nIdle--
		inst = c.all[c.nIdle] // now the first of the busy ones
	case len(c.all) < c.def.poolMax:
		inst = &instance{c: c}
		c.all = append(c.all, inst)
	}
	return inst
}

// serveDirect handles m, a direct message, with inst, the turn its caller
// was given, on the caller's goroutine. Messages queued meanwhile go to a
// worker with the instance, so the caller leaves at once, and the mailbox
// keeps its order: m was first in it.
func (c *cell) serveDirect(inst *instance, m *message) {
	inst.handle(m)
	c.e.wg.Done() // for m
	c.mu.Lock()
	if len(c.queue) == 0 {
		c.parkLocked(inst)
		c.mu.Unlock()
		c.e.wg.Done() // for the turn
		return
	}
	c.mu.Unlock()
	c.e.workers.run(inst) // the worker inherits the turn's count
}

// work serves the mailbox with inst until it is empty.
func (c *cell) work(inst *instance) {
	defer c.e.wg.Done()
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.parkLocked(inst)
			c.mu.Unlock()
			return
		}
		m := c.queue[0]
		c.queue[0] = nil
		if m.kind == msgInvoke {
			c.invocations--
		}
		if len(c.queue) == 1 {
			// Keep the backing array: a mailbox that empties after every
			// message would otherwise allocate a new one for each.
			c.queue = c.queue[:0]
		} else {
			c.queue = c.queue[1:]
		}
		c.mu.Unlock()
		inst.handle(m)
		c.e.wg.Done()
	}
}

// deactivated reports the deactivation of the cell to the Observer.
func (c *cell) deactivated(closing bool) {
	if c.e.obs.Deactivated != nil {
		c.e.obs.Deactivated(Deactivation{Actor: refOf(c.id), At: c.e.clock.Now(), Closing: closing})
	}
}

// parkLocked makes inst, which served the mailbox until it ran empty, idle.
func (c *cell) parkLocked(inst *instance) {
	for j := int(c.nIdle); j < len(c.all); j++ {
		if c.all[j] == inst {
			c.all[j], c.all[c.nIdle] = c.all[c.nIdle], c.all[j]
			c.nIdle++
			break
		}
	}
	if c.def.idleAfter > 0 {
		c.lastActive = c.e.clock.Now()
	}
}

// idleLocked reports whether no message is queued or being handled.
func (c *cell) idleLocked() bool {
	return len(c.queue) == 0 && int(c.nIdle) == len(c.all)
}

// shrinkLocked drops idle instances until at most keep remain. Only
// stateless pools shrink, so there is nothing to save.
func (c *cell) shrinkLocked(keep int) {
	for len(c.all) > keep && c.nIdle > 0 {
		c.all = append(c.all[:c.nIdle-1], c.all[c.nIdle:]...)
		c.nIdle--
	}
}

// shutdown deactivates the cell for Close and returns its instances to
// save; unless ok is false (it was stopping already), the caller saves
// them, then calls closed. Normally the cell is idle
// by now. If Close gave up waiting, the messages still queued fail at once,
// rather than reach the host after Close or keep their callers waiting, and
// busy instances are not saved: their state is in flux.
func (c *cell) shutdown() (insts []*instance, ok bool) {
	c.mu.Lock()
	if c.stopping {
		c.mu.Unlock()
		return nil, false
	}
	c.stop()
	insts = append(insts, c.all[:c.nIdle]...)
	busy := len(c.all) > int(c.nIdle)
	queued := c.queue
	c.queue, c.invocations = nil, 0
	c.mu.Unlock()
	for _, m := range queued {
		var err error = errClosed
		if m.keep {
			err = c.e.keepForLater(m)
		}
		m.finish(result{self: c.id, err: err})
		c.e.wg.Done()
	}
	if busy {
		c.e.log.Error("actor still busy at close; its state is not saved", zap.Stringer("actor", c.key))
	}
	return insts, true
}

// stop marks the cell as stopping; c.mu is held.
func (c *cell) stop() {
	c.stopping = true
	c.stopped = make(chan struct{})
}

// closed ends a shutdown once the cell's state is saved.
func (c *cell) closed() {
	close(c.stopped)
	c.deactivated(true)
}
