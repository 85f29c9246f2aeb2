package runtime

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/internal/version"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime/clocktest"
	"github.com/spawn-go/spawn/state"
)

func TestNewRequiresHostAndStore(t *testing.T) {
	if _, err := New(Options{Store: state.NewMemory()}); err == nil {
		t.Error("New without Host: no error")
	}
	if _, err := New(Options{Host: newHost(nil)}); err == nil {
		t.Error("New without Store: no error")
	}
}

func TestRegisterResponse(t *testing.T) {
	v := newEnv(t, newHost(nil))
	resp, err := v.e.Register(context.Background(), registration(newActor("a")))
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetStatus().GetStatus() != protocol.Status_OK || resp.GetStatus().GetMessage() != "Accepted" {
		t.Errorf("status = %v", resp.GetStatus())
	}
	if pi := resp.GetProxyInfo(); pi.GetProtocolMajorVersion() != 1 || pi.GetProtocolMinorVersion() != 2 {
		t.Errorf("proxy_info = %v, want protocol 1.2", pi)
	}
	// The module's version, as spawn proxy announces it; "devel" in tests.
	if pv := resp.GetProxyInfo().GetProxyVersion(); pv != version.Module() || pv == "runtime" {
		t.Errorf("proxy_version = %q, want the module's version %q", pv, version.Module())
	}
}

// Eager activation: stateful actors with metadata that are neither UNNAMED
// nor POOLED are activated (init run) right after Register; all others on
// their first invocation, which then runs init first.
func TestActivationEagerOrLazy(t *testing.T) {
	tests := []struct {
		name    string
		opts    []actorOpt
		eager   bool
		unnamed bool // lazy, called through an instance
	}{
		{"stateful named with metadata", []actorOpt{stateful, withMetadata}, true, false},
		{"stateful unknown kind with metadata", []actorOpt{stateful, withMetadata, kind(protocol.Kind_UNKNOW_KIND)}, true, false},
		{"stateful task with metadata", []actorOpt{stateful, withMetadata, kind(protocol.Kind_TASK)}, true, false},
		{"stateful named without metadata", []actorOpt{stateful}, false, false},
		{"stateless named with metadata", []actorOpt{withMetadata}, false, false},
		{"stateful unnamed with metadata", []actorOpt{stateful, withMetadata, kind(protocol.Kind_UNNAMED)}, false, true},
		{"stateless pooled with metadata", []actorOpt{withMetadata, pool(0, 2)}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newEnv(t, newHost(nil))
			v.register(newActor("a", append(tt.opts, actions("Setup", "init", "go"))...))
			if tt.eager {
				inits := v.host.waitN(t, 1, called("a", "Setup"))
				checkInit(t, inits[0])
				v.invoke(req("a", "go", nil))
				if n := len(v.host.matching(called("a", "Setup"))); n != 1 {
					t.Errorf("init ran %d times, want once", n)
				}
				return
			}
			if got := v.host.matching(nil); len(got) != 0 {
				t.Fatalf("host called before any invocation: %v", got)
			}
			r := req("a", "go", nil)
			if tt.unnamed {
				// An unnamed actor is a template: call an instance of it.
				r = req("a1", "go", nil)
				r.RegisterRef = "a"
			}
			v.invoke(r)
			calls := v.host.matching(nil)
			if len(calls) != 2 || calls[0].GetActionName() != "Setup" || calls[1].GetActionName() != "go" {
				t.Fatalf("calls = %v, want Setup then go", calls)
			}
			if !tt.unnamed { // an instance's init is checked in instance tests
				checkInit(t, calls[0])
			}
		})
	}
}

// checkInit checks the init invocation of docs/protocol.md §6.2: noop
// payload, empty metadata, caller = self.
func checkInit(t *testing.T, inv *protocol.ActorInvocation) {
	t.Helper()
	self := &protocol.ActorId{Name: inv.GetActor().GetName(), System: sys}
	if _, ok := inv.GetPayload().(*protocol.ActorInvocation_Noop); !ok {
		t.Errorf("init payload = %T, want noop", inv.GetPayload())
	}
	if len(inv.GetCurrentContext().GetMetadata()) != 0 {
		t.Errorf("init metadata = %v, want none", inv.GetCurrentContext().GetMetadata())
	}
	if !proto.Equal(inv.GetCaller(), inv.GetActor()) || !proto.Equal(inv.GetCurrentContext().GetCaller(), inv.GetActor()) {
		t.Errorf("init caller = %v / %v, want the actor %v", inv.GetCaller(), inv.GetCurrentContext().GetCaller(), inv.GetActor())
	}
	if !proto.Equal(inv.GetCurrentContext().GetSelf(), self) {
		t.Errorf("init self = %v, want %v", inv.GetCurrentContext().GetSelf(), self)
	}
}

func TestInitStateAndTagsApplied(t *testing.T) {
	host := newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		if inv.GetActionName() == "init" {
			r := reply(inv, str("from init"), str("ignored payload"))
			r.UpdatedContext.Tags = map[string]string{"phase": "ready"}
			// A workflow from init is ignored.
			r.Workflow = &protocol.Workflow{Routing: &protocol.Workflow_Forward{Forward: &protocol.Forward{Actor: "nobody", ActionName: "x"}}}
			return r, nil
		}
		return echo(inv), nil
	})
	v := newEnv(t, host)
	v.register(newActor("a", actions("init")))
	st := v.state("a")
	if strOf(t, st.GetState()) != "from init" || st.GetTags()["phase"] != "ready" {
		t.Errorf("state after init = %v", st)
	}
}

func TestRegisterRejectsInvalidActors(t *testing.T) {
	tests := []struct {
		name  string
		actor *protocol.Actor
		want  string
	}{
		{"timer period zero", newActor("a", timerAction("tick", 0)), "milliseconds"},
		{"timer period negative", newActor("a", timerAction("tick", -5)), "milliseconds"},
		{"timer without action name", newActor("a", timerAction("", 10)), "timer action"},
		{"snapshot timeout zero", newActor("a", stateful, snapshotEvery(0)), "snapshot_strategy"},
		{"deactivation timeout zero", newActor("a", deactivateAfter(0)), "deactivation_strategy"},
		{"no settings", func() *protocol.Actor { a := newActor("a"); a.Settings = nil; return a }(), "settings"},
		{"no system", func() *protocol.Actor { a := newActor("a"); a.Id.System = ""; return a }(), "id.system"},
		{"stateful pooled", newActor("a", stateful, pool(1, 2)), "POOLED"},
		{"channel without topic", newActor("a", channel("", "x")), "topic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newEnv(t, newHost(nil))
			ok := newActor("fine")
			_, err := v.e.Register(context.Background(), registration(ok, tt.actor))
			wantStatus(t, err, protocol.Status_ERROR, tt.want)
			// All or nothing: the valid actor was not registered either.
			_, err = v.e.Invoke(context.Background(), req("fine", "get", nil))
			wantStatus(t, err, protocol.Status_ACTOR_NOT_FOUND, "")
		})
	}
	t.Run("no registry", func(t *testing.T) {
		v := newEnv(t, newHost(nil))
		_, err := v.e.Register(context.Background(), &protocol.RegistrationRequest{ServiceInfo: &protocol.ServiceInfo{}})
		wantStatus(t, err, protocol.Status_ERROR, "registry")
	})
	// Two entries that define one actor differently: which one would
	// stand depended on the order of their keys. (Found by cmd/spawn's
	// TestReliabilityBadInput: it was accepted.)
	t.Run("an actor twice", func(t *testing.T) {
		v := newEnv(t, newHost(nil))
		r := registration(newActor("fine"), newActor("a", actions("one")))
		r.ActorSystem.Registry.Actors["b"] = newActor("a", actions("two"))
		_, err := v.e.Register(context.Background(), r)
		wantStatus(t, err, protocol.Status_ERROR, `actor "a" is registered twice, by registry entries "a" and "b"`)
		_, err = v.e.Invoke(context.Background(), req("fine", "get", nil))
		wantStatus(t, err, protocol.Status_ACTOR_NOT_FOUND, "")
	})
}

// Re-registering changes the definition for the next activation only.
func TestReregisterKeepsRunningDefinition(t *testing.T) {
	v := newEnv(t, newHost(nil))
	v.register(newActor("a", actions("old"), deactivateAfter(1000)))
	v.invoke(req("a", "old", nil))
	v.register(newActor("a", actions("new"), deactivateAfter(1000)))

	_, err := v.e.Invoke(context.Background(), req("a", "new", nil))
	wantStatus(t, err, protocol.Status_ACTOR_NOT_FOUND, "not found")

	v.waitIdle("a")
	v.clock.Advance(time.Second) // deactivates
	if v.active("a") {
		t.Fatal("actor still active after its deactivation timeout")
	}
	v.invoke(req("a", "new", nil))
}

func TestSpawn(t *testing.T) {
	v := newEnv(t, newHost(nil))
	v.register(newActor("tmpl", stateful, withMetadata, kind(protocol.Kind_UNNAMED), actions("hi")))

	resp, err := v.e.Spawn(context.Background(), &protocol.SpawnRequest{Actors: []*protocol.ActorId{{Name: "i1", System: sys, Parent: "tmpl"}}}, 0)
	if err != nil || resp.GetStatus().GetStatus() != protocol.Status_OK {
		t.Fatalf("Spawn = %v, %v", resp, err)
	}
	if calls := v.host.matching(nil); len(calls) != 0 {
		t.Fatalf("spawn activated something: %v", calls)
	}
	v.invoke(req("i1", "hi", nil))
	inv := v.host.waitN(t, 1, called("i1", "hi"))[0]
	want := &protocol.ActorId{Name: "i1", System: sys, Parent: "tmpl"}
	if !proto.Equal(inv.GetActor(), want) || !proto.Equal(inv.GetCurrentContext().GetSelf(), want) {
		t.Errorf("actor = %v, self = %v, want %v", inv.GetActor(), inv.GetCurrentContext().GetSelf(), want)
	}

	_, err = v.e.Spawn(context.Background(), &protocol.SpawnRequest{Actors: []*protocol.ActorId{
		{Name: "i2", System: sys, Parent: "tmpl"},
		{Name: "i3", System: sys, Parent: "missing"},
	}}, 0)
	wantStatus(t, err, protocol.Status_ACTOR_NOT_FOUND, "missing")
	_, err = v.e.Invoke(context.Background(), req("i2", "hi", nil))
	wantStatus(t, err, protocol.Status_ACTOR_NOT_FOUND, "") // all or nothing
}

// A spawn revision is restored at the instance's next activation, and later
// saves continue after the latest revision.
func TestSpawnRevisionRestore(t *testing.T) {
	host := newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		if inv.GetActionName() == "set" {
			r := reply(inv, inputAny(inv), nil)
			r.Checkpoint = true
			return r, nil
		}
		return echo(inv), nil
	})
	store := state.NewMemory()
	tmpl := newActor("tmpl", stateful, kind(protocol.Kind_UNNAMED), actions("set"))
	v := newEnvWith(t, host, store, clocktest.New(epoch))
	v.register(tmpl)
	spawn := &protocol.SpawnRequest{Actors: []*protocol.ActorId{{Name: "i", System: sys, Parent: "tmpl"}}}
	if _, err := v.e.Spawn(context.Background(), spawn, 0); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"one", "two"} {
		v.invoke(req("i", "set", str(s)))
	}
	key := state.Key{System: sys, Name: "i", Parent: "tmpl"}
	if rec, err := store.Load(context.Background(), key); err != nil || rec.Revision != 2 || strOf(t, recordState(rec)) != "two" {
		t.Fatalf("latest = %v, %v; want revision 2 holding two", rec, err)
	}
	if err := v.e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	// A new engine on the same store: spawn again asking for revision 1.
	w := newEnvWith(t, host, store, clocktest.New(epoch))
	w.register(tmpl)
	if _, err := w.e.Spawn(context.Background(), spawn, 1); err != nil {
		t.Fatal(err)
	}
	resp := w.invoke(req("i", "get", nil))
	if got := payloadOf(t, resp); got != "one" {
		t.Fatalf("state after restoring revision 1 = %q, want one", got)
	}
	w.invoke(req("i", "set", str("three")))
	if rec, err := store.Load(context.Background(), key); err != nil || rec.Revision != 3 {
		t.Fatalf("latest = %v, %v; want revision 3", rec, err)
	}
	if rec, err := store.LoadRevision(context.Background(), key, 2); err != nil || strOf(t, recordState(rec)) != "two" {
		t.Errorf("revision 2 = %v, %v; want it kept", rec, err)
	}
}

func TestRegisterRef(t *testing.T) {
	v := newEnv(t, newHost(nil))
	v.register(newActor("tmpl", kind(protocol.Kind_UNNAMED), actions("hi")))

	r := req("lazy", "hi", nil)
	r.RegisterRef = "tmpl"
	v.invoke(r)
	inv := v.host.waitN(t, 1, called("lazy", "hi"))[0]
	if inv.GetActor().GetParent() != "tmpl" {
		t.Errorf("actor = %v, want parent tmpl", inv.GetActor())
	}
	v.invoke(r) // idempotent

	r = req("other", "hi", nil)
	r.RegisterRef = "nope"
	_, err := v.e.Invoke(context.Background(), r)
	wantStatus(t, err, protocol.Status_ACTOR_NOT_FOUND, "nope")
}

func inputAny(inv *protocol.ActorInvocation) *anypb.Any {
	return inv.GetValue()
}

// A spawn revision waits for the instance's next activation, and nothing
// else: a stateless instance never restores one, and a re-registration
// replaces the instance's spawn options.
func TestSpawnRevisionNotKept(t *testing.T) {
	store := state.NewMemory()
	if err := store.Save(context.Background(), state.Key{System: sys, Name: "i2", Parent: "stateful"}, state.Record{Revision: 3, TypeURL: "t"}); err != nil {
		t.Fatal(err)
	}
	v := newEnvWith(t, newHost(nil), store, clocktest.New(epoch))
	v.register(
		newActor("stateless", kind(protocol.Kind_UNNAMED), actions("hi")),
		newActor("stateful", stateful, kind(protocol.Kind_UNNAMED), actions("hi")),
	)
	spawn := &protocol.SpawnRequest{Actors: []*protocol.ActorId{
		{Name: "i1", System: sys, Parent: "stateless"},
		{Name: "i2", System: sys, Parent: "stateful"},
	}}
	if _, err := v.e.Spawn(context.Background(), spawn, 3); err != nil {
		t.Fatal(err)
	}
	v.invoke(req("i1", "hi", nil))
	v.register(newActor("i2", stateful, actions("hi")))
	v.e.mu.Lock()
	pending := map[actorKey]int64{}
	for k, s := range v.e.instances {
		if s.revision != 0 {
			pending[k] = s.revision
		}
	}
	v.e.mu.Unlock()
	if len(pending) != 0 {
		t.Errorf("revisions still pending: %v", pending)
	}
}

// TestEagerActorsSubscribedByRegister checks that the actors Register
// activates in the background are subscribed to their channels when it
// returns, so that a broadcast published at once reaches them all.
func TestEagerActorsSubscribedByRegister(t *testing.T) {
	const n = 40 // activated one after the other: the last ones late
	v := newEnv(t, newHost(nil))
	var actors []*protocol.Actor
	for i := range n {
		actors = append(actors, newActor(fmt.Sprintf("a%02d", i), stateful, withMetadata, actions("Hear"), channel("news", "Hear")))
	}
	v.register(actors...)
	topics := v.e.Topics()
	if len(topics) != 1 || topics[0].Topic != "news" || len(topics[0].Subscribers) != n {
		t.Fatalf("right after Register, topics = %+v, want %d subscribers of news", topics, n)
	}
}
