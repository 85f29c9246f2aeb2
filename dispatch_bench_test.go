package spawn

import (
	"context"
	"testing"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/internal/testpb"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/registry"
)

type benchCounter struct {
	Actor `spawn:"name=counter"`
	State *testpb.CounterState `spawn:"state"`
}

func (c *benchCounter) Add(ctx *Context, in *testpb.Add) (*testpb.Total, error) {
	c.State.Value += in.Delta
	return &testpb.Total{Value: c.State.Value}, nil
}

func benchInvocation(tb testing.TB) []byte {
	st, _ := anypb.New(&testpb.CounterState{Value: 41, Log: []string{"a", "b"}})
	in, _ := anypb.New(&testpb.Add{Delta: 1})
	b, err := proto.Marshal(&protocol.ActorInvocation{
		Actor:      &protocol.ActorId{Name: "counter", System: "spawn-system"},
		ActionName: "Add",
		CurrentContext: &protocol.Context{
			State:    st,
			Tags:     map[string]string{"team": "core"},
			Metadata: map[string]string{"trace": "abc"},
			Self:     &protocol.ActorId{Name: "counter", System: "spawn-system"},
		},
		Payload: &protocol.ActorInvocation_Value{Value: in},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func benchHost(tb testing.TB) *host {
	table, err := registry.Build(spawnTypes, []any{&benchCounter{}})
	if err != nil {
		tb.Fatal(err)
	}
	return &host{table: table, sys: &System{}, log: zap.NewNop()}
}

// handWritten does what the dispatcher does for benchCounter.Add, written
// out by hand with a direct method call: the floor the SDK is measured against.
func handWritten(body []byte) []byte {
	var inv protocol.ActorInvocation
	if err := proto.Unmarshal(body, &inv); err != nil {
		return nil
	}
	var in testpb.Add
	if err := proto.Unmarshal(inv.GetValue().GetValue(), &in); err != nil {
		return nil
	}
	cur := inv.GetCurrentContext()
	st := &testpb.CounterState{}
	if err := proto.Unmarshal(cur.GetState().GetValue(), st); err != nil {
		return nil
	}
	c := &benchCounter{State: st}
	out, err := c.Add(&Context{ctx: context.Background(), inv: &inv}, &in)
	if err != nil {
		return nil
	}
	stAny, _ := anypb.New(c.State)
	outAny, _ := anypb.New(out)
	b, _ := proto.Marshal(&protocol.ActorInvocationResponse{
		ActorName:      inv.GetActor().GetName(),
		ActorSystem:    inv.GetActor().GetSystem(),
		UpdatedContext: &protocol.Context{State: stAny, Tags: cur.GetTags(), Self: inv.GetActor(), Caller: inv.GetCaller()},
		Payload:        &protocol.ActorInvocationResponse_Value{Value: outAny},
	})
	return b
}

// BenchmarkDispatch compares the SDK's handler with handWritten on the
// same invocation. Target: at most 1.5x the time, 6 allocations more.
func BenchmarkDispatch(b *testing.B) {
	body := benchInvocation(b)
	b.Run("sdk", func(b *testing.B) {
		d := benchHost(b)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if code, out := d.serveBytes(ctx, body); code != 200 || len(out) == 0 {
				b.Fatal("bad response")
			}
		}
	})
	b.Run("handwritten", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if len(handWritten(body)) == 0 {
				b.Fatal("bad response")
			}
		}
	})
}

// TestDispatchAllocationBudget keeps the SDK's overhead over the
// hand-written handler from creeping up unnoticed.
func TestDispatchAllocationBudget(t *testing.T) {
	body := benchInvocation(t)
	d := benchHost(t)
	ctx := context.Background()
	sdk := testing.AllocsPerRun(200, func() { d.serveBytes(ctx, body) })
	hand := testing.AllocsPerRun(200, func() { handWritten(body) })
	t.Logf("allocations: sdk %.0f, hand-written %.0f", sdk, hand)
	if sdk > hand+6 {
		t.Fatalf("the SDK's handler allocates %.0f times per call, over the budget of %.0f (hand-written %.0f + 6)", sdk, hand+6, hand)
	}
}

// TestDispatchMatchesHandWritten proves the benchmark compares equal work.
func TestDispatchMatchesHandWritten(t *testing.T) {
	body := benchInvocation(t)
	_, got := benchHost(t).serveBytes(context.Background(), body)
	want := handWritten(body)
	var g, w protocol.ActorInvocationResponse
	if err := proto.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(&g, &w) {
		t.Fatalf("sdk response\n%v\ndiffers from hand-written\n%v", &g, &w)
	}
}
