// Timers shows timer actions and the activation hook: a kettle that heats
// up on a timer once it is switched on, and whistles, on a second timer
// with a period of its own, once it boils.
//
// Usage:
//
//	go run ./examples/timers
//
// It runs on the embedded runtime (or with the Spawn proxy named by
// PROXY_HTTP_HOST/PROXY_HTTP_PORT), prints what the kettle does and stops
// once it whistles, after about half a second.
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

// guide:start kettle
// Kettle heats water on a timer. stateful=false keeps its state in memory,
// so every run starts with cold water, and makes the kettle activate at
// its first call rather than when it is registered: its timers start then.
type Kettle struct {
	spawn.Actor `spawn:"name=kettle,stateful=false,timer=100ms"`
	State       *domain.KettleState `spawn:"state"`

	// Whistle's period is its own: a blank spawn.Action field sets it.
	_ spawn.Action `spawn:"method=Whistle,timer=250ms"`

	// Events tells the program what the kettle does.
	Events chan<- string
}

// Init is the activation hook: the runtime calls it, with no input, each
// time the kettle is activated, before any other action.
func (k *Kettle) Init(ctx *spawn.Context) error {
	k.State.Celsius = 20
	return tell(ctx, k.Events, "kettle.Init: filled with water at 20°C")
}

// SwitchOn is an ordinary action; calling it activates the kettle.
func (k *Kettle) SwitchOn(ctx *spawn.Context) (*domain.Note, error) {
	return &domain.Note{Text: fmt.Sprintf("switched on at %d°C", k.State.Celsius)}, nil
}

// Heat is a timer action: it takes a spawn.Tick, and runs every 100ms (the
// timer= of the Actor tag) from the kettle's activation on.
func (k *Kettle) Heat(ctx *spawn.Context, _ spawn.Tick) error {
	if k.State.Celsius >= 100 {
		return nil // boiling already
	}
	k.State.Celsius += 20
	if k.State.Celsius >= 100 {
		return tell(ctx, k.Events, "kettle.Heat: %d°C, boiling", k.State.Celsius)
	}
	return tell(ctx, k.Events, "kettle.Heat: %d°C", k.State.Celsius)
}

// Whistle is a second timer action, every 250ms. Timer actions of one
// actor run one at a time, like all its actions, so Whistle sees the
// temperature that Heat left.
func (k *Kettle) Whistle(ctx *spawn.Context, _ spawn.Tick) error {
	if k.State.Celsius < 100 || k.State.Whistled {
		return nil
	}
	k.State.Whistled = true
	return tell(ctx, k.Events, "kettle.Whistle: whistling")
}

// guide:end kettle

// guide:start tell
// tell hands a line to the program, unless the action's call ends first.
func tell(ctx *spawn.Context, events chan<- string, format string, args ...any) error {
	select {
	case events <- fmt.Sprintf(format, args...):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// guide:end tell

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
		fmt.Fprintln(os.Stderr, "timers:", err)
		os.Exit(1)
	}
}

// run is the whole program, printing to out, so that a test can run it.
func run(ctx context.Context, out io.Writer) (err error) {
	events := make(chan string, 16)
	// WithMemoryStore: this example keeps nothing once it stops.
	sys, err := spawn.Start(ctx, &Kettle{Events: events}, spawn.WithMemoryStore())
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		err = errors.Join(err, sys.Stop(sctx))
	}()
	// Nothing here takes long: a stuck step should fail, not hang.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	fmt.Fprintln(out, "calling kettle.SwitchOn, which activates the kettle:")
	reply, err := spawn.CallNoInput(ctx, sys, (*Kettle).SwitchOn)
	if err != nil {
		return err
	}
	// Init ran before SwitchOn, so its line is already waiting.
	if err := relay(ctx, out, events); err != nil {
		return err
	}
	fmt.Fprintln(out, "kettle.SwitchOn:", reply.Text)
	fmt.Fprintln(out, "now the timers run:")
	for {
		line, err := next(ctx, events)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, line)
		if line == "kettle.Whistle: whistling" {
			return nil
		}
	}
}

// relay prints the next line from events.
func relay(ctx context.Context, out io.Writer, events <-chan string) error {
	line, err := next(ctx, events)
	if err == nil {
		fmt.Fprintln(out, line)
	}
	return err
}

// next waits for the next line from the actors.
func next(ctx context.Context, events <-chan string) (string, error) {
	select {
	case line := <-events:
		return line, nil
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for the kettle: %w", ctx.Err())
	}
}
