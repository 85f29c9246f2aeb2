package runtime

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/state"
)

// historyHost is the host of the revision tests. "set" makes its input
// the state, with a checkpoint; "put" does the same without one; "init"
// counts activations in a tag and keeps the state; "peek" answers the
// revision its context carries. Every call's revision is recorded.
type historyHost struct {
	*fakeHost
	mu   sync.Mutex
	revs map[string][]int64 // action → revisions seen
}

func newHistoryHost() *historyHost {
	h := &historyHost{revs: map[string][]int64{}}
	h.fakeHost = newHost(func(ctx context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		rev, ok := InvocationRevision(ctx)
		if !ok {
			rev = -1
		}
		h.mu.Lock()
		h.revs[inv.GetActionName()] = append(h.revs[inv.GetActionName()], rev)
		h.mu.Unlock()
		switch inv.GetActionName() {
		case "set", "put":
			r := reply(inv, inv.GetValue(), nil)
			r.Checkpoint = inv.GetActionName() == "set"
			return r, nil
		}
		return echo(inv), nil
	})
	return h
}

func (h *historyHost) seen(action string) []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.revs[action])
}

func id(name string) *protocol.ActorId { return &protocol.ActorId{Name: name, System: sys} }

func (v *env) current(name string) CurrentState {
	v.t.Helper()
	cur, err := v.e.CurrentState(context.Background(), id(name))
	if err != nil {
		v.t.Fatalf("CurrentState(%s): %v", name, err)
	}
	return cur
}

func (v *env) revisions(actor *protocol.ActorId) []int64 {
	v.t.Helper()
	list, err := v.e.Revisions(context.Background(), actor)
	if err != nil {
		v.t.Fatalf("Revisions(%s): %v", actor.GetName(), err)
	}
	var out []int64
	for _, r := range list {
		out = append(out, r.Revision)
	}
	return out
}

func (v *env) set(name, action, value string) {
	v.t.Helper()
	v.invoke(req(name, action, str(value)))
}

func checkCurrent(t testing.TB, cur CurrentState, value string, rev int64, unsaved bool) {
	t.Helper()
	if got := anyStr(cur.State); got != value || cur.Revision != rev || cur.Unsaved != unsaved {
		t.Errorf("current state = %q at revision %d, unsaved %v; want %q at %d, unsaved %v", got, cur.Revision, cur.Unsaved, value, rev, unsaved)
	}
}

// The first save of a state is revision 1, each save one more; callers see
// the revision with the state, and actions in their context.
func TestRevisionsAreVisible(t *testing.T) {
	h := newHistoryHost()
	v := newEnv(t, h.fakeHost)
	v.register(newActor("a", stateful, actions("set", "put", "init", "peek"), snapshotEvery(1000)))
	checkCurrent(t, v.current("a"), "", 0, false)
	v.set("a", "set", "one")
	checkCurrent(t, v.current("a"), "one", 1, false)
	v.set("a", "put", "two") // write-behind: not saved yet
	checkCurrent(t, v.current("a"), "two", 1, true)
	v.clock.Advance(time.Second) // the snapshot saves it
	v.idle()
	checkCurrent(t, v.current("a"), "two", 2, false)
	v.invoke(req("a", "peek", nil))
	if got, want := h.seen("set"), []int64{0}; !slices.Equal(got, want) {
		t.Errorf("set saw revisions %v, want %v", got, want)
	}
	if got, want := h.seen("put"), []int64{1}; !slices.Equal(got, want) {
		t.Errorf("put saw revisions %v, want %v", got, want)
	}
	if got, want := h.seen("peek"), []int64{2}; !slices.Equal(got, want) {
		t.Errorf("peek saw revisions %v, want %v", got, want)
	}
	if got, want := h.seen("init"), []int64{0}; !slices.Equal(got, want) {
		t.Errorf("init saw revisions %v, want %v", got, want)
	}
	if got := v.revisions(id("a")); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("revisions = %v, want [1 2]", got)
	}
}

// The revisions are listed with the time they were written, by the
// engine's clock, and their size; reading one does not change anything.
func TestRevisionsListAndRead(t *testing.T) {
	v := newEnv(t, newHistoryHost().fakeHost)
	v.register(newActor("a", stateful, actions("set")), newActor("stateless", actions("set")))
	v.set("a", "set", "one")
	v.clock.Advance(time.Minute)
	v.set("a", "set", "three")
	list, err := v.e.Revisions(context.Background(), id("a"))
	if err != nil {
		t.Fatal(err)
	}
	want := []RevisionInfo{{Revision: 1, SavedAt: epoch, Size: len(str("one").GetValue())}, {Revision: 2, SavedAt: epoch.Add(time.Minute), Size: len(str("three").GetValue())}}
	if !slices.EqualFunc(list, want, func(a, b RevisionInfo) bool {
		return a.Revision == b.Revision && a.SavedAt.Equal(b.SavedAt) && a.Size == b.Size
	}) {
		t.Errorf("Revisions = %+v, want %+v", list, want)
	}
	st, err := v.e.StateAt(context.Background(), id("a"), 1)
	if err != nil || anyStr(st.GetState()) != "one" {
		t.Errorf("StateAt(1) = %v, %v; want one", st, err)
	}
	_, err = v.e.StateAt(context.Background(), id("a"), 7)
	wantStatus(t, err, protocol.Status_ACTOR_NOT_FOUND, "keeps revisions 1 to 2")
	_, err = v.e.StateAt(context.Background(), id("a"), 0)
	wantStatus(t, err, protocol.Status_ERROR, "numbered from 1")
	checkCurrent(t, v.current("a"), "three", 2, false)

	_, err = v.e.Revisions(context.Background(), id("stateless"))
	wantStatus(t, err, protocol.Status_ERROR, "not stateful")
	_, err = v.e.Revisions(context.Background(), id("ghost"))
	wantStatus(t, err, protocol.Status_ACTOR_NOT_FOUND, "nothing is stored")

	// An actor no longer registered still lists what is stored for it.
	gone := state.Key{System: sys, Name: "gone", Parent: "tmpl"}
	if err := v.store.Save(context.Background(), gone, state.Record{Revision: 4, Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if got := v.revisions(&protocol.ActorId{Name: "gone", System: sys, Parent: "tmpl"}); !slices.Equal(got, []int64{4}) {
		t.Errorf("revisions of an unregistered instance = %v, want [4]", got)
	}
}

// Restoring an active actor takes effect at once: the state it held is
// kept as a revision, the restored one becomes the next, and the actor is
// activated again from it, init included. Calls queued before the restore
// see the state before it.
func TestRestoreActiveActor(t *testing.T) {
	h := newHistoryHost()
	v, rec := newObservedEnv(t, h.fakeHost)
	v.register(newActor("a", stateful, actions("set", "put", "init")))
	v.set("a", "set", "one")
	v.set("a", "set", "two")
	v.set("a", "put", "three") // not saved yet
	if err := v.e.Restore(context.Background(), id("a"), 1); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	checkCurrent(t, v.current("a"), "one", 4, false)
	if got := v.revisions(id("a")); !slices.Equal(got, []int64{1, 2, 3, 4}) {
		t.Errorf("revisions = %v, want [1 2 3 4]: the unsaved state is kept as 3", got)
	}
	if st, _ := v.e.StateAt(context.Background(), id("a"), 3); anyStr(st.GetState()) != "three" {
		t.Errorf("revision 3 holds %q, want the state before the restore", anyStr(st.GetState()))
	}
	if got := h.seen("init"); !slices.Equal(got, []int64{0, 4}) {
		t.Errorf("init ran with revisions %v, want [0 4]: at activation and again at the restore", got)
	}
	v.set("a", "set", "five")
	checkCurrent(t, v.current("a"), "five", 5, false)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var restores []int64
	for _, s := range rec.saved {
		if s.Cause == SavedByRestore {
			restores = append(restores, s.Revision)
		}
	}
	if !slices.Equal(restores, []int64{3, 4}) {
		t.Errorf("saves by the restore = %v, want [3 4]", restores)
	}
	if len(rec.active) != 2 || rec.active[1].Revision != 4 {
		t.Errorf("activations = %+v, want a second one at revision 4", rec.active)
	}
}

// An actor that is not active is activated from the restored revision,
// its init action running once.
func TestRestoreInactiveActor(t *testing.T) {
	h := newHistoryHost()
	v := newEnv(t, h.fakeHost)
	v.register(newActor("a", stateful, actions("set", "init"), deactivateAfter(1000)))
	v.set("a", "set", "one")
	v.set("a", "set", "two")
	v.waitIdle("a")
	v.clock.Advance(time.Second)
	v.idle()
	if v.active("a") {
		t.Fatal("a is still active")
	}
	if err := v.e.Restore(context.Background(), id("a"), 1); err != nil {
		t.Fatal(err)
	}
	checkCurrent(t, v.current("a"), "one", 3, false)
	if got := h.seen("init"); !slices.Equal(got, []int64{0, 3}) {
		t.Errorf("init ran with revisions %v, want [0 3]", got)
	}
}

// A failed restore says why and changes nothing.
func TestRestoreErrors(t *testing.T) {
	v := newEnv(t, newHistoryHost().fakeHost)
	v.register(newActor("a", stateful, actions("set")), newActor("stateless", actions("set")))
	v.set("a", "set", "one")
	v.set("a", "set", "two")
	for _, tt := range []struct {
		actor  string
		rev    int64
		status protocol.Status
		says   string
	}{
		{"a", 3, protocol.Status_ACTOR_NOT_FOUND, "has no revision 3: it keeps revisions 1 to 2"},
		{"a", 0, protocol.Status_ERROR, "numbered from 1"},
		{"stateless", 1, protocol.Status_ERROR, "not stateful"},
		{"ghost", 1, protocol.Status_ACTOR_NOT_FOUND, "not found"},
	} {
		err := v.e.Restore(context.Background(), id(tt.actor), tt.rev)
		wantStatus(t, err, tt.status, tt.says)
	}
	checkCurrent(t, v.current("a"), "two", 2, false)
	if got := v.revisions(id("a")); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("revisions = %v, want [1 2]", got)
	}

	// A restore whose save fails is not applied.
	store := &failingStore{Memory: state.NewMemory()}
	e, err := New(Options{Host: newHistoryHost().fakeHost, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	w := &env{t: t, e: e}
	w.register(newActor("a", stateful, actions("set")))
	w.set("a", "set", "one")
	w.set("a", "set", "two")
	store.fail.Store(true)
	err = e.Restore(context.Background(), id("a"), 1)
	wantStatus(t, err, protocol.Status_ERROR, "not applied")
	store.fail.Store(false)
	checkCurrent(t, w.current("a"), "two", 2, false)
}

// Instances of unnamed actors are restored too, even once forgotten.
func TestRestoreInstance(t *testing.T) {
	v := newEnv(t, newHistoryHost().fakeHost)
	v.register(newActor("tmpl", stateful, kind(protocol.Kind_UNNAMED), actions("set"), deactivateAfter(1000)))
	inst := &protocol.ActorId{Name: "i", System: sys, Parent: "tmpl"}
	for _, s := range []string{"one", "two"} {
		r := req("i", "set", str(s))
		r.RegisterRef = "tmpl"
		v.invoke(r)
	}
	if err := v.e.Restore(context.Background(), inst, 1); err != nil {
		t.Fatalf("Restore of an active instance: %v", err)
	}
	checkCurrent(t, v.current("i"), "one", 3, false)
	v.waitIdle("i")
	v.clock.Advance(time.Second) // deactivated, and forgotten
	v.idle()
	if _, err := v.e.CurrentState(context.Background(), id("i")); !isNotFound(err) {
		t.Fatalf("the instance is not forgotten: %v", err)
	}
	if got := v.revisions(inst); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("revisions of the forgotten instance = %v, want [1 2 3]", got)
	}
	if err := v.e.Restore(context.Background(), inst, 2); err != nil {
		t.Fatalf("Restore of a forgotten instance: %v", err)
	}
	checkCurrent(t, v.current("i"), "two", 4, false)
}

// A spawn asking for a revision restores an active instance at once, and
// refuses a revision that is not stored before changing anything.
func TestSpawnRevisionOfActiveInstance(t *testing.T) {
	v := newEnv(t, newHistoryHost().fakeHost)
	v.register(newActor("tmpl", stateful, kind(protocol.Kind_UNNAMED), actions("set")))
	spawn := &protocol.SpawnRequest{Actors: []*protocol.ActorId{{Name: "i", System: sys, Parent: "tmpl"}}}
	if _, err := v.e.Spawn(context.Background(), spawn, 0); err != nil {
		t.Fatal(err)
	}
	v.set("i", "set", "one")
	v.set("i", "set", "two")
	if _, err := v.e.Spawn(context.Background(), spawn, 1); err != nil {
		t.Fatalf("Spawn with revision 1: %v", err)
	}
	checkCurrent(t, v.current("i"), "one", 3, false)
	_, err := v.e.Spawn(context.Background(), spawn, 9)
	wantStatus(t, err, protocol.Status_ACTOR_NOT_FOUND, "no revision 9")
	// A spawn that would take another actor's place says so, revision or not.
	v.register(newActor("named", stateful, actions("set")), newActor("tmpl", stateful, kind(protocol.Kind_UNNAMED), actions("set")))
	_, err = v.e.Spawn(context.Background(), &protocol.SpawnRequest{Actors: []*protocol.ActorId{{Name: "named", System: sys, Parent: "tmpl"}}}, 1)
	wantStatus(t, err, protocol.Status_ERROR, "a registered actor has that name")
	checkCurrent(t, v.current("i"), "one", 3, false)
	// Not restored again at the next activation.
	v.e.mu.Lock()
	pending := v.e.instances[actorKey{name: "i", system: sys}].revision
	v.e.mu.Unlock()
	if pending != 0 {
		t.Errorf("revision %d still pending after the restore", pending)
	}
}

// SetState gives an actor a state as if it had been stored so.
func TestSetState(t *testing.T) {
	h := newHistoryHost()
	v := newEnv(t, h.fakeHost)
	v.register(
		newActor("a", stateful, actions("set", "init")),
		newActor("mem", actions("set")),
		newActor("none", noState, actions("set")),
		newActor("p", pool(1, 4), actions("set")),
	)
	tags := map[string]string{"k": "v"}
	if err := v.e.SetState(context.Background(), id("a"), &protocol.ActorState{State: str("preset"), Tags: tags}); err != nil {
		t.Fatal(err)
	}
	cur := v.current("a")
	checkCurrent(t, cur, "preset", 1, false)
	if cur.Tags["k"] != "v" {
		t.Errorf("tags = %v, want %v", cur.Tags, tags)
	}
	if got := h.seen("init"); !slices.Equal(got, []int64{1}) {
		t.Errorf("init ran with revisions %v, want [1]: once, on the preset state", got)
	}
	if err := v.e.SetState(context.Background(), id("mem"), &protocol.ActorState{State: str("kept")}); err != nil {
		t.Fatal(err)
	}
	checkCurrent(t, v.current("mem"), "kept", 0, false)
	err := v.e.SetState(context.Background(), id("none"), &protocol.ActorState{State: str("x")})
	wantStatus(t, err, protocol.Status_ERROR, "keeps no state")
	err = v.e.SetState(context.Background(), id("p"), &protocol.ActorState{State: str("x")})
	wantStatus(t, err, protocol.Status_ERROR, "POOLED")
	err = v.e.SetState(context.Background(), id("a"), &protocol.ActorState{})
	wantStatus(t, err, protocol.Status_ERROR, "a state to save is needed")
	err = v.e.SetState(context.Background(), id("ghost"), &protocol.ActorState{State: str("x")})
	wantStatus(t, err, protocol.Status_ACTOR_NOT_FOUND, "not found")
}

// A restore whose caller gives up while it waits in the mailbox is
// dropped, and says so.
func TestRestoreDroppedWhileQueued(t *testing.T) {
	entered, release := make(chan string, 8), make(chan struct{})
	blocking := blockingHost(entered, release)
	v := newEnv(t, newHost(func(ctx context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		if inv.GetActionName() == "set" {
			r := reply(inv, inv.GetValue(), nil)
			r.Checkpoint = true
			return r, nil
		}
		return blocking.Call(ctx, inv)
	}))
	v.register(newActor("a", stateful, actions("set", "slow")))
	v.set("a", "set", "one")
	v.set("a", "set", "two")
	slow := req("a", "slow", nil)
	slow.Async = true
	v.invoke(slow)
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := v.e.Restore(ctx, id("a"), 1)
	wantStatus(t, err, protocol.Status_ERROR, "not applied")
	close(release)
	checkCurrent(t, v.current("a"), "two", 2, false)
}
