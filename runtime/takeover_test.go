package runtime

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/spawn-go/spawn/protocol"
)

func spawnReq(ids ...*protocol.ActorId) *protocol.SpawnRequest {
	return &protocol.SpawnRequest{Actors: ids}
}

func instanceID(name, parent string) *protocol.ActorId {
	return &protocol.ActorId{Name: name, System: sys, Parent: parent}
}

// No spawn and no register_ref can take the place of a registered actor or
// of an instance of another template, nor spawn from an actor that is not
// UNNAMED: each is refused with ERROR, and the actor it aimed at keeps its
// definition, its state and its key.
func TestSpawnNeverTakesOverAnActor(t *testing.T) {
	host := newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		if inv.GetActionName() == "set" {
			return reply(inv, inputAny(inv), nil), nil
		}
		return echo(inv), nil
	})
	v := newEnv(t, host)
	v.register(
		newActor("joe", stateful, actions("set")),
		newActor("tmpl", stateful, kind(protocol.Kind_UNNAMED), actions("set")),
		newActor("other", stateful, kind(protocol.Kind_UNNAMED), actions("set")),
	)
	v.invoke(req("joe", "set", str("joe's")))
	if _, err := v.e.Spawn(context.Background(), spawnReq(instanceID("i1", "tmpl")), 0); err != nil {
		t.Fatal(err)
	}
	v.invoke(req("i1", "set", str("i1's")))

	refused := []struct {
		name string
		do   func() error
		msg  string
	}{
		{"spawn over a named actor", func() error {
			_, err := v.e.Spawn(context.Background(), spawnReq(instanceID("joe", "tmpl")), 0)
			return err
		}, "registered actor"},
		{"spawn over a template", func() error {
			_, err := v.e.Spawn(context.Background(), spawnReq(instanceID("other", "tmpl")), 0)
			return err
		}, "registered actor"},
		{"spawn over another template's instance", func() error {
			_, err := v.e.Spawn(context.Background(), spawnReq(instanceID("i1", "other")), 0)
			return err
		}, `already an instance of "tmpl"`},
		{"spawn from a named actor", func() error {
			_, err := v.e.Spawn(context.Background(), spawnReq(instanceID("fresh", "joe")), 0)
			return err
		}, "only UNNAMED"},
		{"one bad id refuses the whole request", func() error {
			_, err := v.e.Spawn(context.Background(), spawnReq(instanceID("fresh", "tmpl"), instanceID("joe", "tmpl")), 0)
			return err
		}, "registered actor"},
		{"one name from two templates", func() error {
			_, err := v.e.Spawn(context.Background(), spawnReq(instanceID("fresh", "tmpl"), instanceID("fresh", "other")), 0)
			return err
		}, "both"},
		{"register_ref on a named actor", func() error {
			r := req("joe", "set", str("taken"))
			r.RegisterRef = "tmpl"
			_, err := v.e.Invoke(context.Background(), r)
			return err
		}, "registered actor"},
		{"register_ref on another template's instance", func() error {
			r := req("i1", "set", str("taken"))
			r.RegisterRef = "other"
			_, err := v.e.Invoke(context.Background(), r)
			return err
		}, `already an instance of "tmpl"`},
		{"register_ref naming a named actor", func() error {
			r := req("fresh", "set", str("taken"))
			r.RegisterRef = "joe"
			_, err := v.e.Invoke(context.Background(), r)
			return err
		}, "only UNNAMED"},
	}
	for _, c := range refused {
		wantStatus(t, c.do(), protocol.Status_ERROR, c.msg)
	}

	// Nothing changed: each actor answers from its own definition, with
	// its own state under its own key, and nothing was spawned.
	for name, want := range map[string]string{"joe": "joe's", "i1": "i1's"} {
		if got := payloadOf(t, v.invoke(req(name, "get", nil))); got != want {
			t.Errorf("%s holds %q, want %q", name, got, want)
		}
	}
	v.invoke(req("joe", "set", str("joe's 2")))
	v.invoke(req("i1", "set", str("i1's 2")))
	for name, parent := range map[string]string{"joe": "", "i1": "tmpl"} {
		calls := v.host.matching(called(name, "set"))
		if got := calls[len(calls)-1].GetActor().GetParent(); got != parent {
			t.Errorf("%s was last called with parent %q, want %q", name, got, parent)
		}
	}
	_, err := v.e.Invoke(context.Background(), req("fresh", "set", nil))
	wantStatus(t, err, protocol.Status_ACTOR_NOT_FOUND, "fresh")
}

// A spawned instance that deactivates leaves nothing behind but its stored
// state: no registry entry, timer or subscription. register_ref or a spawn
// brings it back, with its state. Instances spawned and never used are
// forgotten after their template's deactivation timeout; a template that
// never deactivates keeps them.
func TestInstanceForgottenAtDeactivation(t *testing.T) {
	host := newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		if inv.GetActionName() == "set" {
			return reply(inv, inputAny(inv), nil), nil
		}
		return echo(inv), nil
	})
	v := newEnv(t, host)
	v.register(
		newActor("tmpl", stateful, kind(protocol.Kind_UNNAMED), actions("set", "hear"),
			deactivateAfter(1000), channel("news", "hear"), timerAction("tick", 3_600_000)),
		newActor("forever", kind(protocol.Kind_UNNAMED), actions("hi")),
	)
	r := req("i1", "set", str("kept"))
	r.RegisterRef = "tmpl"
	v.invoke(r)
	if v.held() == (held{}) {
		t.Fatal("nothing held for an active instance")
	}
	v.waitIdle("i1")
	v.clock.Advance(time.Second)
	waitFor(t, "i1 to deactivate", func() bool { return !v.active("i1") })
	if h := v.held(); h != (held{}) {
		t.Fatalf("a deactivated instance left %+v behind", h)
	}
	if _, err := v.e.Invoke(context.Background(), req("i1", "get", nil)); err == nil {
		t.Fatal("a forgotten instance still answers by its bare name")
	}
	r = req("i1", "get", nil)
	r.RegisterRef = "tmpl"
	if got := payloadOf(t, v.invoke(r)); got != "kept" {
		t.Fatalf("i1 came back holding %q, want its stored state", got)
	}

	var ids []*protocol.ActorId
	for i := range 1000 {
		ids = append(ids, instanceID(fmt.Sprint("idle-", i), "tmpl"), instanceID(fmt.Sprint("kept-", i), "forever"))
	}
	if _, err := v.e.Spawn(context.Background(), spawnReq(ids...), 0); err != nil {
		t.Fatal(err)
	}
	v.waitIdle("i1")
	v.clock.Advance(time.Second) // i1 deactivates, the idle spawns expire
	waitFor(t, "the unused instances to be forgotten", func() bool {
		return v.held().instances == 1000 && !v.active("i1")
	})
	v.invoke(req("kept-7", "hi", nil))
}

// held counts what the engine keeps for actors.
type held struct {
	instances, cells, timers, subscribed, topics int
}

func (v *env) held() held {
	v.e.mu.Lock()
	defer v.e.mu.Unlock()
	return held{len(v.e.instances), len(v.e.cells), len(v.e.timers), len(v.e.subscribed), len(v.e.topics)}
}
