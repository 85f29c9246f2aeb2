package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
)

// Greeter greets people and tells them how many greetings came before.
// It keeps no state: the count belongs to Visits, which it calls, so
// that the count is kept in one place however many hosts serve greeter.
type Greeter struct {
	spawn.Actor `spawn:"name=greeter"`
}

// Greet counts one more visit, then greets in.Name with the count.
func (g *Greeter) Greet(ctx *spawn.Context, in *domain.Hello) (*domain.Greeting, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return nil, errors.New("whom should I greet? the request names nobody")
	}
	// A call from one actor to another goes through the proxy, as any
	// call does; with ctx as the caller, visits sees greeter calling.
	count, err := spawn.Call(ctx, ctx, (*Visits).Add, &domain.Increment{By: 1})
	if err != nil {
		return nil, err
	}
	return &domain.Greeting{
		Text:    fmt.Sprintf("Hello, %s! You are visitor number %d.", name, count.Value),
		Visitor: count.Value,
	}, nil
}

// Visits counts the greetings. Its state is durable: the proxy saves it
// in its database (the embedded runtime, on local disk), so the count
// survives restarts of this program and of the proxy.
type Visits struct {
	spawn.Actor `spawn:"name=visits,stateful"`
	State       *domain.CounterState `spawn:"state"`
}

// Add adds in.By to the count and replies with the new count.
func (v *Visits) Add(ctx *spawn.Context, in *domain.Increment) (*domain.Count, error) {
	v.State.Value += in.By
	return &domain.Count{Value: v.State.Value}, nil
}
