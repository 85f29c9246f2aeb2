package effects_test

import (
	"maps"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/effects"
	"github.com/spawn-go/spawn/protocol"
)

func TestMergeMetadata(t *testing.T) {
	tests := []struct {
		name      string
		base, own map[string]string
		want      map[string]string
	}{
		{"own wins", map[string]string{"a": "base", "b": "base"}, map[string]string{"a": "own", "c": "own"},
			map[string]string{"a": "own", "b": "base", "c": "own"}},
		{"base only", map[string]string{"a": "base"}, nil, map[string]string{"a": "base"}},
		{"own only", nil, map[string]string{"a": "own"}, map[string]string{"a": "own"}},
		{"both empty", map[string]string{}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, own := maps.Clone(tt.base), maps.Clone(tt.own)
			got := effects.MergeMetadata(base, own)
			if !maps.Equal(got, tt.want) || (tt.want == nil) != (got == nil) {
				t.Errorf("MergeMetadata = %v, want %v", got, tt.want)
			}
			if !maps.Equal(base, tt.base) || !maps.Equal(own, tt.own) {
				t.Errorf("inputs modified: base %v, own %v", base, own)
			}
			if got != nil {
				got["new"] = "key"
				if _, ok := base["new"]; ok {
					t.Error("the result aliases base")
				}
				if _, ok := own["new"]; ok {
					t.Error("the result aliases own")
				}
			}
		})
	}
}

// A nil payload travels as Noop, so that the receiver can tell "no payload"
// from a payload it failed to read.
func TestBuildersNoopOrValue(t *testing.T) {
	v := str("hello")
	tests := []struct {
		name    string
		payload bool
	}{
		{"value", true},
		{"noop", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := v
			if !tt.payload {
				p = nil
			}
			target := effects.Target{System: "sys", Actor: "b", Action: "x", Parent: "tmpl"}

			req, err := effects.Request(target, p, map[string]string{"k": "v"})
			if err != nil {
				t.Fatal(err)
			}
			b, err := effects.Broadcast("news", p)
			if err != nil {
				t.Fatal(err)
			}
			caller := &protocol.ActorId{Name: "a", System: "sys"}
			fx, err := effects.SideEffect(caller, target, p, nil, 42)
			if err != nil {
				t.Fatal(err)
			}
			if tt.payload {
				if !proto.Equal(req.GetValue(), v) || !proto.Equal(b.GetValue(), v) || !proto.Equal(fx.GetRequest().GetValue(), v) {
					t.Errorf("value lost: request %v, broadcast %v, side effect %v", req, b, fx)
				}
			} else if req.GetNoop() == nil || b.GetNoop() == nil || fx.GetRequest().GetNoop() == nil {
				t.Errorf("want noop: request %v, broadcast %v, side effect %v", req, b, fx)
			}
			if req.GetRegisterRef() != "tmpl" || req.GetActor().GetId().GetSystem() != "sys" {
				t.Errorf("request %v: want register_ref tmpl and the actor in system sys", req)
			}
			if r := fx.GetRequest(); !r.GetAsync() || r.GetScheduledTo() != 42 || !proto.Equal(r.GetCaller(), caller) {
				t.Errorf("side effect %v: want async, scheduled_to 42 and the caller", r)
			}
		})
	}
}

func TestBuildersRefuse(t *testing.T) {
	if _, err := effects.Request(effects.Target{System: "sys", Actor: "b"}, nil, nil); err == nil {
		t.Error("Request without an action: no error")
	}
	if _, err := effects.Broadcast("", nil); err == nil {
		t.Error("Broadcast without a topic: no error")
	}
	var nilMsg *protocol.Noop
	if _, err := effects.Payload(nilMsg); err == nil {
		t.Error("Payload of a typed nil: no error")
	}
}

func TestPayloadSendsAnAnyAsItIs(t *testing.T) {
	inner, err := anypb.New(&protocol.Noop{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := effects.Payload(inner)
	if err != nil || got != inner {
		t.Fatalf("Payload(*anypb.Any) = %v, %v; want the Any itself, not wrapped again", got, err)
	}
	if got, err := effects.Payload(nil); got != nil || err != nil {
		t.Fatalf("Payload(nil) = %v, %v; want no payload", got, err)
	}
	if _, err := effects.Payload((*protocol.Noop)(nil)); err == nil {
		t.Fatal("a typed nil message must be refused")
	}
}
