package runtime

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/spawn-go/spawn/state"
)

// Upkeep: the periodic snapshots and the deactivations of every active
// actor run from one engine-wide timer on the engine's Clock, armed for the
// earliest duty due. An actor costs nothing while it sits idle: it has one
// deactivation duty (none without a deactivation strategy), and a snapshot
// duty only once its state has changed since the last one. So 100k idle
// actors arm no timers and start no goroutines, and an unchanged state is
// never looked at, let alone saved again. The saves of one round go to the
// store in one write when it can take a batch (state.BatchSaver).

type dutyKind uint8

// Duties due at the same instant run snapshots first, as the per-actor
// timers armed at activation used to.
const (
	dutySnapshot dutyKind = iota
	dutyDeactivate
)

// duty is something to do for a cell at a time, in Unix nanoseconds on
// the engine's clock (a time.Time would make every duty 16 bytes larger).
type duty struct {
	at   int64
	c    *cell
	kind dutyKind
}

func (d duty) before(o duty) bool {
	if d.at != o.at {
		return d.at < o.at
	}
	return d.kind < o.kind
}

// duties is a min-heap of duties by time. Each cell knows where its
// duties are (cell.dutyAt), so that a deactivated cell's can be removed at
// once rather than keep it in memory until they fall due.
type duties []duty

func (h duties) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h.placed(i)
	h.placed(j)
}

// placed records in its cell that h[i] is at i.
func (h duties) placed(i int) { h[i].c.dutyAt[h[i].kind] = int32(i) + 1 }

func (h *duties) push(d duty) {
	*h = append(*h, d)
	h.placed(len(*h) - 1)
	h.up(len(*h) - 1)
}

func (h duties) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].before(h[p]) {
			break
		}
		h.swap(i, p)
		i = p
	}
}

func (h duties) down(i int) {
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h[l].before(h[m]) {
			m = l
		}
		if r < len(h) && h[r].before(h[m]) {
			m = r
		}
		if m == i {
			return
		}
		h.swap(i, m)
		i = m
	}
}

// remove takes out and returns the duty at i.
func (h *duties) remove(i int) duty {
	s := *h
	d := s[i]
	d.c.dutyAt[d.kind] = 0
	last := len(s) - 1
	if i != last {
		s[i] = s[last]
		s.placed(i)
	}
	s[last] = duty{} // drop the cell for the GC
	s = s[:last]
	if cap(s) > 64 && len(s) < cap(s)/4 {
		// Memory follows the live set: many actors gone, a smaller array.
		s = append(make(duties, 0, 2*len(s)), s...)
	}
	*h = s
	if i < last {
		s.down(i)
		s.up(i)
	}
	return d
}

func (h *duties) pop() duty { return h.remove(0) }

// addDuty schedules d, arming the upkeep timer earlier if d is due first.
func (e *Engine) addDuty(d duty) {
	e.upMu.Lock()
	e.duties.push(d)
	e.armUpkeepLocked()
	e.upMu.Unlock()
}

// armUpkeepLocked makes sure the upkeep timer fires when the earliest duty
// is due. Once Close has begun, nothing is armed.
func (e *Engine) armUpkeepLocked() {
	if len(e.duties) == 0 || e.closed.Load() {
		return
	}
	at := e.duties[0].at
	if e.upTimer != nil {
		if e.upAt <= at {
			return // armed for that time or earlier
		}
		e.upTimer.Stop()
	}
	e.upAt = at
	e.upTimer = e.clock.AfterFunc(time.Duration(at-e.clock.Now().UnixNano()), e.upkeep)
}

// stopUpkeep stops the upkeep timer for Close. The duties stay: a round
// under way may still remove some.
func (e *Engine) stopUpkeep() {
	e.upMu.Lock()
	defer e.upMu.Unlock()
	if e.upTimer != nil {
		e.upTimer.Stop()
		e.upTimer = nil
	}
}

// snapshotAfterChange schedules the next snapshot of c, whose state has just
// changed, unless one is pending. Snapshots fall every snapshotEvery from
// the activation, as a ticker's would; a change lands in the next one.
func (c *cell) snapshotAfterChange() {
	every := c.def.snapshotEvery
	if every <= 0 || c.snapPending.Load() || !c.snapPending.CompareAndSwap(false, true) {
		return
	}
	since := c.since
	n := c.e.clock.Now().Sub(since)/every + 1
	c.e.addDuty(duty{at: since.Add(n * every).UnixNano(), c: c, kind: dutySnapshot})
}

// upkeep runs the duties that are due, then arms the timer for the next.
func (e *Engine) upkeep() {
	if !e.enter() {
		return
	}
	defer e.wg.Done()
	// One round at a time: a round holds the save locks of the instances
	// it saves, and two rounds taking them in different orders could
	// deadlock.
	e.upRun.Lock()
	defer e.upRun.Unlock()
	now := e.clock.Now()
	e.upMu.Lock()
	e.upTimer = nil
	var due []duty
	for len(e.duties) > 0 && e.duties[0].at <= now.UnixNano() {
		due = append(due, e.duties.pop())
	}
	e.upMu.Unlock()

	var saves []pendingSave
	var stops []*cell
	for _, d := range due {
		switch d.kind {
		case dutySnapshot:
			saves = d.c.snapshotDue(saves)
		case dutyDeactivate:
			if insts, stop := d.c.deactivationDue(now); stop {
				stops = append(stops, d.c)
				for _, inst := range insts {
					saves = append(saves, pendingSave{inst: inst, cause: SavedByDeactivation})
				}
			}
		}
	}
	e.saveAll(e.base, saves)
	e.finishDeactivations(stops)

	e.upMu.Lock()
	e.armUpkeepLocked()
	e.upMu.Unlock()
}

// snapshotDue adds the instances of c to save for its snapshot.
func (c *cell) snapshotDue(saves []pendingSave) []pendingSave {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Cleared before the state is read: a change from now on schedules
	// the next snapshot.
	c.snapPending.Store(false)
	if c.stopping || c.e.closed.Load() {
		return saves
	}
	for _, inst := range c.all {
		saves = append(saves, pendingSave{inst: inst, cause: SavedBySnapshot})
	}
	return saves
}

// deactivationDue deactivates c if it has been idle for its deactivation
// timeout, and returns its instances to save; otherwise it schedules the
// next look. Unlike the real proxy's fixed-interval check, every message
// pushes deactivation back.
func (c *cell) deactivationDue(now time.Time) (insts []*instance, stop bool) {
	e := c.e
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping || e.closed.Load() {
		return nil, false
	}
	wait := c.def.idleAfter
	if c.idleLocked() {
		wait -= now.Sub(c.lastActive)
	}
	switch {
	case wait > 0: // busy, or used less than idleAfter ago
		e.addDuty(duty{at: now.Add(wait).UnixNano(), c: c, kind: dutyDeactivate})
		return nil, false
	case c.def.poolMin > 0: // a pool keeps poolMin instances and sheds the rest
		c.shrinkLocked(c.def.poolMin)
		e.addDuty(duty{at: now.Add(c.def.idleAfter).UnixNano(), c: c, kind: dutyDeactivate})
		return nil, false
	}
	c.stop()
	return c.all, true
}

// finishDeactivations forgets the cells of stops, whose state is saved,
// and lets the messages waiting for them activate the actors again.
func (e *Engine) finishDeactivations(stops []*cell) {
	if len(stops) == 0 {
		return
	}
	e.mu.Lock()
	for _, c := range stops {
		if e.cells[c.key] == c {
			delete(e.cells, c.key)
			e.deactivatedLocked(c.key, c.instance)
		}
	}
	e.shrinkMapsLocked()
	e.mu.Unlock()
	e.upMu.Lock()
	for _, c := range stops {
		// A snapshot still due is moot: the state has just been saved.
		for _, at := range c.dutyAt {
			if at > 0 {
				e.duties.remove(int(at) - 1)
			}
		}
	}
	e.upMu.Unlock()
	for _, c := range stops {
		close(c.stopped)
		e.log.Debug("actor deactivated", zap.Stringer("actor", c.key))
		c.deactivated(false)
	}
}

// pendingSave is one instance to save, and why.
type pendingSave struct {
	inst  *instance
	cause SaveCause
	rec   state.Record
	key   state.Key
}

// saveBatchSize bounds the records of one store write, so that a large
// round does not hold the store, or the actors it saves, for long.
const saveBatchSize = 1024

// saveAll saves the changed states among saves, in as few store writes as
// the store allows. An instance listed twice is saved once, for its first
// cause. Failures are logged per actor.
func (e *Engine) saveAll(ctx context.Context, saves []pendingSave) {
	if len(saves) == 0 {
		return
	}
	seen := make(map[*instance]struct{}, len(saves))
	batch := make([]pendingSave, 0, min(len(saves), saveBatchSize))
	for _, s := range saves {
		if _, dup := seen[s.inst]; dup {
			continue
		}
		seen[s.inst] = struct{}{}
		rec, ok, err := s.inst.beginSave()
		if err != nil {
			e.logSaveError(s.inst, s.cause, err)
		}
		if !ok {
			continue
		}
		s.rec, s.key = rec, s.inst.storeKey()
		batch = append(batch, s)
		if len(batch) == saveBatchSize {
			e.writeBatch(ctx, batch)
			batch = batch[:0]
		}
	}
	e.writeBatch(ctx, batch)
}

// writeBatch writes batch, whose instances' save locks are held, and
// releases them: in one store write when the store takes batches. When the
// batch fails as a whole, or the store takes no batches, each record is
// written alone, so that one bad record does not keep the others out.
func (e *Engine) writeBatch(ctx context.Context, batch []pendingSave) {
	if len(batch) == 0 {
		return
	}
	var batchErr error
	var took time.Duration
	batched := len(batch) > 1 && state.Batches(e.store)
	if batched {
		entries := make([]state.Entry, len(batch))
		for i, s := range batch {
			entries[i] = state.Entry{Key: s.key, Record: s.rec}
		}
		start := time.Now()
		batchErr = state.SaveAll(ctx, e.store, entries)
		took = time.Since(start)
	}
	for _, s := range batch {
		err, took := batchErr, took
		if !batched || batchErr != nil {
			start := time.Now()
			err = e.store.Save(ctx, s.key, s.rec)
			took = time.Since(start)
		}
		if err = s.inst.endSave(s.rec, s.cause, err, took); err != nil {
			e.logSaveError(s.inst, s.cause, err)
		}
	}
}

func (e *Engine) logSaveError(inst *instance, cause SaveCause, err error) {
	msg := "saving state at deactivation failed"
	if cause == SavedBySnapshot {
		msg = "snapshot failed"
	}
	e.log.Error(msg, zap.Stringer("actor", inst.c.key), zap.Error(err))
}

// shrinkMapsLocked replaces the maps of active actors and spawned
// instances by smaller ones once most of their entries are gone: a Go map
// never gives back the room its deleted entries took, so after a crowd of
// actors has deactivated, the engine would otherwise keep their space.
func (e *Engine) shrinkMapsLocked() {
	e.cells, e.cellsPeak = shrunk(e.cells, e.cellsPeak)
	e.instances, e.instancesPeak = shrunk(e.instances, e.instancesPeak)
}

// shrunk returns m, or a copy of it when it holds less than a quarter of
// peak, the most it held since it was made, and the new peak.
func shrunk[K comparable, V any](m map[K]V, peak int) (map[K]V, int) {
	n := len(m)
	if n > peak {
		return m, n
	}
	if peak < 256 || n >= peak/4 {
		return m, peak
	}
	c := make(map[K]V, n)
	for k, v := range m {
		c[k] = v
	}
	return c, n
}
