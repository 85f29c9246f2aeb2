package transport

import (
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/protocol"
)

// The older protocol (the Python SDK's eigr.functions.protocol) declared
// Metadata.channel_group, field 1, as one topic string; the current one
// declares it as repeated Channel. Both are length-delimited, so an old
// topic reaches us as the bytes of a "Channel" that usually fails to decode
// and takes the whole request down with it.
//
// Before decoding, the raw bytes are walked down to every channel_group
// occurrence. One that is a well-formed Channel stays as is; any other is
// an old topic string and is rewritten as Channel{topic, action "receive"},
// the action the old protocol implied. Everything else is copied byte for
// byte, unknown fields included.
//
// The other difference that changes behaviour, Broadcast.action_name
// (field 2, the action the publisher picks for every subscriber), needs no
// rewriting: our schema declares it, so it decodes as is, and the runtime
// honours it. It is not safe to drop: a subscriber would then run its
// channel's action, which an old host never meant.

// Field numbers on the paths from a request down to Metadata.channel_group.
var (
	// RegistrationRequest.actor_system(2) → ActorSystem.registry(2) →
	// Registry.actors(1) (a map entry) → value(2) → Actor.metadata(6) →
	// Metadata.channel_group(1).
	registrationChannelPath = []protowire.Number{2, 2, 1, 2, 6, 1}
	// InvocationRequest.actor(2) → Actor.metadata(6) → Metadata.channel_group(1).
	invocationChannelPath = []protowire.Number{2, 6, 1}
)

// decodeRegistration decodes a RegistrationRequest, accepting old-protocol
// channel_group strings. It also returns how many it converted. The request
// is never nil, so that errors can name its type.
func decodeRegistration(b []byte) (*protocol.RegistrationRequest, int, error) {
	req := new(protocol.RegistrationRequest)
	b, n := upgradeChannels(b, registrationChannelPath)
	return req, n, proto.Unmarshal(b, req)
}

// decodeInvocation decodes an InvocationRequest into req, accepting an old
// protocol Actor in it: old SDKs may send the whole registered definition.
func decodeInvocation(b []byte, req *protocol.InvocationRequest) error {
	b, _ = upgradeChannels(b, invocationChannelPath)
	return proto.Unmarshal(b, req)
}

// upgradeChannels rewrites the old-protocol channel_group values found at
// path in the message b, and returns the result and how many it rewrote.
// Bytes it cannot walk are returned unchanged, for proto.Unmarshal to
// report.
func upgradeChannels(b []byte, path []protowire.Number) ([]byte, int) {
	n := 0
	out, changed := rewriteAt(b, path, func(v []byte) ([]byte, bool) {
		if len(v) == 0 || isChannel(v) {
			// An empty value is also what an empty Channel encodes to.
			return v, false
		}
		n++
		return legacyChannel(v), true
	})
	if !changed {
		return b, 0
	}
	return out, n
}

// rewriteAt walks the length-delimited fields of message b named by path and
// passes the values at its end to leaf. It returns b itself when nothing
// changed, and a new slice otherwise.
func rewriteAt(b []byte, path []protowire.Number, leaf func([]byte) ([]byte, bool)) ([]byte, bool) {
	var out []byte // nil until the first change, so the common case allocates nothing
	for off := 0; off < len(b); {
		num, typ, n := protowire.ConsumeTag(b[off:])
		if n < 0 {
			return b, false
		}
		m := protowire.ConsumeFieldValue(num, typ, b[off+n:])
		if m < 0 {
			return b, false
		}
		start, end := off, off+n+m
		off = end
		if num != path[0] || typ != protowire.BytesType {
			if out != nil {
				out = append(out, b[start:end]...)
			}
			continue
		}
		v, _ := protowire.ConsumeBytes(b[start+n : end])
		var nv []byte
		var changed bool
		if len(path) == 1 {
			nv, changed = leaf(v)
		} else {
			nv, changed = rewriteAt(v, path[1:], leaf)
		}
		if !changed {
			if out != nil {
				out = append(out, b[start:end]...)
			}
			continue
		}
		if out == nil {
			out = append(make([]byte, 0, len(b)+len(nv)), b[:start]...)
		}
		out = protowire.AppendTag(out, num, protowire.BytesType)
		out = protowire.AppendBytes(out, nv)
	}
	if out == nil {
		return b, false
	}
	return out, true
}

// isChannel reports whether v is a well-formed current-protocol Channel:
// only fields 1 (topic) and 2 (action), both strings of valid UTF-8, and a
// non-empty topic. Real topics are printable text, whose first byte can
// never be the tag of field 1 or 2, so an old string is not mistaken for a
// Channel in practice.
func isChannel(v []byte) bool {
	var topic []byte
	for len(v) > 0 {
		num, typ, n := protowire.ConsumeTag(v)
		if n < 0 || (num != 1 && num != 2) || typ != protowire.BytesType {
			return false
		}
		v = v[n:]
		s, m := protowire.ConsumeBytes(v)
		if m < 0 || !utf8.Valid(s) {
			return false
		}
		v = v[m:]
		if num == 1 {
			topic = s // the last occurrence wins, as in proto3 decoding
		}
	}
	return len(topic) > 0
}

// legacyChannel encodes Channel{topic: topic, action: "receive"}: an old
// subscription names no action, and receive is what a channel without one
// invokes.
func legacyChannel(topic []byte) []byte {
	out := make([]byte, 0, protowire.SizeTag(1)+protowire.SizeBytes(len(topic))+
		protowire.SizeTag(2)+protowire.SizeBytes(len(protocol.ReceiveAction)))
	out = protowire.AppendTag(out, 1, protowire.BytesType)
	out = protowire.AppendBytes(out, topic)
	out = protowire.AppendTag(out, 2, protowire.BytesType)
	out = protowire.AppendString(out, protocol.ReceiveAction)
	return out
}
