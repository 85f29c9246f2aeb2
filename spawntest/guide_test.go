package spawntest_test

import (
	"context"
	"testing"
	"time"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
	"github.com/spawn-go/spawn/spawntest"
)

// The actors and tests of docs/guide/07-testing.md.

// guide:start kit-actors
// Reminder reminds the team every hour, and snoozes on request.
type Reminder struct {
	spawn.Actor `spawn:"name=reminder,timer=1h"`
	State       *domain.CounterState `spawn:"state"`
}

func (r *Reminder) Remind(ctx *spawn.Context, _ spawn.Tick) (spawn.Value, error) {
	r.State.Value++
	return spawn.NoReply().Broadcast("team", &domain.Note{Text: "stand up"}), nil
}

// Snooze passes the note on to the desk, ten minutes from now.
func (r *Reminder) Snooze(ctx *spawn.Context, n *domain.Note) (spawn.Value, error) {
	return spawn.NoReply().Effect("desk", "Hear", n, spawn.Delay(10*time.Minute)), nil
}

// Desk counts the notes it hears on the team channel.
type Desk struct {
	spawn.Actor `spawn:"name=desk,channel=team:Hear"`
	State       *domain.CounterState `spawn:"state"`
}

func (d *Desk) Hear(ctx *spawn.Context, n *domain.Note) error {
	d.State.Value++
	return nil
}

// Later forwards a note to the reminder's Snooze.
func (d *Desk) Later(ctx *spawn.Context, n *domain.Note) (spawn.Value, error) {
	return spawn.NoReply().Forward("reminder", "Snooze"), nil
}

// guide:end kit-actors

func TestGuideTimersAndBroadcasts(t *testing.T) {
	ctx := context.Background()
	// guide:start kit-timers
	k := spawntest.NewKit(t, &Reminder{}, &Desk{})

	k.Advance(3 * time.Hour) // the timer fires at 1h, 2h and 3h

	if got := len(k.Broadcasts()); got != 3 {
		t.Errorf("%d broadcasts in 3 hours, want 3", got)
	}
	var heard domain.CounterState
	if err := k.State(ctx, "desk", &heard); err != nil || heard.Value != 3 {
		t.Errorf("the desk heard %d notes (%v), want 3", heard.Value, err)
	}
	// guide:end kit-timers
}

func TestGuideWorkflows(t *testing.T) {
	ctx := context.Background()
	k := spawntest.NewKit(t, &Reminder{}, &Desk{})
	// guide:start kit-workflows
	if err := k.Invoke(ctx, "desk", "Later", &domain.Note{Text: "lunch?"}, nil); err != nil {
		t.Fatal(err)
	}
	// The desk forwarded the note to the reminder, whose Snooze asked
	// for a side effect in ten minutes.
	if fwd := k.Forwards(); len(fwd) != 1 || fwd[0].To.Name != "reminder" || fwd[0].Action != "Snooze" {
		t.Fatalf("forwards = %+v", fwd)
	}
	fx := k.Effects()
	if len(fx) != 1 || fx[0].Action != "Hear" || !fx[0].Due.Equal(k.Now().Add(10*time.Minute)) {
		t.Fatalf("effects = %+v", fx)
	}
	var note domain.Note
	if err := fx[0].Payload.UnmarshalTo(&note); err != nil || note.Text != "lunch?" {
		t.Errorf("the effect carries %v (%v)", &note, err)
	}

	k.Advance(9 * time.Minute)
	if n := len(k.CallsTo("desk", "Hear")); n != 0 {
		t.Errorf("the desk heard the note %d times after 9 minutes", n)
	}
	k.Advance(time.Minute)
	if n := len(k.CallsTo("desk", "Hear")); n != 1 {
		t.Errorf("the desk heard the note %d times after 10 minutes, want once", n)
	}
	// guide:end kit-workflows
}

func TestGuidePresets(t *testing.T) {
	ctx := context.Background()
	k := spawntest.NewKit(t, &Reminder{}, &Desk{})
	// guide:start kit-presets
	k.SetState("reminder", &domain.CounterState{Value: 41})
	k.SetTags("reminder", map[string]string{"team": "platform"})

	k.Advance(time.Hour)

	var st domain.CounterState
	if err := k.State(ctx, "reminder", &st); err != nil || st.Value != 42 {
		t.Errorf("count = %d (%v), want 42", st.Value, err)
	}
	if tags := k.Tags("reminder"); tags["team"] != "platform" {
		t.Errorf("tags = %v", tags)
	}
	// guide:end kit-presets
}
