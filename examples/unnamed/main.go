// Unnamed shows unnamed actors: one definition, Account, from which
// instances are spawned at run time, each under a name of its own and
// with a state of its own.
//
// Usage:
//
//	go run ./examples/unnamed
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

// guide:start account
// Account is an unnamed actor: a template. Nobody calls "account" itself;
// each customer's account is an instance spawned from it ("ann", "bob"),
// with a balance of its own.
type Account struct {
	spawn.Actor `spawn:"name=account,kind=unnamed"`
	State       *domain.AccountState `spawn:"state"`
}

// Deposit adds to this instance's balance. ctx.Self() names the instance;
// its Parent is "account".
func (a *Account) Deposit(ctx *spawn.Context, in *domain.Deposit) (*domain.Balance, error) {
	a.State.Balance += in.Amount
	return &domain.Balance{Owner: ctx.Self().Name, Amount: a.State.Balance}, nil
}

// guide:end account

// guide:start bank
// Bank opens accounts: it spawns instances from inside an action.
type Bank struct {
	spawn.Actor `spawn:"name=bank"`
}

// Open spawns the account of in.Owner, then makes its first deposit.
func (b *Bank) Open(ctx *spawn.Context, in *domain.OpenAccount) (*domain.Balance, error) {
	if err := ctx.Spawn("account", in.Owner); err != nil {
		return nil, err
	}
	// Once spawned, the instance is called by its own name.
	var balance domain.Balance
	if err := ctx.Invoke(in.Owner, "Deposit", &domain.Deposit{Amount: in.Amount}, &balance); err != nil {
		return nil, err
	}
	return &balance, nil
}

// guide:end bank

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
		fmt.Fprintln(os.Stderr, "unnamed:", err)
		os.Exit(1)
	}
}

// run is the whole program, printing to out, so that a test can run it.
func run(ctx context.Context, out io.Writer) (err error) {
	// WithMemoryStore: this example keeps nothing once it stops, so every
	// run starts with empty accounts.
	sys, err := spawn.Start(ctx, &Account{}, &Bank{}, spawn.WithMemoryStore())
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

	// guide:start spawn
	// Spawn creates the instance "ann" of the unnamed actor "account";
	// from then on, "ann" is an actor like any other.
	if err := sys.Spawn(ctx, "account", "ann"); err != nil {
		return err
	}
	var ann domain.Balance
	if err := sys.Invoke(ctx, "ann", "Deposit", &domain.Deposit{Amount: 50}, &ann); err != nil {
		return err
	}
	// guide:end spawn
	fmt.Fprintf(out, "sys.Spawn created ann from account; ann.Deposit(50): %s has %d\n", ann.Owner, ann.Amount)

	// guide:start instance
	// spawn.Instance addresses an instance through its unnamed actor, and
	// spawns it on first use: no Spawn call is needed.
	bob, err := spawn.Call(ctx, sys, (*Account).Deposit, &domain.Deposit{Amount: 20}, spawn.Instance("bob"))
	if err != nil {
		return err
	}
	// guide:end instance
	fmt.Fprintf(out, "spawn.Instance(\"bob\") spawned bob on first use; bob.Deposit(20): %s has %d\n", bob.Owner, bob.Amount)

	more, err := spawn.Call(ctx, sys, (*Account).Deposit, &domain.Deposit{Amount: 25}, spawn.Instance("ann"))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "each instance keeps its own balance; ann.Deposit(25): %s has %d\n", more.Owner, more.Amount)

	var carol domain.Balance
	if err := sys.Invoke(ctx, "bank", "Open", &domain.OpenAccount{Owner: "carol", Amount: 100}, &carol); err != nil {
		return err
	}
	fmt.Fprintf(out, "bank.Open spawned carol from inside an action: %s has %d\n", carol.Owner, carol.Amount)

	// guide:start state
	var st domain.AccountState
	if err := sys.State(ctx, "account", &st, spawn.Instance("bob")); err != nil {
		return err
	}
	// guide:end state
	fmt.Fprintf(out, "sys.State of bob: balance %d\n", st.Balance)
	return nil
}
