package runtime

import (
	"go.uber.org/zap"

	"github.com/spawn-go/spawn/protocol"
)

// subscriber is an actor listening on a topic.
type subscriber struct {
	id     *protocol.ActorId
	action string
}

// subKey de-duplicates subscriptions per (actor, topic, action). The real
// proxy leaves the topic out, so an actor on two topics with the same
// action hears only the first; here it hears both.
type subKey struct {
	actor         actorKey
	topic, action string
}

// subscribeLocked subscribes d's channels. Like the real proxy's,
// subscriptions start at activation and outlive it: a broadcast reaches a
// deactivated subscriber and activates it again.
func (e *Engine) subscribeLocked(d *definition) {
	for _, ch := range d.channels {
		k := subKey{actor: d.key, topic: ch.topic, action: ch.action}
		if _, ok := e.subscribed[k]; ok {
			continue
		}
		e.subscribed[k] = struct{}{}
		e.topics[ch.topic] = append(e.topics[ch.topic], subscriber{id: d.id(), action: ch.action})
	}
}

// broadcast sends b's payload to every subscriber of its topic, the
// publisher included, as async invocations with the publisher as caller
// and no metadata (spawn-protocol.md §8.2).
func (e *Engine) broadcast(publisher *protocol.ActorId, b *protocol.Broadcast) {
	if b == nil {
		return
	}
	topic := b.GetChannelGroup()
	if topic == "" {
		e.log.Error("broadcast dropped: it has no channel_group", zap.String("publisher", publisher.GetName()))
		return
	}
	e.mu.Lock()
	subs := e.topics[topic] // only ever appended to, so this prefix is stable
	e.mu.Unlock()
	for _, s := range subs {
		req := &protocol.InvocationRequest{
			System:     &protocol.ActorSystem{Name: s.id.GetSystem()},
			Actor:      &protocol.Actor{Id: &protocol.ActorId{Name: s.id.GetName(), System: s.id.GetSystem()}},
			ActionName: s.action,
			Async:      true,
			Caller:     publisher,
		}
		switch p := b.GetPayload().(type) {
		case *protocol.Broadcast_Value:
			req.Payload = &protocol.InvocationRequest_Value{Value: p.Value}
		case *protocol.Broadcast_Noop:
			req.Payload = &protocol.InvocationRequest_Noop{Noop: p.Noop}
		}
		if _, err := e.invoke(e.base, req, call{}); err != nil {
			e.log.Error("broadcast delivery failed", zap.String("topic", topic), zap.String("subscriber", s.id.GetName()), zap.Error(err))
		}
	}
}
