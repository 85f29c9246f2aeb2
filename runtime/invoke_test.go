package runtime

import (
	"context"
	"errors"
	"maps"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/protocol"
)

// The ActorInvocation follows docs/protocol.md §5.3 field by field, and
// the InvocationResponse echoes the request with the host's payload.
func TestInvocationFields(t *testing.T) {
	host := newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		r := reply(inv, str("new state"), str("out"))
		r.UpdatedContext.Tags = map[string]string{"t": "1"}
		return r, nil
	})
	v := newEnv(t, host)
	v.register(newActor("tmpl", kind(protocol.Kind_UNNAMED), actions("act"), initialState(str("initial"), map[string]string{"t": "0"})))

	caller := &protocol.ActorId{Name: "someone", System: sys}
	r := req("inst", "act", str("in"))
	r.RegisterRef = "tmpl"
	r.Caller = caller
	r.Metadata = map[string]string{"k": "v"}
	resp := v.invoke(r)

	self := &protocol.ActorId{Name: "inst", System: sys, Parent: "tmpl"}
	want := &protocol.ActorInvocation{
		Actor:      self,
		ActionName: "act",
		Payload:    &protocol.ActorInvocation_Value{Value: str("in")},
		Caller:     caller,
		CurrentContext: &protocol.Context{
			State:    str("initial"),
			Metadata: map[string]string{"k": "v"},
			Tags:     map[string]string{"t": "0"},
			Caller:   caller,
			Self:     self,
		},
	}
	if got := v.host.matching(nil); len(got) != 1 || !proto.Equal(got[0], want) {
		t.Errorf("host got %v\nwant %v", got, want)
	}
	if resp.GetStatus().GetStatus() != protocol.Status_OK || !proto.Equal(resp.GetSystem(), r.GetSystem()) || !proto.Equal(resp.GetActor(), r.GetActor()) {
		t.Errorf("response = %v, want OK echoing %v / %v", resp, r.GetSystem(), r.GetActor())
	}
	if got := payloadOf(t, resp); got != "out" {
		t.Errorf("payload = %q, want out", got)
	}

	// Noop and absent payloads pass through unchanged too.
	r2 := req("inst", "act", nil)
	r2.Payload = &protocol.InvocationRequest_Noop{Noop: &protocol.Noop{}}
	v.invoke(r2)
	v.invoke(req("inst", "act", nil))
	calls := v.host.matching(nil)
	if _, ok := calls[1].GetPayload().(*protocol.ActorInvocation_Noop); !ok {
		t.Errorf("noop payload arrived as %T", calls[1].GetPayload())
	}
	if calls[2].GetPayload() != nil {
		t.Errorf("absent payload arrived as %T", calls[2].GetPayload())
	}
	if strOf(t, calls[1].GetCurrentContext().GetState()) != "new state" || calls[1].GetCurrentContext().GetTags()["t"] != "1" {
		t.Errorf("second call context = %v, want the state and tags of the first reply", calls[1].GetCurrentContext())
	}
}

// One message at a time per actor; different actors in parallel.
func TestMailboxConcurrency(t *testing.T) {
	release := make(chan struct{})
	var inflight sync.Map // actor name -> *atomic.Int32 (current, max)
	type gauge struct{ cur, max atomic.Int32 }
	host := newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		gv, _ := inflight.LoadOrStore(inv.GetActor().GetName(), &gauge{})
		g := gv.(*gauge)
		n := g.cur.Add(1)
		for m := g.max.Load(); n > m && !g.max.CompareAndSwap(m, n); m = g.max.Load() {
		}
		<-release
		g.cur.Add(-1)
		return echo(inv), nil
	})
	v := newEnv(t, host)
	v.register(newActor("a", actions("work")), newActor("b", actions("work")))

	var wg sync.WaitGroup
	for _, name := range []string{"a", "a", "a", "b", "b"} {
		wg.Go(func() { v.invoke(req(name, "work", nil)) })
	}
	// Both actors are inside the host at once: they run in parallel.
	v.host.waitN(t, 1, called("a", "work"))
	v.host.waitN(t, 1, called("b", "work"))
	close(release)
	wg.Wait()
	for _, name := range []string{"a", "b"} {
		gv, _ := inflight.Load(name)
		if m := gv.(*gauge).max.Load(); m != 1 {
			t.Errorf("actor %s had %d host calls at once, want 1", name, m)
		}
	}
	if n := len(v.host.matching(nil)); n != 5 {
		t.Errorf("host calls = %d, want 5", n)
	}
}

// The mailbox is FIFO: async messages run in the order they were sent.
func TestMailboxOrder(t *testing.T) {
	v := newEnv(t, newHost(nil))
	v.register(newActor("a", actions("n")))
	const n = 50
	for i := range n {
		r := req("a", "n", str(string(rune('A'+i))))
		r.Async = true
		v.invoke(r)
	}
	calls := v.host.waitN(t, n, nil)
	for i, c := range calls {
		if got, want := inputOf(t, c), string(rune('A'+i)); got != want {
			t.Fatalf("call %d carried %q, want %q", i, got, want)
		}
	}
}

func TestBuiltinGet(t *testing.T) {
	for _, action := range protocol.GetActions {
		t.Run(action, func(t *testing.T) {
			v := newEnv(t, newHost(nil))
			v.register(newActor("a", stateful, initialState(str("current"), nil), actions("other")))
			resp := v.invoke(req("a", action, nil))
			if got := payloadOf(t, resp); got != "current" {
				t.Errorf("payload = %q, want the state", got)
			}
			if calls := v.host.matching(nil); len(calls) != 0 {
				t.Errorf("host called: %v", calls)
			}
		})
	}
	t.Run("no state", func(t *testing.T) {
		v := newEnv(t, newHost(nil))
		v.register(newActor("a", actions("other")))
		resp := v.invoke(req("a", "get", nil))
		if got, ok := resp.GetPayload().(*protocol.InvocationResponse_Value); !ok || got.Value.GetTypeUrl() != "" {
			t.Errorf("payload = %v, want an empty Any", resp.GetPayload())
		}
	})
	// Registering any of the five names sends all five to the host.
	t.Run("overridden", func(t *testing.T) {
		v := newEnv(t, newHost(nil))
		v.register(newActor("a", stateful, actions("getState")))
		for _, action := range protocol.GetActions {
			v.invoke(req("a", action, nil))
			v.host.waitN(t, 1, called("a", action))
		}
	})
}

// Replies are applied per docs/protocol.md §7.2.
func TestApplyReply(t *testing.T) {
	type step struct {
		state     *anypb.Any // nil: absent in the reply
		tags      map[string]string
		wantState string
		wantTags  map[string]string
	}
	tests := []struct {
		name  string
		actor *protocol.Actor
		steps []step
	}{
		{
			name:  "stateful",
			actor: newActor("a", stateful, initialState(str("s0"), map[string]string{"t": "0"}), actions("do")),
			steps: []step{
				{state: str("s1"), tags: map[string]string{"t": "1"}, wantState: "s1", wantTags: map[string]string{"t": "1"}},
				{tags: map[string]string{"t": "2"}, wantState: "s1", wantTags: map[string]string{"t": "2"}}, // absent state is kept
				{state: str("s3"), wantState: "s3"}, // no tags wipes them
			},
		},
		{
			name:  "stateless with initial state keeps it in memory",
			actor: newActor("a", initialState(str("s0"), nil), actions("do")),
			steps: []step{{state: str("s1"), tags: map[string]string{"x": "y"}, wantState: "s1", wantTags: map[string]string{"x": "y"}}},
		},
		{
			name:  "stateless registered without state discards it",
			actor: newActor("a", noState, actions("do")),
			steps: []step{{state: str("s1"), tags: map[string]string{"x": "y"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var next step
			host := newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
				mu.Lock()
				defer mu.Unlock()
				return &protocol.ActorInvocationResponse{UpdatedContext: &protocol.Context{
					State:    next.state,
					Tags:     next.tags,
					Metadata: map[string]string{"ignored": "yes"},
					Self:     &protocol.ActorId{Name: "ignored"},
				}}, nil
			})
			v := newEnv(t, host)
			v.register(tt.actor)
			for i, s := range tt.steps {
				mu.Lock()
				next = s
				mu.Unlock()
				v.invoke(req("a", "do", nil))
				st := v.state("a")
				if got := strOf(t, st.GetState()); got != s.wantState {
					t.Errorf("step %d: state = %q, want %q", i, got, s.wantState)
				}
				if !maps.Equal(st.GetTags(), s.wantTags) {
					t.Errorf("step %d: tags = %v, want %v", i, st.GetTags(), s.wantTags)
				}
			}
		})
	}
}

func TestTagWipeWarnsOncePerActor(t *testing.T) {
	host := newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		if inv.GetActionName() == "tag" {
			return &protocol.ActorInvocationResponse{UpdatedContext: &protocol.Context{Tags: map[string]string{"a": "b"}}}, nil
		}
		return &protocol.ActorInvocationResponse{UpdatedContext: &protocol.Context{}}, nil
	})
	v := newEnv(t, host)
	v.register(newActor("a", actions("tag", "wipe")))
	for range 3 {
		v.invoke(req("a", "tag", nil))
		v.invoke(req("a", "wipe", nil))
	}
	if n := v.logs.FilterMessageSnippet("cleared the actor's tags").Len(); n != 1 {
		t.Errorf("tag wipe warnings = %d, want 1", n)
	}
}

func TestInvokeErrors(t *testing.T) {
	hostErr := errors.New("connection refused")
	host := newHost(func(ctx context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		switch inv.GetActionName() {
		case "fail":
			return nil, hostErr
		case "invalid":
			return &protocol.ActorInvocationResponse{}, nil
		case "slow":
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return echo(inv), nil
	})
	v := newEnv(t, host)
	v.register(newActor("a", actions("ok", "fail", "invalid", "slow")))

	withMD := func(r *protocol.InvocationRequest, k, val string) *protocol.InvocationRequest {
		r.Metadata = map[string]string{k: val}
		return r
	}
	tests := []struct {
		name     string
		req      *protocol.InvocationRequest
		status   protocol.Status
		contains string
	}{
		{"unknown actor", req("nobody", "ok", nil), protocol.Status_ACTOR_NOT_FOUND, "nobody"},
		{"unknown action", req("a", "nope", nil), protocol.Status_ACTOR_NOT_FOUND, "nope"},
		{"unknown action async", func() *protocol.InvocationRequest { r := req("a", "nope", nil); r.Async = true; return r }(), protocol.Status_ACTOR_NOT_FOUND, "nope"},
		{"other system", func() *protocol.InvocationRequest { r := req("a", "ok", nil); r.System.Name = "elsewhere"; return r }(), protocol.Status_ERROR, "elsewhere"},
		{"no system", func() *protocol.InvocationRequest { r := req("a", "ok", nil); r.System = nil; return r }(), protocol.Status_ERROR, "system"},
		{"no actor", func() *protocol.InvocationRequest { r := req("a", "ok", nil); r.Actor = nil; return r }(), protocol.Status_ERROR, "actor"},
		{"host error", req("a", "fail", nil), protocol.Status_ERROR, "connection refused"},
		{"reply without updated_context", req("a", "invalid", nil), protocol.Status_ERROR, "updated_context"},
		{"request-timeout not a number", withMD(req("a", "ok", nil), "request-timeout", "soon"), protocol.Status_ERROR, "request-timeout"},
		{"request-timeout expires", withMD(req("a", "slow", nil), "request-timeout", "20"), protocol.Status_ERROR, "deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(v.host.matching(nil))
			_, err := v.e.Invoke(context.Background(), tt.req)
			wantStatus(t, err, tt.status, tt.contains)
			if tt.req.GetActionName() == "nope" {
				if after := len(v.host.matching(nil)); after != before {
					t.Errorf("host called for an unknown action")
				}
			}
		})
	}
	// The host is called once: no retries.
	if n := len(v.host.matching(called("a", "fail"))); n != 1 {
		t.Errorf("failing action called %d times, want 1", n)
	}
	// The actor still works after all that.
	v.invoke(req("a", "ok", nil))
}

// An async invocation is acknowledged before the host runs; its failure is
// only logged.
func TestAsync(t *testing.T) {
	release := make(chan struct{})
	host := newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		<-release
		if inv.GetActionName() == "fail" {
			return nil, errors.New("boom")
		}
		return reply(inv, nil, str("lost")), nil
	})
	v := newEnv(t, host)
	v.register(newActor("a", actions("work", "fail")))
	for _, action := range []string{"work", "fail"} {
		r := req("a", action, nil)
		r.Async = true
		resp := v.invoke(r)
		if resp.GetStatus().GetStatus() != protocol.Status_OK || resp.GetPayload() != nil {
			t.Errorf("async %s ack = %v, want OK with no payload", action, resp)
		}
	}
	close(release)
	v.host.waitN(t, 1, called("a", "fail"))
	waitFor(t, "the failure to be logged", func() bool {
		return v.logs.FilterMessage("async invocation failed").Len() == 1
	})
}

func TestPooledIgnoredOnInvocation(t *testing.T) {
	v := newEnv(t, newHost(nil))
	v.register(newActor("a", actions("x")))
	r := req("a", "x", nil)
	r.Pooled = true
	v.invoke(r)
}

// TestUnnamedActorItselfIsRefused checks that an invocation of an UNNAMED
// actor itself, rather than of an instance, is refused with ACTOR_NOT_FOUND
// at once, saying how to call an instance, and that the host is not called.
func TestUnnamedActorItselfIsRefused(t *testing.T) {
	v := newEnv(t, newHost(nil))
	v.register(newActor("basket", stateful, kind(protocol.Kind_UNNAMED), actions("Add")))
	_, err := v.e.Invoke(context.Background(), req("basket", "Add", nil))
	wantStatus(t, err, protocol.Status_ACTOR_NOT_FOUND, `actor "basket" is unnamed: call an instance with spawn.Instance("id")`)
	if got := v.host.matching(nil); len(got) != 0 {
		t.Fatalf("the host was called: %v", got)
	}
	r := req("b1", "Add", nil)
	r.RegisterRef = "basket"
	v.invoke(r)
}
