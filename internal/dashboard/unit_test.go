package dashboard

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/spawn-go/spawn/runtime"
)

func TestShowKnownType(t *testing.T) {
	st, _ := anypb.New(wrapperspb.String("hello"))
	s := show(st, protoregistry.GlobalTypes)
	if !s.JSON || s.Text != `"hello"` || s.TypeURL != "type.googleapis.com/google.protobuf.StringValue" || s.Size != 7 {
		t.Errorf("show = %+v", s)
	}
}

// TestShowUnknownType: a type the program does not link in, as in spawn
// proxy, is shown by its URL, its size and its bytes.
func TestShowUnknownType(t *testing.T) {
	st := &anypb.Any{TypeUrl: "type.googleapis.com/shop.Cart", Value: []byte("\x0a\x03tea\x0a\x06scones and jam")}
	for _, types := range []*protoregistry.Types{nil, protoregistry.GlobalTypes} {
		s := show(st, types)
		want := "00000000  0a 03 74 65 61 0a 06 73  63 6f 6e 65 73 20 61 6e  |..tea..scones an|\n" +
			"00000010  64 20 6a 61 6d                                    |d jam|"
		if s.JSON || s.Text != want || s.Size != 21 || s.Why == "" {
			t.Errorf("show = %+v\ntext:\n%s\nwant:\n%s", s, s.Text, want)
		}
	}
	bad := show(&anypb.Any{TypeUrl: "type.googleapis.com/google.protobuf.StringValue", Value: []byte{0xff}}, protoregistry.GlobalTypes)
	if bad.JSON || !strings.Contains(bad.Why, "not a google.protobuf.StringValue") {
		t.Errorf("undecodable bytes: %+v", bad)
	}
}

func TestShowCuts(t *testing.T) {
	s := show(&anypb.Any{TypeUrl: "x/y", Value: make([]byte, maxShown)}, nil)
	if !s.Cut || len(s.Text) > maxShown || strings.HasSuffix(s.Text, "\n") {
		t.Errorf("a large state: cut %v, %d bytes shown", s.Cut, len(s.Text))
	}
}

// TestRecent: the ring keeps the newest calls, newest first, and counts
// each actor's calls, an instance's under its unnamed actor.
func TestRecent(t *testing.T) {
	r := NewRecent(3)
	obs := r.Observer()
	at := time.Unix(1000, 0)
	for i := range 5 {
		inv := runtime.Invocation{Actor: runtime.ActorRef{Name: fmt.Sprint("c-", i), Parent: "cart"}, Action: "Add", At: at.Add(time.Duration(i) * time.Second), Outcome: runtime.OutcomeOK}
		if i == 3 {
			inv.Outcome, inv.Err = runtime.OutcomeActionFailed, errors.New("no")
		}
		obs.Invoked(inv)
	}
	obs.Invoked(runtime.Invocation{Actor: runtime.ActorRef{Name: "joe"}, Action: "Hi", Outcome: runtime.OutcomeOK,
		Workflow: &runtime.Workflow{
			Effects:   []runtime.Effect{{To: runtime.ActorRef{Name: "bob"}, Action: "Later", At: time.Date(2026, 1, 1, 10, 0, 0, 0, time.Local)}},
			Broadcast: &runtime.Broadcast{Topic: "news"},
			Route:     &runtime.Route{Pipe: true, To: runtime.ActorRef{Name: "ann"}, Action: "Next"},
		}})
	calls := r.Calls(nil, 0)
	var names []string
	for _, c := range calls {
		names = append(names, c.Actor.Name)
	}
	if strings.Join(names, " ") != "joe c-4 c-3" {
		t.Errorf("calls kept: %v, want joe c-4 c-3", names)
	}
	if want := []string{"effect → bob.Later at 10:00:00.000", "broadcast → news", "pipe → ann.Next"}; strings.Join(calls[0].Workflow, "|") != strings.Join(want, "|") {
		t.Errorf("workflow %q, want %q", calls[0].Workflow, want)
	}
	if failed := r.Calls(func(c *Call) bool { return c.Failed() }, 0); len(failed) != 1 || failed[0].Err != "no" {
		t.Errorf("failures: %+v", failed)
	}
	if got := r.Calls(nil, 2); len(got) != 2 {
		t.Errorf("limit 2: %d calls", len(got))
	}
	if s := r.Stats("cart"); s.Calls != 5 || s.Failures != 1 || !s.Last.Equal(at.Add(4*time.Second)) {
		t.Errorf("cart's stats: %+v", s)
	}
}
