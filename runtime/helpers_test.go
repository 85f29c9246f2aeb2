package runtime

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime/clocktest"
	"github.com/spawn-go/spawn/state"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const sys = "spawn-system"

// waitLimit bounds every wait for an asynchronous effect; reaching it is a
// test failure, never a way to synchronise.
const waitLimit = 10 * time.Second

var epoch = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// fakeHost is a scripted Host. It records every invocation and answers with
// fn, or by echoing the state and tags with a noop payload.
type fakeHost struct {
	fn func(ctx context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error)

	mu      sync.Mutex
	calls   []*protocol.ActorInvocation
	changed chan struct{}
}

func newHost(fn func(context.Context, *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error)) *fakeHost {
	return &fakeHost{fn: fn, changed: make(chan struct{})}
}

func (h *fakeHost) Call(ctx context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
	h.mu.Lock()
	h.calls = append(h.calls, proto.CloneOf(inv))
	close(h.changed)
	h.changed = make(chan struct{})
	h.mu.Unlock()
	if h.fn == nil {
		return echo(inv), nil
	}
	return h.fn(ctx, inv)
}

// matching returns the recorded invocations for which match is true.
func (h *fakeHost) matching(match func(*protocol.ActorInvocation) bool) []*protocol.ActorInvocation {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*protocol.ActorInvocation
	for _, c := range h.calls {
		if match == nil || match(c) {
			out = append(out, c)
		}
	}
	return out
}

// waitN waits until at least n recorded invocations match, and returns them.
func (h *fakeHost) waitN(t testing.TB, n int, match func(*protocol.ActorInvocation) bool) []*protocol.ActorInvocation {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		h.mu.Lock()
		ch := h.changed
		h.mu.Unlock()
		if got := h.matching(match); len(got) >= n {
			return got
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("host: waited %v for %d matching invocations, have %d; all calls: %v", waitLimit, n, len(h.matching(match)), h.matching(nil))
		}
	}
}

func called(actor, action string) func(*protocol.ActorInvocation) bool {
	return func(inv *protocol.ActorInvocation) bool {
		return inv.GetActor().GetName() == actor && inv.GetActionName() == action
	}
}

// echo is a reply that keeps the state and tags and returns noop.
func echo(inv *protocol.ActorInvocation) *protocol.ActorInvocationResponse {
	return &protocol.ActorInvocationResponse{
		UpdatedContext: &protocol.Context{State: inv.GetCurrentContext().GetState(), Tags: inv.GetCurrentContext().GetTags()},
		Payload:        &protocol.ActorInvocationResponse_Noop{Noop: &protocol.Noop{}},
	}
}

// reply is a reply that sets the state (nil keeps it), keeps the tags and
// returns payload.
func reply(inv *protocol.ActorInvocation, st, payload *anypb.Any) *protocol.ActorInvocationResponse {
	r := echo(inv)
	if st != nil {
		r.UpdatedContext.State = st
	}
	if payload != nil {
		r.Payload = &protocol.ActorInvocationResponse_Value{Value: payload}
	}
	return r
}

func str(s string) *anypb.Any {
	a, err := anypb.New(wrapperspb.String(s))
	if err != nil {
		panic(err)
	}
	return a
}

// strOf decodes a str Any; "" for nil.
func strOf(t testing.TB, a *anypb.Any) string {
	t.Helper()
	if a == nil {
		return ""
	}
	var s wrapperspb.StringValue
	if err := a.UnmarshalTo(&s); err != nil {
		t.Fatalf("decoding %v: %v", a, err)
	}
	return s.GetValue()
}

// strOfAny returns the string input of an invocation; "" when it has none.
func strOfAny(inv *protocol.ActorInvocation) string { return anyStr(inv.GetValue()) }

// anyStr decodes a str Any; "" for nil or anything else.
func anyStr(a *anypb.Any) string {
	var s wrapperspb.StringValue
	if a == nil || a.UnmarshalTo(&s) != nil {
		return ""
	}
	return s.GetValue()
}

// payloadOf returns the string value of an InvocationResponse payload.
func payloadOf(t testing.TB, r *protocol.InvocationResponse) string {
	t.Helper()
	v, ok := r.GetPayload().(*protocol.InvocationResponse_Value)
	if !ok {
		t.Fatalf("response payload is %T, want a value", r.GetPayload())
	}
	return strOf(t, v.Value)
}

func inputOf(t testing.TB, inv *protocol.ActorInvocation) string {
	t.Helper()
	v, ok := inv.GetPayload().(*protocol.ActorInvocation_Value)
	if !ok {
		t.Fatalf("invocation payload is %T, want a value", inv.GetPayload())
	}
	return strOf(t, v.Value)
}

// actorOpt shapes a test actor.
type actorOpt func(*protocol.Actor)

func newActor(name string, opts ...actorOpt) *protocol.Actor {
	a := &protocol.Actor{
		Id:       &protocol.ActorId{Name: name, System: sys},
		State:    &protocol.ActorState{},
		Settings: &protocol.ActorSettings{Kind: protocol.Kind_NAMED},
	}
	for _, o := range opts {
		o(a)
	}
	return a
}

func stateful(a *protocol.Actor) { a.Settings.Stateful = true }

func withMetadata(a *protocol.Actor) {
	if a.Metadata == nil {
		a.Metadata = &protocol.Metadata{}
	}
}

func noState(a *protocol.Actor) { a.State = nil }

func kind(k protocol.Kind) actorOpt { return func(a *protocol.Actor) { a.Settings.Kind = k } }

func actions(names ...string) actorOpt {
	return func(a *protocol.Actor) {
		for _, n := range names {
			a.Actions = append(a.Actions, &protocol.Action{Name: n})
		}
	}
}

func timerAction(name string, periodMS int32) actorOpt {
	return func(a *protocol.Actor) {
		a.TimerActions = append(a.TimerActions, &protocol.FixedTimerAction{Seconds: periodMS, Action: &protocol.Action{Name: name}})
	}
}

func channel(topic, action string) actorOpt {
	return func(a *protocol.Actor) {
		withMetadata(a)
		a.Metadata.ChannelGroup = append(a.Metadata.ChannelGroup, &protocol.Channel{Topic: topic, Action: action})
	}
}

func snapshotEvery(msec int64) actorOpt {
	return func(a *protocol.Actor) {
		a.Settings.SnapshotStrategy = &protocol.ActorSnapshotStrategy{Strategy: &protocol.ActorSnapshotStrategy_Timeout{Timeout: &protocol.TimeoutStrategy{Timeout: msec}}}
	}
}

func deactivateAfter(msec int64) actorOpt {
	return func(a *protocol.Actor) {
		a.Settings.DeactivationStrategy = &protocol.ActorDeactivationStrategy{Strategy: &protocol.ActorDeactivationStrategy_Timeout{Timeout: &protocol.TimeoutStrategy{Timeout: msec}}}
	}
}

func initialState(st *anypb.Any, tags map[string]string) actorOpt {
	return func(a *protocol.Actor) { a.State = &protocol.ActorState{State: st, Tags: tags} }
}

func pool(minSize, maxSize int32) actorOpt {
	return func(a *protocol.Actor) {
		a.Settings.Kind = protocol.Kind_POOLED
		a.Settings.MinPoolSize, a.Settings.MaxPoolSize = minSize, maxSize
	}
}

func registration(actors ...*protocol.Actor) *protocol.RegistrationRequest {
	reg := &protocol.Registry{Actors: map[string]*protocol.Actor{}}
	for _, a := range actors {
		reg.Actors[a.GetId().GetName()] = a
	}
	return &protocol.RegistrationRequest{
		ServiceInfo: &protocol.ServiceInfo{ServiceName: "test"},
		ActorSystem: &protocol.ActorSystem{Name: sys, Registry: reg},
	}
}

// env is an engine under test with its collaborators.
type env struct {
	t     testing.TB
	e     *Engine
	host  *fakeHost
	store *state.Memory
	clock *clocktest.Clock
	logs  *observer.ObservedLogs
}

// newEnv starts an engine on a fake clock and an in-memory store, and
// closes it when the test ends.
func newEnv(t testing.TB, host *fakeHost) *env {
	t.Helper()
	return newEnvWith(t, host, state.NewMemory(), clocktest.New(epoch))
}

func newEnvWith(t testing.TB, host *fakeHost, store *state.Memory, clock *clocktest.Clock) *env {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	e, err := New(Options{Host: host, Store: store, Clock: clock, Logger: zap.New(core)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &env{t: t, e: e, host: host, store: store, clock: clock, logs: logs}
}

func (v *env) register(actors ...*protocol.Actor) {
	v.t.Helper()
	if _, err := v.e.Register(context.Background(), registration(actors...)); err != nil {
		v.t.Fatalf("Register: %v", err)
	}
}

func (v *env) invoke(req *protocol.InvocationRequest) *protocol.InvocationResponse {
	v.t.Helper()
	resp, err := v.e.Invoke(context.Background(), req)
	if err != nil {
		v.t.Fatalf("Invoke %s.%s: %v", req.GetActor().GetId().GetName(), req.GetActionName(), err)
	}
	return resp
}

func (v *env) state(name string) *protocol.ActorState {
	v.t.Helper()
	st, err := v.e.State(context.Background(), &protocol.ActorId{Name: name, System: sys})
	if err != nil {
		v.t.Fatalf("State(%s): %v", name, err)
	}
	return st
}

// waitIdle waits until the actor's workers have parked: a sync Invoke
// returns while its worker is still finishing, and idleness decides
// deactivation.
func (v *env) waitIdle(name string) {
	v.t.Helper()
	waitFor(v.t, "actor "+name+" idle", func() bool {
		v.e.mu.Lock()
		c := v.e.cells[actorKey{name: name, system: sys}]
		v.e.mu.Unlock()
		if c == nil {
			return true
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.idleLocked()
	})
}

// active reports whether the actor has a live activation.
func (v *env) active(name string) bool {
	v.e.mu.Lock()
	defer v.e.mu.Unlock()
	_, ok := v.e.cells[actorKey{name: name, system: sys}]
	return ok
}

func (v *env) blockUntilTimers(n int) {
	v.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := v.clock.BlockUntilContext(ctx, n); err != nil {
		v.t.Fatalf("waiting for %d armed timers (have %d): %v", n, v.clock.Pending(), err)
	}
}

func (v *env) loaded(name string) (state.Record, error) {
	return v.store.Load(context.Background(), state.Key{System: sys, Name: name})
}

// waitFor polls cond until it holds; for effects with nothing to wait on.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", waitLimit, what)
		}
		time.Sleep(time.Millisecond) // polling interval, not synchronisation
	}
}

func req(actor, action string, payload *anypb.Any) *protocol.InvocationRequest {
	r := &protocol.InvocationRequest{
		System:     &protocol.ActorSystem{Name: sys},
		Actor:      &protocol.Actor{Id: &protocol.ActorId{Name: actor, System: sys}},
		ActionName: action,
	}
	if payload != nil {
		r.Payload = &protocol.InvocationRequest_Value{Value: payload}
	}
	return r
}

func wantStatus(t testing.TB, err error, status protocol.Status, contains string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *Error with status %v", err, err, status)
	}
	if e.Status != status {
		t.Fatalf("status = %v (%s), want %v", e.Status, e.Message, status)
	}
	if err.Error() != e.Message {
		t.Errorf("Error() = %q, want the message alone, %q", err.Error(), e.Message)
	}
	if e.ProtocolStatus() != status {
		t.Errorf("ProtocolStatus() = %v, want %v", e.ProtocolStatus(), status)
	}
	if contains != "" && !containsFold(e.Message, contains) {
		t.Fatalf("message %q does not mention %q", e.Message, contains)
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
