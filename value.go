package spawn

import (
	"errors"
	"fmt"
	"maps"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/effects"
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
	effects    []effect
	route      *route
	checkpoint bool
	err        error
}

// effect is a side effect as the action asked for it. Its target's system
// and its caller are the running actor's, known only when it returns.
type effect struct {
	to       effects.Target
	payload  *anypb.Any
	metadata map[string]string
	// when holds Delay or At; the time is worked out when the action
	// returns, on the System's clock.
	when invokeConfig
}

type route struct {
	pipe bool
	to   effects.Target
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

// ReplaceTags replaces all of the actor's tags with tags; ReplaceTags(nil)
// removes them all. Tags set after it are added to tags.
func (v Value) ReplaceTags(tags map[string]string) Value {
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
	payload, err := effects.Payload(msg)
	if err != nil {
		return v.fail(fmt.Errorf("broadcast to %q: %w", topic, err))
	}
	b, err := effects.Broadcast(topic, payload)
	if err != nil {
		return v.fail(err)
	}
	v.broadcast = b
	return v
}

// Effect invokes action on actor with payload once this action has
// succeeded and its state is applied, without waiting for it. The options
// Instance, InSystem, Delay, At and WithMetadata apply.
func (v Value) Effect(actor, action string, payload proto.Message, opts ...EffectOption) Value {
	cfg := newInvokeConfig(opts)
	if cfg.err == nil && (actor == "" || action == "") {
		cfg.err = errors.New("a side effect needs an actor and an action")
	}
	p, err := effects.Payload(payload)
	if cfg.err == nil && err != nil {
		cfg.err = err
	}
	if cfg.err != nil {
		return v.fail(fmt.Errorf("effect %s.%s: %w", actor, action, cfg.err))
	}
	fx := effect{to: cfg.target(actor, action, ""), payload: p, metadata: cfg.metadata, when: invokeConfig{delay: cfg.delay, at: cfg.at}}
	// A full slice expression, so that Values derived from one never
	// append into the same array.
	v.effects = append(v.effects[:len(v.effects):len(v.effects)], fx)
	return v
}

// Forward hands this action's input to action on actor; the caller gets
// that action's reply. The option Instance targets an unnamed actor's
// instance. A Value forwards or pipes, never both.
func (v Value) Forward(actor, action string, opts ...RouteOption) Value {
	return v.routeTo(false, actor, action, opts)
}

// Pipe sends this action's reply as the input of action on actor; the
// caller gets that action's reply. The option Instance targets an unnamed
// actor's instance. A Value forwards or pipes, never both.
func (v Value) Pipe(actor, action string, opts ...RouteOption) Value {
	return v.routeTo(true, actor, action, opts)
}

func (v Value) routeTo(pipe bool, actor, action string, opts []RouteOption) Value {
	verb := routeVerb(pipe)
	if v.route != nil {
		return v.fail(fmt.Errorf("%s to %s.%s after %s to %s.%s: a reply forwards or pipes, not both",
			verb, actor, action, routeVerb(v.route.pipe), v.route.to.Actor, v.route.to.Action))
	}
	cfg := newInvokeConfig(opts)
	if cfg.err == nil && (actor == "" || action == "") {
		cfg.err = errors.New("needs an actor and an action")
	}
	if cfg.err != nil {
		return v.fail(fmt.Errorf("%s to %s.%s: %w", verb, actor, action, cfg.err))
	}
	v.route = &route{pipe: pipe, to: cfg.target(actor, action, "")}
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

// workflow builds the protocol Workflow of v for the actor self, which
// returned it, or nil when v asks for none. trace, when not nil, is the
// metadata that carries the action's span: it goes to every side effect,
// under the metadata the action set. now reads the clock that the delays
// of side effects count from, when one has a delay.
func (v Value) workflow(self *protocol.ActorId, trace map[string]string, now func() time.Time) (*protocol.Workflow, error) {
	if v.broadcast == nil && len(v.effects) == 0 && v.route == nil {
		return nil, nil
	}
	wf := &protocol.Workflow{Broadcast: v.broadcast}
	base := v.metadata
	if trace != nil {
		base = effects.MergeMetadata(trace, v.metadata)
	}
	for _, fx := range v.effects {
		to := fx.to
		if to.System == "" {
			to.System = self.GetSystem()
		}
		var at int64
		if fx.when.delay > 0 || !fx.when.at.IsZero() {
			at = fx.when.scheduledTo(now())
		}
		se, err := effects.SideEffect(self, to, fx.payload, effects.MergeMetadata(base, fx.metadata), at)
		if err != nil {
			return nil, err
		}
		wf.Effects = append(wf.Effects, se)
	}
	if r := v.route; r != nil {
		if r.pipe {
			wf.Routing = effects.Pipe(r.to)
		} else {
			wf.Routing = effects.Forward(r.to)
		}
	}
	return wf, nil
}

// with returns a copy of m with key set, leaving m untouched.
func with(m map[string]string, key, value string) map[string]string {
	out := make(map[string]string, len(m)+1)
	maps.Copy(out, m)
	out[key] = value
	return out
}
