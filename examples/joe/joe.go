package main

import (
	"errors"
	"log"
	"slices"
	"strings"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
)

// Joe learns programming languages and remembers them. It has the parts
// of a typical actor: a name, durable state, a subscription to the channel
// "test" and a timer action, which fires every 10s so that a -serve
// session stays readable.
type Joe struct {
	spawn.Actor `spawn:"name=joe,stateful,channel=test:Hear,timer=10s"`
	State       *domain.JoeState `spawn:"state"`

	// Log is a dependency: copied from the value given to Start, so every
	// invocation writes through the same logger, which serializes the
	// writes of actions running on different goroutines.
	Log *log.Logger
}

// SetLanguage teaches Joe a language.
func (j *Joe) SetLanguage(ctx *spawn.Context, req *domain.Request) (*domain.Reply, error) {
	if req.Language == "" {
		return nil, errors.New("which language? the request names none")
	}
	if slices.Contains(j.State.Languages, req.Language) {
		return &domain.Reply{Response: "I already know " + req.Language}, nil
	}
	// The state field is saved after the action returns without an error.
	j.State.Languages = append(j.State.Languages, req.Language)
	return &domain.Reply{Response: "I learned " + req.Language}, nil
}

// Hi is a timer action: it runs every 10s while joe is served, and tells
// everyone on the channel "test" what Joe knows.
func (j *Joe) Hi(ctx *spawn.Context, _ spawn.Tick) (spawn.Value, error) {
	hello := &domain.Reply{Response: "hi, I know " + known(j.State)}
	return spawn.NoReply().Broadcast("test", hello), nil
}

// Hear receives what is broadcast on the channel "test", Joe's own hellos
// included.
func (j *Joe) Hear(ctx *spawn.Context, msg *domain.Reply) error {
	j.Log.Printf("[test] %s: %s", ctx.Caller().Name, msg.Response)
	return nil
}

func known(st *domain.JoeState) string {
	if len(st.Languages) == 0 {
		return "no language yet"
	}
	return strings.Join(st.Languages, ", ")
}
