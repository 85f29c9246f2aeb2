package runtime

import (
	"context"
	"maps"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/protocol"
)

// workflowHost answers action "src" with the output "src-out" and the
// workflow wf, and every other action with "<actor>.<action>(<input>)".
func workflowHost(wf *protocol.Workflow) *fakeHost {
	return newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		if inv.GetActionName() == "src" {
			r := reply(inv, nil, str("src-out"))
			r.Workflow = wf
			return r, nil
		}
		in := strOfAny(inv)
		return reply(inv, nil, str(inv.GetActor().GetName()+"."+inv.GetActionName()+"("+in+")")), nil
	})
}

func TestSideEffects(t *testing.T) {
	effect := func(actor, action string, md map[string]string) *protocol.SideEffect {
		r := req(actor, action, str("fx"))
		r.Async = true
		r.Metadata = md
		return &protocol.SideEffect{Request: r}
	}
	wf := &protocol.Workflow{Effects: []*protocol.SideEffect{
		{Request: &protocol.InvocationRequest{ActionName: "broken"}}, // no system or actor: logged, skipped
		effect("b", "x", map[string]string{"k1": "effect", "k2": "effect"}),
		effect("c", "y", nil),
	}}
	v := newEnv(t, workflowHost(wf))
	v.register(newActor("a", actions("src")), newActor("b", actions("x")), newActor("c", actions("y")))

	r := req("a", "src", nil)
	r.Metadata = map[string]string{"k1": "source", "k3": "source"}
	resp := v.invoke(r)
	if got := payloadOf(t, resp); got != "src-out" {
		t.Errorf("caller got %q, want the source's own output", got)
	}
	b := v.host.waitN(t, 1, called("b", "x"))[0]
	if want := map[string]string{"k1": "effect", "k2": "effect", "k3": "source"}; !maps.Equal(b.GetCurrentContext().GetMetadata(), want) {
		t.Errorf("effect metadata = %v, want %v", b.GetCurrentContext().GetMetadata(), want)
	}
	c := v.host.waitN(t, 1, called("c", "y"))[0]
	if want := r.GetMetadata(); !maps.Equal(c.GetCurrentContext().GetMetadata(), want) {
		t.Errorf("effect metadata = %v, want the source's %v", c.GetCurrentContext().GetMetadata(), want)
	}
	if v.logs.FilterMessageSnippet("side effect dropped").Len() != 1 {
		t.Error("the broken side effect was not logged")
	}
	// The host's workflow message is not modified by the merge.
	if md := wf.GetEffects()[1].GetRequest().GetMetadata(); len(md) != 2 {
		t.Errorf("effect request mutated: %v", md)
	}
}

func TestBroadcast(t *testing.T) {
	wf := &protocol.Workflow{Broadcast: &protocol.Broadcast{
		ChannelGroup: "news",
		Payload:      &protocol.Broadcast_Value{Value: str("extra")},
	}}
	v := newEnv(t, workflowHost(wf))
	v.register(
		newActor("pub", actions("src", "receive"), channel("news", "")),
		newActor("named", actions("onNews"), channel("news", "onNews")),
		newActor("dflt", actions("receive"), channel("news", "")),
		// Per-topic de-duplication: two topics, same action, both heard.
		newActor("both", actions("receive"), channel("other", ""), channel("news", "")),
		newActor("eager", stateful, actions("receive"), channel("news", "")),
		newActor("never", actions("receive"), channel("news", "")), // never activated
		newActor("deaf", actions("receive")),
	)
	for _, name := range []string{"named", "dflt", "both"} {
		v.invoke(req(name, "get", nil)) // activate
	}
	v.state("eager")

	r := req("pub", "src", nil)
	r.Metadata = map[string]string{"not": "forwarded"}
	v.invoke(r)

	pub := &protocol.ActorId{Name: "pub", System: sys}
	for _, want := range []struct{ actor, action string }{
		{"pub", "receive"}, {"named", "onNews"}, {"dflt", "receive"}, {"both", "receive"}, {"eager", "receive"},
	} {
		inv := v.host.waitN(t, 1, called(want.actor, want.action))[0]
		if strOfAny(inv) != "extra" {
			t.Errorf("%s got payload %v, want extra", want.actor, inv.GetPayload())
		}
		if !proto.Equal(inv.GetCaller(), pub) {
			t.Errorf("%s caller = %v, want the publisher", want.actor, inv.GetCaller())
		}
		if len(inv.GetCurrentContext().GetMetadata()) != 0 {
			t.Errorf("%s got metadata %v, want none", want.actor, inv.GetCurrentContext().GetMetadata())
		}
	}
	// A second broadcast to "other" reaches "both" on its other topic.
	wf.Broadcast.ChannelGroup = "other"
	v.invoke(req("pub", "src", nil))
	v.host.waitN(t, 2, called("both", "receive"))

	// Deliveries are async; a sync call to each queues behind them.
	for _, name := range []string{"never", "deaf"} {
		v.invoke(req(name, "get", nil))
		if got := v.host.matching(called(name, "receive")); len(got) != 0 {
			t.Errorf("%s received a broadcast: %v", name, got)
		}
	}
}

// A host of the older protocol names the action in the broadcast: every
// subscriber runs it, whatever its channel says, and once per topic.
func TestBroadcastOlderActionName(t *testing.T) {
	wf := &protocol.Workflow{Broadcast: &protocol.Broadcast{
		ChannelGroup: "news",
		ActionName:   "shout",
		Payload:      &protocol.Broadcast_Value{Value: str("extra")},
	}}
	v := newEnv(t, workflowHost(wf))
	v.register(
		newActor("pub", actions("src")),
		newActor("named", actions("onNews", "shout"), channel("news", "onNews")),
		newActor("dflt", actions("receive", "shout"), channel("news", "")),
		newActor("twice", actions("a", "b", "shout"), channel("news", "a"), channel("news", "b")),
		newActor("other", actions("receive", "shout"), channel("sports", "")),
	)
	subscribers := []string{"named", "dflt", "twice"}
	for _, name := range append(subscribers, "other") {
		v.invoke(req(name, "get", nil)) // activate
	}
	v.invoke(req("pub", "src", nil))

	for _, name := range subscribers {
		inv := v.host.waitN(t, 1, called(name, "shout"))[0]
		if strOfAny(inv) != "extra" || inv.GetCaller().GetName() != "pub" {
			t.Errorf("%s got %v, want payload extra from pub", name, inv)
		}
	}
	// Deliveries are async; a sync call to each queues behind them.
	for _, name := range append(subscribers, "other") {
		v.invoke(req(name, "get", nil))
	}
	if got := v.host.matching(called("twice", "shout")); len(got) != 1 {
		t.Errorf("twice ran shout %d times, want once", len(got))
	}
	for _, c := range []struct{ actor, action string }{
		{"named", "onNews"}, {"dflt", "receive"}, {"twice", "a"}, {"twice", "b"}, {"other", "shout"}, {"other", "receive"},
	} {
		if got := v.host.matching(called(c.actor, c.action)); len(got) != 0 {
			t.Errorf("%s ran %s: %v", c.actor, c.action, got)
		}
	}
}

func TestPipeAndForward(t *testing.T) {
	tests := []struct {
		name      string
		wf        *protocol.Workflow
		wantInput string // what the target receives
	}{
		{"pipe sends the output", &protocol.Workflow{Routing: &protocol.Workflow_Pipe{Pipe: &protocol.Pipe{Actor: "b", ActionName: "next"}}}, "src-out"},
		{"forward sends the input", &protocol.Workflow{Routing: &protocol.Workflow_Forward{Forward: &protocol.Forward{Actor: "b", ActionName: "next"}}}, "src-in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newEnv(t, workflowHost(tt.wf))
			v.register(newActor("a", actions("src")), newActor("b", actions("next")))
			r := req("a", "src", str("src-in"))
			r.Metadata = map[string]string{"trace": "1"}
			r.Caller = &protocol.ActorId{Name: "original", System: sys}
			resp := v.invoke(r)

			target := v.host.waitN(t, 1, called("b", "next"))[0]
			if got := strOfAny(target); got != tt.wantInput {
				t.Errorf("target input = %q, want %q", got, tt.wantInput)
			}
			if want := (&protocol.ActorId{Name: "a", System: sys}); !proto.Equal(target.GetCaller(), want) {
				t.Errorf("target caller = %v, want the source %v", target.GetCaller(), want)
			}
			if target.GetCurrentContext().GetMetadata()["trace"] != "1" {
				t.Errorf("target metadata = %v, want the original's", target.GetCurrentContext().GetMetadata())
			}
			if got, want := payloadOf(t, resp), "b.next("+tt.wantInput+")"; got != want {
				t.Errorf("original caller got %q, want the target's %q", got, want)
			}
			if !proto.Equal(resp.GetActor(), r.GetActor()) || !proto.Equal(resp.GetSystem(), r.GetSystem()) {
				t.Errorf("response echoes %v / %v, want the original request's", resp.GetActor(), resp.GetSystem())
			}
		})
	}
}

func TestRoutingChainAndRegisterRef(t *testing.T) {
	host := newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		r := reply(inv, nil, str(inv.GetActor().GetName()))
		switch inv.GetActor().GetName() {
		case "a":
			r.Workflow = &protocol.Workflow{Routing: &protocol.Workflow_Pipe{Pipe: &protocol.Pipe{Actor: "inst", ActionName: "go", RegisterRef: "tmpl"}}}
		case "inst":
			r.Workflow = &protocol.Workflow{Routing: &protocol.Workflow_Pipe{Pipe: &protocol.Pipe{Actor: "a", ActionName: "end"}}}
		}
		if inv.GetActionName() == "end" {
			r.Workflow = nil
			r.Payload = &protocol.ActorInvocationResponse_Value{Value: str("end")}
		}
		return r, nil
	})
	v := newEnv(t, host)
	v.register(newActor("a", actions("start", "end")), newActor("tmpl", kind(protocol.Kind_UNNAMED), actions("go")))
	resp := v.invoke(req("a", "start", nil))
	if got := payloadOf(t, resp); got != "end" {
		t.Errorf("chain a→inst→a ended with %q, want end", got)
	}
	if inv := v.host.waitN(t, 1, called("inst", "go"))[0]; inv.GetActor().GetParent() != "tmpl" {
		t.Errorf("pipe register_ref not honoured: %v", inv.GetActor())
	}
}

func TestRoutingHopLimit(t *testing.T) {
	wf := &protocol.Workflow{Routing: &protocol.Workflow_Forward{Forward: &protocol.Forward{Actor: "loop", ActionName: "src"}}}
	v := newEnv(t, workflowHost(wf))
	v.register(newActor("loop", actions("src")))
	_, err := v.e.Invoke(context.Background(), req("loop", "src", nil))
	wantStatus(t, err, protocol.Status_ERROR, "hops")
	if n := len(v.host.matching(nil)); n != maxHops+1 {
		t.Errorf("host called %d times, want %d", n, maxHops+1)
	}
}

// An async source still routes; the result is dropped.
func TestAsyncRouting(t *testing.T) {
	wf := &protocol.Workflow{Routing: &protocol.Workflow_Pipe{Pipe: &protocol.Pipe{Actor: "b", ActionName: "next"}}}
	v := newEnv(t, workflowHost(wf))
	v.register(newActor("a", actions("src")), newActor("b", actions("next")))
	r := req("a", "src", nil)
	r.Async = true
	v.invoke(r)
	if got := strOfAny(v.host.waitN(t, 1, called("b", "next"))[0]); got != "src-out" {
		t.Errorf("target input = %q, want src-out", got)
	}
}
