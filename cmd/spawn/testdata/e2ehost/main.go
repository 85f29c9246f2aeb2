// Command e2ehost is the host program of cmd/spawn's end-to-end test: it
// serves actors to a `spawn proxy` running in another process, through
// the public spawn API only.
//
// Everything the test cannot see through a reply (timer ticks, broadcasts,
// side effects, async and delayed calls) is reported as a line on stdout
// that starts with "EVENT ", printed before the action returns, so the line
// is written before the proxy gets the reply.
package main

import (
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/testpb"
)

// events serializes the EVENT lines: actions run concurrently, and a
// log.Logger writes each line with one call.
var events = log.New(os.Stdout, "EVENT ", 0)

func event(format string, args ...any) { events.Printf(format, args...) }

// Counter is a stateful named actor: activated at registration, state kept
// by the proxy across its restarts.
type Counter struct {
	spawn.Actor `spawn:"name=counter"`
	State       *testpb.CounterState `spawn:"state"`
}

func (c *Counter) Add(ctx *spawn.Context, in *testpb.Add) (*testpb.Total, error) {
	c.State.Value += in.Delta
	return &testpb.Total{Value: c.State.Value}, nil
}

// Fail changes the state, then fails: the change must not stick.
func (c *Counter) Fail(ctx *spawn.Context, in *testpb.Add) (*testpb.Total, error) {
	c.State.Value += 1000
	return nil, fmt.Errorf("refusing %d", in.Delta)
}

// Bump is the target of async, delayed and side-effect calls. It keeps
// what it got in the state's log, so the test can check the order and that
// it survived a restart.
func (c *Counter) Bump(ctx *spawn.Context, in *testpb.Text) error {
	c.State.Log = append(c.State.Log, in.GetText())
	event("bump text=%s caller=%s", in.GetText(), ctx.Caller().Name)
	return nil
}

// Publish broadcasts its input to the listeners of "news".
func (c *Counter) Publish(ctx *spawn.Context, in *testpb.Text) (spawn.Value, error) {
	return spawn.Reply(&testpb.Text{Text: "published"}).Broadcast("news", in), nil
}

// Listener subscribes to "news". It is stateful, so the proxy activates it
// at registration and it is subscribed before anybody publishes.
type Listener struct {
	spawn.Actor `spawn:"name=listener,channel=news:Hear"`
	State       *testpb.CounterState `spawn:"state"`
}

func (l *Listener) Hear(ctx *spawn.Context, in *testpb.Text) error {
	l.State.Value++
	event("heard text=%s caller=%s", in.GetText(), ctx.Caller().Name)
	return nil
}

// Clock has a timer action; it counts its ticks in its state, so that a
// tick after a restart shows both the timer and the state are back.
type Clock struct {
	spawn.Actor `spawn:"name=clock,timer=50ms"`
	State       *testpb.CounterState `spawn:"state"`
}

func (c *Clock) Tick(ctx *spawn.Context, _ spawn.Tick) error {
	c.State.Value++
	event("tick n=%d caller=%s", c.State.Value, ctx.Caller().Name)
	return nil
}

// Relay exercises the workflows, all aimed at the counter.
type Relay struct {
	spawn.Actor `spawn:"name=relay"`
}

// Forward hands its input to counter.Add.
func (r *Relay) Forward(ctx *spawn.Context, in *testpb.Add) (spawn.Value, error) {
	return spawn.NoReply().Forward("counter", "Add"), nil
}

// Pipe sends ten times its input to counter.Add.
func (r *Relay) Pipe(ctx *spawn.Context, in *testpb.Add) (spawn.Value, error) {
	return spawn.Reply(&testpb.Add{Delta: in.Delta * 10}).Pipe("counter", "Add"), nil
}

// Effect sends its input to counter.Bump as a side effect, delayed by the
// duration in the call's "delay" metadata, so the test owns the number.
func (r *Relay) Effect(ctx *spawn.Context, in *testpb.Text) (spawn.Value, error) {
	d, err := time.ParseDuration(ctx.Metadata()["delay"])
	if err != nil {
		return spawn.Value{}, fmt.Errorf("metadata delay: %w", err)
	}
	return spawn.Reply(&testpb.Text{Text: "sent"}).Effect("counter", "Bump", in, spawn.Delay(d)), nil
}

// Session is unnamed: its instances are spawned, explicitly or by
// invoking with a parent (register_ref).
type Session struct {
	spawn.Actor `spawn:"name=session,kind=unnamed"`
	State       *testpb.CounterState `spawn:"state"`
}

func (s *Session) Add(ctx *spawn.Context, in *testpb.Add) (*testpb.Total, error) {
	s.State.Value += in.Delta
	self := ctx.Self()
	s.State.Log = append(s.State.Log, self.Name+"/"+self.Parent)
	return &testpb.Total{Value: s.State.Value}, nil
}

func main() {
	// The proxy's address and the host's come from the environment
	// (PROXY_HTTP_*, USER_FUNCTION_*), as in production.
	if err := spawn.Run(&Counter{}, &Listener{}, &Clock{}, &Relay{}, &Session{}); err != nil {
		fmt.Fprintln(os.Stderr, "e2ehost:", strings.TrimSpace(err.Error()))
		os.Exit(1)
	}
}
