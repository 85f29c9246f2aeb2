// Workflows shows what an action can make happen besides replying:
// spawning unnamed actors on first use, a call checked by the compiler,
// forward, pipe, a delayed side effect and a broadcast to a channel.
//
// Usage:
//
//	go run ./examples/workflows [-data dir] [-v]
//
// It runs on the embedded runtime (or the Spawn proxy named by
// PROXY_HTTP_HOST/PROXY_HTTP_PORT), prints each step and stops.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "workflows:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its output and arguments passed in so
// that a test can run it.
func run(ctx context.Context, out io.Writer, args []string) (err error) {
	fs := flag.NewFlagSet("workflows", flag.ContinueOnError)
	dataDir := fs.String("data", "", "where the embedded runtime keeps state (default $SPAWN_DATA_DIR, or ~/.local/state/spawn)")
	verbose := fs.Bool("v", false, "log what spawn does, to stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	logger := zap.NewNop()
	if *verbose {
		if logger, err = zap.NewDevelopment(); err != nil {
			return err
		}
	}

	// The actors report asynchronous events on these; buffered, so that
	// an actor never waits for the program to look.
	heard, audited := make(chan string, 1), make(chan string, 1)
	opts := []any{&Counter{}, &Clerk{Heard: heard}, &Auditor{Audited: audited}, spawn.WithLogger(logger)}
	if *dataDir != "" {
		opts = append(opts, spawn.WithDataDir(*dataDir))
	}
	sys, err := spawn.Start(ctx, opts...)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err = errors.Join(err, sys.Stop(sctx))
	}()
	// Nothing here takes long; a stuck step should fail, not hang.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	// Parent names the unnamed actor to spawn "apples" from, if it is not there yet.
	var count domain.Count
	if err := sys.Invoke(ctx, "counter", "Add", &domain.Increment{By: 1}, &count, spawn.Instance("apples")); err != nil {
		return err
	}
	fmt.Fprintf(out, "spawn:       apples, spawned from counter by its first call: apples = %d\n", count.Value)

	// Call names the action by method expression: the compiler checks
	// the input and the reply types.
	pears, err := spawn.Call(ctx, sys, (*Counter).Add, &domain.Increment{By: 1}, spawn.Instance("pears"))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "typed call:  spawn.Call((*Counter).Add) on the instance pears: pears = %d\n", pears.Value)

	if err := sys.Invoke(ctx, "clerk", "Sell", &domain.Increment{By: 2}, &count); err != nil {
		return err
	}
	fmt.Fprintf(out, "forward:     clerk.Sell forwarded by=2 to apples: apples = %d\n", count.Value)

	if err := sys.Invoke(ctx, "clerk", "SellPairs", &domain.Increment{By: 3}, &count); err != nil {
		return err
	}
	fmt.Fprintf(out, "pipe:        clerk.SellPairs turned by=3 into by=6 and piped it to pears: pears = %d\n", count.Value)

	var note domain.Note
	if err := sys.Invoke(ctx, "clerk", "Close", nil, &note); err != nil {
		return err
	}
	fmt.Fprintf(out, "side effect: clerk.Close replied %q and scheduled auditor.Audit in %v\n", note.Text, auditDelay)
	msg, err := receive(ctx, audited, "the audit")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "             %s\n", msg)

	msg, err = receive(ctx, heard, "the broadcast")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "broadcast:   %s on channel shop\n", msg)
	return nil
}

// receive waits for an event from the actors.
func receive(ctx context.Context, ch <-chan string, what string) (string, error) {
	select {
	case msg := <-ch:
		return msg, nil
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for %s: %w", what, ctx.Err())
	}
}
