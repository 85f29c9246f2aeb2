package runtime

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime/clocktest"
	"github.com/spawn-go/spawn/state"
)

func TestActors(t *testing.T) {
	v := newEnv(t, newHost(nil))
	v.register(
		newActor("joe", stateful, actions("set", "init"), timerAction("tick", 1500), channel("news", ""), channel("news", "hear"),
			snapshotEvery(2000), deactivateAfter(30000)),
		newActor("tmpl", kind(protocol.Kind_UNNAMED), stateful, actions("set")),
		newActor("p", pool(1, 4), actions("work")),
	)
	for _, name := range []string{"b", "a"} {
		r := req(name, "set", nil)
		r.RegisterRef = "tmpl"
		v.invoke(r)
	}
	v.idle() // joe's activation at registration runs in the background
	got := v.e.Actors()
	want := []ActorInfo{
		{
			Actor: ActorRef{System: sys, Name: "joe"}, Kind: "NAMED", Stateful: true,
			Snapshot: 2 * time.Second, Deactivate: 30 * time.Second,
			Actions: []string{"init", "set", "tick"}, Init: "init",
			Channels: []Subscription{{Topic: "news", Action: "receive"}, {Topic: "news", Action: "hear"}},
			Timers:   []TimerInfo{{Action: "tick", Period: 1500 * time.Millisecond, Next: epoch.Add(1500 * time.Millisecond)}},
		},
		{Actor: ActorRef{System: sys, Name: "p"}, Kind: "POOLED", MinPool: 1, MaxPool: 4, Actions: []string{"work"}},
		{Actor: ActorRef{System: sys, Name: "tmpl"}, Kind: "UNNAMED", Stateful: true, Actions: []string{"set"}, Instances: []string{"a", "b"}},
	}
	// joe activated at registration (stateful, with metadata): its timer runs.
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Actors =\n%+v\nwant\n%+v", got, want)
	}
	topics := v.e.Topics()
	wantTopics := []TopicInfo{{Topic: "news", Subscribers: []Subscriber{
		{Actor: ActorRef{System: sys, Name: "joe"}, Action: "receive"},
		{Actor: ActorRef{System: sys, Name: "joe"}, Action: "hear"},
	}}}
	if !reflect.DeepEqual(topics, wantTopics) {
		t.Errorf("Topics = %+v, want %+v", topics, wantTopics)
	}
}

func TestActivations(t *testing.T) {
	entered, release := make(chan string, 8), make(chan struct{})
	blocking := blockingHost(entered, release)
	host := newHost(func(ctx context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		if inv.GetActionName() == "put" {
			return reply(inv, inv.GetValue(), nil), nil
		}
		return blocking.Call(ctx, inv)
	})
	// Introspection from inside an Observer does not deadlock.
	var eng *Engine
	var inside [][]ActivationInfo
	obs := Observer{Invoked: func(ev Invocation) {
		if ev.Action == "put" {
			inside = append(inside, eng.Activations()) // read by the test once the call has returned
		}
	}}
	clock := clocktest.New(epoch)
	e, err := New(Options{Host: host, Store: state.NewMemory(), Clock: clock, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	eng = e
	v := &env{t: t, e: e, clock: clock}
	v.register(newActor("a", stateful, actions("put", "slow"), deactivateAfter(60000)), newActor("b", actions("slow")))
	if got := e.Activations(); len(got) != 0 {
		t.Errorf("Activations before any call = %+v", got)
	}
	v.invoke(req("a", "put", str("x")))
	// The worker that answered may not have parked a's instance yet.
	v.idle()
	if len(inside) != 1 || len(inside[0]) != 1 || inside[0][0].Actor.Name != "a" {
		t.Errorf("Activations from the Observer = %+v", inside)
	}
	clock.Advance(time.Second)
	slow := req("b", "slow", nil)
	slow.Async = true
	v.invoke(slow)
	<-entered
	v.invoke(slow)
	v.invoke(slow)
	got := e.Activations()
	want := []ActivationInfo{
		{Actor: ActorRef{System: sys, Name: "a"}, Since: epoch, LastActive: epoch, Instances: 1, Unsaved: true},
		{Actor: ActorRef{System: sys, Name: "b"}, Since: epoch.Add(time.Second), Mailbox: 2, Busy: 1, Instances: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Activations =\n%+v\nwant\n%+v", got, want)
	}
	close(release)
	v.idle()
	if got := e.Activations(); got[1].Mailbox != 0 || got[1].Busy != 0 {
		t.Errorf("b after its calls = %+v", got[1])
	}
	if !slices.ContainsFunc(e.Actors(), func(a ActorInfo) bool { return a.Actor.Name == "b" }) {
		t.Error("Actors lacks b")
	}
}
