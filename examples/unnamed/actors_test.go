package main

import (
	"context"
	"testing"
	"time"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
	"github.com/spawn-go/spawn/spawntest"
)

// The tests below run the bank and its accounts with the test kit: on the
// real embedded engine, with their state in memory and a clock that moves
// only when the test says.

func balance(t *testing.T, k *spawntest.Kit, owner string) int64 {
	t.Helper()
	var st domain.AccountState
	if err := k.State(context.Background(), "account", &st, spawn.Instance(owner)); err != nil {
		t.Fatal(err)
	}
	return st.Balance
}

func TestEachAccountKeepsABalanceOfItsOwn(t *testing.T) {
	k := spawntest.NewKit(t, &Account{}, &Bank{})
	ctx := context.Background()
	// Nobody calls the unnamed actor itself: it is not active.
	if k.Active("account") {
		t.Error("the unnamed actor account is active")
	}
	for _, d := range []struct {
		owner  string
		amount int64
		want   int64
	}{
		{"ann", 50, 50},
		{"bob", 20, 20},
		{"ann", 25, 75},
	} {
		// The option Instance spawns the instance at its first call.
		got, err := spawn.Call(ctx, k, (*Account).Deposit, &domain.Deposit{Amount: d.amount}, spawn.Instance(d.owner))
		if err != nil || got.Owner != d.owner || got.Amount != d.want {
			t.Errorf("%s.Deposit(%d) = %v, %v; want %s has %d", d.owner, d.amount, got, err, d.owner, d.want)
		}
	}
	for owner, want := range map[string]int64{"ann": 75, "bob": 20} {
		if got := balance(t, k, owner); got != want {
			t.Errorf("the state of %s holds %d, want %d", owner, got, want)
		}
	}
	// Each call was handled by an instance spawned from account.
	for _, c := range k.Calls() {
		if c.Actor.Parent != "account" {
			t.Errorf("%s.%s was not handled by an instance of account: %+v", c.Actor.Name, c.Action, c)
		}
	}
}

func TestBankOpensAnAccountFromInsideAnAction(t *testing.T) {
	k := spawntest.NewKit(t, &Account{}, &Bank{})
	var carol domain.Balance
	if err := k.Invoke(context.Background(), "bank", "Open", &domain.OpenAccount{Owner: "carol", Amount: 100}, &carol); err != nil {
		t.Fatal(err)
	}
	if carol.Owner != "carol" || carol.Amount != 100 {
		t.Errorf("bank.Open replied %v, want carol has 100", &carol)
	}
	// Open spawned carol, then called her by her own name, as the bank.
	deposits := k.CallsTo("carol", "Deposit")
	if len(deposits) != 1 || deposits[0].Caller.Name != "bank" || deposits[0].Origin != "call" || deposits[0].Actor.Parent != "account" {
		t.Errorf("carol's deposits = %+v, want one call from the bank", deposits)
	}
	if !k.Active("carol") {
		t.Error("carol is not active after her first deposit")
	}
}

func TestAnAccountCanBePreset(t *testing.T) {
	k := spawntest.NewKit(t, &Account{}, &Bank{})
	// SetState spawns dave, as if his balance had been stored.
	k.SetState("account", &domain.AccountState{Balance: 500}, spawn.Instance("dave"))
	got, err := spawn.Call(context.Background(), k, (*Account).Deposit, &domain.Deposit{Amount: 1}, spawn.Instance("dave"))
	if err != nil || got.Amount != 501 {
		t.Errorf("dave.Deposit(1) after a preset of 500 = %v, %v; want 501", got, err)
	}
}

func TestAnIdleAccountIsForgottenByNameButKeepsItsBalance(t *testing.T) {
	k := spawntest.NewKit(t, &Account{}, &Bank{})
	ctx := context.Background()
	if err := k.Spawn(ctx, "account", "ann"); err != nil {
		t.Fatal(err)
	}
	if err := k.Invoke(ctx, "ann", "Deposit", &domain.Deposit{Amount: 50}, nil); err != nil {
		t.Fatal(err)
	}
	// ann's idle time starts when she has finished with the call, a moment
	// after its reply. Advance does not wait for that before it moves the
	// clock: Settle does, so that it starts now.
	k.Settle()

	// Idle for 30 seconds (the default), ann is deactivated; the embedded
	// runtime then forgets the instance, and keeps its state.
	k.Advance(30 * time.Second)
	if k.Active("ann") {
		t.Fatal("ann is still active after 30 idle seconds")
	}
	err := k.Invoke(ctx, "ann", "Deposit", &domain.Deposit{Amount: 1}, nil)
	if spawn.CodeOf(err) != spawn.CodeNotFound {
		t.Errorf("calling the forgotten ann by name: %v, want not found", err)
	}
	// Through its unnamed actor, ann is spawned again, with her balance.
	got, err := spawn.Call(ctx, k, (*Account).Deposit, &domain.Deposit{Amount: 25}, spawn.Instance("ann"))
	if err != nil || got.Amount != 75 {
		t.Errorf("ann.Deposit(25) through spawn.Instance = %v, %v; want 75", got, err)
	}
}
