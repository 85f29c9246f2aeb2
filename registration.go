package spawn

import (
	"github.com/spawn-go/spawn/internal/registry"
	"github.com/spawn-go/spawn/protocol"
)

// Registration returns the RegistrationRequest that Start would send to
// the proxy for actors in the actor system named system (DefaultSystem
// when empty), for golden tests and tooling. It validates the actors as
// Start does and fails with the same *ValidationError; it starts nothing.
func Registration(system string, actors ...any) (*protocol.RegistrationRequest, error) {
	if system == "" {
		system = DefaultSystem
	}
	defs, err := registry.Compile(markers, actors)
	if err != nil {
		return nil, validationError(err)
	}
	return registry.Registration(system, serviceInfo(), defs), nil
}
