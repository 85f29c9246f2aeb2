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

// The tests below run the station and its listeners with the test kit: on
// the real embedded engine, with a clock that moves only when the test
// says. The kit records the broadcasts the station asks for and the
// deliveries each listener handles.

// newStation starts the station, alice and bob; heard lists what the
// listeners told, in the order they handled it.
func newStation(t *testing.T) (k *spawntest.Kit, heard func() []string) {
	ch := make(chan string, 100)
	k = spawntest.NewKit(t, &Station{}, &Alice{Heard: ch}, &Bob{Heard: ch})
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

func publish(t *testing.T, k *spawntest.Kit, channel, text string) {
	t.Helper()
	reply, err := spawn.CallValue[*domain.Note](context.Background(), k, (*Station).Publish, &domain.Bulletin{Channel: channel, Text: text})
	if err != nil || reply.Text != "published on "+channel {
		t.Fatalf("Publish(%s, %q) = %v, %v", channel, text, reply, err)
	}
}

func tuneIn(t *testing.T, k *spawntest.Kit) {
	t.Helper()
	ctx := context.Background()
	if _, err := spawn.CallNoInput(ctx, k, (*Alice).TuneIn); err != nil {
		t.Fatal(err)
	}
	if _, err := spawn.CallNoInput(ctx, k, (*Bob).TuneIn); err != nil {
		t.Fatal(err)
	}
}

func TestStationBroadcastsEachBulletinOnItsChannel(t *testing.T) {
	k, _ := newStation(t)
	bulletins := []struct{ channel, text string }{
		{"news", "markets open"},
		{"weather", "sunny"},
		{"sports", "nobody listens to this one"},
	}
	for _, b := range bulletins {
		publish(t, k, b.channel, b.text)
	}
	got := k.Broadcasts()
	if len(got) != len(bulletins) {
		t.Fatalf("broadcasts = %+v, want %d", got, len(bulletins))
	}
	for i, b := range bulletins {
		var note domain.Note
		if err := got[i].Payload.UnmarshalTo(&note); err != nil || got[i].From.Name != "station" ||
			got[i].Topic != b.channel || note.Text != b.text {
			t.Errorf("broadcast %d = %+v carrying %v (%v); want %q on %s from station", i+1, got[i], &note, err, b.text, b.channel)
		}
	}
}

func TestListenersHearTheirChannelsOnceActive(t *testing.T) {
	k, heard := newStation(t)
	// Alice and Bob have no state: they are activated at their first
	// call, not when registered. Until then, they hear nothing.
	publish(t, k, "news", "markets open")
	if got := heard(); len(got) != 0 {
		t.Fatalf("before tuning in, the listeners heard %q", got)
	}

	tuneIn(t, k)
	publish(t, k, "news", "spawn-go speaks Go")
	publish(t, k, "weather", "sunny")
	got := heard()
	slices.Sort(got) // alice and bob hear at the same time
	want := []string{
		`alice.Receive: "spawn-go speaks Go" from station`,
		`bob.OnNews: "spawn-go speaks Go" from station`,
		`bob.OnWeather: "sunny" from station`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("the listeners heard\n%q\nwant\n%q", got, want)
	}
	// Each channel is delivered to the action it names, as a broadcast
	// from the station.
	for _, d := range []struct{ actor, action string }{{"alice", "Receive"}, {"bob", "OnNews"}, {"bob", "OnWeather"}} {
		calls := k.CallsTo(d.actor, d.action)
		if len(calls) != 1 || calls[0].Origin != "broadcast" || calls[0].Caller.Name != "station" {
			t.Errorf("%s.%s handled %+v, want one broadcast from the station", d.actor, d.action, calls)
		}
	}
}

func TestListenersDeactivateWhenIdleAndStillHearTheirChannels(t *testing.T) {
	k, heard := newStation(t)
	tuneIn(t, k)

	// What a listener hears keeps it active: the news at 20s pushes back
	// the deactivation, after 30 idle seconds (the default), for both.
	k.Advance(20 * time.Second)
	publish(t, k, "news", "still there?")
	// The news reaches them after Publish has returned. Advance does not
	// wait for that before it moves the clock, so wait here: they hear it
	// at 20s, not at whatever instant the clock has reached by then.
	k.Settle()
	k.Advance(30*time.Second - time.Millisecond)
	if !k.Active("alice") || !k.Active("bob") {
		t.Fatal("a listener was deactivated less than 30 seconds after it heard the news")
	}
	k.Advance(time.Millisecond)
	if k.Active("alice") || k.Active("bob") {
		t.Fatal("a listener is still active after 30 idle seconds")
	}
	heard()

	// Subscriptions outlive the activation: the next bulletin activates
	// the listener again, and it hears it.
	publish(t, k, "news", "welcome back")
	got := heard()
	slices.Sort(got)
	want := []string{`alice.Receive: "welcome back" from station`, `bob.OnNews: "welcome back" from station`}
	if !slices.Equal(got, want) {
		t.Errorf("after their deactivation, the listeners heard %q, want %q", got, want)
	}
	if !k.Active("alice") || !k.Active("bob") {
		t.Error("the bulletin did not activate the listeners again")
	}
}
