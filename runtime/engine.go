package runtime

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/state"
)

// Options configure an Engine.
type Options struct {
	// System is the name of the actor system served. Invocations for any
	// other system are refused. Empty means protocol.DefaultSystem.
	System string
	// Host runs the actors' actions. Required.
	Host Host
	// Store keeps snapshots and scheduled invocations. Required; the caller
	// decides between memory and disk, and closes it after the Engine.
	Store state.Store
	// Logger receives the engine's logs; nil logs nothing.
	Logger *zap.Logger
	// Clock drives timers, snapshots, deactivation and scheduled
	// invocations; nil means the real clock.
	Clock Clock

	// MaxMailbox bounds the invocations waiting in one actor's mailbox;
	// past it, invocations are refused as overloaded. 0 means
	// DefaultMaxMailbox; a negative value means no bound.
	MaxMailbox int
	// MaxAsyncBytes bounds the payload bytes of the async invocations
	// accepted and not yet handled, across all actors; past it, async
	// invocations are refused as overloaded. 0 means DefaultMaxAsyncBytes;
	// a negative value means no bound.
	MaxAsyncBytes int64
	// RegistrationGrace is how long after New an invocation of an actor
	// that is not registered waits for a registration to define it, rather
	// than fail: after a restart, hosts need a moment to register again.
	// An invocation that waits past the grace (or its own time limit)
	// fails with NotReady while no registration has arrived, with
	// ACTOR_NOT_FOUND after. 0 means no grace: the in-process runtime,
	// which registers before anything can call it, needs none.
	RegistrationGrace time.Duration

	// Observer receives the engine's events; its nil fields, and the zero
	// Observer, cost nothing measurable.
	Observer Observer
}

// Defaults of the Options bounds.
const (
	DefaultMaxMailbox    = 10_000
	DefaultMaxAsyncBytes = 256 << 20
)

// Engine is the embedded proxy. It is safe for concurrent use. Create one
// with New and release it with Close.
type Engine struct {
	system string
	host   Host
	store  state.Store
	log    *zap.Logger
	clock  Clock
	obs    Observer

	// base is the context of work nobody waits for (async calls,
	// activations, snapshots). Close cancels it only if in-flight work
	// outlives Close's own context.
	base   context.Context
	cancel context.CancelFunc

	// closed is set, under mu, when Close begins. Work starting from
	// nothing adds to wg, then checks it (see enter), so that Close either
	// waits for the work or the work does not start; code holding a
	// cell's lock, which must not take mu (mu is always taken first),
	// reads it without.
	closed atomic.Bool
	// wg counts in-flight work: API calls, queued messages, workers and
	// background goroutines.
	wg tracker
	// workers run the mailboxes' goroutines.
	workers *workers

	maxMailbox    int   // < 0: none
	maxAsyncBytes int64 // < 0: none
	asyncBytes    atomic.Int64
	// graceUntil ends the registration grace (real time); regChanged is
	// closed and replaced, under mu, at every change to the registry.
	graceUntil time.Time
	regChanged chan struct{}
	registered bool // a registration has arrived

	mu         sync.Mutex
	defs       map[actorKey]*definition // registered actors, templates included
	instances  map[actorKey]*spawned    // instances spawned from templates
	cells      map[actorKey]*cell
	topics     map[string][]subscriber
	subscribed map[actorKey][]subscription // each actor's entries in topics
	timers     map[actorKey][]*fixedTimer
	scheduled  map[string]*scheduledEntry
	tagsWiped  map[actorKey]struct{} // actors already warned about a tag wipe
	// cellsPeak and instancesPeak track the most entries those maps held
	// since they were made, to shrink them (see shrinkMapsLocked).
	cellsPeak, instancesPeak int
	// registryGen counts the changes to defs by Register and Spawn.
	registryGen uint64
	// sweepTimer, when armed, forgets inactive instances at sweepAt.
	sweepTimer Timer
	sweepAt    time.Time

	// The upkeep of active actors (upkeep.go): their snapshot and
	// deactivation duties, and the one timer armed for the earliest, at
	// upAt. upMu is taken after mu and after a cell's mu, never before.
	upMu    sync.Mutex
	duties  duties
	upTimer Timer
	upAt    int64
	// upRun is held by a round of upkeep, and by Close's final save.
	upRun sync.Mutex

	closeOnce sync.Once
	closeDone chan struct{}
	closeErr  error

	// hostRetryLogged is when (clock, unix ns) the last info line about
	// work kept for a host that did not take it was logged (schedule.go).
	hostRetryLogged atomic.Int64
}

// actorKey is the registry key: the real proxy keys actors by
// (id.name, id.system), never by parent.
type actorKey struct {
	name   string
	system string
}

func (k actorKey) String() string { return k.system + "/" + k.name }

// New returns an engine serving opts.System. It re-arms the scheduled
// invocations found in opts.Store, so that they survive a restart; those
// already due run as soon as their actor is registered.
func New(opts Options) (*Engine, error) {
	if opts.Host == nil {
		return nil, errors.New("runtime: Options.Host is required")
	}
	if opts.Store == nil {
		return nil, errors.New("runtime: Options.Store is required")
	}
	e := &Engine{
		system:     opts.System,
		host:       opts.Host,
		store:      opts.Store,
		log:        opts.Logger,
		clock:      opts.Clock,
		obs:        opts.Observer,
		defs:       make(map[actorKey]*definition),
		cells:      make(map[actorKey]*cell),
		instances:  make(map[actorKey]*spawned),
		topics:     make(map[string][]subscriber),
		subscribed: make(map[actorKey][]subscription),
		timers:     make(map[actorKey][]*fixedTimer),
		scheduled:  make(map[string]*scheduledEntry),
		tagsWiped:  make(map[actorKey]struct{}),
		closeDone:  make(chan struct{}),
		workers:    newWorkers(),
		regChanged: make(chan struct{}),

		maxMailbox:    opts.MaxMailbox,
		maxAsyncBytes: opts.MaxAsyncBytes,
	}
	if e.maxMailbox == 0 {
		e.maxMailbox = DefaultMaxMailbox
	}
	if e.maxAsyncBytes == 0 {
		e.maxAsyncBytes = DefaultMaxAsyncBytes
	}
	if opts.RegistrationGrace > 0 {
		e.graceUntil = time.Now().Add(opts.RegistrationGrace)
	}
	if e.system == "" {
		e.system = protocol.DefaultSystem
	}
	if e.log == nil {
		e.log = zap.NewNop()
	}
	if e.clock == nil {
		e.clock = realClock{}
	}
	e.base, e.cancel = context.WithCancel(context.Background())
	if err := e.restoreScheduled(); err != nil {
		e.cancel()
		return nil, err
	}
	return e, nil
}

// Close stops timers and scheduled invocations (those stay in the store for
// the next Engine), waits for in-flight work, then deactivates every actor,
// saving the state of stateful ones. Calls made after Close has begun fail.
//
// If ctx ends before in-flight work does, Close cancels that work, saves
// the actors that are idle, and returns an error; host calls that ignore
// cancellation may then outlive Close. Close is idempotent: later calls
// wait for the first and return its result.
func (e *Engine) Close(ctx context.Context) error {
	e.closeOnce.Do(func() {
		e.closeErr = e.close(ctx)
		close(e.closeDone)
	})
	<-e.closeDone
	return e.closeErr
}

func (e *Engine) close(ctx context.Context) error {
	e.mu.Lock()
	e.closed.Store(true)
	for _, ts := range e.timers {
		for _, t := range ts {
			t.timer.Stop()
		}
	}
	for _, s := range e.scheduled {
		if s.timer != nil {
			s.timer.Stop()
		}
	}
	if e.sweepTimer != nil {
		e.sweepTimer.Stop()
	}
	// Wakes the invocations waiting for a registration; they see closed.
	e.registryChangedLocked()
	cells := make([]*cell, 0, len(e.cells))
	for _, c := range e.cells {
		cells = append(cells, c)
	}
	e.mu.Unlock()
	e.stopUpkeep()

	var err error
	idle := make(chan struct{})
	go func() {
		e.wg.Wait()
		close(idle)
	}()
	select {
	case <-idle:
	case <-ctx.Done():
		e.cancel()
		err = fmt.Errorf("runtime: close: in-flight work still running: %w", ctx.Err())
	}

	// Saving is the point of closing cleanly, so it outlives ctx.
	saveCtx := context.WithoutCancel(ctx)
	e.mu.Lock()
	cells = cells[:0]
	for k, c := range e.cells {
		cells = append(cells, c)
		delete(e.cells, k)
	}
	e.mu.Unlock()
	// Every actor's state in as few store writes as the store allows.
	var saves []pendingSave
	shut := cells[:0]
	for _, c := range cells {
		insts, ok := c.shutdown()
		if !ok {
			continue
		}
		shut = append(shut, c)
		for _, inst := range insts {
			saves = append(saves, pendingSave{inst: inst, cause: SavedByDeactivation})
		}
	}
	e.upRun.Lock()
	e.saveAll(saveCtx, saves)
	e.upRun.Unlock()
	for _, c := range shut {
		c.closed()
	}
	e.cancel()
	e.workers.stop()
	if err == nil {
		// A worker still busy after Close gave up is in a host call that
		// ignores cancellation; it ends when that call returns.
		e.workers.wait()
	}
	return err
}

// enter counts the start of a unit of work, or reports false once Close has
// begun. It takes no lock: the count goes up before closed is read, and
// Close sets closed before it waits for the count, so either Close waits
// for this work or this work sees closed and takes its count back.
func (e *Engine) enter() bool {
	e.wg.Add(1)
	if e.closed.Load() {
		e.wg.Done()
		return false
	}
	return true
}

// goTracked runs f in a goroutine that Close waits for. It reports false,
// without running f, once Close has begun.
func (e *Engine) goTracked(f func()) bool {
	if !e.enter() {
		return false
	}
	go func() {
		defer e.wg.Done()
		f()
	}()
	return true
}

// Error is what Register, Spawn, Invoke and State return on failure.
type Error struct {
	// Status is ACTOR_NOT_FOUND for an unknown actor, parent or action,
	// ERROR otherwise.
	Status protocol.Status
	// Reason says more than Status about a failure a caller should treat
	// differently; the message starts with its prefix, so that it reaches
	// clients over HTTP, where only the status and the message travel.
	Reason Reason
	// Message says what went wrong, for the caller.
	Message string

	// hostDeclined: the host did not take the call (it could not be
	// reached, gave no answer, or refused it as overloaded), so nothing
	// was applied and the call may be tried again.
	hostDeclined bool
}

// Reason classifies an Error beyond its protocol status.
type Reason int

const (
	// Failed: the request failed before anything was applied.
	Failed Reason = iota
	// OutcomeUnknown: the call may or may not have been applied.
	OutcomeUnknown
	// NotApplied: the call's time limit passed before it was applied; it
	// was dropped.
	NotApplied
	// Overloaded: a limit was reached; the call was refused before it ran.
	Overloaded
	// NotReady: the actor is not registered yet.
	NotReady
	// Unavailable: the engine is closing; the call did not run.
	Unavailable
)

// prefix is the start of the message of an Error with reason r.
func (r Reason) prefix() string {
	switch r {
	case OutcomeUnknown:
		return protocol.OutcomeUnknownPrefix
	case NotApplied:
		return protocol.NotAppliedPrefix
	case Overloaded:
		return protocol.OverloadedPrefix
	case NotReady:
		return protocol.NotReadyPrefix
	case Unavailable:
		return protocol.UnavailablePrefix
	}
	return ""
}

// Error implements error. It is the message alone: the status travels
// separately, in ProtocolStatus.
func (e *Error) Error() string { return e.Message }

// ProtocolStatus returns e.Status. The proxy's HTTP layer uses it to choose
// the status it reports.
func (e *Error) ProtocolStatus() protocol.Status { return e.Status }

func errorf(format string, args ...any) *Error {
	return &Error{Status: protocol.Status_ERROR, Message: fmt.Sprintf(format, args...)}
}

func notFoundf(format string, args ...any) *Error {
	return &Error{Status: protocol.Status_ACTOR_NOT_FOUND, Message: fmt.Sprintf(format, args...)}
}

// reasonf is an ERROR of reason r, its message starting with r's prefix.
func reasonf(r Reason, format string, args ...any) *Error {
	return &Error{Status: protocol.Status_ERROR, Reason: r, Message: r.prefix() + fmt.Sprintf(format, args...)}
}

// prefixed returns err with prefix before its message, keeping its status
// and reason.
func prefixed(err error, prefix string) error {
	var e *Error
	if !errors.As(err, &e) {
		return errors.New(prefix + err.Error())
	}
	msg := e.Message
	if p := e.Reason.prefix(); p != "" {
		// The reason's prefix stays first, where clients look for it.
		return &Error{Status: e.Status, Reason: e.Reason, Message: p + prefix + strings.TrimPrefix(msg, p)}
	}
	return &Error{Status: e.Status, Reason: e.Reason, Message: prefix + msg}
}

// errClosed is returned by calls made once Close has begun.
var errClosed = reasonf(Unavailable, "the runtime is closed or closing; the call did not run")

// reasonOf returns the Reason of err, Failed when it has none.
func reasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return Failed
}

// hostDeclined reports whether err is a host call that the host did not
// take (see Error.hostDeclined).
func hostDeclined(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.hostDeclined
}

func isNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == protocol.Status_ACTOR_NOT_FOUND
}

func okStatus(msg string) *protocol.RequestStatus {
	return &protocol.RequestStatus{Status: protocol.Status_OK, Message: msg}
}

// ms converts a protocol duration, always milliseconds, to a time.Duration.
func ms[T int32 | int64](n T) time.Duration { return time.Duration(n) * time.Millisecond }
