package runtime

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/state"
)

// counterHost adds one to an Int64Value state at every "add", and asks for
// a checkpoint, after waiting for wait (nil: no wait).
func counterHost(wait func(ctx context.Context)) *fakeHost {
	return newHost(func(ctx context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		if inv.GetActionName() != "add" {
			return echo(inv), nil
		}
		if wait != nil {
			wait(ctx)
		}
		var n wrapperspb.Int64Value
		if st := inv.GetCurrentContext().GetState(); st != nil {
			if err := st.UnmarshalTo(&n); err != nil {
				return nil, err
			}
		}
		n.Value++
		st, _ := anypb.New(&n)
		r := reply(inv, st, st)
		r.Checkpoint = true
		return r, nil
	})
}

func (v *env) count(name string) int64 {
	v.t.Helper()
	st := v.state(name).GetState()
	if st == nil {
		return 0
	}
	var n wrapperspb.Int64Value
	if err := st.UnmarshalTo(&n); err != nil {
		v.t.Fatal(err)
	}
	return n.Value
}

// A call whose time limit passes while its host call is in flight is
// reported as not applied, and its late reply is dropped: the state does
// not change, and nothing is saved.
func TestTimeoutDuringHostCallIsNotApplied(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	v := newEnv(t, counterHost(func(context.Context) {
		entered <- struct{}{}
		<-release // ignores cancellation, as an in-process action may
	}))
	v.register(newActor("c", stateful, actions("add")))

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := v.e.Invoke(ctx, req("c", "add", nil))
		errc <- err
	}()
	<-entered
	cancel()
	err := <-errc
	wantStatus(t, err, protocol.Status_ERROR, "the host call had not answered")
	if reasonOf(err) != NotApplied {
		t.Fatalf("reason %v, want NotApplied", reasonOf(err))
	}
	close(release) // the late reply comes, and must be dropped
	v.waitIdle("c")
	if n := v.count("c"); n != 0 {
		t.Fatalf("count %d after a call reported not applied, want 0", n)
	}
	if _, err := v.loaded("c"); err == nil {
		t.Fatal("the dropped reply was checkpointed")
	}
	go func() { <-entered }() // let the next call through
	if _, err := v.e.Invoke(context.Background(), req("c", "add", nil)); err != nil {
		t.Fatal(err)
	}
	if n := v.count("c"); n != 1 {
		t.Fatalf("count %d, want 1", n)
	}
}

// The scenario: request-timeouts close to the action's own
// duration. Whatever each call answers must be the truth: the final count
// is exactly the number of calls that succeeded, and every failure says
// it was not applied.
func TestOutcomeReportedIsTheTrueOne(t *testing.T) {
	v := newEnv(t, counterHost(func(context.Context) {
		time.Sleep(time.Duration(rand.IntN(1500)) * time.Microsecond)
	}))
	v.register(newActor("c", stateful, actions("add")))
	const callers, calls = 8, 50
	var mu sync.Mutex
	ok, notApplied := 0, 0
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for range calls {
				r := req("c", "add", nil)
				r.Metadata = map[string]string{protocol.RequestTimeoutKey: strconv.Itoa(1 + rand.IntN(3))}
				_, err := v.e.Invoke(context.Background(), r)
				mu.Lock()
				switch {
				case err == nil:
					ok++
				case reasonOf(err) == NotApplied:
					notApplied++
				default:
					t.Errorf("call failed with %v, neither applied nor reported not applied", err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	v.waitIdle("c")
	if n := v.count("c"); n != int64(ok) {
		t.Fatalf("count %d, but %d calls succeeded (%d not applied)", n, ok, notApplied)
	}
	rec, err := v.loaded("c")
	if ok > 0 && (err != nil || rec.Revision == 0) {
		t.Fatalf("checkpointed calls left no record: %v, %v", rec, err)
	}
	t.Logf("%d applied, %d not applied", ok, notApplied)
}

// A checkpoint that fails undoes the change it was to save: the caller is
// told the call failed, and it did.
func TestFailedCheckpointIsUndone(t *testing.T) {
	store := &failingStore{Memory: state.NewMemory()}
	e, err := New(Options{Host: counterHost(nil), Store: store})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	v := &env{t: t, e: e}
	v.register(newActor("c", stateful, actions("add")))
	if _, err := e.Invoke(context.Background(), req("c", "add", nil)); err != nil {
		t.Fatal(err)
	}
	store.fail.Store(true)
	_, err = e.Invoke(context.Background(), req("c", "add", nil))
	wantStatus(t, err, protocol.Status_ERROR, "not applied")
	store.fail.Store(false)
	if n := v.count("c"); n != 1 {
		t.Fatalf("count %d after a failed checkpoint, want 1", n)
	}
}

// failingStore fails every Save while fail is set.
type failingStore struct {
	*state.Memory
	fail atomic.Bool
}

func (s *failingStore) Save(ctx context.Context, key state.Key, rec state.Record) error {
	if s.fail.Load() {
		return errors.New("disk full")
	}
	return s.Memory.Save(ctx, key, rec)
}

// A call whose reply the worker has committed is applied and reported as
// such, even when the caller's time runs out while its checkpoint is
// being saved: the save must not fail for the caller's deadline. (Found
// as a rare failure of TestOutcomeReportedIsTheTrueOne: "checkpoint
// failed ... context deadline exceeded", neither applied nor reported
// not applied.)
func TestCheckpointOutlivesTheCallersDeadline(t *testing.T) {
	store := &blockingSaves{Memory: state.NewMemory(), armed: make(chan struct{}), saving: make(chan struct{}), release: make(chan struct{})}
	close(store.armed)
	e, err := New(Options{Host: counterHost(nil), Store: store})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	v := &env{t: t, e: e, store: store.Memory}
	v.register(newActor("c", stateful, actions("add")))

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := e.Invoke(ctx, req("c", "add", nil))
		errc <- err
	}()
	<-store.saving // committed, and saving
	cancel()
	close(store.release)
	if err := <-errc; err != nil {
		t.Fatalf("a committed call whose caller gave up during its checkpoint: %v", err)
	}
	if n := v.count("c"); n != 1 {
		t.Fatalf("count %d, want 1", n)
	}
	if rec, err := v.loaded("c"); err != nil || rec.Revision != 1 {
		t.Fatalf("checkpoint: %v, %v; want revision 1 stored", rec, err)
	}
}
