package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
	"github.com/spawn-go/spawn/internal/golden"
	"github.com/spawn-go/spawn/spawntest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// clockTimes matches the times of day the program prints.
var clockTimes = regexp.MustCompile(`\d\d:\d\d:\d\d\.\d\d\d`)

func TestRevisions(t *testing.T) {
	for _, v := range []string{"PROXY_HTTP_HOST", "PROXY_HTTP_PORT", "SPAWN_PROXY_INTERFACE", "SPAWN_PROXY_PORT"} {
		t.Setenv(v, "") // revisions need the embedded runtime; the program asks for it anyway
	}
	t.Setenv("TMPDIR", t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out strings.Builder
	if err := run(ctx, &out, nil); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	// testdata/output.txt, which the guide shows, has the times of day
	// written as HH:MM:SS.mmm.
	want, err := os.ReadFile(filepath.Join("testdata", "output.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := clockTimes.ReplaceAllString(out.String(), "HH:MM:SS.mmm"); got != string(want) {
		t.Fatalf("run printed\n%s\nwant\n%s", got, want)
	}
}

// With -data, the account outlives the program: a second run continues
// the history after the first.
func TestRevisionsKeptInDataDir(t *testing.T) {
	dir := t.TempDir()
	for i, last := range []string{"read from revision 6", "read from revision 12"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var out strings.Builder
		err := run(ctx, &out, []string{"-data", dir})
		cancel()
		if err != nil {
			t.Fatalf("run %d: %v\n%s", i+1, err, out.String())
		}
		if !strings.Contains(out.String(), last) {
			t.Errorf("run %d printed\n%s\nwant it to end %q", i+1, out.String(), last)
		}
	}
}

// guide:start kit-test
// The account, tested with the kit: on the real engine, with its state in
// memory and a clock that moves only when the test says.
func TestAccount(t *testing.T) {
	k := spawntest.NewKit(t, &Account{})
	ctx := context.Background()

	// Preset the state, as if it had been stored: it is revision 1.
	k.SetState("account", &domain.LedgerState{Balance: 50})

	// Each movement is checkpointed: a new revision at once.
	for _, amount := range []int64{10, -500} {
		if err := k.Invoke(ctx, "account", "Move", &domain.Movement{Amount: amount}, nil); err != nil {
			t.Fatal(err)
		}
	}
	var st domain.LedgerState
	if rev, err := k.StateRevision(ctx, "account", &st); err != nil || rev != 3 || st.Balance != -440 {
		t.Fatalf("after two movements: revision %d, balance %d, %v; want 3, -440", rev, st.Balance, err)
	}

	// Undo the second movement: revision 2 becomes the state again, as
	// revision 4.
	if err := k.Restore(ctx, "account", 2); err != nil {
		t.Fatal(err)
	}
	s, err := spawn.CallNoInput(ctx, k, (*Account).Statement)
	if err != nil {
		t.Fatal(err)
	}
	if s.Balance != 60 || s.Revision != 4 {
		t.Errorf("statement after the restore: balance %d at revision %d, want 60 at 4", s.Balance, s.Revision)
	}

	// A note changes the state in memory; the snapshot, two seconds later
	// on the kit's clock, saves it as revision 5.
	if err := k.Invoke(ctx, "account", "Note", &domain.Note{Text: "rent was 50"}, nil); err != nil {
		t.Fatal(err)
	}
	if rev, _ := k.StateRevision(ctx, "account", &st); rev != 4 {
		t.Errorf("the note is saved before the snapshot: revision %d", rev)
	}
	k.Advance(2 * time.Second)
	if rev, _ := k.StateRevision(ctx, "account", &st); rev != 5 {
		t.Errorf("after the snapshot: revision %d, want 5", rev)
	}
}

// guide:end kit-test

func TestRegistrationGolden(t *testing.T) {
	golden.CheckRegistration(t, spawn.DefaultSystem, &Account{})
}
