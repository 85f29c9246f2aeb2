package main

import (
	"errors"
	"fmt"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
)

// guide:start account
// Account is a bank account. Every movement of money is saved at once, as
// a new revision of its state; notes wait for the next snapshot.
type Account struct {
	spawn.Actor `spawn:"name=account,snapshot=2s"`
	State       *domain.LedgerState `spawn:"state"`
}

// Move adds a movement to the balance. Checkpoint saves the new state
// before the caller hears back: once Move has answered, the movement is on
// disk, as the next revision.
func (a *Account) Move(ctx *spawn.Context, m *domain.Movement) (spawn.Value, error) {
	if m.Amount == 0 {
		return spawn.Value{}, errors.New("a movement needs an amount")
	}
	a.State.Balance += m.Amount
	a.State.Movements = append(a.State.Movements, fmt.Sprintf("%+d %s", m.Amount, m.Memo))
	return spawn.Reply(&domain.Statement{Balance: a.State.Balance}).Checkpoint(), nil
}

// Note adds a note to the account. It changes the state in memory only:
// the runtime saves it at the next snapshot (snapshot=2s), or when the
// account deactivates.
func (a *Account) Note(ctx *spawn.Context, n *domain.Note) error {
	a.State.Movements = append(a.State.Movements, "note: "+n.Text)
	return nil
}

// Statement tells the balance, and the revision of the state it was read
// from: ctx.Revision() is the latest revision saved when the action began.
func (a *Account) Statement(ctx *spawn.Context) (*domain.Statement, error) {
	return &domain.Statement{Balance: a.State.Balance, Revision: ctx.Revision()}, nil
}

// guide:end account
