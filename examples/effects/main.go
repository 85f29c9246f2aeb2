// Effects shows side effects: a shop answers an order at once, and the
// confirmation and the delivery (the latter delayed) happen afterwards,
// as calls to other actors that the caller does not wait for.
//
// Usage:
//
//	go run ./examples/effects
//
// It runs on the embedded runtime (or with the Spawn proxy named by
// PROXY_HTTP_HOST/PROXY_HTTP_PORT), prints each step and stops, after
// about a second.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
)

// guide:start shop
// deliveryDelay is how long after an order the courier comes.
const deliveryDelay = 300 * time.Millisecond

// Shop takes orders and numbers them.
type Shop struct {
	spawn.Actor `spawn:"name=shop"`
	State       *domain.CounterState `spawn:"state"`
}

// Place replies with a receipt, then, once its state is applied, has the
// mailer confirm the order at once and the courier deliver it later.
func (s *Shop) Place(ctx *spawn.Context, in *domain.Order) (spawn.Value, error) {
	if in.Item == "" {
		// A failed action changes nothing and emits no side effects.
		return spawn.Value{}, errors.New("an order needs an item")
	}
	s.State.Value++
	receipt := &domain.Receipt{Number: s.State.Value, Item: in.Item}
	return spawn.Reply(receipt).
		// Metadata goes with every side effect of this Value.
		Metadata("order", strconv.FormatInt(receipt.Number, 10)).
		Effect("mailer", "Confirm", receipt).
		Effect("courier", "Deliver", receipt, spawn.Delay(deliveryDelay)), nil
}

// guide:end shop

// guide:start mailer
// Mailer confirms orders.
type Mailer struct {
	spawn.Actor `spawn:"name=mailer"`
	Events      chan<- string
}

// Confirm runs as a side effect of Shop.Place: its caller is the shop,
// and the shop's metadata comes with it.
func (m *Mailer) Confirm(ctx *spawn.Context, in *domain.Receipt) error {
	return tell(ctx, m.Events, "mailer.Confirm: order %d (%s), asked by %s, metadata order=%s",
		in.Number, in.Item, ctx.Caller().Name, ctx.Metadata()["order"])
}

// guide:end mailer

// Courier delivers orders.
type Courier struct {
	spawn.Actor `spawn:"name=courier"`
	Events      chan<- string
}

// Deliver runs deliveryDelay after the order.
func (c *Courier) Deliver(ctx *spawn.Context, in *domain.Receipt) error {
	return tell(ctx, c.Events, "courier.Deliver: order %d (%s), asked by %s", in.Number, in.Item, ctx.Caller().Name)
}

// tell hands a line to the program, unless the action's call ends first.
func tell(ctx *spawn.Context, events chan<- string, format string, args ...any) error {
	select {
	case events <- fmt.Sprintf(format, args...):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

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
		fmt.Fprintln(os.Stderr, "effects:", err)
		os.Exit(1)
	}
}

// run is the whole program, printing to out, so that a test can run it.
func run(ctx context.Context, out io.Writer) (err error) {
	mails, deliveries := make(chan string, 8), make(chan string, 8)
	// WithMemoryStore: this example keeps nothing once it stops, so order
	// numbers start at 1 on every run.
	sys, err := spawn.Start(ctx, &Shop{}, &Mailer{Events: mails}, &Courier{Events: deliveries}, spawn.WithMemoryStore())
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

	for _, item := range []string{"teapot", "", "kettle"} {
		ordered := time.Now()
		receipt, err := spawn.CallValue[*domain.Receipt](ctx, sys, (*Shop).Place, &domain.Order{Item: item})
		if err != nil {
			// The caller gets the action's error; the order count and the
			// mailer's next line show that nothing else happened.
			fmt.Fprintf(out, "shop.Place(%q) failed (%v): %v; no side effect follows\n", item, spawn.CodeOf(err), err)
			continue
		}
		fmt.Fprintf(out, "shop.Place(%q) replied: order %d, without waiting for its side effects\n", item, receipt.Number)
		line, err := next(ctx, mails)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "  "+line)
		line, err = next(ctx, deliveries)
		if err != nil {
			return err
		}
		// The protocol schedules in whole milliseconds, so a delayed call
		// may run up to a millisecond before its delay is over.
		if waited := time.Since(ordered); waited < deliveryDelay-time.Millisecond {
			return fmt.Errorf("the delivery came %v after the order, before its delay of %v", waited, deliveryDelay)
		}
		fmt.Fprintf(out, "  %s, %v after the order\n", line, deliveryDelay)
	}
	return nil
}

// next waits for the next line from the actors.
func next(ctx context.Context, events <-chan string) (string, error) {
	select {
	case line := <-events:
		return line, nil
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for a side effect: %w", ctx.Err())
	}
}
