package spawn

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/internal/testpb"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/registry"
	"github.com/spawn-go/spawn/transport"
)

// FuzzActionsEndpoint sends arbitrary bytes to the host endpoint the proxy
// calls: the host must never crash and must always answer with a response
// the proxy can decode.
func FuzzActionsEndpoint(f *testing.F) {
	valid := benchInvocation(f)
	f.Add(valid)
	f.Add([]byte{})
	f.Add([]byte("not protobuf at all"))
	f.Add(valid[:len(valid)/2])
	for _, inv := range []*protocol.ActorInvocation{
		{Actor: &protocol.ActorId{Name: "nobody"}, ActionName: "Add"},
		{Actor: &protocol.ActorId{Name: "counter"}, ActionName: "Nope"},
		{Actor: &protocol.ActorId{Name: "counter"}, ActionName: "get"},
		{Actor: &protocol.ActorId{Name: "x", Parent: "counter"}, ActionName: "Add"},
		{Actor: &protocol.ActorId{Name: "counter"}, ActionName: "Add", Payload: &protocol.ActorInvocation_Noop{Noop: &protocol.Noop{}}},
	} {
		b, _ := proto.Marshal(inv)
		f.Add(b)
	}
	h := transport.NewHostServer(benchHost(f).serveBytes, nil).Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/actors/actions", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/octet-stream")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d", rec.Code)
		}
		var resp protocol.ActorInvocationResponse
		if err := proto.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("response does not decode: %v", err)
		}
		if resp.GetUpdatedContext() == nil {
			t.Fatal("response without updated_context: the proxy would retry it")
		}
		if rec.Code == http.StatusBadRequest {
			if resp.GetValue().GetTypeUrl() != statusURL {
				t.Fatal("a rejected body must carry an error reply")
			}
		}
	})
}

// TestActionsEndpointAnswersBadInput pins the answers to the classic bad
// inputs, each with a clear message.
func TestActionsEndpointAnswersBadInput(t *testing.T) {
	wrongType, _ := proto.Marshal(&protocol.ActorInvocation{
		Actor: &protocol.ActorId{Name: "counter"}, ActionName: "Add",
		Payload: &protocol.ActorInvocation_Value{Value: mustAny(t, &testpb.Text{Text: "x"})},
	})
	unknownActor, _ := proto.Marshal(&protocol.ActorInvocation{Actor: &protocol.ActorId{Name: "nobody"}, ActionName: "Add"})
	unknownAction, _ := proto.Marshal(&protocol.ActorInvocation{Actor: &protocol.ActorId{Name: "counter"}, ActionName: "Nope",
		CurrentContext: &protocol.Context{Tags: map[string]string{"keep": "me"}}})
	tests := []struct {
		name   string
		body   []byte
		code   int
		status protocol.Status
		msg    string
	}{
		{"malformed", []byte{0xff, 0xff, 0xff}, 400, protocol.Status_ERROR, "malformed ActorInvocation"},
		{"unknown actor", unknownActor, 200, protocol.Status_ACTOR_NOT_FOUND, `this host has no actor "nobody"; it serves "counter"`},
		{"unknown action", unknownAction, 200, protocol.Status_ACTOR_NOT_FOUND, `actor "counter" has no action "Nope"; its actions are "Add"`},
		{"wrong payload type", wrongType, 200, protocol.Status_ERROR, `actor "counter" action "Add": takes spawn.test.Add, got spawn.test.Text`},
	}
	d := benchHost(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := d.serveBytes(t.Context(), tt.body)
			var resp protocol.ActorInvocationResponse
			if err := proto.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			var f protocol.RequestStatus
			ok := resp.GetValue().GetTypeUrl() == statusURL && proto.Unmarshal(resp.GetValue().GetValue(), &f) == nil
			if code != tt.code || !ok || f.GetStatus() != tt.status || !strings.HasPrefix(f.GetMessage(), tt.msg) {
				t.Fatalf("got %d %v, want %d %v %q", code, &f, tt.code, tt.status, tt.msg)
			}
			if tt.name == "unknown action" && resp.GetUpdatedContext().GetTags()["keep"] != "me" {
				t.Fatal("a failed call must echo the tags, or the proxy wipes them")
			}
			if resp.GetUpdatedContext().GetState() != nil {
				t.Fatal("a failed call must not send state")
			}
		})
	}
}

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// unnamedBench is an unnamed actor for TestHostRefusesTheUnnamedActorItself.
type unnamedBench struct {
	Actor `spawn:"name=basket,kind=unnamed"`
}

func (*unnamedBench) Add(*Context, *testpb.Add) (*testpb.Total, error) { return &testpb.Total{}, nil }

// TestHostRefusesTheUnnamedActorItself checks that the host answers a call
// to an unnamed actor itself, rather than to one of its instances, with
// ACTOR_NOT_FOUND and what to call instead.
func TestHostRefusesTheUnnamedActorItself(t *testing.T) {
	table, err := registry.Build(spawnTypes, []any{&unnamedBench{}})
	if err != nil {
		t.Fatal(err)
	}
	h := &host{table: table, sys: &System{}, log: zap.NewNop()}
	tests := []struct {
		name   string
		id     *protocol.ActorId
		status protocol.Status
		msg    string
	}{
		{"the unnamed actor", &protocol.ActorId{Name: "basket"}, protocol.Status_ACTOR_NOT_FOUND,
			`actor "basket" is unnamed: call an instance with spawn.Instance("id")`},
		{"an instance", &protocol.ActorId{Name: "b1", Parent: "basket"}, protocol.Status_UNKNOWN, ""}, // no error reply
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := h.Call(t.Context(), &protocol.ActorInvocation{Actor: tt.id, ActionName: "Add"})
			var f protocol.RequestStatus
			if resp.GetValue().GetTypeUrl() == statusURL {
				if err := proto.Unmarshal(resp.GetValue().GetValue(), &f); err != nil {
					t.Fatal(err)
				}
			}
			if f.GetStatus() != tt.status || f.GetMessage() != tt.msg {
				t.Fatalf("got %v %q, want %v %q", f.GetStatus(), f.GetMessage(), tt.status, tt.msg)
			}
		})
	}
}
