package spawn_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/testpb"
	"github.com/spawn-go/spawn/spawntest"
)

// Account saves every change at once, and tells its revision.
type Account struct {
	spawn.Actor `spawn:"name=account"`
	State       *testpb.CounterState `spawn:"state"`
}

// Add adds to the value and checkpoints it: each call is a revision.
func (a *Account) Add(ctx *spawn.Context, in *testpb.Add) (spawn.Value, error) {
	a.State.Value += in.Delta
	return spawn.NoReply().Checkpoint(), nil
}

// Bump adds without saving: the change waits for the next snapshot.
func (a *Account) Bump(ctx *spawn.Context, in *testpb.Add) error {
	a.State.Value += in.Delta
	return nil
}

// Revision answers the revision the action sees.
func (a *Account) Revision(ctx *spawn.Context) (*testpb.Total, error) {
	return &testpb.Total{Value: ctx.Revision()}, nil
}

// Ledger is an unnamed Account.
type Ledger struct {
	spawn.Actor `spawn:"name=ledger,kind=unnamed"`
	State       *testpb.CounterState `spawn:"state"`
}

func (l *Ledger) Add(ctx *spawn.Context, in *testpb.Add) (spawn.Value, error) {
	l.State.Value += in.Delta
	return spawn.NoReply().Checkpoint(), nil
}

func TestStateRevisionAndContextRevision(t *testing.T) {
	sys := spawntest.Start(t, &Account{})
	ctx := context.Background()
	var st testpb.CounterState
	if rev, err := sys.StateRevision(ctx, "account", &st); err != nil || rev != 0 || st.Value != 0 {
		t.Fatalf("StateRevision before any save = %d, %v (value %d); want 0", rev, err, st.Value)
	}
	seen := func() int64 {
		t.Helper()
		var out testpb.Total
		if err := sys.Invoke(ctx, "account", "Revision", nil, &out); err != nil {
			t.Fatal(err)
		}
		return out.Value
	}
	if r := seen(); r != 0 {
		t.Errorf("the action sees revision %d before any save, want 0", r)
	}
	for _, d := range []int64{10, 20} {
		if err := sys.Invoke(ctx, "account", "Add", &testpb.Add{Delta: d}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if rev, err := sys.StateRevision(ctx, "account", &st); err != nil || rev != 2 || st.Value != 30 {
		t.Errorf("StateRevision = %d, %v (value %d); want revision 2 holding 30", rev, err, st.Value)
	}
	if r := seen(); r != 2 {
		t.Errorf("the action sees revision %d, want 2", r)
	}
	if err := sys.Invoke(ctx, "account", "Bump", &testpb.Add{Delta: 1}, nil); err != nil {
		t.Fatal(err)
	}
	if rev, _ := sys.StateRevision(ctx, "account", &st); rev != 2 || st.Value != 31 {
		t.Errorf("after an unsaved change: revision %d holding %d, want 2 holding 31", rev, st.Value)
	}
}

func TestRevisionsAndRestore(t *testing.T) {
	sys := spawntest.Start(t, &Account{}, &Ledger{})
	ctx := context.Background()
	for _, d := range []int64{10, 20, 30} {
		if err := sys.Invoke(ctx, "account", "Add", &testpb.Add{Delta: d}, nil); err != nil {
			t.Fatal(err)
		}
	}
	revs, err := sys.Revisions(ctx, "account")
	if err != nil {
		t.Fatal(err)
	}
	var numbers []int64
	for _, r := range revs {
		numbers = append(numbers, r.Number)
		if r.SavedAt.IsZero() || r.Size == 0 {
			t.Errorf("revision %+v has no time or size", r)
		}
	}
	if !slices.Equal(numbers, []int64{1, 2, 3}) {
		t.Fatalf("revisions = %v, want [1 2 3]", numbers)
	}
	var st testpb.CounterState
	if err := sys.StateAt(ctx, "account", 1, &st); err != nil || st.Value != 10 {
		t.Errorf("StateAt(1) = %d, %v; want 10", st.Value, err)
	}

	// The actor is active: the restore takes effect at once.
	if err := sys.Restore(ctx, "account", 1); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if rev, _ := sys.StateRevision(ctx, "account", &st); rev != 4 || st.Value != 10 {
		t.Errorf("after Restore(1): revision %d holding %d, want 4 holding 10", rev, st.Value)
	}
	if err := sys.Invoke(ctx, "account", "Add", &testpb.Add{Delta: 5}, nil); err != nil {
		t.Fatal(err)
	}
	if err := sys.State(ctx, "account", &st); err != nil || st.Value != 15 {
		t.Errorf("a call after the restore made %d, want 15", st.Value)
	}

	// Errors say why, and change nothing.
	err = sys.Restore(ctx, "account", 99)
	if spawn.CodeOf(err) != spawn.CodeNotFound || !strings.Contains(err.Error(), "keeps revisions 1 to 5") {
		t.Errorf("Restore(99) = %v, want not found naming the revisions kept", err)
	}
	if err := sys.Restore(ctx, "account", 0); spawn.CodeOf(err) != spawn.CodeInvalid {
		t.Errorf("Restore(0) = %v, want invalid", err)
	}
	if err := sys.Restore(ctx, "nobody", 1); spawn.CodeOf(err) != spawn.CodeNotFound {
		t.Errorf("Restore of an unknown actor = %v, want not found", err)
	}
	var wrong testpb.Total
	if err := sys.StateAt(ctx, "account", 1, &wrong); spawn.CodeOf(err) != spawn.CodeInvalid {
		t.Errorf("StateAt into the wrong type = %v, want invalid", err)
	}

	// An instance of an unnamed actor, through the option Instance.
	for _, d := range []int64{1, 2} {
		if err := sys.Invoke(ctx, "ledger", "Add", &testpb.Add{Delta: d}, nil, spawn.Instance("l-1")); err != nil {
			t.Fatal(err)
		}
	}
	if err := sys.Restore(ctx, "ledger", 1, spawn.Instance("l-1")); err != nil {
		t.Fatalf("Restore of an instance: %v", err)
	}
	if rev, _ := sys.StateRevision(ctx, "ledger", &st, spawn.Instance("l-1")); rev != 3 || st.Value != 1 {
		t.Errorf("instance after Restore(1): revision %d holding %d, want 3 holding 1", rev, st.Value)
	}
	if revs, _ := sys.Revisions(ctx, "ledger", spawn.Instance("l-1")); len(revs) != 3 {
		t.Errorf("instance revisions = %+v, want 3", revs)
	}
}

// With a proxy, the revision calls say that they need the embedded runtime.
func TestRevisionsNeedTheEmbeddedRuntime(t *testing.T) {
	sys, _ := spawntest.StartWithProxy(t, &Account{})
	ctx := context.Background()
	var st testpb.CounterState
	_, err1 := sys.StateRevision(ctx, "account", &st)
	_, err2 := sys.Revisions(ctx, "account")
	for _, err := range []error{err1, err2, sys.StateAt(ctx, "account", 1, &st), sys.Restore(ctx, "account", 1)} {
		if spawn.CodeOf(err) != spawn.CodeInvalid || !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "embedded runtime") {
			t.Errorf("with a proxy: %v, want invalid, unsupported, naming the embedded runtime", err)
		}
	}
}

// TestRevisionCallsRefuseBadInput checks that the calls about revisions
// refuse what cannot be right with CodeInvalid, saying what to write, and
// that an unknown revision stays CodeNotFound, saying which are kept.
func TestRevisionCallsRefuseBadInput(t *testing.T) {
	sys := spawntest.Start(t, &Account{}, &Ledger{})
	ctx := context.Background()
	if err := sys.Invoke(ctx, "account", "Add", &testpb.Add{Delta: 1}, nil); err != nil {
		t.Fatal(err)
	}
	if err := sys.Invoke(ctx, "ledger", "Add", &testpb.Add{Delta: 1}, nil, spawn.Instance("l1")); err != nil {
		t.Fatal(err)
	}
	var st testpb.CounterState
	revisions := func(actor string, opts ...spawn.RouteOption) error {
		_, err := sys.Revisions(ctx, actor, opts...)
		return err
	}
	stateRevision := func(actor string, opts ...spawn.RouteOption) error {
		_, err := sys.StateRevision(ctx, actor, &st, opts...)
		return err
	}
	const unnamed = `actor "ledger" is unnamed: its instances have the state and its revisions; pass spawn.Instance("id")`
	const named = `actor "account" is named, so no instance is needed: drop spawn.Instance("x")`
	tests := []struct {
		name string
		err  error
		code spawn.Code
		msg  string
	}{
		{"StateAt(0)", sys.StateAt(ctx, "account", 0, &st), spawn.CodeInvalid, "StateAt(0): revisions are numbered from 1"},
		{"StateAt(-1)", sys.StateAt(ctx, "account", -1, &st), spawn.CodeInvalid, "StateAt(-1): revisions are numbered from 1"},
		{"Restore(0)", sys.Restore(ctx, "account", 0), spawn.CodeInvalid, "Restore(0): revisions are numbered from 1"},
		{"Restore(-2)", sys.Restore(ctx, "account", -2), spawn.CodeInvalid, "Restore(-2): revisions are numbered from 1"},
		{"an unknown revision", sys.Restore(ctx, "account", 9), spawn.CodeNotFound, "it keeps revision 1 only"},
		{"Restore of the unnamed actor", sys.Restore(ctx, "ledger", 1), spawn.CodeInvalid, unnamed},
		{"StateAt of the unnamed actor", sys.StateAt(ctx, "ledger", 1, &st), spawn.CodeInvalid, unnamed},
		{"Revisions of the unnamed actor", revisions("ledger"), spawn.CodeInvalid, unnamed},
		{"StateRevision of the unnamed actor", stateRevision("ledger"), spawn.CodeInvalid, unnamed},
		{"Restore of a named actor's instance", sys.Restore(ctx, "account", 1, spawn.Instance("x")), spawn.CodeInvalid, named},
		{"Revisions of a named actor's instance", revisions("account", spawn.Instance("x")), spawn.CodeInvalid, named},
		{"Invoke of a named actor's instance", sys.Invoke(ctx, "account", "Add", &testpb.Add{Delta: 1}, nil, spawn.Instance("x")), spawn.CodeInvalid, named},
		{"State of a named actor's instance", sys.State(ctx, "account", &st, spawn.Instance("x")), spawn.CodeInvalid, named},
		{"an instance", revisions("ledger", spawn.Instance("l1")), spawn.CodeUnknown, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if spawn.CodeOf(tt.err) != tt.code || (tt.msg == "") != (tt.err == nil) || !strings.Contains(fmt.Sprint(tt.err), tt.msg) {
				t.Errorf("got %v (code %v), want %v saying %q", tt.err, spawn.CodeOf(tt.err), tt.code, tt.msg)
			}
		})
	}
}
