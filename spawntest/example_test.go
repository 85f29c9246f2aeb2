package spawntest_test

import (
	"testing"
	"time"

	"github.com/spawn-go/spawn/spawntest"
)

// A test of the Reminder and Desk actors (guide_test.go), as it would be in
// a _test.go file of your own: the actors run on the real engine, with
// their state in memory, and three hours pass at once.
func ExampleNewKit() {
	TestReminder := func(t *testing.T) {
		k := spawntest.NewKit(t, &Reminder{}, &Desk{})

		k.Advance(3 * time.Hour)

		if got := len(k.CallsTo("reminder", "Remind")); got != 3 {
			t.Errorf("reminded %d times in 3 hours, want 3", got)
		}
		for _, b := range k.Broadcasts() {
			t.Logf("%s told %q at %s", b.From.Name, b.Topic, b.At.Format(time.Kitchen))
		}
	}
	_ = TestReminder
}
