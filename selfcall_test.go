package spawn_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/testpb"
)

// Mirror calls the actor its input names from inside an action, and
// replies with what came of it, so a test can see a self-call's error.
type Mirror struct {
	spawn.Actor `spawn:"name=mirror"`
}

// Look calls in.Text: "self", "self async", "self delayed" or "other".
func (m *Mirror) Look(ctx *spawn.Context, in *testpb.Text) (*testpb.Text, error) {
	var err error
	switch in.Text {
	case "self":
		err = ctx.Invoke("mirror", "Echo", nil, nil)
	case "self async":
		err = ctx.Invoke("mirror", "Echo", nil, nil, spawn.Async())
	case "other":
		err = ctx.Invoke("shard", "Echo", nil, nil, spawn.Instance("s1"))
	}
	return result(err), nil
}

// Echo does nothing.
func (m *Mirror) Echo(ctx *spawn.Context) error { return nil }

// Shard is an unnamed Mirror: its instances call themselves or others.
type Shard struct {
	spawn.Actor `spawn:"name=shard,kind=unnamed"`
}

// Look calls in.Text: "self" (this instance) or "sibling" (another one).
func (s *Shard) Look(ctx *spawn.Context, in *testpb.Text) (*testpb.Text, error) {
	instance := ctx.Self().Name
	if in.Text == "sibling" {
		instance += "-sibling"
	}
	return result(ctx.Invoke("shard", "Echo", nil, nil, spawn.Instance(instance))), nil
}

// Echo does nothing.
func (s *Shard) Echo(ctx *spawn.Context) error { return nil }

func result(err error) *testpb.Text {
	if err == nil {
		return &testpb.Text{Text: "ok"}
	}
	return &testpb.Text{Text: fmt.Sprintf("%v: %v", spawn.CodeOf(err), err)}
}

// TestSelfCallFailsAtOnce checks that a synchronous call from an action to
// its own actor, which could only wait for its deadline, fails at once
// with CodeInvalid saying what to do, while async self-calls and calls to
// other instances go through.
func TestSelfCallFailsAtOnce(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		sys := start(&Mirror{}, &Shard{})
		tests := []struct {
			name  string
			actor string
			opts  []spawn.InvokeOption
			in    string
			want  string
			fails bool // the call fails, saying what to do instead
		}{
			{"named, sync", "mirror", nil, "self", "invalid call: spawn: mirror.Echo: mirror cannot call itself synchronously", true},
			{"named, async", "mirror", nil, "self async", "ok", false},
			{"named, to another actor", "mirror", nil, "other", "ok", false},
			{"instance, sync", "shard", []spawn.InvokeOption{spawn.Instance("s2")}, "self",
				`invalid call: spawn: shard.Echo: shard instance "s2" cannot call itself synchronously`, true},
			{"instance, to a sibling", "shard", []spawn.InvokeOption{spawn.Instance("s3")}, "sibling", "ok", false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var out testpb.Text
				if err := sys.Invoke(ctx(t), tt.actor, "Look", &testpb.Text{Text: tt.in}, &out, tt.opts...); err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(out.Text, tt.want) {
					t.Errorf("got %q, want %q…", out.Text, tt.want)
				}
				if tt.fails && !strings.Contains(out.Text, "use spawn.Async() or act directly") {
					t.Errorf("%q does not say what to do instead", out.Text)
				}
			})
		}
	})
}
