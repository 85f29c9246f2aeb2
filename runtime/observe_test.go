package runtime

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime/clocktest"
	"github.com/spawn-go/spawn/state"
)

// recorder keeps every event an Observer hears.
type recorder struct {
	mu       sync.Mutex
	invoked  []Invocation
	active   []Activation
	inactive []Deactivation
	saved    []Save
	regs     []Registration
	delayed  []Delayed
}

func (r *recorder) observer() Observer {
	return Observer{
		Invoked:     record(r, &r.invoked),
		Activated:   record(r, &r.active),
		Deactivated: record(r, &r.inactive),
		Saved:       record(r, &r.saved),
		Registered:  record(r, &r.regs),
		Scheduled:   record(r, &r.delayed),
	}
}

func record[E any](r *recorder, list *[]E) func(E) {
	return func(e E) {
		r.mu.Lock()
		*list = append(*list, e)
		r.mu.Unlock()
	}
}

// calls returns the recorded invocations of actor's action.
func (r *recorder) calls(actor, action string) []Invocation {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Invocation
	for _, ev := range r.invoked {
		if ev.Actor.Name == actor && ev.Action == action {
			out = append(out, ev)
		}
	}
	return out
}

// newObservedEnv is newEnv with an Observer that records every event.
func newObservedEnv(t testing.TB, host *fakeHost) (*env, *recorder) {
	t.Helper()
	rec := &recorder{}
	clock := clocktest.New(epoch)
	store := state.NewMemory()
	e, err := New(Options{Host: host, Store: store, Clock: clock, Logger: zap.NewNop(), Observer: rec.observer()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return &env{t: t, e: e, host: host, store: store, clock: clock}, rec
}

func (v *env) idle() {
	v.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := v.e.WaitIdle(ctx); err != nil {
		v.t.Fatalf("WaitIdle: %v", err)
	}
}

// One invocation is reported once, with where it came from, how it ended,
// and the workflow its reply asked for; so are the invocations that
// workflow sets off.
func TestObserverInvocations(t *testing.T) {
	fx := req("b", "x", str("fx"))
	fx.Async = true
	fx.ScheduledTo = epoch.Add(time.Hour).UnixMilli()
	fx.Metadata = map[string]string{"k": "v"}
	wf := &protocol.Workflow{
		Effects:   []*protocol.SideEffect{{Request: fx}},
		Broadcast: &protocol.Broadcast{ChannelGroup: "news", Payload: &protocol.Broadcast_Value{Value: str("hear")}},
		Routing:   &protocol.Workflow_Pipe{Pipe: &protocol.Pipe{Actor: "c", ActionName: "y"}},
	}
	failed, _ := proto.Marshal(&protocol.RequestStatus{Status: protocol.Status_ERROR, Message: "no funds"})
	host := newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		switch inv.GetActionName() {
		case "src":
			r := reply(inv, nil, str("src-out"))
			r.Workflow = wf
			return r, nil
		case "fail":
			return reply(inv, nil, &anypb.Any{TypeUrl: statusURL, Value: failed}), nil
		}
		return reply(inv, nil, str(inv.GetActionName()+"-out")), nil
	})
	v, rec := newObservedEnv(t, host)
	v.register(
		newActor("a", actions("src", "fail", "init")),
		newActor("b", actions("x")),
		newActor("c", actions("y")),
		newActor("sub", actions("receive"), channel("news", "")),
	)
	v.invoke(req("sub", "get", nil)) // activated, so it hears the broadcast
	caller := &protocol.ActorId{Name: "someone", System: sys}
	r := req("a", "src", str("in"))
	r.Caller = caller
	if got := payloadOf(t, v.invoke(r)); got != "y-out" {
		t.Fatalf("caller got %q, want the pipe target's reply", got)
	}
	v.idle()

	src := rec.calls("a", "src")
	if len(src) != 1 {
		t.Fatalf("a.src reported %d times, want once: %+v", len(src), rec.invoked)
	}
	ev := src[0]
	if ev.Origin != FromCaller || ev.Outcome != OutcomeOK || ev.Err != nil || ev.Async ||
		ev.Caller != (ActorRef{System: sys, Name: "someone"}) || ev.Actor != (ActorRef{System: sys, Name: "a"}) ||
		anyStr(ev.Input) != "in" || anyStr(ev.Reply) != "src-out" || !ev.At.Equal(epoch) || ev.Took <= 0 {
		t.Errorf("a.src event = %+v", ev)
	}
	w := ev.Workflow
	if w == nil || len(w.Effects) != 1 || w.Broadcast == nil || w.Route == nil {
		t.Fatalf("workflow = %+v", w)
	}
	if e := w.Effects[0]; e.To != (ActorRef{System: sys, Name: "b"}) || e.Action != "x" || anyStr(e.Payload) != "fx" ||
		!e.At.Equal(epoch.Add(time.Hour)) || e.Metadata["k"] != "v" {
		t.Errorf("effect = %+v", e)
	}
	if b := w.Broadcast; b.Topic != "news" || b.Action != "" || anyStr(b.Payload) != "hear" {
		t.Errorf("broadcast = %+v", b)
	}
	if rt := w.Route; !rt.Pipe || rt.To != (ActorRef{System: sys, Name: "c"}) || rt.Action != "y" || anyStr(rt.Payload) != "src-out" {
		t.Errorf("route = %+v", rt)
	}

	// What the workflow set off, each with its origin.
	if y := rec.calls("c", "y"); len(y) != 1 || y[0].Origin != FromPipe || y[0].Caller.Name != "a" || anyStr(y[0].Input) != "src-out" {
		t.Errorf("c.y events = %+v, want one from the pipe", y)
	}
	if rcv := rec.calls("sub", "receive"); len(rcv) != 1 || rcv[0].Origin != FromBroadcast || !rcv[0].Async {
		t.Errorf("sub.receive events = %+v, want one async broadcast delivery", rcv)
	}
	rec.mu.Lock()
	delayed := slices.Clone(rec.delayed)
	rec.mu.Unlock()
	if len(delayed) != 1 || delayed[0].Actor.Name != "b" || delayed[0].Action != "x" || !delayed[0].Due.Equal(epoch.Add(time.Hour)) {
		t.Errorf("scheduled events = %+v, want b.x due in an hour", delayed)
	}
	v.clock.Advance(time.Hour)
	v.idle()
	if x := rec.calls("b", "x"); len(x) != 1 || x[0].Origin != FromSchedule {
		t.Errorf("b.x events = %+v, want one from the schedule", x)
	}

	// A failed action, an unknown actor, an unknown action.
	if _, err := v.e.Invoke(context.Background(), req("a", "fail", nil)); err != nil {
		t.Fatal(err)
	}
	if f := rec.calls("a", "fail"); len(f) != 1 || f[0].Outcome != OutcomeActionFailed || f[0].Err == nil ||
		f[0].Err.Error() != "no funds" || f[0].Reply != nil || f[0].Workflow != nil {
		t.Errorf("a.fail events = %+v", f)
	}
	v.e.Invoke(context.Background(), req("ghost", "x", nil))
	if g := rec.calls("ghost", "x"); len(g) != 1 || g[0].Outcome != OutcomeNotFound || g[0].Err == nil {
		t.Errorf("ghost.x events = %+v, want one not found", g)
	}
	v.e.Invoke(context.Background(), req("a", "nope", nil))
	if g := rec.calls("a", "nope"); len(g) != 1 || g[0].Outcome != OutcomeNotFound {
		t.Errorf("a.nope events = %+v, want one not found", g)
	}
	// The init action ran at a's activation.
	if in := rec.calls("a", "init"); len(in) != 1 || in[0].Origin != FromInit || in[0].Outcome != OutcomeOK {
		t.Errorf("a.init events = %+v, want one init", in)
	}
}

// A call refused by a bound is reported as overloaded, and one whose time
// ran out in the mailbox as not applied.
func TestObserverRefusals(t *testing.T) {
	entered, release := make(chan string, 8), make(chan struct{})
	rec := &recorder{}
	e, err := New(Options{Host: blockingHost(entered, release), Store: state.NewMemory(), MaxMailbox: 1, Observer: rec.observer()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	v := &env{t: t, e: e}
	v.register(newActor("a", actions("slow", "hi")))
	slow := req("a", "slow", nil)
	slow.Async = true
	v.invoke(slow)
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	done := make(chan error)
	go func() {
		_, err := e.Invoke(ctx, req("a", "hi", nil)) // waits in the mailbox, then gives up
		done <- err
	}()
	waitFor(t, "the call to wait in the mailbox", func() bool {
		e.mu.Lock()
		c := e.cells[actorKey{name: "a", system: sys}]
		e.mu.Unlock()
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.queue) == 1
	})
	hi := req("a", "hi", nil)
	hi.Async = true
	if _, err := e.Invoke(context.Background(), hi); reasonOf(err) != Overloaded {
		t.Fatalf("a call past the mailbox's bound: %v, want overloaded", err)
	}
	if err := <-done; reasonOf(err) != NotApplied {
		t.Fatalf("the call that waited: %v, want not applied", err)
	}
	close(release)
	v.idle()
	var overloaded, notApplied, ok int
	for _, ev := range rec.calls("a", "hi") {
		switch ev.Outcome {
		case OutcomeOverloaded:
			overloaded++
		case OutcomeNotApplied:
			notApplied++
		case OutcomeOK:
			ok++
		}
	}
	if overloaded != 1 || notApplied != 1 || ok != 0 {
		t.Errorf("a.hi: %d overloaded, %d not applied, %d ok; want 1, 1, 0", overloaded, notApplied, ok)
	}
	if s := rec.calls("a", "slow"); len(s) != 1 || s[0].Outcome != OutcomeOK || s[0].Queued < 0 {
		t.Errorf("a.slow events = %+v", s)
	}
	if hi := rec.calls("a", "hi"); len(hi) > 0 && hi[len(hi)-1].Outcome == OutcomeNotApplied && hi[len(hi)-1].Queued <= 0 {
		t.Errorf("the call that waited reports no time queued: %+v", hi[len(hi)-1])
	}
}

// Activations, snapshots, deactivations and registrations are reported
// with the engine's clock, and timer ticks as invocations from the timer.
func TestObserverLifecycle(t *testing.T) {
	host := newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		if inv.GetActionName() == "set" {
			return reply(inv, inv.GetValue(), nil), nil
		}
		return echo(inv), nil
	})
	v, rec := newObservedEnv(t, host)
	v.register(newActor("a", stateful, actions("set"), timerAction("tick", 5000), snapshotEvery(1000), deactivateAfter(3000)))
	rec.mu.Lock()
	regs := slices.Clone(rec.regs)
	rec.mu.Unlock()
	if len(regs) != 1 || regs[0].Service != "test" || len(regs[0].Actors) != 1 || regs[0].Actors[0] != (ActorRef{System: sys, Name: "a"}) {
		t.Errorf("registrations = %+v", regs)
	}
	v.invoke(req("a", "set", str("one")))
	v.waitIdle("a")
	v.clock.Advance(time.Second) // the snapshot
	v.idle()
	v.clock.Advance(2 * time.Second) // idle for 3s: deactivated
	v.idle()
	v.clock.Advance(2 * time.Second) // the tick at 5s activates it again
	v.idle()

	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := []Activation{
		{Actor: ActorRef{System: sys, Name: "a"}, At: epoch},
		{Actor: ActorRef{System: sys, Name: "a"}, At: epoch.Add(5 * time.Second), Revision: 1},
	}
	if !slices.EqualFunc(rec.active, want, func(a, b Activation) bool { return a.Actor == b.Actor && a.At.Equal(b.At) && a.Revision == b.Revision }) {
		t.Errorf("activations = %+v,\nwant %+v", rec.active, want)
	}
	if len(rec.saved) != 1 || rec.saved[0].Cause != SavedBySnapshot || rec.saved[0].Revision != 1 ||
		!rec.saved[0].At.Equal(epoch.Add(time.Second)) || rec.saved[0].Err != nil || rec.saved[0].Size == 0 || rec.saved[0].Took <= 0 {
		t.Errorf("saves = %+v, want the snapshot of revision 1 at 1s", rec.saved)
	}
	if len(rec.inactive) != 1 || rec.inactive[0].Closing || !rec.inactive[0].At.Equal(epoch.Add(3*time.Second)) {
		t.Errorf("deactivations = %+v, want one for idleness at 3s", rec.inactive)
	}
	var ticks []Invocation
	for _, ev := range rec.invoked {
		if ev.Action == "tick" {
			ticks = append(ticks, ev)
		}
	}
	if len(ticks) != 1 || ticks[0].Origin != FromTimer || !ticks[0].Async || ticks[0].Caller.Name != "a" || !ticks[0].At.Equal(epoch.Add(5*time.Second)) {
		t.Errorf("ticks = %+v, want one from the timer at 5s", ticks)
	}
}

func TestJoinObservers(t *testing.T) {
	var got []string
	a := Observer{Invoked: func(ev Invocation) { got = append(got, "a:"+ev.Action) }}
	b := Observer{Invoked: func(ev Invocation) { got = append(got, "b:"+ev.Action) }, Saved: func(Save) { got = append(got, "b:save") }}
	o := JoinObservers(a, Observer{}, b)
	o.Invoked(Invocation{Action: "x"})
	o.Saved(Save{})
	if o.Activated != nil {
		t.Error("Activated is set though no observer has it")
	}
	if want := []string{"a:x", "b:x", "b:save"}; !slices.Equal(got, want) {
		t.Errorf("calls = %v, want %v", got, want)
	}
}

// Close saves and deactivates every actor, and says so.
func TestObserverClose(t *testing.T) {
	host := newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		return reply(inv, inv.GetValue(), nil), nil
	})
	v, rec := newObservedEnv(t, host)
	v.register(newActor("a", stateful, actions("set")))
	v.invoke(req("a", "set", str("one")))
	if err := v.e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.saved) != 1 || rec.saved[0].Cause != SavedByDeactivation || rec.saved[0].Revision != 1 {
		t.Errorf("saves = %+v, want revision 1 saved at deactivation", rec.saved)
	}
	if len(rec.inactive) != 1 || !rec.inactive[0].Closing {
		t.Errorf("deactivations = %+v, want one for closing", rec.inactive)
	}
}
