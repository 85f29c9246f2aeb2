package effects

import (
	"errors"

	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/protocol"
)

// What a proxy does with a workflow, in the order it does it once the
// source action's reply is applied: side effects, then the broadcast, then
// the forward or pipe.

// EffectRequest returns the invocation a side effect asks for, as the proxy
// runs it: a copy of the effect's request with the source invocation's
// metadata merged under the effect's own. It refuses a request without
// system.name or actor.id.name, which the proxy could not route, and never
// modifies its inputs.
func EffectRequest(source *protocol.InvocationRequest, fx *protocol.SideEffect) (*protocol.InvocationRequest, error) {
	r := fx.GetRequest()
	if r.GetSystem().GetName() == "" || r.GetActor().GetId().GetName() == "" {
		return nil, errors.New("a side effect's request needs system.name and actor.id.name")
	}
	r = proto.CloneOf(r)
	r.Metadata = MergeMetadata(source.GetMetadata(), r.GetMetadata())
	return r, nil
}

// Delivery returns the invocation that brings broadcast b to subscriber,
// whose channel names action: async, with the publisher as caller and no
// metadata. The result shares publisher and the payload with its inputs.
//
// The action run is b's action_name when it has one: a host of the older
// protocol chooses the action of every subscriber that way. Otherwise it
// is the channel's action, or receive when the channel names none.
func Delivery(publisher, subscriber *protocol.ActorId, action string, b *protocol.Broadcast) *protocol.InvocationRequest {
	switch {
	case b.GetActionName() != "":
		action = b.GetActionName()
	case action == "":
		action = protocol.ReceiveAction
	}
	req := &protocol.InvocationRequest{
		System:     &protocol.ActorSystem{Name: subscriber.GetSystem()},
		Actor:      &protocol.Actor{Id: &protocol.ActorId{Name: subscriber.GetName(), System: subscriber.GetSystem()}},
		ActionName: action,
		Async:      true,
		Caller:     publisher,
	}
	switch p := b.GetPayload().(type) {
	case *protocol.Broadcast_Value:
		req.Payload = &protocol.InvocationRequest_Value{Value: p.Value}
	case *protocol.Broadcast_Noop:
		req.Payload = &protocol.InvocationRequest_Noop{Noop: p.Noop}
	}
	return req
}

// Next returns the invocation that the forward or pipe of resp asks for, or
// nil when resp routes nowhere. source is the invocation resp answers, and
// self the actor that answered it.
//
// A pipe passes on the source's reply, a forward its input. Either way the
// target is in self's system, the metadata is the source's, the caller is
// self's name and system, and the target's reply goes to the source's
// caller. The result shares the payload and the metadata with source and
// resp.
func Next(source *protocol.InvocationRequest, self *protocol.ActorId, resp *protocol.ActorInvocationResponse) *protocol.InvocationRequest {
	var actor, action, ref string
	next := &protocol.InvocationRequest{}
	switch r := resp.GetWorkflow().GetRouting().(type) {
	case *protocol.Workflow_Pipe:
		actor, action, ref = r.Pipe.GetActor(), r.Pipe.GetActionName(), r.Pipe.GetRegisterRef()
		switch p := resp.GetPayload().(type) {
		case *protocol.ActorInvocationResponse_Value:
			next.Payload = &protocol.InvocationRequest_Value{Value: p.Value}
		case *protocol.ActorInvocationResponse_Noop:
			next.Payload = &protocol.InvocationRequest_Noop{Noop: p.Noop}
		}
	case *protocol.Workflow_Forward:
		actor, action, ref = r.Forward.GetActor(), r.Forward.GetActionName(), r.Forward.GetRegisterRef()
		next.Payload = source.GetPayload()
	default:
		return nil
	}
	sys := self.GetSystem()
	next.System = &protocol.ActorSystem{Name: sys}
	next.Actor = &protocol.Actor{Id: &protocol.ActorId{Name: actor, System: sys}}
	next.ActionName = action
	next.Metadata = source.GetMetadata()
	next.Caller = &protocol.ActorId{Name: self.GetName(), System: sys}
	next.RegisterRef = ref
	return next
}
