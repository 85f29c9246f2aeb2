package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/transport"
)

// The bytes in this file are what a host of the older protocol (the Python
// SDK's) sends, written field by field rather than through our generated
// types, which would not produce them.

// field encodes a length-delimited field whose content is parts joined.
func field(num protowire.Number, parts ...[]byte) []byte {
	b := protowire.AppendTag(nil, num, protowire.BytesType)
	return protowire.AppendBytes(b, bytes.Join(parts, nil))
}

func text(num protowire.Number, s string) []byte { return field(num, []byte(s)) }

func varint(num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
}

// olderActor encodes an Actor as the older protocol registers it: a NAMED
// actor whose Metadata.channel_group, when topic is set, is that one topic
// as a plain string.
func olderActor(name, topic string, actions ...string) []byte {
	parts := [][]byte{
		field(1, text(1, name), text(2, protocol.DefaultSystem)), // 1: id {name, system}
		field(2),               // 2: state {}
		field(3, varint(1, 1)), // 3: settings {kind NAMED}
	}
	for _, a := range actions {
		parts = append(parts, field(4, text(1, a))) // 4: actions {name}
	}
	metadata := field(6) // 6: metadata {}
	if topic != "" {
		metadata = field(6, text(1, topic)) // 6: metadata {channel_group "topic"}
	}
	return bytes.Join(append(parts, metadata), nil)
}

// olderRegistration registers "pub", which publishes, and "sub", which
// listens on "news" and has the two actions a broadcast could run.
func olderRegistration() []byte {
	entry := func(name string, actor []byte) []byte {
		return field(1, text(1, name), field(2, actor)) // Registry.actors map entry {key, value}
	}
	return bytes.Join([][]byte{
		field(1, text(1, "python-host")), // 1: service_info {service_name}
		field(2, // 2: actor_system
			text(1, protocol.DefaultSystem), // 1: name
			field(2, // 2: registry
				entry("pub", olderActor("pub", "", "publish")),
				entry("sub", olderActor("sub", "news", protocol.ReceiveAction, "shout")),
			),
		),
	}, nil)
}

// olderPublishReply is the host's ActorInvocationResponse to "publish": an
// empty updated context, no reply payload, and a broadcast to "news" that
// names the action every subscriber runs, "shout", in field 2.
func olderPublishReply() []byte {
	return bytes.Join([][]byte{
		field(3), // 3: updated_context {}
		field(5, // 5: workflow
			field(2, // 2: broadcast
				text(1, "news"),  // 1: channel_group
				text(2, "shout"), // 2: action_name (older protocol)
				field(4),         // 4: noop {}
			),
		),
		field(6), // 6: noop {}
	}, nil)
}

// olderHost answers "publish" with olderPublishReply and everything else
// with an empty updated context, and reports every invocation it gets.
func olderHost(t *testing.T) (*httptest.Server, chan *protocol.ActorInvocation) {
	t.Helper()
	calls := make(chan *protocol.ActorInvocation, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != protocol.HostPath {
			t.Errorf("host got %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		inv := new(protocol.ActorInvocation)
		if err == nil {
			err = proto.Unmarshal(body, inv)
		}
		if err != nil {
			t.Errorf("host got a bad invocation: %v", err)
			return
		}
		calls <- inv
		reply := field(3) // 3: updated_context {}
		if inv.GetActionName() == "publish" {
			reply = olderPublishReply()
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(reply)
	}))
	t.Cleanup(srv.Close)
	return srv, calls
}

// A host of the older protocol registers a plain-string channel and
// publishes a broadcast that names its action: spawn proxy runs that action
// on the subscriber, not the channel's receive.
func TestProxyOlderProtocolBroadcast(t *testing.T) {
	host, calls := olderHost(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(lineWriter, 10)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"proxy", "-port", "0", "-memory", "-host-addr", host.URL}, envMap(map[string]string{"SPAWN_LOG": "off"}), out)
	}()
	var base string
	select {
	case line := <-out:
		base = proxyURL(t, line)
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	}

	res, err := http.Post(base+"/api/v1/system", "application/octet-stream", bytes.NewReader(olderRegistration()))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var reg protocol.RegistrationResponse
	if res.StatusCode != http.StatusOK || proto.Unmarshal(b, &reg) != nil || reg.GetStatus().GetStatus() != protocol.Status_OK {
		t.Fatalf("registration answered HTTP %d: %v", res.StatusCode, &reg)
	}

	p := transport.NewProxyClient(base, nil, nil)
	invoke := func(actor, action string) {
		t.Helper()
		_, err := p.Invoke(ctx, protocol.DefaultSystem, actor, &protocol.InvocationRequest{
			System:     &protocol.ActorSystem{Name: protocol.DefaultSystem},
			Actor:      &protocol.Actor{Id: &protocol.ActorId{Name: actor, System: protocol.DefaultSystem}},
			ActionName: action,
			Payload:    &protocol.InvocationRequest_Noop{Noop: &protocol.Noop{}},
		})
		if err != nil {
			t.Fatalf("invoking %s.%s: %v", actor, action, err)
		}
	}
	// A stateless subscriber listens once it has been activated; the
	// built-in get activates it without calling the host.
	invoke("sub", "get")
	invoke("pub", "publish")

	timeout := time.After(10 * time.Second)
	for {
		select {
		case inv := <-calls:
			if inv.GetActor().GetName() != "sub" {
				continue
			}
			if inv.GetActionName() != "shout" {
				t.Fatalf("subscriber invoked with %q, want the publisher's %q", inv.GetActionName(), "shout")
			}
			if inv.GetCaller().GetName() != "pub" || inv.GetNoop() == nil {
				t.Errorf("subscriber got %v, want a noop payload from pub", inv)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("run after cancel: %v", err)
			}
			return
		case <-timeout:
			t.Fatal("the subscriber was never invoked")
		}
	}
}
