package runtime

import (
	"sync"
	"time"
)

// workers keeps the goroutines that served a mailbox around for a moment,
// so the next burst of messages reuses them, and the stacks they have
// already grown, instead of starting a fresh goroutine for every call.
type workers struct {
	// tasks hands an instance to an idle worker, which serves its cell's
	// mailbox. An instance rather than a func() keeps run free of
	// allocation.
	tasks  chan *instance
	quit   chan struct{}
	wg     sync.WaitGroup
	linger time.Duration
}

// workerLinger is how long an idle worker waits for more work. It is real
// time on purpose: it changes no semantics, only what a call costs.
const workerLinger = time.Second

func newWorkers() *workers {
	return &workers{tasks: make(chan *instance), quit: make(chan struct{}), linger: workerLinger}
}

// run serves inst's mailbox on an idle worker, or on a new one when none is
// waiting.
func (w *workers) run(inst *instance) {
	select {
	case w.tasks <- inst:
	default:
		w.wg.Add(1)
		go w.loop(inst)
	}
}

func (w *workers) loop(inst *instance) {
	defer w.wg.Done()
	// A ticker rather than a timer reset after every task, which would cost
	// more than the rest of the handoff. A worker leaves after a whole
	// period without work, so it lingers between one and two periods.
	tick := time.NewTicker(w.linger)
	defer tick.Stop()
	inst.c.work(inst)
	idle := false
	for {
		select {
		case inst := <-w.tasks:
			inst.c.work(inst)
			idle = false
		case <-tick.C:
			if idle {
				return
			}
			idle = true
		case <-w.quit:
			return
		}
	}
}

// stop tells the workers to end: idle ones at once, busy ones when their
// task is done. The caller makes sure no run is in progress or will follow.
func (w *workers) stop() { close(w.quit) }

// wait waits until every worker has ended.
func (w *workers) wait() { w.wg.Wait() }
