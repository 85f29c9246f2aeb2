package transport

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/protocol"
)

// oldMetadata encodes a Metadata the way the older protocol did: each
// channel_group value is a plain topic string. Entries are raw field-1
// values, so a test can mix old strings and encoded Channels.
func oldMetadata(values ...[]byte) []byte {
	var b []byte
	for _, v := range values {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, v)
	}
	return b
}

// registrationWith encodes a RegistrationRequest whose actors have the
// given raw Metadata bytes.
func registrationWith(t testing.TB, metadata map[string][]byte) []byte {
	t.Helper()
	var registry []byte
	for name, md := range metadata {
		actor := mustMarshal(t, &protocol.Actor{
			Id:       &protocol.ActorId{Name: name, System: "spawn-system"},
			State:    &protocol.ActorState{},
			Settings: &protocol.ActorSettings{Kind: protocol.Kind_NAMED, Stateful: true},
			Actions:  []*protocol.Action{{Name: "receive"}},
		})
		actor = protowire.AppendTag(actor, 6, protowire.BytesType)
		actor = protowire.AppendBytes(actor, md)

		var entry []byte
		entry = protowire.AppendTag(entry, 1, protowire.BytesType)
		entry = protowire.AppendString(entry, name)
		entry = protowire.AppendTag(entry, 2, protowire.BytesType)
		entry = protowire.AppendBytes(entry, actor)

		registry = protowire.AppendTag(registry, 1, protowire.BytesType)
		registry = protowire.AppendBytes(registry, entry)
	}
	var system []byte
	system = protowire.AppendTag(system, 1, protowire.BytesType)
	system = protowire.AppendString(system, "spawn-system")
	system = protowire.AppendTag(system, 2, protowire.BytesType)
	system = protowire.AppendBytes(system, registry)

	req := mustMarshal(t, &protocol.RegistrationRequest{ServiceInfo: &protocol.ServiceInfo{ServiceName: "spawn-python-sdk"}})
	req = protowire.AppendTag(req, 2, protowire.BytesType)
	return protowire.AppendBytes(req, system)
}

// legacyRegistration is an old-protocol registration of actor "joe"
// subscribed to the given topics.
func legacyRegistration(t testing.TB, topics ...string) []byte {
	t.Helper()
	values := make([][]byte, len(topics))
	for i, s := range topics {
		values[i] = []byte(s)
	}
	return registrationWith(t, map[string][]byte{"joe": oldMetadata(values...)})
}

func channel(t testing.TB, topic, action string) []byte {
	return mustMarshal(t, &protocol.Channel{Topic: topic, Action: action})
}

func TestDecodeRegistrationLegacy(t *testing.T) {
	withTags := oldMetadata([]byte("news"))
	withTags = append(withTags, mustMarshal(t, &protocol.Metadata{Tags: map[string]string{"team": "a"}})...)
	withUnknown := protowire.AppendTag(oldMetadata([]byte("news")), 99, protowire.VarintType)
	withUnknown = protowire.AppendVarint(withUnknown, 42)

	tests := []struct {
		name       string
		metadata   map[string][]byte
		want       map[string][]*protocol.Channel
		wantLegacy int
		wantErr    bool
	}{
		{
			name:     "current protocol",
			metadata: map[string][]byte{"joe": oldMetadata(channel(t, "test", "hi"), channel(t, "other", ""))},
			want:     map[string][]*protocol.Channel{"joe": {{Topic: "test", Action: "hi"}, {Topic: "other"}}},
		},
		{
			name:       "old topic string",
			metadata:   map[string][]byte{"joe": oldMetadata([]byte("test"))},
			want:       map[string][]*protocol.Channel{"joe": {{Topic: "test", Action: "receive"}}},
			wantLegacy: 1,
		},
		{
			name:       "old and new in one actor",
			metadata:   map[string][]byte{"joe": oldMetadata([]byte("test"), channel(t, "b", "bee"), []byte("Ünïcode topic"))},
			want:       map[string][]*protocol.Channel{"joe": {{Topic: "test", Action: "receive"}, {Topic: "b", Action: "bee"}, {Topic: "Ünïcode topic", Action: "receive"}}},
			wantLegacy: 2,
		},
		{
			name: "old and new actors",
			metadata: map[string][]byte{
				"joe": oldMetadata([]byte("test")),
				"bob": oldMetadata(channel(t, "test", "listen")),
				"ann": nil,
			},
			want: map[string][]*protocol.Channel{
				"joe": {{Topic: "test", Action: "receive"}},
				"bob": {{Topic: "test", Action: "listen"}},
				"ann": nil,
			},
			wantLegacy: 1,
		},
		{
			name:       "metadata tags kept",
			metadata:   map[string][]byte{"joe": withTags},
			want:       map[string][]*protocol.Channel{"joe": {{Topic: "news", Action: "receive"}}},
			wantLegacy: 1,
		},
		{
			name:     "empty value is an empty Channel",
			metadata: map[string][]byte{"joe": oldMetadata(nil)},
			want:     map[string][]*protocol.Channel{"joe": {{}}},
		},
		{
			// Unusable as a Channel (no topic), so it is taken as a topic.
			name:       "channel without topic",
			metadata:   map[string][]byte{"joe": oldMetadata(channel(t, "", "x"))},
			want:       map[string][]*protocol.Channel{"joe": {{Topic: "\x12\x01x", Action: "receive"}}},
			wantLegacy: 1,
		},
		{
			// Field 3 is not a Channel field.
			name:       "channel-like bytes with another field",
			metadata:   map[string][]byte{"joe": oldMetadata([]byte("\n\x01a\x1a\x01b"))},
			want:       map[string][]*protocol.Channel{"joe": {{Topic: "\n\x01a\x1a\x01b", Action: "receive"}}},
			wantLegacy: 1,
		},
		{
			name:       "old topic with invalid UTF-8",
			metadata:   map[string][]byte{"joe": oldMetadata([]byte("bad\xff"))},
			wantLegacy: 1,
			wantErr:    true,
		},
		{
			name:     "unknown fields kept",
			metadata: map[string][]byte{"joe": withUnknown},
			want:     map[string][]*protocol.Channel{"joe": {{Topic: "news", Action: "receive"}}},
			// Checked below: the unknown field 99 survives.
			wantLegacy: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := registrationWith(t, tt.metadata)
			orig := bytes.Clone(body)
			req, n, err := decodeRegistration(body)
			if !bytes.Equal(body, orig) {
				t.Fatal("input modified")
			}
			if n != tt.wantLegacy {
				t.Errorf("converted %d channels, want %d", n, tt.wantLegacy)
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			actors := req.GetActorSystem().GetRegistry().GetActors()
			if len(actors) != len(tt.want) {
				t.Fatalf("%d actors, want %d", len(actors), len(tt.want))
			}
			for name, want := range tt.want {
				a := actors[name]
				if got := a.GetMetadata().GetChannelGroup(); !equalChannels(got, want) {
					t.Errorf("%s: channels = %v, want %v", name, got, want)
				}
				if a.GetId().GetName() != name || !a.GetSettings().GetStateful() || a.GetActions()[0].GetName() != "receive" {
					t.Errorf("%s: rest of the actor lost: %v", name, a)
				}
			}
			if tt.name == "metadata tags kept" && actors["joe"].GetMetadata().GetTags()["team"] != "a" {
				t.Errorf("tags lost: %v", actors["joe"].GetMetadata())
			}
			if tt.name == "unknown fields kept" && len(actors["joe"].GetMetadata().ProtoReflect().GetUnknown()) == 0 {
				t.Error("unknown field dropped")
			}
			if req.GetServiceInfo().GetServiceName() != "spawn-python-sdk" || req.GetActorSystem().GetName() != "spawn-system" {
				t.Errorf("rest of the request lost: %v", req)
			}
		})
	}
}

func TestUpgradeChannelsLeavesCurrentBytesAlone(t *testing.T) {
	body := mustMarshal(t, testRegistration())
	got, n := upgradeChannels(body, registrationChannelPath)
	if n != 0 || &got[0] != &body[0] {
		t.Errorf("current-protocol request rewritten (n=%d)", n)
	}
}

func TestUpgradeChannelsIsIdempotent(t *testing.T) {
	once, n := upgradeChannels(legacyRegistration(t, "a", "b"), registrationChannelPath)
	if n != 2 {
		t.Fatalf("converted %d, want 2", n)
	}
	if twice, n := upgradeChannels(once, registrationChannelPath); n != 0 || !bytes.Equal(once, twice) {
		t.Errorf("second pass converted %d and changed the bytes", n)
	}
}

func TestUpgradeChannelsMalformedUnchanged(t *testing.T) {
	full := legacyRegistration(t, "test")
	for _, body := range [][]byte{
		full[:len(full)-1],              // truncated inside the metadata
		append(bytes.Clone(full), 0x12), // a trailing tag without its length
		{0x12, 0x80},                    // a broken varint length
	} {
		got, n := upgradeChannels(body, registrationChannelPath)
		if n != 0 || !bytes.Equal(got, body) {
			t.Errorf("%x: rewritten to %x", body, got)
		}
		if _, _, err := decodeRegistration(body); err == nil {
			t.Errorf("%x: decoded without error", body)
		}
	}
}

func TestDecodeInvocationLegacy(t *testing.T) {
	actor := mustMarshal(t, &protocol.Actor{Id: &protocol.ActorId{Name: "joe", System: "spawn-system"}})
	actor = protowire.AppendTag(actor, 6, protowire.BytesType)
	actor = protowire.AppendBytes(actor, oldMetadata([]byte("test")))
	body := mustMarshal(t, &protocol.InvocationRequest{System: &protocol.ActorSystem{Name: "spawn-system"}, ActionName: "hi"})
	body = protowire.AppendTag(body, 2, protowire.BytesType)
	body = protowire.AppendBytes(body, actor)

	req := new(protocol.InvocationRequest)
	if err := proto.Unmarshal(body, new(protocol.InvocationRequest)); err == nil {
		t.Fatal("test input decodes without the legacy path; it proves nothing")
	}
	if err := decodeInvocation(body, req); err != nil {
		t.Fatal(err)
	}
	if req.GetActor().GetId().GetName() != "joe" || req.GetActionName() != "hi" ||
		req.GetActor().GetMetadata().GetChannelGroup()[0].GetTopic() != "test" {
		t.Errorf("decoded %v", req)
	}
}

func TestIsChannel(t *testing.T) {
	tests := []struct {
		name string
		v    []byte
		want bool
	}{
		{"topic and action", channel(t, "t", "a"), true},
		{"topic only", channel(t, "t", ""), true},
		{"action only", channel(t, "", "a"), false},
		{"empty", nil, false},
		{"plain text", []byte("test"), false},
		{"last topic wins", []byte("\n\x01a\n\x00"), false},
		{"invalid UTF-8 topic", []byte("\n\x01\xff"), false},
		{"invalid UTF-8 action", []byte("\n\x01a\x12\x01\xff"), false},
		{"varint field", []byte("\n\x01a\x08\x01"), false},
		{"truncated", []byte("\n\x05ab"), false},
	}
	for _, tt := range tests {
		if got := isChannel(tt.v); got != tt.want {
			t.Errorf("%s: isChannel(%q) = %v, want %v", tt.name, tt.v, got, tt.want)
		}
	}
}
