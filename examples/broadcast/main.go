// Broadcast shows channels: a station publishes on the channels "news"
// and "weather", and two listeners hear what they subscribed to, each in
// the action its channel names.
//
// Usage:
//
//	go run ./examples/broadcast
//
// It runs on the embedded runtime (or with the Spawn proxy named by
// PROXY_HTTP_HOST/PROXY_HTTP_PORT), prints each step and stops.
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

// guide:start station
// Station publishes bulletins. It subscribes to nothing: publishing needs
// no subscription.
type Station struct {
	spawn.Actor `spawn:"name=station"`
}

// Publish broadcasts the bulletin's text on the bulletin's channel. Every
// actor subscribed to that channel receives it, after Publish has
// returned and without the caller waiting for them.
func (s *Station) Publish(ctx *spawn.Context, in *domain.Bulletin) (spawn.Value, error) {
	return spawn.Reply(&domain.Note{Text: "published on " + in.Channel}).
		Broadcast(in.Channel, &domain.Note{Text: in.Text}), nil
}

// guide:end station

// guide:start listeners
// Alice listens on "news". A channel that names no action delivers to the
// method Receive.
type Alice struct {
	spawn.Actor `spawn:"name=alice,channel=news"`
	Heard       chan<- string
}

// Receive takes what is broadcast on "news". The caller is the publisher.
func (a *Alice) Receive(ctx *spawn.Context, in *domain.Note) error {
	return tell(ctx, a.Heard, "alice.Receive: %q from %s", in.Text, ctx.Caller().Name)
}

// Bob listens on two channels, each in an action of its own.
type Bob struct {
	spawn.Actor `spawn:"name=bob,channel=news:OnNews,channel=weather:OnWeather"`
	Heard       chan<- string
}

func (b *Bob) OnNews(ctx *spawn.Context, in *domain.Note) error {
	return tell(ctx, b.Heard, "bob.OnNews: %q from %s", in.Text, ctx.Caller().Name)
}

func (b *Bob) OnWeather(ctx *spawn.Context, in *domain.Note) error {
	return tell(ctx, b.Heard, "bob.OnWeather: %q from %s", in.Text, ctx.Caller().Name)
}

// guide:end listeners

// guide:start tunein
// TuneIn does nothing but answer: calling it activates alice, and an
// actor hears its channels from its activation on.
func (a *Alice) TuneIn(ctx *spawn.Context) (*domain.Note, error) {
	return &domain.Note{Text: "alice is listening"}, nil
}

// guide:end tunein

func (b *Bob) TuneIn(ctx *spawn.Context) (*domain.Note, error) {
	return &domain.Note{Text: "bob is listening"}, nil
}

// guide:start tell
// tell hands a line to the program, unless the action's call ends first.
func tell(ctx *spawn.Context, heard chan<- string, format string, args ...any) error {
	select {
	case heard <- fmt.Sprintf(format, args...):
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
		fmt.Fprintln(os.Stderr, "broadcast:", err)
		os.Exit(1)
	}
}

// run is the whole program, printing to out, so that a test can run it.
func run(ctx context.Context, out io.Writer) (err error) {
	// One channel per listener: each hears in order, but the two hear at
	// the same time, so the program reads them one after the other.
	alice, bob := make(chan string, 8), make(chan string, 8)
	sys, err := spawn.Start(ctx, &Station{}, &Alice{Heard: alice}, &Bob{Heard: bob}, spawn.WithMemoryStore())
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

	publish := func(channel, text string) error {
		reply, err := spawn.CallValue[*domain.Note](ctx, sys, (*Station).Publish, &domain.Bulletin{Channel: channel, Text: text})
		if err == nil {
			fmt.Fprintf(out, "station.Publish %q: %s\n", text, reply.Text)
		}
		return err
	}

	// Alice and Bob have no state, so they are activated at their first
	// call, not when they are registered: this bulletin reaches nobody.
	if err := publish("news", "markets open"); err != nil {
		return err
	}
	fmt.Fprintln(out, "  (nobody was listening yet: alice and bob are not active)")
	a, err := spawn.CallNoInput(ctx, sys, (*Alice).TuneIn)
	if err != nil {
		return err
	}
	b, err := spawn.CallNoInput(ctx, sys, (*Bob).TuneIn)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "tuned in: %s; %s\n", a.Text, b.Text)
	if err := publish("news", "spawn-go speaks Go"); err != nil {
		return err
	}
	if err := publish("weather", "sunny"); err != nil {
		return err
	}
	// Alice's first line is the second bulletin: she never heard "markets
	// open". Had she heard it, this output would differ.
	for _, heard := range []<-chan string{alice, bob, bob} {
		select {
		case line := <-heard:
			fmt.Fprintln(out, line)
		case <-ctx.Done():
			return fmt.Errorf("waiting for the listeners: %w", ctx.Err())
		}
	}
	return nil
}
