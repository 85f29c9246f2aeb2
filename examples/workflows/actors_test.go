package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
	"github.com/spawn-go/spawn/spawntest"
)

// The tests below run the counters, the clerk and the auditor with the
// test kit: on the real embedded engine, with a clock that moves only when
// the test says, so the audit's delay passes in a moment. The kit records
// the forwards, pipes, side effects and broadcasts the actions ask for.

// shop is the actors under test, and what they told.
type shop struct {
	*spawntest.Kit
	heard, audited chan string
}

func newShop(t *testing.T) *shop {
	s := &shop{heard: make(chan string, 100), audited: make(chan string, 100)}
	s.Kit = spawntest.NewKit(t, &Counter{}, &Clerk{Heard: s.heard}, &Auditor{Audited: s.audited})
	return s
}

// told returns what the actors told on ch since the last look.
func (s *shop) told(ch chan string) []string {
	s.Settle()
	var lines []string
	for {
		select {
		case line := <-ch:
			lines = append(lines, line)
		default:
			return lines
		}
	}
}

func (s *shop) total(t *testing.T, counter string) int64 {
	t.Helper()
	var st domain.CounterState
	if err := s.State(context.Background(), "counter", &st, spawn.Instance(counter)); err != nil {
		t.Fatal(err)
	}
	return st.Value
}

func TestSalesAddUpOnACounterPerFruit(t *testing.T) {
	s := newShop(t)
	ctx := context.Background()
	for _, step := range []struct {
		name          string
		call          func() (*domain.Count, error)
		apples, pears int64
	}{
		{"apples, spawned from counter by their first call", func() (*domain.Count, error) {
			var c domain.Count
			return &c, s.Invoke(ctx, "counter", "Add", &domain.Increment{By: 1}, &c, spawn.Instance("apples"))
		}, 1, 0},
		{"pears, by a call checked by the compiler", func() (*domain.Count, error) {
			return spawn.Call(ctx, s, (*Counter).Add, &domain.Increment{By: 1}, spawn.Instance("pears"))
		}, 1, 1},
		{"clerk.Sell forwards by=2 to apples", func() (*domain.Count, error) {
			return spawn.CallValue[*domain.Count](ctx, s, (*Clerk).Sell, &domain.Increment{By: 2})
		}, 3, 1},
		{"clerk.SellPairs pipes by=6 to pears", func() (*domain.Count, error) {
			return spawn.CallValue[*domain.Count](ctx, s, (*Clerk).SellPairs, &domain.Increment{By: 3})
		}, 3, 7},
	} {
		if _, err := step.call(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if a, p := s.total(t, "apples"), s.total(t, "pears"); a != step.apples || p != step.pears {
			t.Errorf("after %s: %d apples and %d pears, want %d and %d", step.name, a, p, step.apples, step.pears)
		}
	}

	// Sell forwarded its input to the instance apples of counter; the
	// caller got the counter's reply.
	var in domain.Increment
	fwd := s.Forwards()
	if len(fwd) != 1 || fwd[0].From.Name != "clerk" || fwd[0].To.Name != "apples" || fwd[0].To.Parent != "counter" ||
		fwd[0].Action != "Add" || fwd[0].Payload.UnmarshalTo(&in) != nil || in.By != 2 {
		t.Errorf("forwards = %+v, want by=2 to counter.Add on apples", fwd)
	}
	// SellPairs piped its own reply, twice its input.
	pipes := s.Pipes()
	if len(pipes) != 1 || pipes[0].From.Name != "clerk" || pipes[0].To.Name != "pears" || pipes[0].To.Parent != "counter" ||
		pipes[0].Action != "Add" || pipes[0].Payload.UnmarshalTo(&in) != nil || in.By != 6 {
		t.Errorf("pipes = %+v, want by=6 to counter.Add on pears", pipes)
	}
}

func TestClosingSendsTheAuditorWhoBroadcastsTheBooks(t *testing.T) {
	s := newShop(t)
	ctx := context.Background()
	// The counters hold 3 apples and 7 pears.
	s.SetState("counter", &domain.CounterState{Value: 3}, spawn.Instance("apples"))
	s.SetState("counter", &domain.CounterState{Value: 7}, spawn.Instance("pears"))

	closed := s.Now()
	note, err := spawn.CallValueNoInput[*domain.Note](ctx, s, (*Clerk).Close)
	if err != nil || note.Text != "closing" {
		t.Fatalf("Close = %v, %v; want closing", note, err)
	}
	// Close replied at once, and asked for the audit auditDelay later.
	fx := s.Effects()
	var task domain.Note
	if len(fx) != 1 || fx[0].From.Name != "clerk" || fx[0].To.Name != "auditor" || fx[0].Action != "Audit" ||
		!fx[0].Due.Equal(closed.Add(auditDelay)) || fx[0].Payload.UnmarshalTo(&task) != nil || task.Text != "count the fruit" {
		t.Fatalf("effects = %+v, want auditor.Audit in %v", fx, auditDelay)
	}

	s.Advance(auditDelay - time.Millisecond)
	if got := s.told(s.audited); len(got) != 0 {
		t.Fatalf("the audit ran before its delay: %q", got)
	}
	s.Advance(time.Millisecond)
	if got := s.told(s.audited); !slices.Equal(got, []string{"auditor.Audit ran for clerk: count the fruit"}) {
		t.Errorf("the auditor told %q", got)
	}
	// The auditor read both counters, as itself.
	for _, counter := range []string{"apples", "pears"} {
		if c := s.CallsTo(counter, "get"); len(c) != 1 || c[0].Caller.Name != "auditor" {
			t.Errorf("%s.get calls = %+v, want one from the auditor", counter, c)
		}
	}
	// Then it broadcast the books on "shop", where the clerk hears them.
	var books domain.Note
	bs := s.Broadcasts()
	if len(bs) != 1 || bs[0].From.Name != "auditor" || bs[0].Topic != "shop" ||
		bs[0].Payload.UnmarshalTo(&books) != nil || books.Text != "3 apples, 7 pears" {
		t.Errorf("broadcasts = %+v, want the books on shop", bs)
	}
	if got := s.told(s.heard); !slices.Equal(got, []string{`clerk heard "3 apples, 7 pears" from auditor`}) {
		t.Errorf("the clerk told %q", got)
	}
	if c := s.CallsTo("clerk", "Hear"); len(c) != 1 || c[0].Origin != "broadcast" {
		t.Errorf("clerk.Hear calls = %+v, want one broadcast", c)
	}
}

func TestIdleCountersForgetTheirTotals(t *testing.T) {
	s := newShop(t)
	ctx := context.Background()
	if _, err := spawn.Call(ctx, s, (*Counter).Add, &domain.Increment{By: 5}, spawn.Instance("apples")); err != nil {
		t.Fatal(err)
	}
	// The counter's idle time starts when it has finished with the call, a
	// moment after its reply. Advance does not wait for that before it
	// moves the clock: Settle does, so that it starts now.
	s.Settle()
	// stateful=false keeps a total in memory only while the counter is
	// active; idle for 30 seconds (the default), it is deactivated.
	s.Advance(30 * time.Second)
	if s.Active("apples") {
		t.Fatal("apples is still active after 30 idle seconds")
	}
	got, err := spawn.Call(ctx, s, (*Counter).Add, &domain.Increment{By: 1}, spawn.Instance("apples"))
	if err != nil || got.Value != 1 {
		t.Errorf("apples.Add(1) after the deactivation = %v, %v; want 1: a new total", got, err)
	}
}
