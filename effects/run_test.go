package effects_test

import (
	"maps"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/spawn-go/spawn/effects"
	"github.com/spawn-go/spawn/protocol"
)

func str(s string) *anypb.Any {
	a, err := anypb.New(wrapperspb.String(s))
	if err != nil {
		panic(err)
	}
	return a
}

// Payloads in the tables below: "" is none, "noop" is Noop, anything else
// is a value holding that string.

func reqPayload(p string) *protocol.InvocationRequest {
	r := &protocol.InvocationRequest{}
	switch p {
	case "":
	case "noop":
		r.Payload = &protocol.InvocationRequest_Noop{Noop: &protocol.Noop{}}
	default:
		r.Payload = &protocol.InvocationRequest_Value{Value: str(p)}
	}
	return r
}

func respPayload(p string) *protocol.ActorInvocationResponse {
	r := &protocol.ActorInvocationResponse{}
	switch p {
	case "":
	case "noop":
		r.Payload = &protocol.ActorInvocationResponse_Noop{Noop: &protocol.Noop{}}
	default:
		r.Payload = &protocol.ActorInvocationResponse_Value{Value: str(p)}
	}
	return r
}

func broadcastPayload(p string) *protocol.Broadcast {
	b := &protocol.Broadcast{}
	switch p {
	case "":
	case "noop":
		b.Payload = &protocol.Broadcast_Noop{Noop: &protocol.Noop{}}
	default:
		b.Payload = &protocol.Broadcast_Value{Value: str(p)}
	}
	return b
}

func TestNext(t *testing.T) {
	pipe := func(ref string) *protocol.Workflow {
		return &protocol.Workflow{Routing: &protocol.Workflow_Pipe{Pipe: &protocol.Pipe{Actor: "b", ActionName: "next", RegisterRef: ref}}}
	}
	forward := func(ref string) *protocol.Workflow {
		return &protocol.Workflow{Routing: &protocol.Workflow_Forward{Forward: &protocol.Forward{Actor: "b", ActionName: "next", RegisterRef: ref}}}
	}
	tests := []struct {
		name     string
		input    string // the source's payload
		reply    string // the source's reply payload
		workflow *protocol.Workflow
		want     string // the next request's payload
		wantRef  string
		wantNone bool // no next request at all
	}{
		{name: "pipe passes the reply value", input: "input", reply: "reply", workflow: pipe(""), want: "reply"},
		{name: "pipe passes a noop reply as noop", input: "input", reply: "noop", workflow: pipe(""), want: "noop"},
		{name: "pipe of a reply with no payload passes none", input: "input", workflow: pipe(""), want: ""},
		{name: "forward passes the input value", input: "input", reply: "reply", workflow: forward(""), want: "input"},
		{name: "forward passes a noop input as noop", input: "noop", reply: "reply", workflow: forward(""), want: "noop"},
		{name: "forward of an input with no payload passes none", reply: "reply", workflow: forward(""), want: ""},
		{name: "pipe carries register_ref", input: "input", reply: "reply", workflow: pipe("tmpl"), want: "reply", wantRef: "tmpl"},
		{name: "forward carries register_ref", input: "input", reply: "reply", workflow: forward("tmpl"), want: "input", wantRef: "tmpl"},
		{name: "no routing", input: "input", reply: "reply",
			workflow: &protocol.Workflow{Broadcast: &protocol.Broadcast{ChannelGroup: "t"}}, wantNone: true},
		{name: "no workflow", input: "input", reply: "reply", wantNone: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source := reqPayload(tt.input)
			// The source request names another system than self's: the
			// target is still looked up in self's.
			source.System = &protocol.ActorSystem{Name: "caller-system"}
			source.Actor = &protocol.Actor{Id: &protocol.ActorId{Name: "a", System: "caller-system"}}
			source.ActionName = "src"
			source.Metadata = map[string]string{"trace": "1"}
			source.Caller = &protocol.ActorId{Name: "original", System: "sys"}
			// An instance of an unnamed actor: the caller the target sees
			// is its name and system, without the parent.
			self := &protocol.ActorId{Name: "a", System: "sys", Parent: "tmpl-a"}
			resp := respPayload(tt.reply)
			resp.Workflow = tt.workflow
			before := proto.CloneOf(source)

			got := effects.Next(source, self, resp)

			if tt.wantNone {
				if got != nil {
					t.Fatalf("Next = %v, want nil", got)
				}
				return
			}
			want := reqPayload(tt.want)
			want.System = &protocol.ActorSystem{Name: "sys"}
			want.Actor = &protocol.Actor{Id: &protocol.ActorId{Name: "b", System: "sys"}}
			want.ActionName = "next"
			want.Metadata = map[string]string{"trace": "1"}
			want.Caller = &protocol.ActorId{Name: "a", System: "sys"}
			want.RegisterRef = tt.wantRef
			if !proto.Equal(got, want) {
				t.Errorf("Next =\n %v\nwant\n %v", got, want)
			}
			if !proto.Equal(source, before) {
				t.Errorf("source modified: %v", source)
			}
		})
	}
}

func TestDelivery(t *testing.T) {
	tests := []struct {
		name          string
		channelAction string // the subscriber's Channel.action
		actionName    string // Broadcast.action_name, of the older protocol
		payload       string
		wantAction    string
	}{
		{name: "value to the channel's action", channelAction: "onNews", payload: "news", wantAction: "onNews"},
		{name: "noop stays noop", channelAction: "onNews", payload: "noop", wantAction: "onNews"},
		{name: "no payload stays none", channelAction: "onNews", wantAction: "onNews"},
		{name: "a channel with no action means receive", payload: "news", wantAction: protocol.ReceiveAction},
		{name: "older protocol: the publisher's action wins", channelAction: "onNews", actionName: "shout",
			payload: "news", wantAction: "shout"},
		{name: "older protocol: over the receive default too", actionName: "shout", payload: "noop", wantAction: "shout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			publisher := &protocol.ActorId{Name: "pub", System: "sys", Parent: "tmpl"}
			subscriber := &protocol.ActorId{Name: "sub", System: "sys", Parent: "sub-tmpl"}
			b := broadcastPayload(tt.payload)
			b.ChannelGroup = "news"
			b.ActionName = tt.actionName
			before := proto.CloneOf(b)

			got := effects.Delivery(publisher, subscriber, tt.channelAction, b)

			want := reqPayload(tt.payload)
			want.System = &protocol.ActorSystem{Name: "sys"}
			want.Actor = &protocol.Actor{Id: &protocol.ActorId{Name: "sub", System: "sys"}}
			want.ActionName = tt.wantAction
			want.Async = true
			// The publisher as it is, parent included; no metadata.
			want.Caller = &protocol.ActorId{Name: "pub", System: "sys", Parent: "tmpl"}
			if !proto.Equal(got, want) {
				t.Errorf("Delivery =\n %v\nwant\n %v", got, want)
			}
			if !proto.Equal(b, before) {
				t.Errorf("broadcast modified: %v", b)
			}
		})
	}
}

func TestEffectRequest(t *testing.T) {
	effect := func(md map[string]string) *protocol.SideEffect {
		return &protocol.SideEffect{Request: &protocol.InvocationRequest{
			System:      &protocol.ActorSystem{Name: "sys"},
			Actor:       &protocol.Actor{Id: &protocol.ActorId{Name: "b", System: "sys"}},
			ActionName:  "x",
			Payload:     &protocol.InvocationRequest_Value{Value: str("fx")},
			Async:       true,
			Caller:      &protocol.ActorId{Name: "a", System: "sys"},
			ScheduledTo: 1234,
			RegisterRef: "tmpl",
			Metadata:    md,
		}}
	}
	tests := []struct {
		name    string
		source  map[string]string
		effect  map[string]string
		want    map[string]string
		wantErr bool
	}{
		{name: "the effect's keys win", source: map[string]string{"k1": "source", "k3": "source"},
			effect: map[string]string{"k1": "effect", "k2": "effect"},
			want:   map[string]string{"k1": "effect", "k2": "effect", "k3": "source"}},
		{name: "source only", source: map[string]string{"k": "source"}, want: map[string]string{"k": "source"}},
		{name: "effect only", effect: map[string]string{"k": "effect"}, want: map[string]string{"k": "effect"}},
		{name: "neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source := &protocol.InvocationRequest{ActionName: "src", Metadata: maps.Clone(tt.source)}
			fx := effect(maps.Clone(tt.effect))
			before, beforeSource := proto.CloneOf(fx), proto.CloneOf(source)

			got, err := effects.EffectRequest(source, fx)
			if err != nil {
				t.Fatal(err)
			}
			want := effect(tt.want).GetRequest()
			if !proto.Equal(got, want) {
				t.Errorf("EffectRequest =\n %v\nwant\n %v", got, want)
			}
			if !proto.Equal(fx, before) || !proto.Equal(source, beforeSource) {
				t.Errorf("inputs modified: effect %v, source %v", fx, source)
			}
			// The result is the caller's to change.
			got.ActionName = "changed"
			got.GetActor().GetId().Name = "changed"
			if got.Metadata == nil {
				got.Metadata = map[string]string{}
			}
			got.Metadata["new"] = "key"
			if !proto.Equal(fx, before) || !proto.Equal(source, beforeSource) {
				t.Errorf("the result aliases an input: effect %v, source %v", fx, source)
			}
		})
	}
}

func TestEffectRequestRefuses(t *testing.T) {
	full := func() *protocol.InvocationRequest {
		return &protocol.InvocationRequest{
			System:     &protocol.ActorSystem{Name: "sys"},
			Actor:      &protocol.Actor{Id: &protocol.ActorId{Name: "b", System: "sys"}},
			ActionName: "x",
		}
	}
	tests := []struct {
		name string
		fx   *protocol.SideEffect
	}{
		{"no request", &protocol.SideEffect{}},
		{"no system", &protocol.SideEffect{Request: func() *protocol.InvocationRequest { r := full(); r.System = nil; return r }()}},
		{"empty system name", &protocol.SideEffect{Request: func() *protocol.InvocationRequest { r := full(); r.System.Name = ""; return r }()}},
		{"no actor", &protocol.SideEffect{Request: func() *protocol.InvocationRequest { r := full(); r.Actor = nil; return r }()}},
		{"no actor id name", &protocol.SideEffect{Request: func() *protocol.InvocationRequest { r := full(); r.Actor.Id.Name = ""; return r }()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source := &protocol.InvocationRequest{Metadata: map[string]string{"k": "v"}}
			got, err := effects.EffectRequest(source, tt.fx)
			if err == nil || got != nil {
				t.Fatalf("EffectRequest = %v, %v; want an error", got, err)
			}
			if !strings.Contains(err.Error(), "system.name and actor.id.name") {
				t.Errorf("error %q does not say what is missing", err)
			}
		})
	}
}
