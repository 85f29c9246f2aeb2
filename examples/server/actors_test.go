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

// The tests below run greeter and visits with the test kit: on the real
// embedded engine, with their state in memory and a clock that moves only
// when the test says. The tests further down run the program itself.

func visits(t *testing.T, k *spawntest.Kit) int64 {
	t.Helper()
	var st domain.CounterState
	if err := k.State(context.Background(), "visits", &st); err != nil {
		t.Fatal(err)
	}
	return st.Value
}

func TestGreeterCountsEachVisitOnVisits(t *testing.T) {
	k := spawntest.NewKit(t, &Greeter{}, &Visits{})
	ctx := context.Background()
	for _, g := range []struct {
		name   string
		greet  string // the greeting; "" when it fails
		err    string // what the error says when it fails
		visits int64
	}{
		{name: "ana", greet: "Hello, ana! You are visitor number 1.", visits: 1},
		{name: " bo ", greet: "Hello, bo! You are visitor number 2.", visits: 2},
		// A greeting that names nobody fails, and counts no visit.
		{name: "  ", err: "whom should I greet? the request names nobody", visits: 2},
	} {
		got, err := spawn.Call(ctx, k, (*Greeter).Greet, &domain.Hello{Name: g.name})
		if g.err != "" {
			if spawn.CodeOf(err) != spawn.CodeAction || !strings.Contains(err.Error(), g.err) {
				t.Errorf("Greet(%q) = %v, %v; want the action's error %q", g.name, got, err, g.err)
			}
		} else if err != nil || got.Text != g.greet || got.Visitor != g.visits {
			t.Errorf("Greet(%q) = %v, %v; want %q (visitor %d)", g.name, got, err, g.greet, g.visits)
		}
		if n := visits(t, k); n != g.visits {
			t.Errorf("after Greet(%q), visits counts %d, want %d", g.name, n, g.visits)
		}
	}
	// Each greeting called visits.Add from inside greeter.
	adds := k.CallsTo("visits", "Add")
	if len(adds) != 2 {
		t.Fatalf("visits.Add calls = %+v, want 2", adds)
	}
	for _, c := range adds {
		if c.Caller.Name != "greeter" || c.Origin != "call" {
			t.Errorf("visits.Add was called by %q (%s), want greeter", c.Caller.Name, c.Origin)
		}
	}
}

func TestVisitsGoOnFromAStoredCount(t *testing.T) {
	k := spawntest.NewKit(t, &Greeter{}, &Visits{})
	// As if the program had served 41 visitors before a restart.
	k.SetState("visits", &domain.CounterState{Value: 41})
	got, err := spawn.Call(context.Background(), k, (*Greeter).Greet, &domain.Hello{Name: "cy"})
	if want := "Hello, cy! You are visitor number 42."; err != nil || got.Text != want {
		t.Errorf("Greet(cy) = %v, %v; want %q", got, err, want)
	}
}

func TestVisitsAreSavedAndSurviveADeactivation(t *testing.T) {
	k := spawntest.NewKit(t, &Greeter{}, &Visits{})
	ctx := context.Background()
	for _, name := range []string{"ana", "bo"} {
		if _, err := spawn.Call(ctx, k, (*Greeter).Greet, &domain.Hello{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	// The idle time of visits starts when it has finished with the call,
	// a moment after its reply. Advance does not wait for that before it
	// moves the clock: Settle does, so that it starts now.
	k.Settle()
	// Visits is stateful: the snapshot, every 2 seconds, saves the count.
	k.Advance(2 * time.Second)
	revs, err := k.Revisions(ctx, "visits")
	var saved domain.CounterState
	if err != nil || len(revs) != 1 {
		t.Fatalf("after the snapshot: revisions %+v, %v; want one", revs, err)
	}
	if err := k.StateAt(ctx, "visits", revs[0].Number, &saved); err != nil || saved.Value != 2 {
		t.Fatalf("revision %d holds %d (%v), want 2", revs[0].Number, saved.Value, err)
	}
	// Idle for 30 seconds (the default; reading saved revisions is no
	// call), visits is deactivated; the next greeting activates it again,
	// from the count saved.
	k.Advance(28 * time.Second)
	if k.Active("visits") {
		t.Fatal("visits is still active after 30 idle seconds")
	}
	got, err := spawn.Call(ctx, k, (*Greeter).Greet, &domain.Hello{Name: "cy"})
	if want := "Hello, cy! You are visitor number 3."; err != nil || got.Text != want {
		t.Errorf("Greet(cy) after the deactivation = %v, %v; want %q", got, err, want)
	}
}
