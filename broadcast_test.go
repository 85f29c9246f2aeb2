package spawn_test

import (
	"testing"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/testpb"
)

// Herald publishes on Counter's channel without being a subscriber.
type Herald struct {
	spawn.Actor `spawn:"name=herald"`
}

// Announce broadcasts in on ticks.
func (h *Herald) Announce(ctx *spawn.Context, in *testpb.Text) (spawn.Value, error) {
	return spawn.NoReply().Broadcast("ticks", in), nil
}

// TestBroadcastRightAfterStart checks that a stateful named actor, which
// the runtime activates in the background, hears a broadcast published as
// soon as Start returns.
func TestBroadcastRightAfterStart(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		ev := make(events, 16)
		sys := start(&Counter{Events: ev}, &Herald{})
		if err := sys.Invoke(ctx(t), "herald", "Announce", &testpb.Text{Text: "early"}, nil); err != nil {
			t.Fatal(err)
		}
		if got := await(t, ev, "bump"); got != "bump early from herald" {
			t.Fatalf("got %q", got)
		}
	})
}
