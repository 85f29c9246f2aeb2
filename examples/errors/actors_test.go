package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
	"github.com/spawn-go/spawn/spawntest"
)

// The tests below run the vault with the test kit, on the real embedded
// engine: each failure, what the caller gets, and what it did to the
// vault's state and tags. The kit records every call the vault handled or
// refused, failures included, with the reason.
//
// Vault.Wait is left to the program's test (TestFailures): it ends when
// its caller's deadline or the request-timeout passes, and both run on
// real time, not on the kit's clock.

func coins(t *testing.T, k *spawntest.Kit) int64 {
	t.Helper()
	var st domain.CounterState
	if err := k.State(context.Background(), "vault", &st); err != nil {
		t.Fatal(err)
	}
	return st.Value
}

func TestAFailedCallChangesNothing(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		call func(k *spawntest.Kit) error
		code spawn.Code
		err  string // in the caller's error and, when the call reached the vault, in the one the kit recorded
		sent bool   // whether the call reached the engine, which records it
	}{
		{"the action returns an error", func(k *spawntest.Kit) error {
			_, err := spawn.Call(ctx, k, (*Vault).Withdraw, &domain.Increment{By: 25})
			return err
		}, spawn.CodeAction, "only 10 coins; cannot give 25", true},
		{"the action panics", func(k *spawntest.Kit) error {
			return k.Invoke(ctx, "vault", "Jam", nil, nil)
		}, spawn.CodeAction, "panic in vault.Jam: the lock jammed", true},
		{"an action the actor does not have", func(k *spawntest.Kit) error {
			return k.Invoke(ctx, "vault", "Open", nil, nil)
		}, spawn.CodeNotFound, `action "Open" not found`, true},
		{"an actor nobody serves", func(k *spawntest.Kit) error {
			return k.Invoke(ctx, "safe", "Deposit", &domain.Increment{By: 1}, nil)
		}, spawn.CodeNotFound, `actor "safe" not found`, true},
		{"a delay that cannot be", func(k *spawntest.Kit) error {
			return k.Invoke(ctx, "vault", "Deposit", &domain.Increment{By: 1}, nil, spawn.Delay(-time.Second))
		}, spawn.CodeInvalid, "Delay(-1s) must be positive", false},
		{"a context that has ended", func(k *spawntest.Kit) error {
			ended, cancel := context.WithCancel(ctx)
			cancel()
			return k.Invoke(ended, "vault", "Deposit", &domain.Increment{By: 1}, nil)
		}, spawn.CodeCanceled, "the call was not sent", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			k := spawntest.NewKit(t, &Vault{})
			k.SetState("vault", &domain.CounterState{Value: 10})
			k.SetTags("vault", map[string]string{"branch": "north"})
			k.Clear()

			err := c.call(k)
			if spawn.CodeOf(err) != c.code || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("the call failed with %v (%v), want %v saying %q", err, spawn.CodeOf(err), c.code, c.err)
			}
			if c.code.Retryable() {
				t.Errorf("%v is retryable, yet the same call would fail again", c.code)
			}
			calls := k.Calls()
			switch {
			case !c.sent && len(calls) != 0:
				t.Errorf("a call that was not sent was recorded: %+v", calls)
			case c.sent && (len(calls) != 1 || calls[0].Err == nil || !strings.Contains(calls[0].Err.Error(), c.err)):
				t.Errorf("the kit recorded %+v, want the failed call, saying %q", calls, c.err)
			}
			if n := coins(t, k); n != 10 {
				t.Errorf("the vault holds %d coins after the failure, want 10", n)
			}
			if tags := k.Tags("vault"); len(tags) != 1 || tags["branch"] != "north" {
				t.Errorf("the vault's tags after the failure: %v", tags)
			}
		})
	}
}

func TestAReplyOfTheWrongTypeFailsButTheDepositIsMade(t *testing.T) {
	k := spawntest.NewKit(t, &Vault{})
	var note domain.Note // Deposit replies with a Count
	err := k.Invoke(context.Background(), "vault", "Deposit", &domain.Increment{By: 1}, &note)
	if spawn.CodeOf(err) != spawn.CodeInvalid {
		t.Fatalf("Deposit into a Note: %v, want an invalid call", err)
	}
	// The action ran and succeeded: only decoding its reply failed.
	if calls := k.CallsTo("vault", "Deposit"); len(calls) != 1 || calls[0].Err != nil {
		t.Errorf("vault.Deposit calls = %+v, want one that succeeded", calls)
	}
	if n := coins(t, k); n != 1 {
		t.Errorf("the vault holds %d coins, want 1", n)
	}
}

func TestOnlySuccessfulDepositsAreSaved(t *testing.T) {
	k := spawntest.NewKit(t, &Vault{})
	ctx := context.Background()
	if _, err := spawn.Call(ctx, k, (*Vault).Deposit, &domain.Increment{By: 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := spawn.Call(ctx, k, (*Vault).Withdraw, &domain.Increment{By: 25}); err == nil {
		t.Fatal("Withdraw(25) from 10 coins succeeded")
	}
	// The snapshot, every 2 seconds, saves the state as the successful
	// actions left it.
	k.Advance(2 * time.Second)
	var st domain.CounterState
	if rev, err := k.StateRevision(ctx, "vault", &st); err != nil || rev != 1 || st.Value != 10 {
		t.Errorf("after the snapshot: revision %d holding %d (%v), want revision 1 holding 10", rev, st.Value, err)
	}
}
