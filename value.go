package spawn

import (
	"errors"
	"fmt"
	"maps"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/internal/dispatch"
	"github.com/spawn-go/spawn/protocol"
)

// Value is the full result of an action: the reply, and what should happen
// to the actor and around it. Build it from Reply or NoReply:
//
//	return spawn.Reply(&pb.Ack{}).Broadcast("orders", ev).Tag("status", "open"), nil
//
// Value is a value type: every method returns a new Value and leaves its
// receiver as it was, so two Values derived from one never share changes.
type Value struct {
	reply      proto.Message
	state      proto.Message
	tags       map[string]string
	replace    bool
	metadata   map[string]string
	broadcast  *protocol.Broadcast
	effects    []*protocol.SideEffect
	route      *route
	checkpoint bool
	err        error
}

type route struct {
	pipe                bool
	actor, action, from string
}

// Reply returns a Value that answers the caller with msg.
func Reply(msg proto.Message) Value { return Value{reply: msg} }

// NoReply returns a Value that answers the caller with no payload.
func NoReply() Value { return Value{} }

// State sets the actor's new state. Without it, the state is whatever the
// actor's state field holds when the action returns.
func (v Value) State(msg proto.Message) Value {
	v.state = msg
	return v
}

// Tag sets one tag of the actor, keeping the others.
func (v Value) Tag(key, value string) Value {
	v.tags = with(v.tags, key, value)
	return v
}

// Tags replaces all of the actor's tags with tags. Tags(nil) removes them all.
func (v Value) Tags(tags map[string]string) Value {
	v.tags = maps.Clone(tags)
	if v.tags == nil {
		v.tags = map[string]string{}
	}
	v.replace = true
	return v
}

// Metadata adds key=value to the metadata of every side effect this Value
// emits; an effect's own metadata wins over it.
func (v Value) Metadata(key, value string) Value {
	v.metadata = with(v.metadata, key, value)
	return v
}

// Broadcast publishes msg to every actor subscribed to topic. Subscribers
// receive it in the action their channel names ("receive" by default). A
// reply carries one broadcast; send more as side effects. A nil msg
// broadcasts an empty payload.
func (v Value) Broadcast(topic string, msg proto.Message) Value {
	if v.broadcast != nil {
		return v.fail(fmt.Errorf("a reply carries one broadcast and this one already goes to %q; send the second as a side effect", v.broadcast.ChannelGroup))
	}
	if topic == "" {
		return v.fail(errors.New("Broadcast needs a topic"))
	}
	b := &protocol.Broadcast{ChannelGroup: topic}
	if msg == nil {
		b.Payload = &protocol.Broadcast_Noop{Noop: &protocol.Noop{}}
	} else {
		a, err := anypb.New(msg)
		if err != nil {
			return v.fail(fmt.Errorf("broadcast payload: %w", err))
		}
		b.Payload = &protocol.Broadcast_Value{Value: a}
	}
	v.broadcast = b
	return v
}

// Effect asks the proxy to invoke action on actor with payload after this
// action's state is saved, without waiting for it. The options Parent,
// Delay, At and WithMetadata apply.
func (v Value) Effect(actor, action string, payload proto.Message, opts ...InvokeOption) Value {
	cfg := newInvokeConfig(opts)
	if cfg.err != nil {
		return v.fail(fmt.Errorf("effect %s.%s: %w", actor, action, cfg.err))
	}
	if cfg.async || cfg.instance != "" {
		return v.fail(fmt.Errorf("effect %s.%s: only Parent, Delay, At and WithMetadata apply to side effects", actor, action))
	}
	req, err := newRequest("", actor, action, payload, cfg)
	if err != nil {
		return v.fail(fmt.Errorf("effect %s.%s: %w", actor, action, err))
	}
	req.Async = true // effects never block the actor that emits them
	v.effects = append(v.effects[:len(v.effects):len(v.effects)], &protocol.SideEffect{Request: req})
	return v
}

// Forward hands this action's input to action on actor; the caller gets
// that action's reply. Parent is the one option that applies, to forward
// to an unnamed actor's instance. A Value forwards or pipes, never both.
func (v Value) Forward(actor, action string, opts ...InvokeOption) Value {
	return v.routeTo(false, actor, action, opts)
}

// Pipe sends this action's reply as the input of action on actor; the
// caller gets that action's reply. Parent is the one option that applies.
// A Value forwards or pipes, never both.
func (v Value) Pipe(actor, action string, opts ...InvokeOption) Value {
	return v.routeTo(true, actor, action, opts)
}

func (v Value) routeTo(pipe bool, actor, action string, opts []InvokeOption) Value {
	verb := routeVerb(pipe)
	if v.route != nil {
		return v.fail(fmt.Errorf("%s to %s.%s after %s to %s.%s: a reply forwards or pipes, not both",
			verb, actor, action, routeVerb(v.route.pipe), v.route.actor, v.route.action))
	}
	if actor == "" || action == "" {
		return v.fail(fmt.Errorf("%s needs an actor and an action", verb))
	}
	cfg := newInvokeConfig(opts)
	if cfg.err == nil && (cfg.async || cfg.instance != "" || cfg.delay != 0 || !cfg.at.IsZero() || cfg.metadata != nil) {
		cfg.err = errors.New("only Parent applies")
	}
	if cfg.err != nil {
		return v.fail(fmt.Errorf("%s to %s.%s: %w", verb, actor, action, cfg.err))
	}
	v.route = &route{pipe: pipe, actor: actor, action: action, from: cfg.parent}
	return v
}

func routeVerb(pipe bool) string {
	if pipe {
		return "Pipe"
	}
	return "Forward"
}

// Checkpoint asks for the state to be saved durably before the caller gets
// the reply, instead of at the next periodic snapshot.
func (v Value) Checkpoint() Value {
	v.checkpoint = true
	return v
}

// Err reports the first misuse of the builder (such as Forward and Pipe on
// one Value). An action returning a Value with an error fails with it.
func (v Value) Err() error { return v.err }

func (v Value) fail(err error) Value {
	if v.err == nil {
		v.err = err
	}
	return v
}

// result turns the Value into the dispatcher's terms. self is the actor
// that returned it: side effects go out in its system, as its calls.
func (v Value) result(self *protocol.ActorId) (dispatch.Result, error) {
	if v.err != nil {
		return dispatch.Result{}, v.err
	}
	res := dispatch.Result{
		Reply:       v.reply,
		State:       v.state,
		Tags:        v.tags,
		ReplaceTags: v.replace,
		Checkpoint:  v.checkpoint,
	}
	if v.broadcast == nil && len(v.effects) == 0 && v.route == nil {
		return res, nil
	}
	wf := &protocol.Workflow{Broadcast: v.broadcast}
	for _, e := range v.effects {
		// Effects may be shared with Values derived from this one: change a copy.
		e = proto.Clone(e).(*protocol.SideEffect)
		req := e.Request
		req.System = &protocol.ActorSystem{Name: self.GetSystem()}
		req.Actor.Id.System = self.GetSystem()
		req.Caller = &protocol.ActorId{Name: self.GetName(), System: self.GetSystem(), Parent: self.GetParent()}
		if len(v.metadata) > 0 {
			md := maps.Clone(v.metadata)
			maps.Copy(md, req.Metadata)
			req.Metadata = md
		}
		wf.Effects = append(wf.Effects, e)
	}
	if r := v.route; r != nil {
		if r.pipe {
			wf.Routing = &protocol.Workflow_Pipe{Pipe: &protocol.Pipe{Actor: r.actor, ActionName: r.action, RegisterRef: r.from}}
		} else {
			wf.Routing = &protocol.Workflow_Forward{Forward: &protocol.Forward{Actor: r.actor, ActionName: r.action, RegisterRef: r.from}}
		}
	}
	res.Workflow = wf
	return res, nil
}

// with returns a copy of m with key set, leaving m untouched.
func with(m map[string]string, key, value string) map[string]string {
	out := make(map[string]string, len(m)+1)
	maps.Copy(out, m)
	out[key] = value
	return out
}
