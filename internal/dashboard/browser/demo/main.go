// Demo runs a small bank on the embedded runtime with the development
// dashboard on, to look at the dashboard, and for its browser test:
//
//	cd internal/dashboard/browser && go run ./demo
//	# then open http://127.0.0.1:9090/
//
// An account keeps its movements as revisions and tells an auditor of
// each on the channel "movements"; the auditor also checks the books on a
// timer; carts are instances of an unnamed actor. The demo makes a few
// movements, one of them a mistake and one refused, and serves until it
// is stopped. With -activator, the JSON activator is on, and the
// dashboard can call actions.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
)

// Account is a bank account: every movement is checkpointed as a revision
// and announced on the channel "movements".
type Account struct {
	spawn.Actor `spawn:"name=account,snapshot=2s"`
	State       *domain.LedgerState `spawn:"state"`
}

// Move adds a movement to the balance.
func (a *Account) Move(ctx *spawn.Context, m *domain.Movement) (spawn.Value, error) {
	if m.Amount == 0 {
		return spawn.Value{}, errors.New("a movement needs an amount")
	}
	a.State.Balance += m.Amount
	a.State.Movements = append(a.State.Movements, fmt.Sprintf("%+d %s", m.Amount, m.Memo))
	return spawn.Reply(&domain.Statement{Balance: a.State.Balance}).Checkpoint().
		Broadcast("movements", &domain.Note{Text: fmt.Sprintf("%+d %s", m.Amount, m.Memo)}), nil
}

// Statement tells the balance, and the revision it was read from.
func (a *Account) Statement(ctx *spawn.Context) (*domain.Statement, error) {
	return &domain.Statement{Balance: a.State.Balance, Revision: ctx.Revision()}, nil
}

// Auditor hears every movement, and checks the books every few seconds.
type Auditor struct {
	spawn.Actor `spawn:"name=auditor,stateful=false,channel=movements:Heard"`
	_           spawn.Action         `spawn:"method=Check,timer=3s"`
	State       *domain.CounterState `spawn:"state"`
}

// Heard counts a movement.
func (a *Auditor) Heard(ctx *spawn.Context, n *domain.Note) error {
	a.State.Value++
	return nil
}

// Check is a timer action: the books are fine.
func (a *Auditor) Check(ctx *spawn.Context, _ spawn.Tick) error { return nil }

// Count tells how many movements the auditor heard.
func (a *Auditor) Count(ctx *spawn.Context) (*domain.Count, error) {
	return &domain.Count{Value: a.State.Value}, nil
}

// Cart is an unnamed actor: each shopper's cart is an instance of it.
type Cart struct {
	spawn.Actor `spawn:"name=cart,kind=unnamed"`
	State       *domain.JoeState `spawn:"state"`
}

// Add puts an item in the cart.
func (c *Cart) Add(ctx *spawn.Context, o *domain.Order) (*domain.Count, error) {
	c.State.Languages = append(c.State.Languages, o.Item)
	return &domain.Count{Value: int64(len(c.State.Languages))}, nil
}

func main() {
	// The flags default to the variables a program reads, since the
	// options passed below take precedence over them.
	dashboard := flag.String("dashboard", envOr("SPAWN_DASHBOARD_ADDR", "127.0.0.1:9090"), "where the dashboard listens (loopback; port 0 picks one); default $SPAWN_DASHBOARD_ADDR, else 127.0.0.1:9090")
	activator := flag.String("activator", os.Getenv("SPAWN_ACTIVATOR_ADDR"), "where the JSON activator listens; default $SPAWN_ACTIVATOR_ADDR, else none")
	data := flag.String("data", "", "where state is kept (default: a temporary directory, removed at the end)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *dashboard, *activator, *data); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// envOr returns the environment variable key, or def when it is empty.
func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, dashboard, activator, data string) (err error) {
	if data == "" {
		if data, err = os.MkdirTemp("", "spawn-dashboard-demo-"); err != nil {
			return err
		}
		defer os.RemoveAll(data)
	}
	// guide:start start
	sys, err := spawn.Start(ctx, &Account{}, &Auditor{}, &Cart{}, spawn.WithEmbedded(), spawn.WithDataDir(data),
		spawn.WithDashboard(dashboard), // the -dashboard flag: 127.0.0.1:9090 unless set
		spawn.WithActivator(activator)) // the -activator flag: "" (none, no calls from the page) unless set
	// guide:end start
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err = errors.Join(err, sys.Stop(sctx))
	}()
	// The auditor listens from its first activation on.
	if err := sys.Invoke(ctx, "auditor", "Count", nil, nil); err != nil {
		return err
	}
	for _, m := range []*domain.Movement{
		{Amount: 100, Memo: "salary"},
		{Amount: -30, Memo: "groceries"},
		{Amount: 20, Memo: "refund"},
		{Amount: -500, Memo: "rent, typed with a zero too many"},
		{Amount: 0, Memo: "nothing"}, // refused: the dashboard shows it failed
	} {
		_ = sys.Invoke(ctx, "account", "Move", m, nil)
	}
	for _, o := range []struct{ cart, item string }{{"ann", "tea"}, {"ann", "scones"}, {"bob", "coffee"}} {
		if err := sys.Invoke(ctx, "cart", "Add", &domain.Order{Item: o.item}, nil, spawn.Instance(o.cart)); err != nil {
			return err
		}
	}
	fmt.Printf("dashboard: http://%s/\n", sys.DashboardAddress())
	if a := sys.ActivatorAddress(); a != nil {
		fmt.Printf("activator: http://%s/v1/actors/\n", a)
	}
	<-ctx.Done()
	return nil
}
