// Revisions shows an actor's state as a history: every save of the state
// is a revision, numbered from 1; a program lists the revisions kept, reads
// any of them, and restores an earlier one, which becomes the state again
// at once and is saved as the newest revision.
//
// Usage:
//
//	go run ./examples/revisions [-data dir] [-v]
//
// It runs on the embedded runtime (the Spawn proxy has no API for
// revisions), with its state on disk in a temporary directory removed at
// the end, or in -data dir, which keeps it. It prints each step and stops.
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
		fmt.Fprintln(os.Stderr, "revisions:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its output and arguments passed in so
// that a test can run it.
func run(ctx context.Context, out io.Writer, args []string) (err error) {
	fs := flag.NewFlagSet("revisions", flag.ContinueOnError)
	dataDir := fs.String("data", "", "where the embedded runtime keeps state (default: a temporary directory, removed at the end)")
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
	dir, where := *dataDir, "in "+*dataDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "spawn-revisions-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		where = "in a temporary directory, removed at the end (-data dir keeps it)"
	}

	// Revisions need the embedded runtime, whatever the environment says.
	sys, err := spawn.Start(ctx, &Account{}, spawn.WithEmbedded(), spawn.WithDataDir(dir), spawn.WithLogger(logger))
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err = errors.Join(err, sys.Stop(sctx))
	}()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	fmt.Fprintf(out, "The account runs on the embedded runtime, with its state on disk %s.\n\n", where)

	for _, m := range []*domain.Movement{
		{Amount: 100, Memo: "salary"},
		{Amount: -30, Memo: "groceries"},
		{Amount: 20, Memo: "refund"},
		{Amount: -500, Memo: "rent, typed with a zero too many"},
	} {
		if err := move(ctx, out, sys, m); err != nil {
			return err
		}
	}

	fmt.Fprintln(out, "\nEvery movement was saved as a revision. The account keeps:")
	if err := list(ctx, out, sys); err != nil {
		return err
	}

	// guide:start restore
	// Revision 4 holds the mistake: make revision 3 the state again. The
	// account is active; the restore takes effect at once, and is saved
	// as a new revision, so the history keeps the mistake too.
	if err := sys.Restore(ctx, "account", 3); err != nil {
		return err
	}
	var st domain.LedgerState
	rev, err := sys.StateRevision(ctx, "account", &st)
	if err != nil {
		return err
	}
	// guide:end restore
	fmt.Fprintf(out, "\nRestored revision 3: the balance is %d again, and that state is revision %d.\n", st.Balance, rev)
	if err := move(ctx, out, sys, &domain.Movement{Amount: -50, Memo: "rent"}); err != nil {
		return err
	}

	fmt.Fprintln(out, "\nNothing was lost; the history now reads:")
	if err := list(ctx, out, sys); err != nil {
		return err
	}

	// The account can tell the revision it reads, too.
	var s domain.Statement
	if err := sys.Invoke(ctx, "account", "Statement", nil, &s); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nThe account's own statement: balance %d, read from revision %d.\n", s.Balance, s.Revision)
	return nil
}

// move makes a movement, and says which revision it was saved as.
func move(ctx context.Context, out io.Writer, sys *spawn.System, m *domain.Movement) error {
	var s domain.Statement
	if err := sys.Invoke(ctx, "account", "Move", m, &s); err != nil {
		return err
	}
	// guide:start state-revision
	var st domain.LedgerState
	rev, err := sys.StateRevision(ctx, "account", &st)
	if err != nil {
		return err
	}
	// guide:end state-revision
	fmt.Fprintf(out, "%+5d %-34s balance %4d, saved as revision %d\n", m.Amount, m.Memo, st.Balance, rev)
	return nil
}

// list prints the revisions kept, with what each holds.
func list(ctx context.Context, out io.Writer, sys *spawn.System) error {
	// guide:start list
	revs, err := sys.Revisions(ctx, "account")
	if err != nil {
		return err
	}
	for _, r := range revs {
		var st domain.LedgerState
		if err := sys.StateAt(ctx, "account", r.Number, &st); err != nil {
			return err
		}
		fmt.Fprintf(out, "  revision %d, saved at %s (%d bytes): balance %d\n",
			r.Number, r.SavedAt.Format("15:04:05.000"), r.Size, st.Balance)
	}
	// guide:end list
	return nil
}
