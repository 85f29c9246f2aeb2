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

// The tests below run the alarm and the butler with the test kit: on the
// real embedded engine, with a clock that moves only when the test says,
// so delayed and scheduled calls ring when Advance reaches them.

// newAlarm starts the alarm and the butler; rang returns what the alarm
// told since the last look.
func newAlarm(t *testing.T) (k *spawntest.Kit, rang func() []string) {
	ch := make(chan string, 100)
	k = spawntest.NewKit(t, &Alarm{Rang: ch}, &Butler{})
	return k, func() []string {
		k.Settle()
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
}

func rings(t *testing.T, k *spawntest.Kit) int64 {
	t.Helper()
	n, err := spawn.CallNoInput(context.Background(), k, (*Alarm).Rings)
	if err != nil {
		t.Fatal(err)
	}
	return n.Value
}

func TestAlarmRingsAtOnceHoweverItIsCalled(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		call  func(k *spawntest.Kit) (*domain.Note, error) // the reply; nil for an async call
		reply string
		rang  string
	}{
		{"by name", func(k *spawntest.Kit) (*domain.Note, error) {
			var reply domain.Note
			err := k.Invoke(ctx, "alarm", "Ring", &domain.Note{Text: "by name"}, &reply)
			return &reply, err
		}, "rang: by name", `alarm.Ring "by name", asked by the program`},
		{"checked by the compiler", func(k *spawntest.Kit) (*domain.Note, error) {
			return spawn.Call(ctx, k, (*Alarm).Ring, &domain.Note{Text: "typed"})
		}, "rang: typed", `alarm.Ring "typed", asked by the program`},
		{"with metadata", func(k *spawntest.Kit) (*domain.Note, error) {
			return spawn.Call(ctx, k, (*Alarm).Ring, &domain.Note{Text: "with metadata"}, spawn.WithMetadata("room", "kitchen"))
		}, "rang: with metadata", `alarm.Ring "with metadata", asked by the program, in the kitchen`},
		{"async", func(k *spawntest.Kit) (*domain.Note, error) {
			return nil, k.Invoke(ctx, "alarm", "Ring", &domain.Note{Text: "async"}, nil, spawn.Async())
		}, "", `alarm.Ring "async", asked by the program`},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, rang := newAlarm(t)
			reply, err := c.call(k)
			if err != nil {
				t.Fatal(err)
			}
			if reply.GetText() != c.reply {
				t.Errorf("the alarm replied %q, want %q", reply.GetText(), c.reply)
			}
			// rang waits for the async call too: the kit settles first.
			if got := rang(); !slices.Equal(got, []string{c.rang}) {
				t.Errorf("the alarm told %q, want %q", got, c.rang)
			}
			calls := k.CallsTo("alarm", "Ring")
			if len(calls) != 1 || calls[0].Origin != "call" || !calls[0].Caller.IsZero() {
				t.Errorf("alarm.Ring calls = %+v, want one from the test", calls)
			}
			if n := rings(t, k); n != 1 {
				t.Errorf("the alarm counted %d rings, want 1", n)
			}
		})
	}
}

func TestDelayedAndScheduledCallsRingWhenDue(t *testing.T) {
	k, rang := newAlarm(t)
	ctx := context.Background()
	start := k.Now()
	// Delay and At store the call and return. At reads the kit's clock.
	if err := k.Invoke(ctx, "alarm", "Ring", &domain.Note{Text: "delayed"}, nil, spawn.Delay(200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := k.Invoke(ctx, "alarm", "Ring", &domain.Note{Text: "scheduled"}, nil, spawn.At(k.Now().Add(400*time.Millisecond))); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		at   time.Duration // since the calls were made
		rang []string
	}{
		{0, nil},
		{199 * time.Millisecond, nil},
		{200 * time.Millisecond, []string{`alarm.Ring "delayed", asked by the program`}},
		{399 * time.Millisecond, nil},
		{400 * time.Millisecond, []string{`alarm.Ring "scheduled", asked by the program`}},
		{time.Hour, nil},
	} {
		k.Advance(start.Add(step.at).Sub(k.Now()))
		if got := rang(); !slices.Equal(got, step.rang) {
			t.Errorf("at %v the alarm told %q, want %q", step.at, got, step.rang)
		}
	}
	for _, c := range k.CallsTo("alarm", "Ring") {
		if c.Origin != "scheduled" {
			t.Errorf("a stored call came from %q, want scheduled", c.Origin)
		}
	}
	if n := rings(t, k); n != 2 {
		t.Errorf("the alarm counted %d rings, want 2", n)
	}
}

func TestButlerRingsNowAndAgainAfterTheSnooze(t *testing.T) {
	k, rang := newAlarm(t)
	woke, err := spawn.CallValue[*domain.Note](context.Background(), k, (*Butler).Wake, &domain.Note{Text: "get up"})
	if err != nil || woke.Text != "the alarm rang: get up" {
		t.Fatalf("Wake = %v, %v", woke, err)
	}
	// The first ring is a call from inside Wake, which waited for it.
	if got := rang(); !slices.Equal(got, []string{`alarm.Ring "get up", asked by butler`}) {
		t.Errorf("the alarm told %q", got)
	}
	k.Advance(snooze - time.Millisecond)
	if got := rang(); len(got) != 0 {
		t.Errorf("the snooze ended early: %q", got)
	}
	k.Advance(time.Millisecond)
	if got := rang(); !slices.Equal(got, []string{`alarm.Ring "snooze over", asked by butler`}) {
		t.Errorf("after the snooze, the alarm told %q", got)
	}
	got := k.CallsTo("alarm", "Ring")
	if len(got) != 2 || got[0].Origin != "call" || got[1].Origin != "scheduled" ||
		got[0].Caller.Name != "butler" || got[1].Caller.Name != "butler" {
		t.Errorf("alarm.Ring calls = %+v, want a call, then a delayed call, both from the butler", got)
	}
}

func TestAlarmCountsOnFromAStoredCount(t *testing.T) {
	k, _ := newAlarm(t)
	k.SetState("alarm", &domain.CounterState{Value: 7})
	if _, err := spawn.Call(context.Background(), k, (*Alarm).Ring, &domain.Note{Text: "once more"}); err != nil {
		t.Fatal(err)
	}
	if n := rings(t, k); n != 8 {
		t.Errorf("the alarm counted %d rings, want 8", n)
	}
}
