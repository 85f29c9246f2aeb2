package telemetry

import (
	"hash/fnv"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/protocol"
)

// The protocol carries no metadata for a broadcast's deliveries, and a
// forward or pipe carries the metadata of the invocation that routed, not
// of the action that did. Where that action ran in this process, its span
// is remembered here for a while, under what the resulting invocation will
// show: its caller (the routing or publishing actor), the span its metadata
// names (none for a delivery), and a digest of its payload. The host span
// of that invocation then continues from the action's span. Where the
// action ran in another process, nothing is found, and the invocation's own
// metadata decides, as everywhere else.

// originKey is what an invocation shows of the action it came from.
type originKey struct {
	name, system string
	parent       trace.SpanID
	digest       uint64
}

type originEntry struct {
	sc   trace.SpanContext
	slot int
}

// originTable remembers the last maxOrigins origins.
type originTable struct {
	used atomic.Bool
	mu   sync.RWMutex
	m    map[originKey]originEntry
	ring []originKey
	next int
}

const maxOrigins = 1024

var origins = &originTable{}

func (o *originTable) put(self *protocol.ActorId, parent trace.SpanID, p *anypb.Any, sc trace.SpanContext) {
	k := originKey{name: self.GetName(), system: self.GetSystem(), parent: parent, digest: digest(p)}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = make(map[originKey]originEntry, maxOrigins)
		o.ring = make([]originKey, maxOrigins)
	}
	if old := o.ring[o.next]; old != (originKey{}) {
		if e, ok := o.m[old]; ok && e.slot == o.next {
			delete(o.m, old)
		}
	}
	o.ring[o.next] = k
	o.m[k] = originEntry{sc: sc, slot: o.next}
	o.next = (o.next + 1) % maxOrigins
	o.used.Store(true)
}

// find returns the span of the action that inv comes from, when it ran in
// this process; parent is the span inv's metadata names.
func (o *originTable) find(inv *protocol.ActorInvocation, parent trace.SpanID) (trace.SpanContext, bool) {
	caller := inv.GetCaller()
	if !o.used.Load() || caller.GetName() == "" {
		return trace.SpanContext{}, false
	}
	k := originKey{name: caller.GetName(), system: caller.GetSystem(), parent: parent, digest: digest(inv.GetValue())}
	o.mu.RLock()
	e, ok := o.m[k]
	o.mu.RUnlock()
	return e.sc, ok
}

// digest hashes a payload; no payload and an empty one hash alike.
func digest(p *anypb.Any) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(p.GetTypeUrl()))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write(p.GetValue())
	return h.Sum64()
}
