package runtime

import (
	"context"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime/clocktest"
	"github.com/spawn-go/spawn/state"
)

func scheduledReq(at time.Time) *protocol.InvocationRequest {
	r := req("a", "later", str("payload"))
	r.ScheduledTo = at.UnixMilli()
	return r
}

func TestScheduledInvocation(t *testing.T) {
	v := newEnv(t, newHost(nil))
	v.register(newActor("a", actions("later", "now")))
	resp := v.invoke(scheduledReq(epoch.Add(10 * time.Second)))
	if resp.GetStatus().GetStatus() != protocol.Status_OK || resp.GetPayload() != nil {
		t.Fatalf("ack = %v, want OK with no payload", resp)
	}

	list, err := v.store.ListScheduled(context.Background())
	if err != nil || len(list) != 1 {
		t.Fatalf("stored = %v, %v; want one", list, err)
	}
	var stored protocol.InvocationRequest
	if err := proto.Unmarshal(list[0].Request, &stored); err != nil {
		t.Fatal(err)
	}
	if !list[0].At.Equal(epoch.Add(10*time.Second)) || stored.GetScheduledTo() != 0 || !stored.GetAsync() || stored.GetActionName() != "later" {
		t.Errorf("stored %v at %v; want the request, async, scheduled_to cleared, due at +10s", &stored, list[0].At)
	}

	v.clock.Advance(9999 * time.Millisecond)
	v.invoke(req("a", "now", nil)) // the mailbox is FIFO: nothing queued before this
	if got := v.host.matching(called("a", "later")); len(got) != 0 {
		t.Fatalf("ran early: %v", got)
	}
	v.clock.Advance(time.Millisecond)
	inv := v.host.waitN(t, 1, called("a", "later"))[0]
	if strOfAny(inv) != "payload" {
		t.Errorf("scheduled call carried %v", inv.GetPayload())
	}
	waitFor(t, "the scheduled invocation to be deleted", func() bool {
		list, _ := v.store.ListScheduled(context.Background())
		return len(list) == 0
	})
}

// Scheduled invocations survive a restart of the engine; those due while it
// was down run once their actor is registered again.
func TestScheduledSurvivesRestart(t *testing.T) {
	tests := []struct {
		name string
		down time.Duration // how long the clock runs between the engines
		// parkFirst: let the due invocation find its actor unknown before
		// registering it.
		parkFirst bool
	}{
		{"due after restart", 0, false},
		{"due while down", time.Minute, false},
		{"due while down, registered late", time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := state.NewMemory()
			clock := clocktest.New(epoch)
			actor := newActor("a", actions("later"))

			host1 := newHost(nil)
			v := newEnvWith(t, host1, store, clock)
			v.register(actor)
			v.invoke(scheduledReq(epoch.Add(10 * time.Second)))
			if err := v.e.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			clock.Advance(tt.down)

			host2 := newHost(nil)
			w := newEnvWith(t, host2, store, clock)
			if tt.parkFirst {
				waitFor(t, "the invocation to wait for its actor", func() bool {
					return w.logs.FilterMessageSnippet("waits for its actor").Len() == 1
				})
			}
			w.register(actor)
			clock.Advance(10 * time.Second)
			host2.waitN(t, 1, called("a", "later"))
			if n := len(host1.matching(called("a", "later"))); n != 0 {
				t.Errorf("the closed engine ran it %d times", n)
			}
			waitFor(t, "the scheduled invocation to be deleted", func() bool {
				list, _ := store.ListScheduled(context.Background())
				return len(list) == 0
			})
		})
	}
}

func TestScheduledUnknownActor(t *testing.T) {
	v := newEnv(t, newHost(nil))
	_, err := v.e.Invoke(context.Background(), scheduledReq(epoch.Add(time.Second)))
	wantStatus(t, err, protocol.Status_ACTOR_NOT_FOUND, "")
	if list, _ := v.store.ListScheduled(context.Background()); len(list) != 0 {
		t.Errorf("stored %v for an unknown actor", list)
	}
}

// A registration that lands while a due invocation is finding its actor
// unknown, after the lookup but before the invocation parks, must not leave
// it parked until some later registration.
func TestScheduledRegisteredWhileParking(t *testing.T) {
	store := state.NewMemory()
	r := req("a", "later", nil)
	r.Async = true
	b, err := proto.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.PutScheduled(context.Background(), state.Scheduled{ID: "due", At: epoch, Request: b}); err != nil {
		t.Fatal(err)
	}
	var (
		once     sync.Once
		register = make(chan *Engine, 1)
	)
	testHookPark = func() {
		once.Do(func() {
			e := <-register
			if _, err := e.Register(context.Background(), registration(newActor("a", actions("later")))); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(func() { testHookPark = nil }) // runs after Close, which waits for fire
	v := newEnvWith(t, newHost(nil), store, clocktest.New(epoch))
	register <- v.e
	v.host.waitN(t, 1, called("a", "later"))
}
