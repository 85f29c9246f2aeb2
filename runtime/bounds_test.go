package runtime

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime/clocktest"
	"github.com/spawn-go/spawn/state"
)

// newEnvOptions is newEnv with the bounds and grace of opts.
func newEnvOptions(t testing.TB, host *fakeHost, store *state.Memory, opts Options) *env {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	clock := clocktest.New(epoch)
	opts.Host, opts.Store, opts.Clock, opts.Logger = host, store, clock, zap.New(core)
	e, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	v := &env{t: t, e: e, host: host, store: store, clock: clock, logs: logs}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return v
}

// blockingHost holds every call to "slow" until release is closed or the
// call's context ends, and reports each arrival on entered.
func blockingHost(entered chan<- string, release <-chan struct{}) *fakeHost {
	return newHost(func(ctx context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		if inv.GetActionName() == "slow" {
			entered <- inv.GetActor().GetName()
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return echo(inv), nil
	})
}

// A mailbox holds at most MaxMailbox invocations; the next is refused as
// overloaded before it runs, and the actor keeps serving.
func TestMailboxBound(t *testing.T) {
	entered, release := make(chan string, 8), make(chan struct{})
	v := newEnvOptions(t, blockingHost(entered, release), state.NewMemory(), Options{MaxMailbox: 2})
	v.register(newActor("a", actions("slow", "hi")))
	async := func(action string) error {
		r := req("a", action, nil)
		r.Async = true
		_, err := v.e.Invoke(context.Background(), r)
		return err
	}
	if err := async("slow"); err != nil {
		t.Fatal(err)
	}
	<-entered // running: the mailbox is empty again
	for i := range 2 {
		if err := async("hi"); err != nil {
			t.Fatalf("queued call %d: %v", i, err)
		}
	}
	err := async("hi")
	wantStatus(t, err, protocol.Status_ERROR, "mailbox")
	if reasonOf(err) != Overloaded {
		t.Fatalf("reason %v, want Overloaded", reasonOf(err))
	}
	_, err = v.e.Invoke(context.Background(), req("a", "hi", nil))
	if reasonOf(err) != Overloaded {
		t.Fatalf("a sync call to a full mailbox: %v, want overloaded", err)
	}
	close(release)
	v.host.waitN(t, 2, called("a", "hi"))
	v.invoke(req("a", "hi", nil))
}

// Async payloads waiting to be handled are bounded in bytes across all
// actors; the bytes are counted back once the calls have run.
func TestAsyncBytesBound(t *testing.T) {
	entered, release := make(chan string, 8), make(chan struct{})
	v := newEnvOptions(t, blockingHost(entered, release), state.NewMemory(), Options{MaxAsyncBytes: 10})
	v.register(newActor("a", actions("slow")), newActor("b", actions("slow")))
	send := func(actor, payload string) error {
		r := req(actor, "slow", str(payload))
		r.Async = true
		_, err := v.e.Invoke(context.Background(), r)
		return err
	}
	if err := send("a", "12"); err != nil { // str("12") encodes to 4 bytes
		t.Fatal(err)
	}
	if err := send("b", "12"); err != nil {
		t.Fatal(err)
	}
	err := send("b", "123")
	if reasonOf(err) != Overloaded || !containsFold(err.Error(), "bytes") {
		t.Fatalf("past the byte limit: %v, want overloaded", err)
	}
	close(release)
	v.host.waitN(t, 2, func(inv *protocol.ActorInvocation) bool { return inv.GetActionName() == "slow" })
	waitFor(t, "the async bytes to be released", func() bool { return v.e.asyncBytes.Load() == 0 })
	if err := send("b", "123"); err != nil {
		t.Fatalf("after the queue drained: %v", err)
	}
}

// Acknowledged async work that a Close cannot wait for is not lost: it is
// stored, and the next engine on the same store runs it.
func TestCloseKeepsAcknowledgedAsyncWork(t *testing.T) {
	entered, release := make(chan string, 16), make(chan struct{})
	store := state.NewMemory()
	host := blockingHost(entered, release)
	v := newEnvOptions(t, host, store, Options{})
	v.register(newActor("a", actions("slow")))
	for i := range 5 {
		r := req("a", "slow", str(fmt.Sprint(i)))
		r.Async = true
		if _, err := v.e.Invoke(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	<-entered // the first is running; four wait
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := v.e.Close(ctx); err == nil {
		t.Fatal("Close gave up on in-flight work and reported nothing")
	}
	// Close does not wait for a worker stuck in a host call; this one
	// honours cancellation, and stores its call as it ends.
	waitFor(t, "all 5 calls to be stored, the running one cancelled unapplied", func() bool {
		kept, err := store.ListScheduled(context.Background())
		return err == nil && len(kept) == 5
	})
	if n := len(v.logs.FilterMessage("async invocation failed").All()); n != 0 {
		t.Errorf("%d kept calls logged as failed", n)
	}

	close(release)
	ran := make(chan string, 16)
	w := newEnvOptions(t, newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		ran <- strOfAny(inv)
		return echo(inv), nil
	}), store, Options{})
	w.register(newActor("a", actions("slow")))
	seen := map[string]bool{}
	for range 5 {
		seen[<-ran] = true
	}
	if len(seen) != 5 {
		t.Fatalf("after the restart ran %v, want the 5 calls once each", seen)
	}
	_ = errors.New
}

// The mailbox bound counts invocations, as documented, not the engine's
// own messages (an activation, a state read) that wait beside them.
// (Found by cmd/spawn's TestReliabilityBoundsAnswered: the background
// activation of an eager actor, queued late, took the place of a call.)
func TestMailboxBoundCountsInvocationsOnly(t *testing.T) {
	entered, release := make(chan string, 8), make(chan struct{})
	v := newEnvOptions(t, blockingHost(entered, release), state.NewMemory(), Options{MaxMailbox: 2})
	released := false
	t.Cleanup(func() { // before the engine closes
		if !released {
			close(release)
		}
	})
	v.register(newActor("a", actions("slow", "hi")))
	async := func(action string) error {
		r := req("a", action, nil)
		r.Async = true
		_, err := v.e.Invoke(context.Background(), r)
		return err
	}
	if err := async("slow"); err != nil {
		t.Fatal(err)
	}
	<-entered // running: the mailbox is empty again
	read := make(chan error, 1)
	go func() {
		_, err := v.e.State(context.Background(), &protocol.ActorId{Name: "a", System: sys})
		read <- err
	}()
	waitFor(t, "the state read to wait in the mailbox", func() bool {
		v.e.mu.Lock()
		c := v.e.cells[actorKey{name: "a", system: sys}]
		v.e.mu.Unlock()
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.queue) == 1
	})
	for i := range 2 {
		if err := async("hi"); err != nil {
			t.Fatalf("invocation %d of 2 beside a state read: %v", i+1, err)
		}
	}
	if err := async("hi"); reasonOf(err) != Overloaded {
		t.Fatalf("a third invocation: %v, want overloaded", err)
	}
	close(release)
	released = true
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	v.host.waitN(t, 2, called("a", "hi"))
}
