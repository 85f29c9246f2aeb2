package protocol_test

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/spawn-go/spawn/protocol"
)

// The expected bytes below are written by hand from the protocol's field
// numbers and types, never captured from the marshaller: a wrong field
// number or type in a .proto file then shows up as a failing case instead of
// being copied into the expectation.
//
// Reading aid: a tag byte is field<<3 | wire type, with wire type 0 for
// varints (enums, bools, ints) and 2 for length-delimited data (strings,
// bytes, messages, map entries). So field 1 is 0x08/0x0a, 2 is 0x10/0x12,
// ..., 11 is 0x58/0x5a. A map entry is a nested message with the key in
// field 1 and the value in field 2. Proto3 scalars at their zero value are
// omitted, but a set oneof member is always written, even when empty or
// zero.
//
// Order: protobuf-go emits regular fields by field number (not declaration
// order), then the set oneof members, then unknown fields; deterministic
// mode also sorts map entries by key. Decoders must accept any order, so
// where the oneof trick moves bytes, alsoDecodes holds the same message in
// strict field-number order (how other runtimes may send it).

// cat joins hand-written fragments; it lets long strings such as type URLs
// be written as text while their length prefixes stay hand-counted.
func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

const jsonTypeURL = "type.googleapis.com/spawn.JSONType" // 34 bytes

// smallAny is reused wherever a payload or state is needed; its type URL is
// deliberately short so that enclosing lengths stay easy to check by hand.
// Encoded: 0a 03 't','/','s' 12 02 08 01 (9 bytes).
func smallAny() *anypb.Any {
	return &anypb.Any{TypeUrl: "t/s", Value: []byte{0x08, 0x01}}
}

func joe() *protocol.ActorId { return &protocol.ActorId{Name: "joe", System: "sys"} }
func bob() *protocol.ActorId { return &protocol.ActorId{Name: "bob", System: "sys"} }

// 1700000000 s and 1700000000000 ms (2023-11-14T22:13:20Z) are used for
// timestamps; their varints are 80 e2 cf aa 06 and 80 d0 95 ff bc 31.
var ts = &timestamppb.Timestamp{Seconds: 1700000000, Nanos: 5}

type wireCase struct {
	name string
	msg  proto.Message
	want []byte
	// alsoDecodes, when set, is another valid encoding of msg.
	alsoDecodes []byte
}

func wireCases() []wireCase {
	return []wireCase{
		// ---- spawn.actors (actor.proto) ----
		{
			name: "ActorId",
			msg:  &protocol.ActorId{Name: "joe", System: "sys", Parent: "tpl"},
			want: []byte{
				0x0a, 0x03, 'j', 'o', 'e', // 1: name "joe"
				0x12, 0x03, 's', 'y', 's', // 2: system "sys"
				0x1a, 0x03, 't', 'p', 'l', // 3: parent "tpl"
			},
		},
		{
			// metadata is declared third but numbered 6, so it must come last.
			name: "Actor all fields",
			msg: &protocol.Actor{
				Id:       joe(),
				State:    &protocol.ActorState{Tags: map[string]string{"k": "v"}},
				Metadata: &protocol.Metadata{ChannelGroup: []*protocol.Channel{{Topic: "t"}}},
				Settings: &protocol.ActorSettings{Kind: protocol.Kind_NAMED, Stateful: true},
				Actions:  []*protocol.Action{{Name: "a"}, {Name: "b"}},
				TimerActions: []*protocol.FixedTimerAction{
					{Seconds: 1000, Action: &protocol.Action{Name: "c"}},
				},
			},
			want: []byte{
				0x0a, 0x0a, // 1: id (10 bytes)
				/**/ 0x0a, 0x03, 'j', 'o', 'e', // 1: name
				/**/ 0x12, 0x03, 's', 'y', 's', // 2: system
				0x12, 0x08, // 2: state (8)
				/**/ 0x0a, 0x06, // 1: tags entry (6)
				/*  */ 0x0a, 0x01, 'k', // key
				/*  */ 0x12, 0x01, 'v', // value
				0x1a, 0x04, // 3: settings (4)
				/**/ 0x08, 0x01, // 1: kind NAMED
				/**/ 0x10, 0x01, // 2: stateful true
				0x22, 0x03, 0x0a, 0x01, 'a', // 4: actions[0] {1: name "a"}
				0x22, 0x03, 0x0a, 0x01, 'b', // 4: actions[1] {1: name "b"}
				0x2a, 0x08, // 5: timer_actions[0] (8)
				/**/ 0x08, 0xe8, 0x07, // 1: seconds 1000 (read as ms by the proxy)
				/**/ 0x12, 0x03, 0x0a, 0x01, 'c', // 2: action {1: name "c"}
				0x32, 0x05, // 6: metadata (5)
				/**/ 0x0a, 0x03, // 1: channel_group[0] (3)
				/*  */ 0x0a, 0x01, 't', // 1: topic "t"
			},
		},
		{
			name: "ActorSettings all fields",
			msg: &protocol.ActorSettings{
				Kind:     protocol.Kind_POOLED,
				Stateful: true,
				SnapshotStrategy: &protocol.ActorSnapshotStrategy{
					Strategy: &protocol.ActorSnapshotStrategy_Timeout{
						Timeout: &protocol.TimeoutStrategy{Timeout: 2000},
					},
				},
				DeactivationStrategy: &protocol.ActorDeactivationStrategy{
					Strategy: &protocol.ActorDeactivationStrategy_Timeout{
						Timeout: &protocol.TimeoutStrategy{Timeout: 30000},
					},
				},
				MinPoolSize:        1,
				MaxPoolSize:        10,
				ProjectionSettings: &protocol.ProjectionSettings{Sourceable: true},
				StateType:          "s.T",
			},
			want: []byte{
				0x08, 0x03, // 1: kind POOLED
				0x10, 0x01, // 2: stateful true
				0x1a, 0x05, // 3: snapshot_strategy (5)
				/**/ 0x0a, 0x03, // 1: oneof strategy.timeout (3)
				/*  */ 0x08, 0xd0, 0x0f, // 1: timeout 2000 ms
				0x22, 0x06, // 4: deactivation_strategy (6)
				/**/ 0x0a, 0x04, // 1: oneof strategy.timeout (4)
				/*  */ 0x08, 0xb0, 0xea, 0x01, // 1: timeout 30000 ms
				0x28, 0x01, // 5: min_pool_size 1
				0x30, 0x0a, // 6: max_pool_size 10
				0x3a, 0x02, // 7: projection_settings (2)
				/**/ 0x10, 0x01, // 2: sourceable true
				0x42, 0x03, 's', '.', 'T', // 8: state_type "s.T"
			},
		},
		{
			// Proto3 drops zero scalars, so UNKNOW_KIND and false vanish.
			name: "ActorSettings zero values",
			msg:  &protocol.ActorSettings{Kind: protocol.Kind_UNKNOW_KIND},
			want: []byte{},
		},
		{
			name: "Metadata channels and sorted tags",
			msg: &protocol.Metadata{
				ChannelGroup: []*protocol.Channel{
					{Topic: "t1", Action: "a1"},
					{Topic: "t2"},
				},
				Tags: map[string]string{"b": "2", "a": "1"},
			},
			want: []byte{
				0x0a, 0x08, // 1: channel_group[0] (8)
				/**/ 0x0a, 0x02, 't', '1', // 1: topic "t1"
				/**/ 0x12, 0x02, 'a', '1', // 2: action "a1"
				0x0a, 0x04, // 1: channel_group[1] (4)
				/**/ 0x0a, 0x02, 't', '2', // 1: topic "t2"
				0x12, 0x06, 0x0a, 0x01, 'a', 0x12, 0x01, '1', // 2: tags {"a": "1"} (sorted first)
				0x12, 0x06, 0x0a, 0x01, 'b', 0x12, 0x01, '2', // 2: tags {"b": "2"}
			},
		},
		{
			name: "ActorState tags and Any",
			msg: &protocol.ActorState{
				Tags: map[string]string{"k": "v"},
				State: &anypb.Any{
					TypeUrl: jsonTypeURL,
					Value:   []byte{0x0a, 0x02, '{', '}'}, // JSONType{content: "{}"}
				},
			},
			want: cat(
				[]byte{
					0x0a, 0x06, 0x0a, 0x01, 'k', 0x12, 0x01, 'v', // 1: tags {"k": "v"}
					0x12, 0x2a, // 2: state Any (42)
					/**/ 0x0a, 0x22, // 1: type_url (34)
				},
				[]byte(jsonTypeURL),
				[]byte{
					/**/ 0x12, 0x04, // 2: value (4)
					/*  */ 0x0a, 0x02, '{', '}', // JSONType 1: content "{}"
				},
			),
		},
		{
			name: "ProjectionSettings with subject and duration retention",
			msg: &protocol.ProjectionSettings{
				Subjects: []*protocol.ProjectionSubject{{
					Actor: "a", SourceAction: "b", Action: "c", StartTime: ts,
				}},
				Sourceable: true,
				EventsRetentionStrategy: &protocol.EventsRetentionStrategy{
					Strategy: &protocol.EventsRetentionStrategy_DurationMs{DurationMs: 86400000},
				},
				StrictEventsOrdering: true,
			},
			want: []byte{
				0x0a, 0x13, // 1: subjects[0] (19)
				/**/ 0x0a, 0x01, 'a', // 1: actor
				/**/ 0x12, 0x01, 'b', // 2: source_action
				/**/ 0x1a, 0x01, 'c', // 3: action
				/**/ 0x22, 0x08, // 4: start_time Timestamp (8)
				/*  */ 0x08, 0x80, 0xe2, 0xcf, 0xaa, 0x06, // 1: seconds 1700000000
				/*  */ 0x10, 0x05, // 2: nanos 5
				0x10, 0x01, // 2: sourceable true
				0x1a, 0x05, // 3: events_retention_strategy (5)
				/**/ 0x08, 0x80, 0xb8, 0x99, 0x29, // 1: oneof duration_ms 86400000
				0x20, 0x01, // 4: strict_events_ordering true
			},
		},
		{
			name: "ProjectionSubject",
			msg:  &protocol.ProjectionSubject{Actor: "a", StartTime: ts},
			want: []byte{
				0x0a, 0x01, 'a', // 1: actor
				0x22, 0x08, 0x08, 0x80, 0xe2, 0xcf, 0xaa, 0x06, 0x10, 0x05, // 4: start_time {1: 1700000000, 2: 5}
			},
		},
		{
			name: "EventsRetentionStrategy duration_ms",
			msg: &protocol.EventsRetentionStrategy{
				Strategy: &protocol.EventsRetentionStrategy_DurationMs{DurationMs: 86400000},
			},
			want: []byte{0x08, 0x80, 0xb8, 0x99, 0x29}, // 1: duration_ms 86400000
		},
		{
			name: "EventsRetentionStrategy infinite",
			msg: &protocol.EventsRetentionStrategy{
				Strategy: &protocol.EventsRetentionStrategy_Infinite{Infinite: true},
			},
			want: []byte{0x10, 0x01}, // 2: infinite true
		},
		{
			// A oneof member has presence: false is still written.
			name: "EventsRetentionStrategy infinite false keeps presence",
			msg: &protocol.EventsRetentionStrategy{
				Strategy: &protocol.EventsRetentionStrategy_Infinite{Infinite: false},
			},
			want: []byte{0x10, 0x00}, // 2: infinite false
		},
		{
			name: "Registry and ActorSystem",
			msg: &protocol.ActorSystem{
				Name: "sys",
				Registry: &protocol.Registry{Actors: map[string]*protocol.Actor{
					"joe": {Id: joe()},
				}},
			},
			want: []byte{
				0x0a, 0x03, 's', 'y', 's', // 1: name "sys"
				0x12, 0x15, // 2: registry (21)
				/**/ 0x0a, 0x13, // 1: actors entry (19)
				/*  */ 0x0a, 0x03, 'j', 'o', 'e', // key "joe"
				/*  */ 0x12, 0x0c, // value Actor (12)
				/*    */ 0x0a, 0x0a, 0x0a, 0x03, 'j', 'o', 'e', 0x12, 0x03, 's', 'y', 's', // 1: id
			},
		},

		// ---- spawn (protocol.proto) ----
		{
			name: "Context all fields",
			msg: &protocol.Context{
				State:    smallAny(),
				Caller:   bob(),
				Self:     joe(),
				Metadata: map[string]string{"m": "1"},
				Tags:     map[string]string{"t": "2"},
			},
			want: []byte{
				0x0a, 0x09, // 1: state Any (9)
				/**/ 0x0a, 0x03, 't', '/', 's', // 1: type_url
				/**/ 0x12, 0x02, 0x08, 0x01, // 2: value
				0x12, 0x0a, 0x0a, 0x03, 'b', 'o', 'b', 0x12, 0x03, 's', 'y', 's', // 2: caller
				0x1a, 0x0a, 0x0a, 0x03, 'j', 'o', 'e', 0x12, 0x03, 's', 'y', 's', // 3: self
				0x22, 0x06, 0x0a, 0x01, 'm', 0x12, 0x01, '1', // 4: metadata {"m": "1"}
				0x2a, 0x06, 0x0a, 0x01, 't', 0x12, 0x01, '2', // 5: tags {"t": "2"}
			},
		},
		{
			name: "JSONType",
			msg:  &protocol.JSONType{Content: `{"a":1}`},
			want: []byte{0x0a, 0x07, '{', '"', 'a', '"', ':', '1', '}'}, // 1: content
		},
		{
			name: "Noop",
			msg:  &protocol.Noop{},
			want: []byte{},
		},
		{
			name: "InvocationRequest value and every scalar",
			msg: &protocol.InvocationRequest{
				System:      &protocol.ActorSystem{Name: "sys"},
				Actor:       &protocol.Actor{Id: joe()},
				ActionName:  "hi",
				Payload:     &protocol.InvocationRequest_Value{Value: smallAny()},
				Async:       true,
				Caller:      bob(),
				Metadata:    map[string]string{"m": "1"},
				ScheduledTo: 1700000000000,
				Pooled:      true,
				RegisterRef: "tpl",
			},
			want: []byte{
				0x0a, 0x05, 0x0a, 0x03, 's', 'y', 's', // 1: system {1: name "sys"}
				0x12, 0x0c, // 2: actor (12)
				/**/ 0x0a, 0x0a, 0x0a, 0x03, 'j', 'o', 'e', 0x12, 0x03, 's', 'y', 's', // 1: id
				0x1a, 0x02, 'h', 'i', // 3: action_name "hi"
				0x28, 0x01, // 5: async true
				0x32, 0x0a, 0x0a, 0x03, 'b', 'o', 'b', 0x12, 0x03, 's', 'y', 's', // 6: caller
				0x42, 0x06, 0x0a, 0x01, 'm', 0x12, 0x01, '1', // 8: metadata {"m": "1"}
				0x48, 0x80, 0xd0, 0x95, 0xff, 0xbc, 0x31, // 9: scheduled_to 1700000000000 (epoch ms)
				0x50, 0x01, // 10: pooled true
				0x5a, 0x03, 't', 'p', 'l', // 11: register_ref "tpl"
				0x22, 0x09, 0x0a, 0x03, 't', '/', 's', 0x12, 0x02, 0x08, 0x01, // 4: oneof value Any (oneofs last)
			},
			alsoDecodes: []byte{
				0x0a, 0x05, 0x0a, 0x03, 's', 'y', 's', // 1: system
				0x12, 0x0c, 0x0a, 0x0a, 0x0a, 0x03, 'j', 'o', 'e', 0x12, 0x03, 's', 'y', 's', // 2: actor
				0x1a, 0x02, 'h', 'i', // 3: action_name
				0x22, 0x09, 0x0a, 0x03, 't', '/', 's', 0x12, 0x02, 0x08, 0x01, // 4: oneof value
				0x28, 0x01, // 5: async
				0x32, 0x0a, 0x0a, 0x03, 'b', 'o', 'b', 0x12, 0x03, 's', 'y', 's', // 6: caller
				0x42, 0x06, 0x0a, 0x01, 'm', 0x12, 0x01, '1', // 8: metadata
				0x48, 0x80, 0xd0, 0x95, 0xff, 0xbc, 0x31, // 9: scheduled_to
				0x50, 0x01, // 10: pooled
				0x5a, 0x03, 't', 'p', 'l', // 11: register_ref
			},
		},
		{
			// noop is 7, so it follows async(5) and caller(6) on the wire.
			name: "InvocationRequest noop",
			msg: &protocol.InvocationRequest{
				System:     &protocol.ActorSystem{Name: "sys"},
				Actor:      &protocol.Actor{Id: joe()},
				ActionName: "hi",
				Payload:    &protocol.InvocationRequest_Noop{Noop: &protocol.Noop{}},
				Async:      true,
				Caller:     bob(),
			},
			want: []byte{
				0x0a, 0x05, 0x0a, 0x03, 's', 'y', 's', // 1: system
				0x12, 0x0c, 0x0a, 0x0a, 0x0a, 0x03, 'j', 'o', 'e', 0x12, 0x03, 's', 'y', 's', // 2: actor {1: id}
				0x1a, 0x02, 'h', 'i', // 3: action_name
				0x28, 0x01, // 5: async
				0x32, 0x0a, 0x0a, 0x03, 'b', 'o', 'b', 0x12, 0x03, 's', 'y', 's', // 6: caller
				0x3a, 0x00, // 7: oneof noop {}
			},
		},
		{
			name: "ActorInvocation value",
			msg: &protocol.ActorInvocation{
				Actor:          joe(),
				ActionName:     "hi",
				CurrentContext: &protocol.Context{Self: joe()},
				Payload:        &protocol.ActorInvocation_Value{Value: smallAny()},
				Caller:         bob(),
			},
			want: []byte{
				0x0a, 0x0a, 0x0a, 0x03, 'j', 'o', 'e', 0x12, 0x03, 's', 'y', 's', // 1: actor
				0x12, 0x02, 'h', 'i', // 2: action_name
				0x1a, 0x0c, // 3: current_context (12)
				/**/ 0x1a, 0x0a, 0x0a, 0x03, 'j', 'o', 'e', 0x12, 0x03, 's', 'y', 's', // 3: self
				0x32, 0x0a, 0x0a, 0x03, 'b', 'o', 'b', 0x12, 0x03, 's', 'y', 's', // 6: caller
				0x22, 0x09, 0x0a, 0x03, 't', '/', 's', 0x12, 0x02, 0x08, 0x01, // 4: oneof value (oneofs last)
			},
			alsoDecodes: []byte{
				0x0a, 0x0a, 0x0a, 0x03, 'j', 'o', 'e', 0x12, 0x03, 's', 'y', 's', // 1: actor
				0x12, 0x02, 'h', 'i', // 2: action_name
				0x1a, 0x0c, 0x1a, 0x0a, 0x0a, 0x03, 'j', 'o', 'e', 0x12, 0x03, 's', 'y', 's', // 3: current_context {3: self}
				0x22, 0x09, 0x0a, 0x03, 't', '/', 's', 0x12, 0x02, 0x08, 0x01, // 4: oneof value
				0x32, 0x0a, 0x0a, 0x03, 'b', 'o', 'b', 0x12, 0x03, 's', 'y', 's', // 6: caller
			},
		},
		{
			name: "ActorInvocation noop",
			msg: &protocol.ActorInvocation{
				Actor:      joe(),
				ActionName: "hi",
				Payload:    &protocol.ActorInvocation_Noop{Noop: &protocol.Noop{}},
			},
			want: []byte{
				0x0a, 0x0a, 0x0a, 0x03, 'j', 'o', 'e', 0x12, 0x03, 's', 'y', 's', // 1: actor
				0x12, 0x02, 'h', 'i', // 2: action_name
				0x2a, 0x00, // 5: oneof noop {}
			},
		},
		{
			name: "ActorInvocationResponse value, workflow, checkpoint",
			msg: &protocol.ActorInvocationResponse{
				ActorName:      "joe",
				ActorSystem:    "sys",
				UpdatedContext: &protocol.Context{Tags: map[string]string{"k": "v"}},
				Payload:        &protocol.ActorInvocationResponse_Value{Value: smallAny()},
				Workflow: &protocol.Workflow{Broadcast: &protocol.Broadcast{
					ChannelGroup: "t",
					Payload:      &protocol.Broadcast_Noop{Noop: &protocol.Noop{}},
				}},
				Checkpoint: true,
			},
			want: []byte{
				0x0a, 0x03, 'j', 'o', 'e', // 1: actor_name
				0x12, 0x03, 's', 'y', 's', // 2: actor_system
				0x1a, 0x08, // 3: updated_context (8)
				/**/ 0x2a, 0x06, 0x0a, 0x01, 'k', 0x12, 0x01, 'v', // 5: tags {"k": "v"}
				0x2a, 0x07, // 5: workflow (7)
				/**/ 0x12, 0x05, // 2: broadcast (5)
				/*  */ 0x0a, 0x01, 't', // 1: channel_group "t"
				/*  */ 0x22, 0x00, // 4: oneof noop {}
				0x38, 0x01, // 7: checkpoint true
				0x22, 0x09, 0x0a, 0x03, 't', '/', 's', 0x12, 0x02, 0x08, 0x01, // 4: oneof value (oneofs last)
			},
			alsoDecodes: []byte{
				0x0a, 0x03, 'j', 'o', 'e', // 1: actor_name
				0x12, 0x03, 's', 'y', 's', // 2: actor_system
				0x1a, 0x08, 0x2a, 0x06, 0x0a, 0x01, 'k', 0x12, 0x01, 'v', // 3: updated_context {5: tags}
				0x22, 0x09, 0x0a, 0x03, 't', '/', 's', 0x12, 0x02, 0x08, 0x01, // 4: oneof value
				0x2a, 0x07, 0x12, 0x05, 0x0a, 0x01, 't', 0x22, 0x00, // 5: workflow {2: broadcast}
				0x38, 0x01, // 7: checkpoint
			},
		},
		{
			// The proxy requires updated_context; an empty one must still be sent.
			name: "ActorInvocationResponse noop with empty context",
			msg: &protocol.ActorInvocationResponse{
				UpdatedContext: &protocol.Context{},
				Payload:        &protocol.ActorInvocationResponse_Noop{Noop: &protocol.Noop{}},
			},
			want: []byte{
				0x1a, 0x00, // 3: updated_context {}
				0x32, 0x00, // 6: oneof noop {}
			},
		},
		{
			name: "InvocationResponse value",
			msg: &protocol.InvocationResponse{
				Status:  &protocol.RequestStatus{Status: protocol.Status_OK},
				System:  &protocol.ActorSystem{Name: "sys"},
				Actor:   &protocol.Actor{Id: joe()},
				Payload: &protocol.InvocationResponse_Value{Value: smallAny()},
			},
			want: []byte{
				0x0a, 0x02, 0x08, 0x01, // 1: status {1: OK}
				0x12, 0x05, 0x0a, 0x03, 's', 'y', 's', // 2: system {1: name}
				0x1a, 0x0c, 0x0a, 0x0a, 0x0a, 0x03, 'j', 'o', 'e', 0x12, 0x03, 's', 'y', 's', // 3: actor {1: id}
				0x22, 0x09, 0x0a, 0x03, 't', '/', 's', 0x12, 0x02, 0x08, 0x01, // 4: oneof value
			},
		},
		{
			name: "InvocationResponse noop with error status",
			msg: &protocol.InvocationResponse{
				Status:  &protocol.RequestStatus{Status: protocol.Status_ERROR, Message: "boom"},
				Payload: &protocol.InvocationResponse_Noop{Noop: &protocol.Noop{}},
			},
			want: []byte{
				0x0a, 0x08, // 1: status (8)
				/**/ 0x08, 0x03, // 1: status ERROR
				/**/ 0x12, 0x04, 'b', 'o', 'o', 'm', // 2: message
				0x2a, 0x00, // 5: oneof noop {}
			},
		},
		{
			// broadcast is declared first but numbered 2, so effects(1) leads.
			name: "Workflow effects, broadcast value, pipe",
			msg: &protocol.Workflow{
				Effects: []*protocol.SideEffect{{Request: &protocol.InvocationRequest{
					System:     &protocol.ActorSystem{Name: "sys"},
					Actor:      &protocol.Actor{Id: &protocol.ActorId{Name: "bob"}},
					ActionName: "e",
					Async:      true,
				}}},
				Broadcast: &protocol.Broadcast{
					ChannelGroup: "t",
					Payload:      &protocol.Broadcast_Value{Value: smallAny()},
				},
				Routing: &protocol.Workflow_Pipe{Pipe: &protocol.Pipe{
					Actor: "bob", ActionName: "p", RegisterRef: "tpl",
				}},
			},
			want: []byte{
				0x0a, 0x17, // 1: effects[0] SideEffect (23)
				/**/ 0x0a, 0x15, // 1: request InvocationRequest (21)
				/*  */ 0x0a, 0x05, 0x0a, 0x03, 's', 'y', 's', // 1: system
				/*  */ 0x12, 0x07, 0x0a, 0x05, 0x0a, 0x03, 'b', 'o', 'b', // 2: actor {1: id {1: name}}
				/*  */ 0x1a, 0x01, 'e', // 3: action_name
				/*  */ 0x28, 0x01, // 5: async
				0x12, 0x0e, // 2: broadcast (14)
				/**/ 0x0a, 0x01, 't', // 1: channel_group
				/**/ 0x1a, 0x09, 0x0a, 0x03, 't', '/', 's', 0x12, 0x02, 0x08, 0x01, // 3: oneof value
				0x1a, 0x0d, // 3: oneof routing.pipe (13)
				/**/ 0x0a, 0x03, 'b', 'o', 'b', // 1: actor
				/**/ 0x12, 0x01, 'p', // 2: action_name
				/**/ 0x1a, 0x03, 't', 'p', 'l', // 3: register_ref
			},
		},
		{
			name: "Workflow forward",
			msg: &protocol.Workflow{
				Routing: &protocol.Workflow_Forward{Forward: &protocol.Forward{
					Actor: "bob", ActionName: "f", RegisterRef: "tpl",
				}},
			},
			want: []byte{
				0x22, 0x0d, // 4: oneof routing.forward (13)
				/**/ 0x0a, 0x03, 'b', 'o', 'b', // 1: actor
				/**/ 0x12, 0x01, 'f', // 2: action_name
				/**/ 0x1a, 0x03, 't', 'p', 'l', // 3: register_ref
			},
		},
		{
			name: "Broadcast noop",
			msg: &protocol.Broadcast{
				ChannelGroup: "t",
				Payload:      &protocol.Broadcast_Noop{Noop: &protocol.Noop{}},
			},
			want: []byte{
				0x0a, 0x01, 't', // 1: channel_group
				0x22, 0x00, // 4: oneof noop {}
			},
		},
		{
			name: "Broadcast with the older action_name",
			msg: &protocol.Broadcast{
				ChannelGroup: "t",
				ActionName:   "hi",
				Payload:      &protocol.Broadcast_Value{Value: smallAny()},
			},
			want: []byte{
				0x0a, 0x01, 't', // 1: channel_group
				0x12, 0x02, 'h', 'i', // 2: action_name
				0x1a, 0x09, 0x0a, 0x03, 't', '/', 's', 0x12, 0x02, 0x08, 0x01, // 3: oneof value Any
			},
		},
		{
			name: "ServiceInfo all fields",
			msg:  serviceInfo(),
			want: serviceInfoBytes(),
		},
		{
			name: "RegistrationRequest",
			msg: &protocol.RegistrationRequest{
				ServiceInfo: serviceInfo(),
				ActorSystem: &protocol.ActorSystem{
					Name: "sys",
					Registry: &protocol.Registry{Actors: map[string]*protocol.Actor{
						"joe": {Id: joe()},
					}},
				},
			},
			want: cat(
				[]byte{0x0a, 0x21}, serviceInfoBytes(), // 1: service_info (33)
				[]byte{
					0x12, 0x1c, // 2: actor_system (28)
					/**/ 0x0a, 0x03, 's', 'y', 's', // 1: name
					/**/ 0x12, 0x15, // 2: registry (21)
					/*  */ 0x0a, 0x13, // 1: actors entry (19)
					/*    */ 0x0a, 0x03, 'j', 'o', 'e', // key
					/*    */ 0x12, 0x0c, 0x0a, 0x0a, 0x0a, 0x03, 'j', 'o', 'e', 0x12, 0x03, 's', 'y', 's', // value Actor
				},
			),
		},
		{
			name: "RegistrationResponse",
			msg: &protocol.RegistrationResponse{
				Status: &protocol.RequestStatus{Status: protocol.Status_OK, Message: "Accepted"},
				ProxyInfo: &protocol.ProxyInfo{
					ProtocolMajorVersion: 1,
					ProtocolMinorVersion: 2,
					ProxyName:            "spawn",
					ProxyVersion:         "2.0",
				},
			},
			want: []byte{
				0x0a, 0x0c, // 1: status (12)
				/**/ 0x08, 0x01, // 1: OK
				/**/ 0x12, 0x08, 'A', 'c', 'c', 'e', 'p', 't', 'e', 'd', // 2: message
				0x12, 0x10, // 2: proxy_info (16)
				/**/ 0x08, 0x01, // 1: protocol_major_version
				/**/ 0x10, 0x02, // 2: protocol_minor_version
				/**/ 0x1a, 0x05, 's', 'p', 'a', 'w', 'n', // 3: proxy_name
				/**/ 0x22, 0x03, '2', '.', '0', // 4: proxy_version
			},
		},
		{
			name: "SpawnRequest",
			msg: &protocol.SpawnRequest{Actors: []*protocol.ActorId{
				{Name: "a1", System: "sys", Parent: "tpl"},
				{Name: "a2", System: "sys", Parent: "tpl"},
			}},
			want: []byte{
				0x0a, 0x0e, // 1: actors[0] (14)
				/**/ 0x0a, 0x02, 'a', '1', 0x12, 0x03, 's', 'y', 's', 0x1a, 0x03, 't', 'p', 'l',
				0x0a, 0x0e, // 1: actors[1] (14)
				/**/ 0x0a, 0x02, 'a', '2', 0x12, 0x03, 's', 'y', 's', 0x1a, 0x03, 't', 'p', 'l',
			},
		},
		{
			name: "SpawnResponse",
			msg:  &protocol.SpawnResponse{Status: &protocol.RequestStatus{Status: protocol.Status_OK}},
			want: []byte{0x0a, 0x02, 0x08, 0x01}, // 1: status {1: OK}
		},
		{
			name: "RequestStatus ACTOR_NOT_FOUND",
			msg:  &protocol.RequestStatus{Status: protocol.Status_ACTOR_NOT_FOUND, Message: "nope"},
			want: []byte{
				0x08, 0x02, // 1: status ACTOR_NOT_FOUND
				0x12, 0x04, 'n', 'o', 'p', 'e', // 2: message
			},
		},
		{
			name: "Fact",
			msg: &protocol.Fact{
				Uuid:      "u",
				State:     smallAny(),
				Metadata:  map[string]string{"m": "1"},
				Timestamp: ts,
			},
			want: []byte{
				0x0a, 0x01, 'u', // 1: uuid
				0x12, 0x09, 0x0a, 0x03, 't', '/', 's', 0x12, 0x02, 0x08, 0x01, // 2: state Any
				0x1a, 0x06, 0x0a, 0x01, 'm', 0x12, 0x01, '1', // 3: metadata {"m": "1"}
				0x22, 0x08, 0x08, 0x80, 0xe2, 0xcf, 0xaa, 0x06, 0x10, 0x05, // 4: timestamp
			},
		},

		// ---- spawn.state (state.proto) ----
		{
			name: "Revision",
			msg:  &protocol.Revision{Value: 42},
			want: []byte{0x08, 0x2a}, // 1: value 42
		},
		{
			name: "Checkpoint",
			msg: &protocol.Checkpoint{
				Revision: &protocol.Revision{Value: 7},
				State:    &protocol.ActorState{Tags: map[string]string{"k": "v"}},
			},
			want: []byte{
				0x0a, 0x02, 0x08, 0x07, // 1: revision {1: 7}
				0x12, 0x08, // 2: state (8)
				/**/ 0x0a, 0x06, 0x0a, 0x01, 'k', 0x12, 0x01, 'v', // 1: tags {"k": "v"}
			},
		},
	}
}

func serviceInfo() *protocol.ServiceInfo {
	return &protocol.ServiceInfo{
		ServiceName:           "svc",
		ServiceVersion:        "1.0",
		ServiceRuntime:        "go",
		SupportLibraryName:    "spawn-go",
		SupportLibraryVersion: "0.1",
		ProtocolMajorVersion:  1,
		ProtocolMinorVersion:  2,
	}
}

// serviceInfoBytes is the 33-byte encoding of serviceInfo().
func serviceInfoBytes() []byte {
	return []byte{
		0x0a, 0x03, 's', 'v', 'c', // 1: service_name
		0x12, 0x03, '1', '.', '0', // 2: service_version
		0x1a, 0x02, 'g', 'o', // 3: service_runtime
		0x22, 0x08, 's', 'p', 'a', 'w', 'n', '-', 'g', 'o', // 4: support_library_name
		0x2a, 0x03, '0', '.', '1', // 5: support_library_version
		0x30, 0x01, // 6: protocol_major_version
		0x38, 0x02, // 7: protocol_minor_version
	}
}

func TestWireFormat(t *testing.T) {
	t.Parallel()
	for _, tc := range wireCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()

			got, err := proto.MarshalOptions{Deterministic: true}.Marshal(tc.msg)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("Marshal mismatch\n got: % x\nwant: % x", got, tc.want)
			}

			// Decoding the hand-written bytes must give back the same
			// message; proto.Equal also compares unknown fields, so any
			// byte that did not map to a declared field fails here.
			decoded := tc.msg.ProtoReflect().New().Interface()
			if err := proto.Unmarshal(tc.want, decoded); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !proto.Equal(decoded, tc.msg) {
				t.Errorf("Unmarshal mismatch\n got: %v\nwant: %v", decoded, tc.msg)
			}

			if tc.alsoDecodes == nil {
				return
			}
			alt := tc.msg.ProtoReflect().New().Interface()
			if err := proto.Unmarshal(tc.alsoDecodes, alt); err != nil {
				t.Fatalf("Unmarshal alsoDecodes: %v", err)
			}
			if !proto.Equal(alt, tc.msg) {
				t.Errorf("alsoDecodes mismatch\n got: %v\nwant: %v", alt, tc.msg)
			}
		})
	}
}

// Hosts of the older protocol name the action of a broadcast in field 2.
// The field is declared, so it decodes into ActionName rather than into
// the unknown fields, and the runtime can honour it.
func TestWireOlderBroadcastActionName(t *testing.T) {
	t.Parallel()
	old := []byte{
		0x0a, 0x01, 't', // 1: channel_group "t"
		0x12, 0x02, 'h', 'i', // 2: action_name "hi" (older protocol)
		0x22, 0x00, // 4: noop {}
	}
	var b protocol.Broadcast
	if err := proto.Unmarshal(old, &b); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if b.GetChannelGroup() != "t" || b.GetActionName() != "hi" || b.GetNoop() == nil {
		t.Errorf("decoded %v, want channel_group t, action_name hi, noop", &b)
	}
	if got := b.ProtoReflect().GetUnknown(); len(got) != 0 {
		t.Errorf("unknown fields = % x, want none", got)
	}
	got, err := proto.MarshalOptions{Deterministic: true}.Marshal(&b)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if !bytes.Equal(got, old) {
		t.Errorf("re-marshal\n got: % x\nwant: % x", got, old)
	}
}

// Other versions of the protocol may send fields we do not declare;
// decoding must keep going and carry them along rather than fail.
func TestWireUnknownFields(t *testing.T) {
	t.Parallel()

	t.Run("future varint field on ActorInvocationResponse", func(t *testing.T) {
		t.Parallel()
		in := []byte{
			0x1a, 0x00, // 3: updated_context {}
			0x98, 0x06, 0x01, // 99: varint 1 (tag 99<<3|0 = 792)
		}
		var r protocol.ActorInvocationResponse
		if err := proto.Unmarshal(in, &r); err != nil {
			t.Fatalf("Unmarshal: %v", err)
		}
		if r.GetUpdatedContext() == nil {
			t.Error("updated_context lost")
		}
		if got, want := r.ProtoReflect().GetUnknown(), in[2:]; !bytes.Equal(got, want) {
			t.Errorf("unknown fields = % x, want % x", got, want)
		}
	})
}

func TestEnumNumbers(t *testing.T) {
	t.Parallel()

	kinds := []struct {
		k    protocol.Kind
		num  int32
		name string
	}{
		{protocol.Kind_UNKNOW_KIND, 0, "UNKNOW_KIND"}, // sic: the protocol spells it so
		{protocol.Kind_NAMED, 1, "NAMED"},
		{protocol.Kind_UNNAMED, 2, "UNNAMED"},
		{protocol.Kind_POOLED, 3, "POOLED"},
		{protocol.Kind_PROXY, 4, "PROXY"},
		{protocol.Kind_TASK, 5, "TASK"},
		{protocol.Kind_PROJECTION, 6, "PROJECTION"},
	}
	for _, c := range kinds {
		if int32(c.k) != c.num || c.k.String() != c.name {
			t.Errorf("Kind %s = %d, want %s = %d", c.k, int32(c.k), c.name, c.num)
		}
	}
	if n := protocol.Kind(0).Descriptor().Values().Len(); n != len(kinds) {
		t.Errorf("Kind has %d values, want %d", n, len(kinds))
	}

	statuses := []struct {
		s    protocol.Status
		num  int32
		name string
	}{
		{protocol.Status_UNKNOWN, 0, "UNKNOWN"},
		{protocol.Status_OK, 1, "OK"},
		{protocol.Status_ACTOR_NOT_FOUND, 2, "ACTOR_NOT_FOUND"},
		{protocol.Status_ERROR, 3, "ERROR"},
	}
	for _, c := range statuses {
		if int32(c.s) != c.num || c.s.String() != c.name {
			t.Errorf("Status %s = %d, want %s = %d", c.s, int32(c.s), c.name, c.num)
		}
	}
	if n := protocol.Status(0).Descriptor().Values().Len(); n != len(statuses) {
		t.Errorf("Status has %d values, want %d", n, len(statuses))
	}

	if got := protocol.Kind(0).Descriptor().FullName(); got != "spawn.actors.Kind" {
		t.Errorf("Kind full name = %s", got)
	}
	if got := protocol.Status(0).Descriptor().FullName(); got != "spawn.Status" {
		t.Errorf("Status full name = %s", got)
	}
}

// Full names reach the wire inside Any.type_url, so a renamed package or
// message silently breaks payload interop with other SDKs. The lists also
// pin the exact set of messages per file.
func TestFullNames(t *testing.T) {
	t.Parallel()

	files := map[string][]protoreflect.FullName{
		"spawn/actors/actor.proto": {
			"spawn.actors.Registry", "spawn.actors.ActorSystem",
			"spawn.actors.ActorSnapshotStrategy", "spawn.actors.ActorDeactivationStrategy",
			"spawn.actors.TimeoutStrategy", "spawn.actors.Action", "spawn.actors.FixedTimerAction",
			"spawn.actors.ActorState", "spawn.actors.Metadata", "spawn.actors.Channel",
			"spawn.actors.ProjectionSubject", "spawn.actors.EventsRetentionStrategy",
			"spawn.actors.ProjectionSettings", "spawn.actors.ActorSettings",
			"spawn.actors.ActorId", "spawn.actors.Actor",
		},
		"spawn/actors/protocol.proto": {
			"spawn.Context", "spawn.Noop", "spawn.JSONType",
			"spawn.RegistrationRequest", "spawn.RegistrationResponse", "spawn.ServiceInfo",
			"spawn.SpawnRequest", "spawn.SpawnResponse", "spawn.ProxyInfo",
			"spawn.SideEffect", "spawn.Broadcast", "spawn.Pipe", "spawn.Forward", "spawn.Fact",
			"spawn.Workflow", "spawn.InvocationRequest", "spawn.ActorInvocation",
			"spawn.ActorInvocationResponse", "spawn.InvocationResponse", "spawn.RequestStatus",
		},
		"spawn/actors/state.proto": {"spawn.state.Revision", "spawn.state.Checkpoint"},
	}
	for path, want := range files {
		fd, err := protoregistry.GlobalFiles.FindFileByPath(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		msgs := fd.Messages()
		if msgs.Len() != len(want) {
			t.Errorf("%s declares %d messages, want %d", path, msgs.Len(), len(want))
		}
		for _, name := range want {
			if msgs.ByName(name.Name()) == nil || name.Parent() != fd.Package() {
				t.Errorf("%s: missing message %s", path, name)
			}
		}
	}

	urls := []struct {
		msg  proto.Message
		want string
	}{
		{&protocol.JSONType{}, jsonTypeURL},
		{&protocol.Noop{}, "type.googleapis.com/spawn.Noop"},
		{&protocol.Actor{}, "type.googleapis.com/spawn.actors.Actor"},
		{&protocol.ActorId{}, "type.googleapis.com/spawn.actors.ActorId"},
		{&protocol.ActorState{}, "type.googleapis.com/spawn.actors.ActorState"},
		{&protocol.InvocationRequest{}, "type.googleapis.com/spawn.InvocationRequest"},
		{&protocol.Checkpoint{}, "type.googleapis.com/spawn.state.Checkpoint"},
	}
	for _, u := range urls {
		a, err := anypb.New(u.msg)
		if err != nil {
			t.Fatalf("anypb.New(%T): %v", u.msg, err)
		}
		if a.GetTypeUrl() != u.want {
			t.Errorf("type URL of %T = %q, want %q", u.msg, a.GetTypeUrl(), u.want)
		}
	}

	// The JSON payload shape other SDKs exchange: Any{spawn.JSONType{content}}.
	a, err := anypb.New(&protocol.JSONType{Content: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0x0a, 0x02, '{', '}'}; !bytes.Equal(a.GetValue(), want) {
		t.Errorf("JSONType Any value = % x, want % x", a.GetValue(), want)
	}
}
