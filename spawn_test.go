package spawn_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/testpb"
	"github.com/spawn-go/spawn/spawntest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// events carries what actors saw to the test: a dependency field, so it is
// shared by every copy of the actor.
type events chan string

func (e events) send(format string, args ...any) {
	select {
	case e <- fmt.Sprintf(format, args...):
	default: // nobody is listening for this one
	}
}

// Counter is the workhorse of these tests.
type Counter struct {
	spawn.Actor `spawn:"name=counter,channel=ticks:Bump,tag=team:core"`
	State       *testpb.CounterState `spawn:"state"`
	_           spawn.Action         `spawn:"method=Rename,name=renamed"`

	Events events
}

func (c *Counter) Init(ctx *spawn.Context) error {
	c.Events.send("init %s", ctx.Self().Name)
	return nil
}

func (c *Counter) Add(ctx *spawn.Context, in *testpb.Add) (*testpb.Total, error) {
	c.State.Value += in.Delta
	return &testpb.Total{Value: c.State.Value}, nil
}

func (c *Counter) Fail(ctx *spawn.Context, in *testpb.Add) (*testpb.Total, error) {
	c.State.Value += 1000
	return nil, fmt.Errorf("refusing %d", in.Delta)
}

func (c *Counter) Panic(ctx *spawn.Context) error {
	c.State.Value = -1
	panic("kaboom")
}

func (c *Counter) Bump(ctx *spawn.Context, in *testpb.Text) error {
	c.State.Value++
	c.Events.send("bump %s from %s", in.GetText(), ctx.Caller().Name)
	return nil
}

func (c *Counter) Tagged(ctx *spawn.Context, in *testpb.Text) (spawn.Value, error) {
	return spawn.NoReply().Tag("last", in.Text), nil
}

func (c *Counter) Tags(ctx *spawn.Context) (*testpb.Text, error) {
	return &testpb.Text{Text: fmt.Sprint(ctx.Tags())}, nil
}

func (c *Counter) Meta(ctx *spawn.Context) (*testpb.Text, error) {
	_, hasDeadline := ctx.Metadata()["request-timeout"]
	return &testpb.Text{Text: fmt.Sprintf("k=%s deadline=%v", ctx.Metadata()["k"], hasDeadline)}, nil
}

func (c *Counter) Rename(ctx *spawn.Context) (*testpb.Text, error) {
	return &testpb.Text{Text: "renamed"}, nil
}

func (c *Counter) Publish(ctx *spawn.Context, in *testpb.Text) (spawn.Value, error) {
	return spawn.Reply(&testpb.Text{Text: "published"}).Broadcast("ticks", in), nil
}

func (c *Counter) Save(ctx *spawn.Context, in *testpb.Add) (spawn.Value, error) {
	c.State.Value += in.Delta
	return spawn.NoReply().Checkpoint(), nil
}

// Raw takes its payload undecoded.
func (c *Counter) Raw(ctx *spawn.Context, in *anypb.Any) (*testpb.Text, error) {
	return &testpb.Text{Text: in.GetTypeUrl()}, nil
}

func (c *Counter) Who(ctx *spawn.Context) (*testpb.Text, error) {
	return &testpb.Text{Text: ctx.Caller().Name}, nil
}

// Relay exercises workflows and calls out of an action.
type Relay struct {
	spawn.Actor `spawn:"name=relay"`
	Events      events
}

func (r *Relay) Forward(ctx *spawn.Context, in *testpb.Add) (spawn.Value, error) {
	return spawn.NoReply().Forward("counter", "Add"), nil
}

func (r *Relay) Pipe(ctx *spawn.Context, in *testpb.Add) (spawn.Value, error) {
	return spawn.Reply(&testpb.Add{Delta: in.Delta * 10}).Pipe("counter", "Add"), nil
}

func (r *Relay) Effect(ctx *spawn.Context, in *testpb.Text) (spawn.Value, error) {
	return spawn.Reply(&testpb.Text{Text: "sent"}).
		Metadata("k", "from-value").
		Effect("counter", "Bump", in), nil
}

func (r *Relay) Ask(ctx *spawn.Context) (*testpb.Text, error) {
	var out testpb.Text
	if err := ctx.Invoke("counter", "Who", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (r *Relay) Both(ctx *spawn.Context) (spawn.Value, error) {
	return spawn.NoReply().Forward("counter", "Add").Pipe("counter", "Add"), nil
}

// Session is an unnamed actor: instances are spawned from it.
type Session struct {
	spawn.Actor `spawn:"name=session,kind=unnamed"`
	State       *testpb.CounterState `spawn:"state"`
}

func (s *Session) Add(ctx *spawn.Context, in *testpb.Add) (*testpb.Total, error) {
	s.State.Value += in.Delta
	s.State.Log = append(s.State.Log, ctx.Self().Name)
	return &testpb.Total{Value: s.State.Value}, nil
}

// Clock has a timer action.
type Clock struct {
	spawn.Actor `spawn:"name=clock,stateful=false,timer=20ms"`
	Events      events
}

func (c *Clock) Tick(ctx *spawn.Context, _ spawn.Tick) error {
	c.Events.send("tick caller=%s", ctx.Caller().Name)
	return nil
}

// Worker is pooled: instances serve calls in parallel.
type Worker struct {
	spawn.Actor `spawn:"name=worker,kind=pooled,max_pool=4"`
	Barrier     *barrier
}

func (w *Worker) Work(ctx *spawn.Context) error { return w.Barrier.wait(ctx) }

// barrier releases everybody once n have arrived.
type barrier struct {
	n       int
	mu      sync.Mutex
	arrived int
	open    chan struct{}
}

func (b *barrier) wait(ctx context.Context) error {
	b.mu.Lock()
	b.arrived++
	if b.arrived == b.n {
		close(b.open)
	}
	b.mu.Unlock()
	select {
	case <-b.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// modes runs f once on the embedded runtime and once through a proxy on
// loopback, the two places a program can run.
func modes(t *testing.T, f func(t *testing.T, start func(args ...any) *spawn.System)) {
	t.Run("embedded", func(t *testing.T) {
		f(t, func(args ...any) *spawn.System { return spawntest.Start(t, args...) })
	})
	t.Run("proxy", func(t *testing.T) {
		f(t, func(args ...any) *spawn.System {
			sys, _ := spawntest.StartWithProxy(t, args...)
			return sys
		})
	})
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// await returns the next event matching prefix, failing after a while.
func await(t *testing.T, ev events, prefix string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-ev:
			if strings.HasPrefix(e, prefix) {
				return e
			}
		case <-deadline:
			t.Fatalf("no %q event", prefix)
			return ""
		}
	}
}

func TestInvokeKeepsState(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		sys := start(&Counter{Events: make(events, 16)})
		var total testpb.Total
		for i := 1; i <= 3; i++ {
			if err := sys.Invoke(ctx(t), "counter", "Add", &testpb.Add{Delta: 2}, &total); err != nil {
				t.Fatal(err)
			}
			if total.Value != int64(2*i) {
				t.Fatalf("call %d: total %d, want %d", i, total.Value, 2*i)
			}
		}
		var st testpb.CounterState
		if err := sys.State(ctx(t), "counter", &st); err != nil {
			t.Fatal(err)
		}
		if st.Value != 6 {
			t.Fatalf("state %d, want 6", st.Value)
		}
	})
}

func TestTypedCall(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		sys := start(&Counter{Events: make(events, 16)})
		total, err := spawn.Call(ctx(t), sys, (*Counter).Add, &testpb.Add{Delta: 5})
		if err != nil {
			t.Fatal(err)
		}
		if total.Value != 5 {
			t.Fatalf("total %d, want 5", total.Value)
		}
		// A renamed action is called by its wire name.
		text, err := spawn.CallNoInput(ctx(t), sys, (*Counter).Rename)
		if err != nil || text.Text != "renamed" {
			t.Fatalf("Rename: %v, %v", text, err)
		}
		if err := sys.Invoke(ctx(t), "counter", "Rename", nil, nil); !isCode(err, spawn.CodeNotFound) {
			t.Fatalf("the Go name of a renamed action must not answer, got %v", err)
		}
	})
}

func isCode(err error, c spawn.Code) bool {
	var se *spawn.Error
	return errors.As(err, &se) && se.Code == c
}

func TestActionErrorsLeaveStateAlone(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		sys := start(&Counter{Events: make(events, 16)})
		if err := sys.Invoke(ctx(t), "counter", "Add", &testpb.Add{Delta: 1}, nil); err != nil {
			t.Fatal(err)
		}
		err := sys.Invoke(ctx(t), "counter", "Fail", &testpb.Add{Delta: 7}, nil)
		var se *spawn.Error
		if !errors.As(err, &se) || se.Code != spawn.CodeAction || se.Message != "refusing 7" || se.Actor != "counter" || se.Action != "Fail" {
			t.Fatalf("Fail: got %#v", err)
		}
		if !errors.Is(err, &spawn.Error{Code: spawn.CodeAction}) {
			t.Fatal("errors.Is by code does not match")
		}
		err = sys.Invoke(ctx(t), "counter", "Panic", nil, nil)
		if !errors.As(err, &se) || se.Code != spawn.CodeAction || !strings.Contains(se.Message, "kaboom") {
			t.Fatalf("Panic: got %v", err)
		}
		var st testpb.CounterState
		if err := sys.State(ctx(t), "counter", &st); err != nil {
			t.Fatal(err)
		}
		if st.Value != 1 {
			t.Fatalf("state %d after failures, want 1", st.Value)
		}
		// The host keeps serving.
		var total testpb.Total
		if err := sys.Invoke(ctx(t), "counter", "Add", &testpb.Add{Delta: 1}, &total); err != nil || total.Value != 2 {
			t.Fatalf("after failures: %v, %v", &total, err)
		}
	})
}

func TestBadCalls(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		sys := start(&Counter{Events: make(events, 16)})
		tests := []struct {
			name          string
			actor, action string
			in, out       proto.Message
			code          spawn.Code
			msg           string
		}{
			{"unknown actor", "nobody", "Add", &testpb.Add{}, nil, spawn.CodeNotFound, "nobody"},
			{"unknown action", "counter", "Nope", &testpb.Add{}, nil, spawn.CodeNotFound, "Nope"},
			{"wrong input type", "counter", "Add", &testpb.Text{Text: "x"}, nil, spawn.CodeAction, "takes spawn.test.Add, got spawn.test.Text"},
			{"wrong out type", "counter", "Add", &testpb.Add{Delta: 1}, &testpb.Text{}, spawn.CodeInvalid, "the reply is type.googleapis.com/spawn.test.Total, but out is type.googleapis.com/spawn.test.Text"},
			{"no action", "counter", "", nil, nil, spawn.CodeInvalid, "needs an actor and an action"},
			{"nil out", "counter", "Add", &testpb.Add{Delta: 1}, (*testpb.Total)(nil), spawn.CodeInvalid, "out is a nil *testpb.Total"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := sys.Invoke(ctx(t), tt.actor, tt.action, tt.in, tt.out)
				var se *spawn.Error
				if !errors.As(err, &se) || se.Code != tt.code || !strings.Contains(se.Message, tt.msg) {
					t.Fatalf("got %v (%#v), want code %v with %q", err, err, tt.code, tt.msg)
				}
			})
		}
	})
}

func TestAnyInputGetsThePayloadUndecoded(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		sys := start(&Counter{Events: make(events, 16)})
		var out testpb.Text
		if err := sys.Invoke(ctx(t), "counter", "Raw", &testpb.Add{Delta: 1}, &out); err != nil || out.Text != "type.googleapis.com/spawn.test.Add" {
			t.Fatalf("raw: %q, %v", out.Text, err)
		}
		if err := sys.Invoke(ctx(t), "counter", "Raw", nil, &out); err != nil || out.Text != "" {
			t.Fatalf("raw without payload: %q, %v", out.Text, err)
		}
	})
}

func TestTagsAndMetadata(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		sys := start(&Counter{Events: make(events, 16)})
		var out testpb.Text
		if err := sys.Invoke(ctx(t), "counter", "Tags", nil, &out); err != nil || out.Text != "map[team:core]" {
			t.Fatalf("initial tags: %q, %v", out.Text, err)
		}
		if err := sys.Invoke(ctx(t), "counter", "Tagged", &testpb.Text{Text: "x"}, nil); err != nil {
			t.Fatal(err)
		}
		// A call that does not touch tags must not lose them.
		if err := sys.Invoke(ctx(t), "counter", "Add", &testpb.Add{Delta: 1}, nil); err != nil {
			t.Fatal(err)
		}
		if err := sys.Invoke(ctx(t), "counter", "Tags", nil, &out); err != nil || out.Text != "map[last:x team:core]" {
			t.Fatalf("tags: %q, %v", out.Text, err)
		}
		if err := sys.Invoke(ctx(t), "counter", "Meta", nil, &out, spawn.WithMetadata("k", "v")); err != nil || out.Text != "k=v deadline=true" {
			t.Fatalf("metadata: %q, %v", out.Text, err)
		}
		if err := sys.Invoke(context.Background(), "counter", "Meta", nil, &out); err != nil || out.Text != "k= deadline=false" {
			t.Fatalf("metadata without deadline: %q, %v", out.Text, err)
		}
	})
}

// Keeper has a state field and no activation hook, so it has no state
// until an action saves one.
type Keeper struct {
	spawn.Actor `spawn:"name=keeper,tag=team:core"`
	State       *testpb.CounterState `spawn:"state"`
}

func (k *Keeper) Add(ctx *spawn.Context, in *testpb.Add) error {
	k.State.Value += in.Delta
	return nil
}

// Swap returns a state of another type than the state field's.
func (k *Keeper) Swap(ctx *spawn.Context) (spawn.Value, error) {
	return spawn.NoReply().State(&testpb.Text{Text: "not a counter"}), nil
}

// Scribble writes into the maps the Context hands out.
func (k *Keeper) Scribble(ctx *spawn.Context) (*testpb.Text, error) {
	ctx.Tags()["scribbled"] = "yes"
	return &testpb.Text{Text: fmt.Sprint(ctx.Tags())}, nil
}

func TestStateBeforeTheFirstSave(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		sys := start(&Keeper{})
		st := testpb.CounterState{Value: 7}
		if err := sys.State(ctx(t), "keeper", &st); err != nil || st.Value != 7 {
			t.Fatalf("State of an actor with no state yet: %v, %v; want no error and out left as it was", &st, err)
		}
	})
}

func TestStateOfAnotherTypeIsRefused(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		sys := start(&Keeper{})
		if err := sys.Invoke(ctx(t), "keeper", "Add", &testpb.Add{Delta: 1}, nil); err != nil {
			t.Fatal(err)
		}
		err := sys.Invoke(ctx(t), "keeper", "Swap", nil, nil)
		if !isCode(err, spawn.CodeAction) || !strings.Contains(err.Error(), "the new state is a spawn.test.Text, but the state field holds spawn.test.CounterState") {
			t.Fatalf("Swap: %v, want an action error naming both types", err)
		}
		// The actor keeps its state and keeps working.
		if err := sys.Invoke(ctx(t), "keeper", "Add", &testpb.Add{Delta: 1}, nil); err != nil {
			t.Fatalf("after Swap: %v", err)
		}
		var st testpb.CounterState
		if err := sys.State(ctx(t), "keeper", &st); err != nil || st.Value != 2 {
			t.Fatalf("state after Swap: %v, %v; want 2", &st, err)
		}
	})
}

func TestContextMapsAreCopies(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		sys := start(&Keeper{})
		var out testpb.Text
		for range 2 {
			// Each call starts from the actor's tags, whatever the last
			// one wrote into its copy.
			if err := sys.Invoke(ctx(t), "keeper", "Scribble", nil, &out); err != nil || out.Text != "map[team:core]" {
				t.Fatalf("tags seen by the action: %q, %v; want map[team:core]", out.Text, err)
			}
		}
	})
}

func TestWorkflows(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		ev := make(events, 64)
		sys := start(&Counter{Events: ev}, &Relay{Events: ev})
		var total testpb.Total
		// Forward: the target gets the input; the caller gets its reply.
		if err := sys.Invoke(ctx(t), "relay", "Forward", &testpb.Add{Delta: 3}, &total); err != nil || total.Value != 3 {
			t.Fatalf("forward: %v, %v", &total, err)
		}
		// Pipe: the target gets the output.
		if err := sys.Invoke(ctx(t), "relay", "Pipe", &testpb.Add{Delta: 2}, &total); err != nil || total.Value != 23 {
			t.Fatalf("pipe: %v, %v", &total, err)
		}
		// Forward and pipe together is an error, not a panic.
		if err := sys.Invoke(ctx(t), "relay", "Both", nil, nil); !isCode(err, spawn.CodeAction) || !strings.Contains(err.Error(), "not both") {
			t.Fatalf("both: %v", err)
		}
		// Side effect.
		var out testpb.Text
		if err := sys.Invoke(ctx(t), "relay", "Effect", &testpb.Text{Text: "fx"}, &out); err != nil || out.Text != "sent" {
			t.Fatalf("effect: %v, %v", &out, err)
		}
		if e := await(t, ev, "bump fx"); e != "bump fx from relay" {
			t.Fatalf("effect arrived as %q", e)
		}
		// Broadcast reaches the subscribed counter (activated above), from the publisher.
		if err := sys.Invoke(ctx(t), "counter", "Publish", &testpb.Text{Text: "news"}, &out); err != nil || out.Text != "published" {
			t.Fatalf("publish: %v, %v", &out, err)
		}
		if e := await(t, ev, "bump news"); e != "bump news from counter" {
			t.Fatalf("broadcast arrived as %q", e)
		}
		// Calls out of an action carry the caller.
		if err := sys.Invoke(ctx(t), "relay", "Ask", nil, &out); err != nil || out.Text != "relay" {
			t.Fatalf("ask: %v, %v", &out, err)
		}
	})
}

func TestUnnamedActors(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		sys := start(&Session{})
		if err := sys.Spawn(ctx(t), "session", "s1"); err != nil {
			t.Fatal(err)
		}
		var total testpb.Total
		if err := sys.Invoke(ctx(t), "s1", "Add", &testpb.Add{Delta: 4}, &total); err != nil || total.Value != 4 {
			t.Fatalf("spawned: %v, %v", &total, err)
		}
		// Lazily, through register_ref; instances do not share state.
		if err := sys.Invoke(ctx(t), "session", "Add", &testpb.Add{Delta: 1}, &total, spawn.Instance("s2")); err != nil || total.Value != 1 {
			t.Fatalf("lazy: %v, %v", &total, err)
		}
		got, err := spawn.Call(ctx(t), sys, (*Session).Add, &testpb.Add{Delta: 1}, spawn.Instance("s2"))
		if err != nil || got.Value != 2 {
			t.Fatalf("typed: %v, %v", got, err)
		}
		var st testpb.CounterState
		if err := sys.State(ctx(t), "s2", &st); err != nil || strings.Join(st.Log, ",") != "s2,s2" {
			t.Fatalf("instance state: %v, %v", &st, err)
		}
		if err := sys.Spawn(ctx(t), "nope", "s3"); !isCode(err, spawn.CodeNotFound) {
			t.Fatalf("spawn from an unknown parent: %v", err)
		}
		// The unnamed actor itself is no instance: calling it says how to.
		err = sys.Invoke(ctx(t), "session", "Add", &testpb.Add{Delta: 1}, &total)
		if !isCode(err, spawn.CodeNotFound) || !strings.Contains(err.Error(), `"session" is unnamed: call an instance with spawn.Instance("id")`) {
			t.Fatalf("the unnamed actor itself: %v", err)
		}
	})
}

func TestAsyncAndDelayed(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		ev := make(events, 16)
		sys := start(&Counter{Events: ev})
		if err := sys.Invoke(ctx(t), "counter", "Bump", &testpb.Text{Text: "async"}, nil, spawn.Async()); err != nil {
			t.Fatal(err)
		}
		await(t, ev, "bump async")
		if err := sys.Invoke(ctx(t), "counter", "Bump", &testpb.Text{Text: "later"}, nil, spawn.Delay(30*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		await(t, ev, "bump later")
		if err := sys.Invoke(ctx(t), "counter", "Bump", &testpb.Text{Text: "at"}, nil, spawn.At(time.Now().Add(20*time.Millisecond))); err != nil {
			t.Fatal(err)
		}
		await(t, ev, "bump at")
		if err := sys.Invoke(ctx(t), "counter", "Bump", nil, nil, spawn.Delay(-1)); !isCode(err, spawn.CodeInvalid) {
			t.Fatalf("negative delay: %v", err)
		}
	})
}

func TestTimersAndInit(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		ev := make(events, 16)
		sys := start(&Clock{Events: ev}, &Counter{Events: ev})
		// The stateful counter is activated at registration, and its hook runs.
		await(t, ev, "init counter")
		// Stateless actors activate on first use; the clock's timer starts then.
		if err := sys.Invoke(ctx(t), "clock", "Tick", nil, nil); err != nil {
			t.Fatal(err)
		}
		if e := await(t, ev, "tick caller=clock"); e != "tick caller=clock" {
			t.Fatalf("tick %q", e)
		}
		await(t, ev, "tick caller=clock")
	})
}

func TestPooledActorsRunInParallel(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		b := &barrier{n: 4, open: make(chan struct{})}
		sys := start(&Worker{Barrier: b})
		var wg sync.WaitGroup
		var failed atomic.Int32
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := sys.Invoke(ctx(t), "worker", "Work", nil, nil); err != nil {
					t.Error(err)
					failed.Add(1)
				}
			}()
		}
		wg.Wait() // would hang (then time out) if calls ran one at a time
		if failed.Load() > 0 {
			t.Fatal("pooled calls failed")
		}
	})
}

func TestCheckpointIsDurableBeforeTheReply(t *testing.T) {
	sys, proxy := spawntest.StartWithProxy(t, &Counter{Events: make(events, 16)})
	if err := sys.Invoke(ctx(t), "counter", "Save", &testpb.Add{Delta: 9}, nil); err != nil {
		t.Fatal(err)
	}
	rec, err := proxy.Store.Load(ctx(t), stateKey("counter"))
	if err != nil {
		t.Fatal(err)
	}
	var st testpb.CounterState
	if err := proto.Unmarshal(rec.Data, &st); err != nil || st.Value != 9 {
		t.Fatalf("saved state %v, %v", &st, err)
	}
}

func TestDeadlineBoundsTheCall(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		b := &barrier{n: 2, open: make(chan struct{})} // never opens: one caller only
		sys := start(&Worker{Barrier: b})
		c, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if err := sys.Invoke(c, "worker", "Work", nil, nil); err == nil {
			t.Fatal("a call past its deadline succeeded")
		}
		close(b.open) // let the stuck action finish before the test ends
	})
}
