package runtime

import "time"

// Clock is the engine's source of time: timer actions, scheduled
// invocations, snapshots and deactivation all go through it, so that tests
// can drive them with a fake such as clocktest.Clock.
//
// Context deadlines (the request-timeout metadata) use real time: they bound
// a host call, which runs in real time whatever the clock says.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has elapsed, like
	// time.AfterFunc. The engine never blocks f on the caller of AfterFunc.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending call armed by Clock.AfterFunc; *time.Timer is one.
//
// It is an alias of an unnamed interface, so a fake clock can satisfy Clock
// without importing this package (which would stop this package's own tests
// from importing the fake).
type Timer = interface {
	// Stop prevents the call from running. It reports false if the call
	// has already run or been stopped.
	Stop() bool
}

// realClock is the Clock used when Options.Clock is nil.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
