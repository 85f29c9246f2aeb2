package spawntest_test

import (
	"context"
	"testing"
	"time"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
	"github.com/spawn-go/spawn/spawntest"
)

// Reminder counts the hours, and tells the team every hour.
type Reminder struct {
	spawn.Actor `spawn:"name=reminder,timer=1h"`
	State       *domain.CounterState `spawn:"state"`
}

func (r *Reminder) Remind(ctx *spawn.Context, _ spawn.Tick) (spawn.Value, error) {
	r.State.Value++
	return spawn.NoReply().Broadcast("team", &domain.Note{Text: "stand up"}), nil
}

// Skip postpones the next reminders by adding to the count.
func (r *Reminder) Skip(ctx *spawn.Context, in *domain.Increment) (*domain.Count, error) {
	r.State.Value += in.By
	return &domain.Count{Value: r.State.Value}, nil
}

// A test of Reminder, as it would be in a _test.go file of your own: the
// actor runs on the real engine with its state in memory, and three
// hours pass at once.
func ExampleNewKit() {
	TestReminder := func(t *testing.T) {
		k := spawntest.NewKit(t, &Reminder{})
		k.SetState("reminder", &domain.CounterState{Value: 10})

		k.Advance(3 * time.Hour)

		if got := len(k.Broadcasts()); got != 3 {
			t.Errorf("%d reminders in 3 hours, want 3", got)
		}
		count, err := spawn.Call(context.Background(), k, (*Reminder).Skip, &domain.Increment{By: 1})
		if err != nil {
			t.Fatal(err)
		}
		if count.Value != 14 {
			t.Errorf("count = %d, want 14", count.Value)
		}
	}
	_ = TestReminder
}
