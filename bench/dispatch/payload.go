// Package dispatch measures a host's dispatch: one encoded invocation in,
// the user's action run, one encoded response out. Each subject is timed
// in memory (the request handed to its http.Handler, no network) and
// through HTTP (a live loopback server and a kept-alive client), at three
// payload sizes, in interleaved rounds.
//
// The package is not internal so that a harness outside this repository
// can add a subject that cannot live here (see docs/performance.md on the
// official Spawn Go SDK) and measure it beside these, in the same run.
package dispatch

import (
	"bytes"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/spawn-go/spawn/protocol"
)

// Size is a payload size.
type Size struct {
	Name  string
	Bytes int
}

// Sizes are the payloads of the comparison: the encoded input message
// (a google.protobuf.BytesValue) is exactly this long.
var Sizes = []Size{{"16B", 16}, {"1KiB", 1024}, {"64KiB", 64 << 10}}

// Data returns the bytes carried by a BytesValue whose encoding is n
// bytes long.
func Data(n int) []byte {
	l := n - 2
	for l > 0 && 1+protowire.SizeVarint(uint64(l))+l > n {
		l--
	}
	d := make([]byte, l)
	for i := range d {
		d[i] = byte('a' + i%26)
	}
	return d
}

// The actor every subject implements: "echo", action "Echo", state a
// google.protobuf.Int64Value counting calls, input a BytesValue echoed as
// the reply.
const (
	ActorName  = "echo"
	ActionName = "Echo"
	System     = "spawn-system"
	// StartCount is the state every invocation carries; a correct
	// answer carries StartCount+1.
	StartCount = 41
)

// Invocation returns the encoded ActorInvocation a proxy sends for a
// payload of n bytes: the actor's state and tags, some metadata, the
// caller, and the input as an Any.
func Invocation(n int) []byte {
	st, _ := anypb.New(wrapperspb.Int64(StartCount))
	in, _ := anypb.New(wrapperspb.Bytes(Data(n)))
	id := &protocol.ActorId{Name: ActorName, System: System}
	b, err := proto.Marshal(&protocol.ActorInvocation{
		Actor:      id,
		ActionName: ActionName,
		Caller:     &protocol.ActorId{Name: "caller", System: System},
		CurrentContext: &protocol.Context{
			State:    st,
			Tags:     map[string]string{"team": "core"},
			Metadata: map[string]string{"trace": "abc"},
			Self:     id,
		},
		Payload: &protocol.ActorInvocation_Value{Value: in},
	})
	if err != nil {
		panic(err)
	}
	return b
}

// CheckResponse verifies an encoded ActorInvocationResponse to
// Invocation(n): the state counts one more call and the reply is the
// input.
func CheckResponse(n int, body []byte) error {
	var resp protocol.ActorInvocationResponse
	if err := proto.Unmarshal(body, &resp); err != nil {
		return fmt.Errorf("response does not decode: %w", err)
	}
	var st wrapperspb.Int64Value
	if err := resp.GetUpdatedContext().GetState().UnmarshalTo(&st); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if st.Value != StartCount+1 {
		return fmt.Errorf("state is %d, want %d", st.Value, StartCount+1)
	}
	var out wrapperspb.BytesValue
	if err := resp.GetValue().UnmarshalTo(&out); err != nil {
		return fmt.Errorf("reply: %w", err)
	}
	if !bytes.Equal(out.Value, Data(n)) {
		return fmt.Errorf("reply holds %d bytes, not the %d sent", len(out.Value), len(Data(n)))
	}
	return nil
}

// HandWritten does what a dispatcher must do for Echo, written out with
// no framework: decode the invocation, the input and the state, run the
// action, encode the state, the reply and the response. It is the floor.
func HandWritten(body []byte) ([]byte, error) {
	var inv protocol.ActorInvocation
	if err := proto.Unmarshal(body, &inv); err != nil {
		return nil, err
	}
	var in wrapperspb.BytesValue
	if err := proto.Unmarshal(inv.GetValue().GetValue(), &in); err != nil {
		return nil, err
	}
	cur := inv.GetCurrentContext()
	var st wrapperspb.Int64Value
	if err := proto.Unmarshal(cur.GetState().GetValue(), &st); err != nil {
		return nil, err
	}
	st.Value++ // the action
	stAny, err := anypb.New(&st)
	if err != nil {
		return nil, err
	}
	outAny, err := anypb.New(&in)
	if err != nil {
		return nil, err
	}
	return proto.Marshal(&protocol.ActorInvocationResponse{
		ActorName:      inv.GetActor().GetName(),
		ActorSystem:    inv.GetActor().GetSystem(),
		UpdatedContext: &protocol.Context{State: stAny, Tags: cur.GetTags(), Self: inv.GetActor(), Caller: inv.GetCaller()},
		Payload:        &protocol.ActorInvocationResponse_Value{Value: outAny},
	})
}
