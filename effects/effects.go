// Package effects is the workflow vocabulary of the Spawn protocol, kept in
// one place: how an invocation names its target, and what a broadcast, a
// side effect, a forward and a pipe carry to the next actor.
//
// It is machinery shared by both ends. The spawn package builds workflows
// with it when an action returns a Value; the runtime package carries them
// out with it when it plays the proxy. Keeping both here means the payload
// rules and the metadata merge are written once. Most programs never import
// it.
package effects

import (
	"errors"
	"fmt"
	"maps"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/protocol"
)

// Target names one action of one actor.
type Target struct {
	// System is the actor system; the proxy routes other systems than its
	// own to the proxies that serve them.
	System string
	// Actor is the actor's name: a registered name, or for an instance of
	// an unnamed actor, the instance's name.
	Actor string
	// Action is the action to run.
	Action string
	// Parent, when set, names the unnamed actor that Actor is an instance
	// of; the proxy spawns the instance on first use (register_ref).
	Parent string
}

// Payload encodes msg as an invocation's payload. A nil msg means no
// payload, which travels as Noop. An *anypb.Any is the payload as it is,
// not wrapped in another Any: that is how a program forwards a payload it
// received undecoded.
func Payload(msg proto.Message) (*anypb.Any, error) {
	if msg == nil {
		return nil, nil
	}
	if !msg.ProtoReflect().IsValid() {
		return nil, fmt.Errorf("the payload is a nil %T; pass nil for no payload", msg)
	}
	if a, ok := msg.(*anypb.Any); ok {
		return a, nil
	}
	return anypb.New(msg)
}

// Request builds the invocation of t with payload (nil for none) and a
// copy of metadata.
func Request(t Target, payload *anypb.Any, metadata map[string]string) (*protocol.InvocationRequest, error) {
	switch {
	case t.Actor == "" || t.Action == "":
		return nil, fmt.Errorf("an invocation needs an actor and an action (got %q, %q)", t.Actor, t.Action)
	case t.System == "":
		return nil, fmt.Errorf("invoking %s.%s: an invocation needs an actor system", t.Actor, t.Action)
	}
	// The request and its parts in one allocation: every call builds one.
	a := new(struct {
		req   protocol.InvocationRequest
		sys   protocol.ActorSystem
		actor protocol.Actor
		id    protocol.ActorId
		value protocol.InvocationRequest_Value
	})
	a.sys.Name = t.System
	a.id.Name, a.id.System = t.Actor, t.System
	a.actor.Id = &a.id
	req := &a.req
	req.System, req.Actor, req.ActionName, req.RegisterRef, req.Metadata = &a.sys, &a.actor, t.Action, t.Parent, maps.Clone(metadata)
	if payload == nil {
		req.Payload = &protocol.InvocationRequest_Noop{Noop: &protocol.Noop{}}
	} else {
		a.value.Value = payload
		req.Payload = &a.value
	}
	return req, nil
}

// SideEffect builds a side effect: the invocation of t with payload, made
// by caller once its action has succeeded, without waiting for it.
// scheduledTo, when not zero, is when it runs, in Unix milliseconds.
func SideEffect(caller *protocol.ActorId, t Target, payload *anypb.Any, metadata map[string]string, scheduledTo int64) (*protocol.SideEffect, error) {
	req, err := Request(t, payload, metadata)
	if err != nil {
		return nil, err
	}
	// A side effect never blocks the actor that emits it.
	req.Async = true
	req.ScheduledTo = scheduledTo
	req.Caller = cloneID(caller)
	return &protocol.SideEffect{Request: req}, nil
}

// Broadcast builds a broadcast of payload (nil for none) to the subscribers
// of topic.
func Broadcast(topic string, payload *anypb.Any) (*protocol.Broadcast, error) {
	if topic == "" {
		return nil, errors.New("a broadcast needs a topic")
	}
	b := &protocol.Broadcast{ChannelGroup: topic}
	if payload == nil {
		b.Payload = &protocol.Broadcast_Noop{Noop: &protocol.Noop{}}
	} else {
		b.Payload = &protocol.Broadcast_Value{Value: payload}
	}
	return b, nil
}

// Forward routes the action's input to t, whose reply goes to the caller.
// The protocol carries no system for a forward: the proxy routes it within
// the forwarding actor's system, so t.System is ignored.
func Forward(t Target) *protocol.Workflow_Forward {
	return &protocol.Workflow_Forward{Forward: &protocol.Forward{Actor: t.Actor, ActionName: t.Action, RegisterRef: t.Parent}}
}

// Pipe routes the action's reply to t, whose reply goes to the caller. Like
// a forward, it stays within the piping actor's system.
func Pipe(t Target) *protocol.Workflow_Pipe {
	return &protocol.Workflow_Pipe{Pipe: &protocol.Pipe{Actor: t.Actor, ActionName: t.Action, RegisterRef: t.Parent}}
}

// MergeMetadata returns a new map holding base with own on top: where both
// have a key, own wins. It returns nil when both are empty.
func MergeMetadata(base, own map[string]string) map[string]string {
	if len(base) == 0 && len(own) == 0 {
		return nil
	}
	out := make(map[string]string, len(base)+len(own))
	maps.Copy(out, base)
	maps.Copy(out, own)
	return out
}

func cloneID(id *protocol.ActorId) *protocol.ActorId {
	if id == nil {
		return nil
	}
	return &protocol.ActorId{Name: id.GetName(), System: id.GetSystem(), Parent: id.GetParent()}
}
