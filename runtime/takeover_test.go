package runtime

import (
	"context"
	"fmt"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime/clocktest"
	"github.com/spawn-go/spawn/state"
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

// An invocation with register_ref that arrives while its instance is
// saving its state at deactivation, after which the instance is
// forgotten, waits for the save, then spawns the instance again and runs
// on the saved state: register_ref never answers ACTOR_NOT_FOUND for an
// instance of a registered template. (Found by cmd/spawn's
// TestReliabilityLoad: 64 callers over 1,000 instances that deactivate
// between their calls.)
func TestRegisterRefDuringDeactivation(t *testing.T) {
	store := &blockingSaves{Memory: state.NewMemory(), armed: make(chan struct{}), saving: make(chan struct{}), release: make(chan struct{})}
	clock := clocktest.New(epoch)
	e, err := New(Options{Host: setHost(false), Store: store, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	defer e.Close(ctx)
	v := &env{t: t, e: e, clock: clock}
	v.register(newActor("tmpl", stateful, kind(protocol.Kind_UNNAMED), deactivateAfter(1000), actions("set")))
	ref := func(action string, payload *anypb.Any) *protocol.InvocationRequest {
		r := req("i1", action, payload)
		r.RegisterRef = "tmpl"
		return r
	}
	v.invoke(ref("set", str("saved at deactivation")))
	v.waitIdle("i1")
	close(store.armed)
	advanced := make(chan struct{})
	go func() {
		clock.Advance(time.Second) // deactivates; blocks in Save
		close(advanced)
	}()
	<-store.saving

	type answer struct {
		resp *protocol.InvocationResponse
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := e.Invoke(ctx, ref("get", nil))
		got <- answer{resp, err}
	}()
	waitFor(t, "the invocation to wait for the deactivating instance", func() bool {
		return goroutineWaitingIn("runtime.(*Engine).deliver(")
	})
	close(store.release)
	a := <-got
	if a.err != nil {
		t.Fatalf("register_ref during the deactivation: %v", a.err)
	}
	if s := payloadOf(t, a.resp); s != "saved at deactivation" {
		t.Fatalf("after reactivation: %q", s)
	}
	<-advanced
}

// goroutineWaitingIn reports whether a goroutine blocked on a channel is
// in the function named fn.
func goroutineWaitingIn(fn string) bool {
	var b strings.Builder
	_ = pprof.Lookup("goroutine").WriteTo(&b, 2)
	for _, g := range strings.Split(b.String(), "\n\n") {
		header, _, _ := strings.Cut(g, "\n")
		if strings.Contains(header, "chan receive") && strings.Contains(g, fn) {
			return true
		}
	}
	return false
}
