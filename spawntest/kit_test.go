package spawntest_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/testpb"
	"github.com/spawn-go/spawn/spawntest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Bell rings every second and tells the bells channel how often it has.
type Bell struct {
	spawn.Actor `spawn:"name=bell,timer=1s,snapshot=2s,deactivate=10s"`
	State       *testpb.CounterState `spawn:"state"`
}

func (b *Bell) Ring(ctx *spawn.Context, _ spawn.Tick) (spawn.Value, error) {
	b.State.Value++
	return spawn.NoReply().Broadcast("bells", &testpb.Total{Value: b.State.Value}), nil
}

// Add adds without a checkpoint: the change waits for a snapshot.
func (b *Bell) Add(ctx *spawn.Context, in *testpb.Add) (*testpb.Total, error) {
	b.State.Value += in.Delta
	return &testpb.Total{Value: b.State.Value}, nil
}

// Ear hears the bell, and keeps what it heard last.
type Ear struct {
	spawn.Actor `spawn:"name=ear,channel=bells,deactivate=1h"`
	State       *testpb.CounterState `spawn:"state"`
}

func (e *Ear) Init(ctx *spawn.Context) error {
	e.State.Log = append(e.State.Log, "init")
	return nil
}

func (e *Ear) Receive(ctx *spawn.Context, in *testpb.Total) error {
	e.State.Value = in.Value
	return nil
}

// Clerk hands work on: later, elsewhere, or through another actor.
type Clerk struct {
	spawn.Actor `spawn:"name=clerk"`
}

// Later asks the bell to add one in an hour.
func (c *Clerk) Later(ctx *spawn.Context, in *testpb.Add) (spawn.Value, error) {
	return spawn.NoReply().Effect("bell", "Add", in, spawn.Delay(time.Hour)), nil
}

// Pass forwards its input to the bell's Add.
func (c *Clerk) Pass(ctx *spawn.Context, in *testpb.Add) (spawn.Value, error) {
	return spawn.NoReply().Forward("bell", "Add"), nil
}

// Double pipes twice its input to the bell's Add.
func (c *Clerk) Double(ctx *spawn.Context, in *testpb.Add) (spawn.Value, error) {
	return spawn.Reply(&testpb.Add{Delta: 2 * in.Delta}).Pipe("bell", "Add"), nil
}

// Refuse fails.
func (c *Clerk) Refuse(ctx *spawn.Context) error {
	return errRefused
}

var errRefused = &refusal{}

type refusal struct{}

func (*refusal) Error() string { return "refused" }

func count(t *testing.T, k *spawntest.Kit, actor string, opts ...spawn.RouteOption) int64 {
	t.Helper()
	var st testpb.CounterState
	if err := k.State(context.Background(), actor, &st, opts...); err != nil {
		t.Fatal(err)
	}
	return st.Value
}

func TestKitTimersAndBroadcasts(t *testing.T) {
	k := spawntest.NewKit(t, &Bell{}, &Ear{})
	// Ear listens once it is active: stateful named actors are activated
	// when registered.
	if !k.Active("ear") {
		t.Fatal("ear is not active after NewKit")
	}
	start := k.Now()
	k.Advance(3 * time.Second)
	if got := k.Now().Sub(start); got != 3*time.Second {
		t.Errorf("the clock moved %v, want 3s", got)
	}
	rings := k.CallsTo("bell", "Ring")
	if len(rings) != 3 {
		t.Fatalf("bell rang %d times in 3s, want 3: %+v", len(rings), rings)
	}
	for i, r := range rings {
		if r.Origin != "timer" || !r.At.Equal(start.Add(time.Duration(i+1)*time.Second)) || r.Err != nil {
			t.Errorf("ring %d = %+v", i+1, r)
		}
	}
	bs := k.Broadcasts()
	if len(bs) != 3 || bs[2].Topic != "bells" || bs[2].From.Name != "bell" {
		t.Fatalf("broadcasts = %+v", bs)
	}
	var last testpb.Total
	if err := bs[2].Payload.UnmarshalTo(&last); err != nil || last.Value != 3 {
		t.Errorf("last broadcast = %v, %v; want 3", &last, err)
	}
	if heard := k.CallsTo("ear", "Receive"); len(heard) != 3 || heard[0].Origin != "broadcast" || heard[0].Caller.Name != "bell" {
		t.Errorf("ear heard %+v, want 3 broadcasts from bell", heard)
	}
	if n := count(t, k, "ear"); n != 3 {
		t.Errorf("ear heard %d last, want 3", n)
	}
}

func TestKitSnapshotsAndDeactivation(t *testing.T) {
	k := spawntest.NewKit(t, &Bell{})
	ctx := context.Background()
	if _, err := spawn.Call(ctx, k, (*Bell).Add, &testpb.Add{Delta: 10}); err != nil {
		t.Fatal(err)
	}
	var st testpb.CounterState
	if rev, err := k.StateRevision(ctx, "bell", &st); err != nil || rev != 0 {
		t.Fatalf("before the snapshot: revision %d, %v; want 0", rev, err)
	}
	k.Advance(2 * time.Second) // two rings, then the snapshot
	if rev, _ := k.StateRevision(ctx, "bell", &st); rev != 1 || st.Value != 12 {
		t.Errorf("after the snapshot: revision %d holding %d, want 1 holding 12", rev, st.Value)
	}
	revs, err := k.Revisions(ctx, "bell")
	if err != nil || len(revs) != 1 || !revs[0].SavedAt.Equal(k.Now()) {
		t.Errorf("revisions = %+v, %v; want one, saved now by the kit's clock", revs, err)
	}
	// The timer keeps it busy: the bell stays active.
	k.Advance(time.Minute)
	if !k.Active("bell") {
		t.Error("bell deactivated though its timer rings every second")
	}
}

func TestKitDeactivation(t *testing.T) {
	k := spawntest.NewKit(t, &Ear{})
	k.Advance(59 * time.Minute)
	if !k.Active("ear") {
		t.Fatal("ear deactivated before its hour")
	}
	k.Advance(time.Minute)
	if k.Active("ear") {
		t.Fatal("ear still active after an idle hour")
	}
	if inits := k.CallsTo("ear", "Init"); len(inits) != 1 || inits[0].Origin != "init" {
		t.Errorf("Init calls = %+v, want one", inits)
	}
}

func TestKitDelayedCalls(t *testing.T) {
	k := spawntest.NewKit(t, &Bell{}, &Clerk{})
	ctx := context.Background()
	k.Clear()
	if err := k.Invoke(ctx, "clerk", "Later", &testpb.Add{Delta: 5}, nil); err != nil {
		t.Fatal(err)
	}
	fx := k.Effects()
	if len(fx) != 1 || fx[0].To.Name != "bell" || fx[0].Action != "Add" || !fx[0].Due.Equal(k.Now().Add(time.Hour)) {
		t.Fatalf("effects = %+v, want bell.Add in an hour", fx)
	}
	if err := k.Invoke(ctx, "bell", "Add", &testpb.Add{Delta: 100}, nil, spawn.Delay(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	k.Advance(30*time.Minute - time.Second)
	if n := len(k.CallsTo("bell", "Add")); n != 0 {
		t.Fatalf("bell.Add ran %d times before its time", n)
	}
	k.Advance(time.Second)
	adds := k.CallsTo("bell", "Add")
	if len(adds) != 1 || adds[0].Origin != "scheduled" {
		t.Fatalf("bell.Add calls at 30m = %+v, want the delayed call", adds)
	}
	k.Advance(30 * time.Minute)
	if adds := k.CallsTo("bell", "Add"); len(adds) != 2 || adds[1].Origin != "scheduled" {
		t.Fatalf("bell.Add calls at 1h = %+v, want the side effect too", adds)
	}
	if n := count(t, k, "bell"); n != 105+3600 {
		t.Errorf("bell counts %d, want 105 added and 3600 rings", n)
	}
}

func TestKitForwardsPipesAndFailures(t *testing.T) {
	k := spawntest.NewKit(t, &Bell{}, &Clerk{})
	ctx := context.Background()
	var out testpb.Total
	if err := k.Invoke(ctx, "clerk", "Pass", &testpb.Add{Delta: 1}, &out); err != nil || out.Value != 1 {
		t.Fatalf("Pass = %v, %v", &out, err)
	}
	if err := k.Invoke(ctx, "clerk", "Double", &testpb.Add{Delta: 2}, &out); err != nil || out.Value != 5 {
		t.Fatalf("Double = %v, %v", &out, err)
	}
	fwd, pipes := k.Forwards(), k.Pipes()
	var in testpb.Add
	if len(fwd) != 1 || fwd[0].From.Name != "clerk" || fwd[0].To.Name != "bell" || fwd[0].Action != "Add" ||
		fwd[0].Payload.UnmarshalTo(&in) != nil || in.Delta != 1 {
		t.Errorf("forwards = %+v", fwd)
	}
	if len(pipes) != 1 || pipes[0].To.Name != "bell" || pipes[0].Payload.UnmarshalTo(&in) != nil || in.Delta != 4 {
		t.Errorf("pipes = %+v", pipes)
	}
	if origins := originsOf(k.CallsTo("bell", "Add")); !slices.Equal(origins, []string{"forward", "pipe"}) {
		t.Errorf("bell.Add origins = %v", origins)
	}
	if err := k.Invoke(ctx, "clerk", "Refuse", nil, nil); spawn.CodeOf(err) != spawn.CodeAction {
		t.Fatalf("Refuse = %v", err)
	}
	if r := k.CallsTo("clerk", "Refuse"); len(r) != 1 || r[0].Err == nil || r[0].Err.Error() != "refused" {
		t.Errorf("Refuse calls = %+v, want one that failed with its message", r)
	}
}

func originsOf(calls []spawntest.Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Origin)
	}
	return out
}

// Session is an unnamed actor, spawned per session.
type Session struct {
	spawn.Actor `spawn:"name=session,kind=unnamed"`
	State       *testpb.CounterState `spawn:"state"`
}

func (s *Session) Init(ctx *spawn.Context) error {
	s.State.Log = append(s.State.Log, "init")
	return nil
}

func (s *Session) Add(ctx *spawn.Context, in *testpb.Add) (*testpb.Total, error) {
	s.State.Value += in.Delta
	return &testpb.Total{Value: s.State.Value}, nil
}

func TestKitPresetStateAndTags(t *testing.T) {
	k := spawntest.NewKit(t, &Ear{}, &Session{})
	// Ear was activated at registration, and its Init left a mark: that
	// state is saved first, as revision 1, then the preset as 2, and Init
	// runs again on the preset.
	k.SetState("ear", &testpb.CounterState{Value: 41})
	var st testpb.CounterState
	if rev, err := k.StateRevision(context.Background(), "ear", &st); err != nil || rev != 2 || st.Value != 41 ||
		!slices.Equal(st.Log, []string{"init"}) {
		t.Errorf("after SetState: revision %d, %v holding %v; want 2 holding 41 and Init's mark", rev, err, &st)
	}
	k.SetTags("ear", map[string]string{"mood": "calm"})
	if tags := k.Tags("ear"); tags["mood"] != "calm" {
		t.Errorf("tags = %v", tags)
	}
	if n := count(t, k, "ear"); n != 41 {
		t.Errorf("SetTags changed the state: %d", n)
	}

	// An instance of an unnamed actor, spawned by the preset.
	k.SetState("session", &testpb.CounterState{Value: 7}, spawn.Instance("s-1"))
	total, err := spawn.Call(context.Background(), k, (*Session).Add, &testpb.Add{Delta: 1}, spawn.Instance("s-1"))
	if err != nil || total.Value != 8 {
		t.Errorf("s-1 after a preset of 7 and Add(1) = %v, %v; want 8", total, err)
	}
	if tags := k.Tags("session", spawn.Instance("s-2")); len(tags) != 0 {
		t.Errorf("a new instance has tags %v", tags)
	}
}

// Tagger's side effect carries metadata of its own.
type Tagger struct {
	spawn.Actor `spawn:"name=tagger"`
}

func (t *Tagger) Go(ctx *spawn.Context) (spawn.Value, error) {
	return spawn.NoReply().Metadata("order", "7").Effect("tagger", "Done", nil, spawn.WithMetadata("step", "2")), nil
}

func (t *Tagger) Done(ctx *spawn.Context) error { return nil }

func TestKitEffectsCarryTheirMetadata(t *testing.T) {
	k := spawntest.NewKit(t, &Tagger{})
	if err := k.Invoke(context.Background(), "tagger", "Go", nil, nil); err != nil {
		t.Fatal(err)
	}
	fx := k.Effects()
	if len(fx) != 1 || fx[0].Metadata["order"] != "7" || fx[0].Metadata["step"] != "2" {
		t.Fatalf("effects %+v: want one with order=7 and step=2", fx)
	}
}

// Stuck hangs in Hang until the test releases it, whatever its context.
type Stuck struct {
	spawn.Actor `spawn:"name=stuck"`
	Started     chan struct{}
	Release     chan struct{}
}

func (s *Stuck) Hang(ctx *spawn.Context) error {
	s.Started <- struct{}{}
	<-s.Release
	return nil
}

// recordingTB is a testing.TB whose errors and cleanups the test checks
// and runs itself.
type recordingTB struct {
	testing.TB
	errors   []string
	cleanups []func()
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

// TestKitStopReportsAHungAction checks that stopping a kit whose action
// hangs returns (within SettleTimeout) with an error naming the actor,
// from Stop and from the test's cleanup, rather than blocking forever.
func TestKitStopReportsAHungAction(t *testing.T) {
	defer func(d time.Duration) { spawntest.SettleTimeout = d }(spawntest.SettleTimeout)
	spawntest.SettleTimeout = 300 * time.Millisecond
	rt := &recordingTB{TB: t}
	stuck := &Stuck{Started: make(chan struct{}, 1), Release: make(chan struct{})}
	// A logger of its own: the runtime logs about the hung call after the
	// test has returned.
	k := spawntest.NewKit(rt, stuck, spawn.WithLogger(zap.NewNop()))
	if err := k.Invoke(context.Background(), "stuck", "Hang", nil, nil, spawn.Async()); err != nil {
		t.Fatal(err)
	}
	<-stuck.Started

	err := k.Stop(context.Background())
	if err == nil || !strings.Contains(err.Error(), "spawn-system/stuck (1 busy") {
		t.Errorf("Stop with a hung action: %v, want an error naming the actor", err)
	}
	// The test's cleanup reports it too, and returns.
	for i := len(rt.cleanups) - 1; i >= 0; i-- {
		rt.cleanups[i]()
	}
	if len(rt.errors) != 1 || !strings.Contains(rt.errors[0], "stuck") {
		t.Errorf("cleanup errors %q, want one naming the actor", rt.errors)
	}
	// Released, the action ends: nothing leaks (TestMain checks).
	close(stuck.Release)
}
