package runtime

import (
	"slices"

	"go.uber.org/zap"

	"github.com/spawn-go/spawn/effects"
	"github.com/spawn-go/spawn/protocol"
)

// subscriber is an actor listening on a topic.
type subscriber struct {
	key    actorKey
	id     *protocol.ActorId
	action string
}

// subscribeLocked makes d's channels the subscriptions of key, whose id is
// id. Like the real proxy's, subscriptions start at activation and outlive
// it: a broadcast reaches a deactivated subscriber and activates it again;
// spawned instances are the exception, whose subscriptions end when they
// deactivate. Unlike the real proxy's, they are per (topic, action), and
// those that a re-registration dropped end at the next activation.
func (e *Engine) subscribeLocked(key actorKey, id *protocol.ActorId, d *definition) {
	old := e.subscribed[key]
	for _, s := range old {
		if !slices.Contains(d.channels, s) {
			e.unsubscribeLocked(key, s)
		}
	}
	for _, s := range d.channels {
		if !slices.Contains(old, s) {
			e.topics[s.topic] = append(e.topics[s.topic], subscriber{key: key, id: id, action: s.action})
		}
	}
	if len(d.channels) == 0 {
		delete(e.subscribed, key)
		return
	}
	e.subscribed[key] = d.channels
}

// unsubscribeLocked removes one subscription of actor. It builds a new
// slice, because broadcast reads the old one without the lock.
func (e *Engine) unsubscribeLocked(actor actorKey, s subscription) {
	subs := slices.DeleteFunc(slices.Clone(e.topics[s.topic]), func(sub subscriber) bool {
		return sub.key == actor && sub.action == s.action
	})
	if len(subs) == 0 {
		delete(e.topics, s.topic)
		return
	}
	e.topics[s.topic] = subs
}

// broadcast sends b's payload to every subscriber of its topic, the
// publisher included, as async invocations with the publisher as caller
// and no metadata (docs/protocol.md §9.3).
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
	// Subscribing appends and unsubscribing copies, so the elements of
	// this slice never change.
	subs := e.topics[topic]
	e.mu.Unlock()
	for _, s := range recipients(subs, b) {
		req := effects.Delivery(publisher, s.id, s.action, b)
		if _, err := e.invoke(e.base, req, call{origin: originBroadcast}); err != nil {
			e.log.Error("broadcast delivery failed", zap.String("topic", topic), zap.String("subscriber", s.id.GetName()),
				zap.String("action", req.GetActionName()), zap.Error(err))
		}
	}
}

// recipients returns the subscriptions b is delivered to. When the
// publisher names the action (older protocol), the subscriptions' actions
// do not matter, and an actor listening on the topic through several
// channels runs it once.
func recipients(subs []subscriber, b *protocol.Broadcast) []subscriber {
	if b.GetActionName() == "" {
		return subs
	}
	seen := make(map[actorKey]bool, len(subs))
	out := make([]subscriber, 0, len(subs))
	for _, s := range subs {
		if !seen[s.key] {
			seen[s.key] = true
			out = append(out, s)
		}
	}
	return out
}
