// Errors shows what a caller gets when a call fails: the action's own
// error, a panic, a name that is not there, a call that is wrong, the
// caller's deadline and the proxy's time limit, each with its spawn.Code
// and whether to try again (Code.Retryable).
//
// Usage:
//
//	go run ./examples/errors
//
// It runs on the embedded runtime (or with the Spawn proxy named by
// PROXY_HTTP_HOST/PROXY_HTTP_PORT), prints each failure and stops. The
// panic is also logged, as every panic in an action is.
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
	"github.com/spawn-go/spawn/protocol"
)

// guide:start vault
// Vault keeps coins and refuses to give more than it has.
type Vault struct {
	spawn.Actor `spawn:"name=vault"`
	State       *domain.CounterState `spawn:"state"`
}

func (v *Vault) Deposit(ctx *spawn.Context, in *domain.Increment) (*domain.Count, error) {
	v.State.Value += in.By
	return &domain.Count{Value: v.State.Value}, nil
}

// Withdraw changes the state, then fails: an action that returns an error
// changes nothing, so the change is dropped.
func (v *Vault) Withdraw(ctx *spawn.Context, in *domain.Increment) (*domain.Count, error) {
	v.State.Value -= in.By
	if v.State.Value < 0 {
		return nil, fmt.Errorf("only %d coins; cannot give %d", v.State.Value+in.By, in.By)
	}
	return &domain.Count{Value: v.State.Value}, nil
}

// Jam panics. The caller gets an error, as if Jam had returned one.
func (v *Vault) Jam(ctx *spawn.Context) error {
	panic("the lock jammed")
}

// Wait waits until its call ends: ctx is a context.Context that ends when
// the caller gives up.
func (v *Vault) Wait(ctx *spawn.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// guide:end vault

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
		fmt.Fprintln(os.Stderr, "errors:", err)
		os.Exit(1)
	}
}

// run is the whole program, printing to out, so that a test can run it.
func run(ctx context.Context, out io.Writer) (err error) {
	// WithMemoryStore: this example keeps nothing once it stops.
	sys, err := spawn.Start(ctx, &Vault{}, spawn.WithMemoryStore())
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

	// guide:start retryable
	// report prints how the call named what failed, and whether it may be
	// made again; a call that did not fail is a mistake in this program.
	report := func(what string, err error) error {
		if err == nil {
			return fmt.Errorf("%s did not fail", what)
		}
		// Retryable: the call did not run, or ran and changed nothing, so
		// the same call may simply be sent again.
		code := spawn.CodeOf(err)
		retry := "no"
		if code.Retryable() {
			retry = "yes"
		}
		fmt.Fprintf(out, "%s: %v (retry: %s)\n", what, code, retry)
		return nil
	}
	// guide:end retryable

	coins, err := spawn.Call(ctx, sys, (*Vault).Deposit, &domain.Increment{By: 10})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "vault.Deposit(10): %d coins\n", coins.Value)

	// guide:start action
	_, err = spawn.Call(ctx, sys, (*Vault).Withdraw, &domain.Increment{By: 25})
	var serr *spawn.Error
	if errors.As(err, &serr) && serr.Code == spawn.CodeAction {
		fmt.Fprintf(out, "vault.Withdraw(25) failed in the action %s.%s: %s\n", serr.Actor, serr.Action, serr.Message)
	}
	// guide:end action
	if err := report("  its code", err); err != nil {
		return err
	}
	var st domain.CounterState
	if err := sys.State(ctx, "vault", &st); err != nil {
		return err
	}
	fmt.Fprintf(out, "  the failed action changed nothing: the vault holds %d coins\n", st.Value)

	if err := report("vault.Jam panicked", sys.Invoke(ctx, "vault", "Jam", nil, nil)); err != nil {
		return err
	}

	// guide:start notfound
	err = sys.Invoke(ctx, "vault", "Open", nil, nil)
	notFound := errors.Is(err, &spawn.Error{Code: spawn.CodeNotFound})
	// guide:end notfound
	if err := report("vault.Open, an action vault does not have", err); err != nil {
		return err
	}
	fmt.Fprintf(out, "  errors.Is(err, &spawn.Error{Code: spawn.CodeNotFound}): %v\n", notFound)
	if err := report("safe.Deposit, an actor nobody serves", sys.Invoke(ctx, "safe", "Deposit", &domain.Increment{By: 1}, nil)); err != nil {
		return err
	}

	// Deposit replies with a Count, not a Note: the reply cannot be
	// decoded. The action ran all the same.
	var note domain.Note
	if err := report("vault.Deposit with a reply of the wrong type", sys.Invoke(ctx, "vault", "Deposit", &domain.Increment{By: 1}, &note)); err != nil {
		return err
	}
	if err := sys.State(ctx, "vault", &st); err != nil {
		return err
	}
	fmt.Fprintf(out, "  but the deposit was made: the vault holds %d coins\n", st.Value)
	if err := report("spawn.Delay(-1s), a call that cannot be made", sys.Invoke(ctx, "vault", "Deposit", &domain.Increment{By: 1}, nil, spawn.Delay(-time.Second))); err != nil {
		return err
	}

	// guide:start deadline
	// A deadline on the context bounds the call, and the proxy's work for it.
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	err = sys.Invoke(wctx, "vault", "Wait", nil, nil)
	timedOut := spawn.CodeOf(err) == spawn.CodeCanceled && errors.Is(err, context.DeadlineExceeded)
	// guide:end deadline
	if err := report("vault.Wait with a 100ms deadline", err); err != nil {
		return err
	}
	fmt.Fprintf(out, "  errors.Is(err, context.DeadlineExceeded): %v\n", timedOut)

	// guide:start timeout
	// The proxy's own time limit, in milliseconds: when it passes before
	// the actor has applied the call, the call is dropped, unapplied.
	err = sys.Invoke(ctx, "vault", "Wait", nil, nil, spawn.WithMetadata(protocol.RequestTimeoutKey, "100"))
	// guide:end timeout
	if err := report("vault.Wait with a 100ms request-timeout", err); err != nil {
		return err
	}
	return nil
}
