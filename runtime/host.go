package runtime

import (
	"context"

	"github.com/spawn-go/spawn/protocol"
)

// Host runs actor actions: it is the user's program as the engine sees it.
// In-process, the spawn package's dispatcher implements it with plain calls;
// for the standalone proxy, an HTTP client to the host's
// POST /api/v1/actors/actions does.
type Host interface {
	// Call runs one action. It returns an error only when the host could not
	// be reached or answered something that is not a valid response; an
	// action's own failure is a normal response.
	//
	// inv shares messages with the engine's state: Call must not modify
	// it. The engine keeps the returned response, and the state and tags in
	// it, as the actor's new state: Call must not modify them afterwards.
	// The engine calls Call for different actors concurrently, and for one
	// actor instance never more than one at a time.
	Call(ctx context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error)
}
