// Routing shows forward and pipe: an action that hands its input to
// another actor (forward), and a chain of actions where each one's reply
// is the next one's input (pipe). Either way, the caller gets the reply
// of the last actor.
//
// Usage:
//
//	go run ./examples/routing
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

// guide:start forward
// Desk answers no question itself: it forwards each one to the expert.
type Desk struct {
	spawn.Actor `spawn:"name=desk"`
}

// Ask forwards its input, unchanged, to expert.Answer. The caller gets the
// expert's answer; what Ask replies itself would be dropped.
func (d *Desk) Ask(ctx *spawn.Context, in *domain.Question) (spawn.Value, error) {
	return spawn.NoReply().Forward("expert", "Answer"), nil
}

// Expert answers questions.
type Expert struct {
	spawn.Actor `spawn:"name=expert"`
}

// Answer gets the question the desk was asked, with the desk as caller.
func (e *Expert) Answer(ctx *spawn.Context, in *domain.Question) (*domain.Answer, error) {
	return &domain.Answer{Text: fmt.Sprintf("the expert got %q from %s: yes", in.Text, ctx.Caller().Name)}, nil
}

// guide:end forward

// guide:start pipe
// Cashier adds up a basket and pipes the sum on to the tax office.
type Cashier struct {
	spawn.Actor `spawn:"name=cashier"`
	Events      chan<- string
}

// prices are in cents.
var prices = map[string]int64{"tea": 350, "cake": 450}

// Total replies with the basket's price, and pipes that reply to tax.Add:
// the tax office gets the Price as its input, and the caller gets what
// the last actor of the chain replies.
func (c *Cashier) Total(ctx *spawn.Context, in *domain.Basket) (spawn.Value, error) {
	var sum int64
	for _, item := range in.Items {
		p, ok := prices[item]
		if !ok {
			return spawn.Value{}, fmt.Errorf("no price for %q", item)
		}
		sum += p
	}
	if err := tell(ctx, c.Events, "cashier.Total: %d cents for %v, piped to tax.Add", sum, in.Items); err != nil {
		return spawn.Value{}, err
	}
	return spawn.Reply(&domain.Price{Cents: sum}).Pipe("tax", "Add"), nil
}

// Tax adds 10% and pipes the result on again, to the printer.
type Tax struct {
	spawn.Actor `spawn:"name=tax"`
	Events      chan<- string
}

// Add receives the cashier's reply, with the cashier as caller and the
// metadata of the original call.
func (t *Tax) Add(ctx *spawn.Context, in *domain.Price) (spawn.Value, error) {
	withTax := in.Cents + in.Cents/10
	if err := tell(ctx, t.Events, "tax.Add: got %d cents from %s (customer=%s), piped %d to printer.Format",
		in.Cents, ctx.Caller().Name, ctx.Metadata()["customer"], withTax); err != nil {
		return spawn.Value{}, err
	}
	return spawn.Reply(&domain.Price{Cents: withTax}).Pipe("printer", "Format"), nil
}

// Printer formats prices; its reply ends the chain.
type Printer struct {
	spawn.Actor `spawn:"name=printer"`
}

func (p *Printer) Format(ctx *spawn.Context, in *domain.Price) (*domain.Answer, error) {
	return &domain.Answer{Text: fmt.Sprintf("€%d.%02d, formatted for %s", in.Cents/100, in.Cents%100, ctx.Caller().Name)}, nil
}

// guide:end pipe

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
		fmt.Fprintln(os.Stderr, "routing:", err)
		os.Exit(1)
	}
}

// run is the whole program, printing to out, so that a test can run it.
func run(ctx context.Context, out io.Writer) (err error) {
	// The chain runs while the caller waits, one actor after the other,
	// so one channel, big enough for the whole chain, keeps the order.
	events := make(chan string, 8)
	actors := []any{&Desk{}, &Expert{}, &Cashier{Events: events}, &Tax{Events: events}, &Printer{}}
	sys, err := spawn.Start(ctx, append(actors, spawn.WithMemoryStore())...)
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

	// Ask returns a Value, so CallValue names the reply type: the
	// expert's Answer.
	answer, err := spawn.CallValue[*domain.Answer](ctx, sys, (*Desk).Ask, &domain.Question{Text: "is it open?"})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "desk.Ask forwarded; the caller got: %s\n", answer.Text)

	total, err := spawn.CallValue[*domain.Answer](ctx, sys, (*Cashier).Total,
		&domain.Basket{Items: []string{"tea", "cake"}}, spawn.WithMetadata("customer", "ann"))
	if err != nil {
		return err
	}
	for range 2 {
		fmt.Fprintln(out, <-events) // both are in: the chain ran before the call returned
	}
	fmt.Fprintf(out, "the caller of cashier.Total got the printer's reply: %s\n", total.Text)
	return nil
}
