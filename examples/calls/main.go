// Calls shows the ways to invoke an actor: by name or checked by the
// compiler; synchronous, asynchronous, delayed or scheduled; with
// metadata; and from inside another actor's action.
//
// Usage:
//
//	go run ./examples/calls
//
// It runs on the embedded runtime (or with the Spawn proxy named by
// PROXY_HTTP_HOST/PROXY_HTTP_PORT), prints each call and stops, after
// about a second.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
)

// guide:start alarm
// Alarm rings, and says who asked.
type Alarm struct {
	spawn.Actor `spawn:"name=alarm"`
	State       *domain.CounterState `spawn:"state"`
	Rang        chan<- string
}

// Ring counts the ring, tells the program and replies.
func (a *Alarm) Ring(ctx *spawn.Context, in *domain.Note) (*domain.Note, error) {
	a.State.Value++
	caller := "the program"
	if !ctx.Caller().IsZero() {
		caller = ctx.Caller().Name
	}
	line := fmt.Sprintf("alarm.Ring %q, asked by %s", in.Text, caller)
	if room := ctx.Metadata()["room"]; room != "" {
		line += ", in the " + room
	}
	select {
	case a.Rang <- line:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &domain.Note{Text: "rang: " + in.Text}, nil
}

// guide:end alarm

// Rings replies with how many times the alarm rang.
func (a *Alarm) Rings(ctx *spawn.Context) (*domain.Count, error) {
	return &domain.Count{Value: a.State.Value}, nil
}

// guide:start butler
// snooze is how long the butler lets you sleep.
const snooze = 200 * time.Millisecond

// Butler calls the alarm from inside an action.
type Butler struct {
	spawn.Actor `spawn:"name=butler"`
}

// Wake rings the alarm now and waits for its reply, then asks for a
// second ring later, without waiting. Calls made through ctx come from the
// butler, and end when Wake's own call does.
func (b *Butler) Wake(ctx *spawn.Context, in *domain.Note) (spawn.Value, error) {
	var reply domain.Note
	if err := ctx.Invoke("alarm", "Ring", in, &reply); err != nil {
		return spawn.Value{}, err
	}
	if err := ctx.Invoke("alarm", "Ring", &domain.Note{Text: "snooze over"}, nil, spawn.Delay(snooze)); err != nil {
		return spawn.Value{}, err
	}
	return spawn.Reply(&domain.Note{Text: "the alarm " + reply.Text}), nil
}

// guide:end butler

func main() {
	// spawn logs at info level by default; the examples keep to warnings,
	// so that their own output reads clearly. SPAWN_LOG=info shows it all.
	if os.Getenv("SPAWN_LOG") == "" {
		os.Setenv("SPAWN_LOG", "warn")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "calls:", err)
		os.Exit(1)
	}
}

// run is the whole program, printing to out, so that a test can run it.
func run(ctx context.Context, out io.Writer) (err error) {
	rang := make(chan string, 8)
	// WithMemoryStore: this example keeps nothing once it stops.
	sys, err := spawn.Start(ctx, &Alarm{Rang: rang}, &Butler{}, spawn.WithMemoryStore())
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		err = errors.Join(err, sys.Stop(sctx))
	}()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	// heard prints what the alarm told the program, once it has rung.
	heard := func() error {
		select {
		case line := <-rang:
			fmt.Fprintln(out, "  "+line)
			return nil
		case <-ctx.Done():
			return fmt.Errorf("waiting for the alarm: %w", ctx.Err())
		}
	}

	// guide:start sync
	// By name: the actor, the action, the input, and where to decode the
	// reply. The call waits for the reply.
	var reply domain.Note
	if err := sys.Invoke(ctx, "alarm", "Ring", &domain.Note{Text: "by name"}, &reply); err != nil {
		return err
	}

	// Checked by the compiler: the method expression names the actor and
	// the action, and fixes the input's and the reply's types.
	typed, err := spawn.Call(ctx, sys, (*Alarm).Ring, &domain.Note{Text: "typed"})
	if err != nil {
		return err
	}
	// guide:end sync
	fmt.Fprintln(out, "sys.Invoke replied:", reply.Text)
	if err := heard(); err != nil {
		return err
	}
	fmt.Fprintln(out, "spawn.Call replied:", typed.Text)
	if err := heard(); err != nil {
		return err
	}

	// guide:start metadata
	_, err = spawn.Call(ctx, sys, (*Alarm).Ring, &domain.Note{Text: "with metadata"}, spawn.WithMetadata("room", "kitchen"))
	// guide:end metadata
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "spawn.WithMetadata(\"room\", \"kitchen\") went with the call:")
	if err := heard(); err != nil {
		return err
	}

	// guide:start async
	// Async returns once the call is accepted; the action runs later and
	// its reply is dropped, so there is nothing to decode.
	if err := sys.Invoke(ctx, "alarm", "Ring", &domain.Note{Text: "async"}, nil, spawn.Async()); err != nil {
		return err
	}
	// guide:end async
	fmt.Fprintln(out, "spawn.Async(): Invoke returned without waiting for the alarm")
	if err := heard(); err != nil {
		return err
	}

	// guide:start later
	// Delay and At store the call and return; it runs when it is due.
	if err := sys.Invoke(ctx, "alarm", "Ring", &domain.Note{Text: "delayed"}, nil, spawn.Delay(200*time.Millisecond)); err != nil {
		return err
	}
	if err := sys.Invoke(ctx, "alarm", "Ring", &domain.Note{Text: "scheduled"}, nil, spawn.At(time.Now().Add(400*time.Millisecond))); err != nil {
		return err
	}
	// guide:end later
	fmt.Fprintln(out, "spawn.Delay(200ms) and spawn.At(now + 400ms): both calls are stored, and ring in turn:")
	for range 2 {
		if err := heard(); err != nil {
			return err
		}
	}

	// guide:start inside
	// Wake returns a Value, so CallValue names its reply type.
	woke, err := spawn.CallValue[*domain.Note](ctx, sys, (*Butler).Wake, &domain.Note{Text: "get up"})
	if err != nil {
		return err
	}
	// guide:end inside
	fmt.Fprintln(out, "butler.Wake called the alarm from inside an action:")
	if err := heard(); err != nil {
		return err
	}
	fmt.Fprintln(out, "butler.Wake replied:", woke.Text)
	fmt.Fprintf(out, "and %v later:\n", snooze)
	if err := heard(); err != nil {
		return err
	}

	rings, err := spawn.CallNoInput(ctx, sys, (*Alarm).Rings)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "spawn.CallNoInput((*Alarm).Rings): the alarm rang %d times\n", rings.Value)
	return nil
}
