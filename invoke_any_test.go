package spawn_test

import (
	"testing"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/internal/testpb"
	"github.com/spawn-go/spawn/spawntest"
)

func TestInvokeIntoAnyTakesTheReplyUndecoded(t *testing.T) {
	sys := spawntest.Start(t, &Counter{Events: make(events, 16)})
	var reply anypb.Any
	if err := sys.Invoke(ctx(t), "counter", "Add", &testpb.Add{Delta: 7}, &reply); err != nil {
		t.Fatal(err)
	}
	var total testpb.Total
	if err := reply.UnmarshalTo(&total); err != nil || total.Value != 7 {
		t.Fatalf("reply %v: %v, %v", &reply, &total, err)
	}
}
