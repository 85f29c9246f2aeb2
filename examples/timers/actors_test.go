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

// The tests below run the kettle with the test kit: on the real embedded
// engine, with a clock that moves only when the test says, so its timers
// fire when Advance reaches them, with no waiting.

// newKettle starts a kettle whose events the test reads with told.
func newKettle(t *testing.T) (*spawntest.Kit, <-chan string) {
	events := make(chan string, 100)
	return spawntest.NewKit(t, &Kettle{Events: events}), events
}

// told returns the lines the kettle has told so far.
func told(events <-chan string) []string {
	var lines []string
	for {
		select {
		case line := <-events:
			lines = append(lines, line)
		default:
			return lines
		}
	}
}

func celsius(t *testing.T, k *spawntest.Kit) int32 {
	t.Helper()
	var st domain.KettleState
	if err := k.State(context.Background(), "kettle", &st); err != nil {
		t.Fatal(err)
	}
	return st.Celsius
}

func TestKettleActivatesAtItsFirstCall(t *testing.T) {
	k, events := newKettle(t)
	// stateful=false: the kettle is not activated when registered, so its
	// timers do not run yet.
	k.Advance(time.Second)
	if k.Active("kettle") || len(k.Calls()) != 0 {
		t.Fatalf("the kettle was activated, or called, before its first call: %+v", k.Calls())
	}

	reply, err := spawn.CallNoInput(context.Background(), k, (*Kettle).SwitchOn)
	if err != nil || reply.Text != "switched on at 20°C" {
		t.Fatalf("SwitchOn = %v, %v", reply, err)
	}
	// Init ran first, at the activation.
	if got := []string{k.Calls()[0].Action, k.Calls()[0].Origin}; !slices.Equal(got, []string{"Init", "init"}) {
		t.Errorf("the first call was %q, want Init at the activation", got)
	}
	if got := told(events); !slices.Equal(got, []string{"kettle.Init: filled with water at 20°C"}) {
		t.Errorf("the kettle told %q", got)
	}
}

func TestKettleHeatsOnItsTimerAndWhistlesOnceBoiling(t *testing.T) {
	k, events := newKettle(t)
	if _, err := spawn.CallNoInput(context.Background(), k, (*Kettle).SwitchOn); err != nil {
		t.Fatal(err)
	}
	on := k.Now() // the clock stands still: the kettle was activated now
	told(events)  // Init's line

	// Heat runs every 100ms from the activation on, Whistle every 250ms.
	for _, step := range []struct {
		at      time.Duration // since the activation
		celsius int32
		told    []string
	}{
		{50 * time.Millisecond, 20, nil},
		{100 * time.Millisecond, 40, []string{"kettle.Heat: 40°C"}},
		{200 * time.Millisecond, 60, []string{"kettle.Heat: 60°C"}},
		// Whistle's first tick: 80°C is not boiling.
		{250 * time.Millisecond, 60, nil},
		{300 * time.Millisecond, 80, []string{"kettle.Heat: 80°C"}},
		{400 * time.Millisecond, 100, []string{"kettle.Heat: 100°C, boiling"}},
		{500 * time.Millisecond, 100, []string{"kettle.Whistle: whistling"}},
		// Boiling, and whistled once: the timers go on, and do nothing.
		{time.Minute, 100, nil},
	} {
		k.Advance(on.Add(step.at).Sub(k.Now()))
		if got := told(events); !slices.Equal(got, step.told) {
			t.Errorf("at %v the kettle told %q, want %q", step.at, got, step.told)
		}
		if got := celsius(t, k); got != step.celsius {
			t.Errorf("at %v the water is at %d°C, want %d", step.at, got, step.celsius)
		}
	}

	heats, whistles := k.CallsTo("kettle", "Heat"), k.CallsTo("kettle", "Whistle")
	if len(heats) != 600 || len(whistles) != 240 {
		t.Errorf("in a minute, Heat ran %d times and Whistle %d, want 600 and 240", len(heats), len(whistles))
	}
	for _, c := range append(heats, whistles...) {
		if c.Origin != "timer" || c.Err != nil {
			t.Fatalf("a timer action: %+v", c)
		}
	}
	// Its timers keep it busy: the kettle is never idle long enough to be
	// deactivated (after 30 seconds, the default).
	if !k.Active("kettle") {
		t.Error("the kettle was deactivated though its timers run")
	}
}
