package main

import (
	"fmt"
	"time"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
)

// auditDelay is how long after closing time the auditor comes.
const auditDelay = 100 * time.Millisecond

// Counter keeps a total. It is unnamed: instances such as "apples" and
// "pears" are spawned from it, on their first call, and each keeps a
// total of its own. stateful=false keeps the totals in memory, so every
// run of the example starts from zero.
type Counter struct {
	spawn.Actor `spawn:"name=counter,kind=unnamed,stateful=false"`
	State       *domain.CounterState `spawn:"state"`
}

// Add adds to the total and replies with the new total.
func (c *Counter) Add(ctx *spawn.Context, in *domain.Increment) (*domain.Count, error) {
	c.State.Value += in.By
	return &domain.Count{Value: c.State.Value}, nil
}

// Clerk sells fruit by handing the work to the counters, and listens on
// the channel "shop".
type Clerk struct {
	spawn.Actor `spawn:"name=clerk,channel=shop:Hear"`

	// Heard reports what the clerk heard on the channel to the program.
	Heard chan<- string
}

// Sell forwards its input, unchanged, to the counter "apples"; the caller
// gets the counter's reply.
func (c *Clerk) Sell(ctx *spawn.Context, in *domain.Increment) (spawn.Value, error) {
	return spawn.NoReply().Forward("counter", "Add", spawn.Instance("apples")), nil
}

// SellPairs pipes its own reply, twice the input, to the counter "pears";
// the caller gets the counter's reply.
func (c *Clerk) SellPairs(ctx *spawn.Context, in *domain.Increment) (spawn.Value, error) {
	return spawn.Reply(&domain.Increment{By: 2 * in.By}).Pipe("counter", "Add", spawn.Instance("pears")), nil
}

// Close replies at once and asks the auditor, as a side effect, to come
// auditDelay later.
func (c *Clerk) Close(ctx *spawn.Context) (spawn.Value, error) {
	return spawn.Reply(&domain.Note{Text: "closing"}).
		Effect("auditor", "Audit", &domain.Note{Text: "count the fruit"}, spawn.Delay(auditDelay)), nil
}

// Hear receives what is broadcast on the channel "shop".
func (c *Clerk) Hear(ctx *spawn.Context, in *domain.Note) error {
	return send(ctx, c.Heard, fmt.Sprintf("%s heard %q from %s", ctx.Self().Name, in.Text, ctx.Caller().Name))
}

// Auditor counts the fruit when asked to, and tells the shop.
type Auditor struct {
	spawn.Actor `spawn:"name=auditor"`

	// Audited reports each audit to the program.
	Audited chan<- string
}

// Audit reads both counters and broadcasts the result on the channel "shop".
func (a *Auditor) Audit(ctx *spawn.Context, in *domain.Note) (spawn.Value, error) {
	if err := send(ctx, a.Audited, fmt.Sprintf("%s.Audit ran for %s: %s", ctx.Self().Name, ctx.Caller().Name, in.Text)); err != nil {
		return spawn.Value{}, err
	}
	var apples, pears domain.CounterState
	// An action calls other actors through its Context, as itself.
	if err := ctx.Invoke("counter", "get", nil, &apples, spawn.Instance("apples")); err != nil {
		return spawn.Value{}, err
	}
	if err := ctx.Invoke("counter", "get", nil, &pears, spawn.Instance("pears")); err != nil {
		return spawn.Value{}, err
	}
	books := fmt.Sprintf("%d apples, %d pears", apples.Value, pears.Value)
	return spawn.NoReply().Broadcast("shop", &domain.Note{Text: books}), nil
}

// send hands msg to the program, unless the action is abandoned first.
func send(ctx *spawn.Context, ch chan<- string, msg string) error {
	select {
	case ch <- msg:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
