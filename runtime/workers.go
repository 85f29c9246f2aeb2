package runtime

import (
	"sync"
	"time"
)

// workers keeps the goroutines that served a mailbox around for a moment,
// so the next burst of messages reuses them, and the stacks they have
// already grown, instead of starting a fresh goroutine for every call.
type workers struct {
	tasks  chan func()
	quit   chan struct{}
	wg     sync.WaitGroup
	linger time.Duration
}

// workerLinger is how long an idle worker waits for more work. It is real
// time on purpose: it changes no semantics, only what a call costs.
const workerLinger = time.Second

func newWorkers() *workers {
	return &workers{tasks: make(chan func()), quit: make(chan struct{}), linger: workerLinger}
}

// run runs f on an idle worker, or on a new one when none is waiting.
func (w *workers) run(f func()) {
	select {
	case w.tasks <- f:
	default:
		w.wg.Add(1)
		go w.loop(f)
	}
}

func (w *workers) loop(f func()) {
	defer w.wg.Done()
	t := time.NewTimer(w.linger)
	defer t.Stop()
	for {
		f()
		t.Reset(w.linger)
		select {
		case f = <-w.tasks:
		case <-t.C:
			return
		case <-w.quit:
			return
		}
	}
}

// stop ends the idle workers and waits for them. The caller makes sure no
// run is in progress or will follow.
func (w *workers) stop() {
	close(w.quit)
	w.wg.Wait()
}
