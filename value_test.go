package spawn

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/internal/testpb"
	"github.com/spawn-go/spawn/protocol"
)

var self = &protocol.ActorId{Name: "joe", System: "sys"}

// valueResult is what a Value makes of the response: tags (merged onto
// none), the workflow, the checkpoint flag, and the builder's error.
type valueResult struct {
	Tags        map[string]string
	ReplaceTags bool
	Workflow    *protocol.Workflow
	Checkpoint  bool
}

// returnedAt is when the actions of these tests return.
var returnedAt = time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)

func result(v Value) (valueResult, error) {
	if v.err != nil {
		return valueResult{}, v.err
	}
	wf, err := v.workflow(self, nil, func() time.Time { return returnedAt })
	if err != nil {
		return valueResult{}, err
	}
	return valueResult{Tags: mergeTags(nil, v), ReplaceTags: v.replace, Workflow: wf, Checkpoint: v.checkpoint}, nil
}

func TestValueIsAValueType(t *testing.T) {
	base := Reply(&testpb.Text{Text: "hi"}).Tag("a", "1").Effect("bob", "Ping", nil)
	left := base.Tag("side", "left").Effect("carl", "Ping", nil)
	right := base.Tag("side", "right").Effect("dave", "Ping", nil)

	for _, tt := range []struct {
		v       Value
		side    string
		effects []string
	}{
		{base, "", []string{"bob"}},
		{left, "left", []string{"bob", "carl"}},
		{right, "right", []string{"bob", "dave"}},
	} {
		res, err := result(tt.v)
		if err != nil {
			t.Fatal(err)
		}
		if res.Tags["side"] != tt.side || res.Tags["a"] != "1" {
			t.Errorf("tags %v, want side=%q a=1", res.Tags, tt.side)
		}
		var got []string
		for _, e := range res.Workflow.GetEffects() {
			got = append(got, e.GetRequest().GetActor().GetId().GetName())
		}
		if strings.Join(got, ",") != strings.Join(tt.effects, ",") {
			t.Errorf("effects %v, want %v", got, tt.effects)
		}
	}
}

func TestValueResult(t *testing.T) {
	at := time.Now().Add(time.Hour)
	tests := []struct {
		name  string
		v     Value
		check func(t *testing.T, r *protocol.Workflow, v Value)
		err   string
	}{
		{name: "no reply", v: NoReply(), check: func(t *testing.T, wf *protocol.Workflow, v Value) {
			if wf != nil {
				t.Fatal("a plain reply must not carry a workflow")
			}
		}},
		{name: "broadcast", v: NoReply().Broadcast("news", &testpb.Text{Text: "x"}), check: func(t *testing.T, wf *protocol.Workflow, _ Value) {
			if wf.GetBroadcast().GetChannelGroup() != "news" || wf.GetBroadcast().GetValue() == nil {
				t.Fatalf("broadcast %v", wf.GetBroadcast())
			}
		}},
		{name: "broadcast without payload", v: NoReply().Broadcast("news", nil), check: func(t *testing.T, wf *protocol.Workflow, _ Value) {
			if wf.GetBroadcast().GetNoop() == nil {
				t.Fatal("want noop payload")
			}
		}},
		{name: "two broadcasts", v: NoReply().Broadcast("a", nil).Broadcast("b", nil), err: "one broadcast"},
		{name: "forward", v: NoReply().Forward("tmpl", "Ping", Instance("bob")), check: func(t *testing.T, wf *protocol.Workflow, _ Value) {
			f := wf.GetForward()
			if f.GetActor() != "bob" || f.GetActionName() != "Ping" || f.GetRegisterRef() != "tmpl" {
				t.Fatalf("forward %v", f)
			}
		}},
		{name: "pipe", v: NoReply().Pipe("bob", "Ping"), check: func(t *testing.T, wf *protocol.Workflow, _ Value) {
			if wf.GetPipe().GetActor() != "bob" {
				t.Fatalf("pipe %v", wf.GetPipe())
			}
		}},
		{name: "forward then pipe", v: NoReply().Forward("a", "x").Pipe("b", "y"), err: "not both"},
		{name: "forward without action", v: NoReply().Forward("a", ""), err: "needs an actor and an action"},
		{name: "effect options", v: NoReply().Metadata("trace", "t1").Metadata("k", "value").
			Effect("tmpl", "Ping", &testpb.Add{Delta: 1}, At(at), WithMetadata("k", "effect"), Instance("bob")),
			check: func(t *testing.T, wf *protocol.Workflow, _ Value) {
				req := wf.GetEffects()[0].GetRequest()
				if !req.GetAsync() || req.GetScheduledTo() != ceilMilli(at) || req.GetRegisterRef() != "tmpl" {
					t.Fatalf("effect request %v", req)
				}
				if req.GetMetadata()["k"] != "effect" || req.GetMetadata()["trace"] != "t1" {
					t.Fatalf("metadata %v: the effect's own must win, the value's must be added", req.GetMetadata())
				}
				if req.GetSystem().GetName() != "sys" || req.GetActor().GetId().GetSystem() != "sys" || !proto.Equal(req.GetCaller(), self) {
					t.Fatalf("effect must go out in the caller's system, as the caller: %v", req)
				}
			}},
		{name: "delayed effect", v: NoReply().Effect("bob", "Ping", nil, Delay(time.Minute)), check: func(t *testing.T, wf *protocol.Workflow, _ Value) {
			// The delay counts from when the action returns, on the System's clock.
			if got := wf.GetEffects()[0].GetRequest().GetScheduledTo(); got != returnedAt.Add(time.Minute).UnixMilli() {
				t.Fatalf("scheduled_to = %v, want a minute after the action returned", time.UnixMilli(got))
			}
		}},
		{name: "effect in another system", v: NoReply().Effect("bob", "Ping", nil, InSystem("other")), check: func(t *testing.T, wf *protocol.Workflow, _ Value) {
			req := wf.GetEffects()[0].GetRequest()
			if req.GetSystem().GetName() != "other" || req.GetActor().GetId().GetSystem() != "other" || req.GetCaller().GetSystem() != "sys" {
				t.Fatalf("effect request %v: want system other, caller in sys", req)
			}
		}},
		{name: "effect with delay and at", v: NoReply().Effect("bob", "Ping", nil, Delay(time.Second), At(at)), err: "choose one"},
		{name: "effect without action", v: NoReply().Effect("bob", "", nil), err: "needs an actor and an action"},
		{name: "checkpoint", v: NoReply().Checkpoint(), check: func(t *testing.T, _ *protocol.Workflow, v Value) {
			if res, _ := result(v); !res.Checkpoint {
				t.Fatal("checkpoint lost")
			}
		}},
		{name: "tags replaced", v: NoReply().Tag("a", "1").ReplaceTags(nil), check: func(t *testing.T, _ *protocol.Workflow, v Value) {
			if res, _ := result(v); !res.ReplaceTags || len(res.Tags) != 0 || res.Tags == nil {
				t.Fatalf("ReplaceTags(nil) must replace all tags with none: %+v", res)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := result(tt.v)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || tt.v.Err() == nil {
					t.Fatalf("got %v, want an error about %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, res.Workflow, tt.v)
		})
	}
}

func TestEffectsAreNotSharedBetweenResults(t *testing.T) {
	v := NoReply().Effect("bob", "Ping", nil)
	a, _ := result(v.Metadata("k", "a"))
	b, _ := result(v.Metadata("k", "b"))
	if a.Workflow.Effects[0].Request.Metadata["k"] != "a" || b.Workflow.Effects[0].Request.Metadata["k"] != "b" {
		t.Fatal("results of two Values derived from one share their effects")
	}
	if v.effects[0].metadata != nil {
		t.Fatal("building a result changed the Value")
	}
}

// TestOptionsFitTheirPlaces pins which options the compiler accepts where:
// an option that does not apply somewhere must not satisfy that place's type.
func TestOptionsFitTheirPlaces(t *testing.T) {
	tests := []struct {
		name                  string
		opt                   any
		invoke, effect, route bool
	}{
		{"Instance", Instance("x"), true, true, true},
		{"InSystem", InSystem("x"), true, true, false},
		{"Delay", Delay(time.Second), true, true, false},
		{"At", At(time.Now()), true, true, false},
		{"WithMetadata", WithMetadata("k", "v"), true, true, false},
		{"Async", Async(), true, false, false},
	}
	for _, tt := range tests {
		_, invoke := tt.opt.(InvokeOption)
		_, effect := tt.opt.(EffectOption)
		_, route := tt.opt.(RouteOption)
		if invoke != tt.invoke || effect != tt.effect || route != tt.route {
			t.Errorf("%s: invoke %v effect %v route %v, want %v %v %v", tt.name, invoke, effect, route, tt.invoke, tt.effect, tt.route)
		}
	}
}

func TestScheduledTimesRoundUp(t *testing.T) {
	at := time.UnixMilli(1_000_000).Add(300 * time.Microsecond)
	res, err := result(NoReply().Effect("bob", "Ping", nil, At(at)))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Workflow.GetEffects()[0].GetRequest().GetScheduledTo(); got != 1_000_001 {
		t.Fatalf("scheduled_to %d for a time 0.3 ms past 1000000: a call must never run early", got)
	}
}

// TestWorkflowCarriesTheTrace: the action's trace metadata goes to every
// side effect, under what the action set itself.
func TestWorkflowCarriesTheTrace(t *testing.T) {
	trace := map[string]string{"traceparent": "00-action", "tracestate": "s=1"}
	v := NoReply().Metadata("tracestate", "mine").
		Effect("bob", "Ping", nil).
		Effect("carl", "Ping", nil, WithMetadata("traceparent", "00-own"))
	wf, err := v.workflow(self, trace, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []map[string]string{
		{"traceparent": "00-action", "tracestate": "mine"},
		{"traceparent": "00-own", "tracestate": "mine"},
	} {
		got := wf.GetEffects()[i].GetRequest().GetMetadata()
		if len(got) != len(want) || got["traceparent"] != want["traceparent"] || got["tracestate"] != want["tracestate"] {
			t.Errorf("effect %d metadata %v, want %v", i, got, want)
		}
	}
	if len(trace) != 2 || trace["tracestate"] != "s=1" {
		t.Errorf("the trace metadata was changed: %v", trace)
	}
}
