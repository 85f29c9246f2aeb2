package main

import (
	"errors"
	"slices"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
)

// guide:start actor
// Joe learns programming languages and remembers them.
type Joe struct {
	// Embedding spawn.Actor makes Joe an actor; the tag holds its settings.
	spawn.Actor `spawn:"name=joe"`
	// State is what Joe remembers: a protobuf message, which the runtime
	// fills before each action and saves after it.
	State *domain.JoeState `spawn:"state"`
}

// SetLanguage is an action: it takes a message and replies with one.
func (j *Joe) SetLanguage(ctx *spawn.Context, req *domain.Request) (*domain.Reply, error) {
	if req.Language == "" {
		// The caller gets this error; Joe's state stays as it was.
		return nil, errors.New("which language? the request names none")
	}
	if slices.Contains(j.State.Languages, req.Language) {
		return &domain.Reply{Response: "I already know " + req.Language}, nil
	}
	j.State.Languages = append(j.State.Languages, req.Language)
	return &domain.Reply{Response: "I learned " + req.Language}, nil
}

// guide:end actor
