// Package enginehook lets spawntest set up the embedded runtime of a
// spawn.System (its clock, its Observer) and reach the running engine,
// without widening the spawn package's options for everyone. The spawn
// package uses it itself to add the dashboard's Observer.
package enginehook

import (
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime"
)

// Hook adjusts an embedded runtime.
type Hook struct {
	// Configure changes the runtime's options before it starts. A clock
	// set here is also the clock of the System's delayed calls.
	Configure func(*runtime.Options)
	// Started receives the runtime once it has started, before the
	// actors are registered with it.
	Started func(*runtime.Engine)
}

// Option returns h as a spawn.Option, to pass to spawn.Start among the
// actors. The spawn package sets it when it is initialized.
var Option func(h Hook) any

// Target returns the id of the actor that a call on sys, a *spawn.System,
// to actor with opts, a []spawn.RouteOption, is about. The spawn package
// sets it when it is initialized.
var Target func(sys any, actor string, opts any) (*protocol.ActorId, error)
