package runtime

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/spawn-go/spawn/protocol"
)

// noAnswer is the error of a host call that got no answer, as the HTTP
// host client reports it: the host is down or restarting.
type noAnswer struct{}

func (noAnswer) Error() string  { return "dial tcp 127.0.0.1:8090: connection refused" }
func (noAnswer) NoAnswer() bool { return true }

// hostOverloaded is a host's refusal of a call it holds no room for.
type hostOverloaded struct{}

func (hostOverloaded) Error() string {
	return "overloaded: request bodies of 10 bytes are being handled"
}
func (hostOverloaded) Overloaded() bool { return true }

// An acknowledged async invocation, or a scheduled one, whose host gives
// no answer (it is down or restarting) or refuses it as overloaded, ran
// nowhere and changed nothing: it is kept and tried again every
// hostRetry until the host takes it, not dropped. (Found by cmd/spawn's
// TestReliabilityHostSIGTERMUnderLoad: async calls acknowledged while the
// host restarted were lost.)
func TestAcknowledgedAsyncWorkOutlivesAHostOutage(t *testing.T) {
	for name, refusal := range map[string]error{"no answer": noAnswer{}, "overloaded": hostOverloaded{}} {
		t.Run(name, func(t *testing.T) {
			var down atomic.Bool
			down.Store(true)
			v := newEnv(t, newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
				if down.Load() {
					return nil, refusal
				}
				return echo(inv), nil
			}))
			v.register(newActor("a", actions("work")))
			async := req("a", "work", str("async"))
			async.Async = true
			v.invoke(async)
			scheduled := req("a", "work", str("scheduled"))
			scheduled.ScheduledTo = epoch.Add(hostRetry).UnixMilli()
			v.invoke(scheduled)

			// The async call is refused at once and kept for later; the
			// scheduled one waits for its time.
			v.host.waitN(t, 1, called("a", "work"))
			v.blockUntilTimers(2)
			v.clock.Advance(hostRetry) // both run, and are refused
			v.host.waitN(t, 3, called("a", "work"))
			v.blockUntilTimers(2)
			down.Store(false)
			v.clock.Advance(hostRetry) // both run, and are taken
			v.host.waitN(t, 5, called("a", "work"))
			waitFor(t, "the kept calls to be deleted from the store", func() bool {
				list, err := v.store.ListScheduled(context.Background())
				return err == nil && len(list) == 0
			})
			for _, msg := range []string{"async invocation failed", "scheduled invocation failed", "dropping scheduled invocation"} {
				if n := v.logs.FilterMessage(msg).Len(); n != 0 {
					t.Errorf("%d calls logged %q", n, msg)
				}
			}
			// Nothing runs twice once taken.
			v.clock.Advance(10 * hostRetry)
			v.invoke(req("a", "work", str("sync"))) // the mailbox is FIFO
			if n := len(v.host.matching(called("a", "work"))); n != 6 {
				t.Errorf("%d host calls, want 6: the two refused twice, then taken once each, and the sync one", n)
			}
		})
	}
	_ = time.Second
}

// TestHostRetryBacksOff checks that work a host keeps declining is tried
// again later each time, up to a cap, and that a host declining many calls
// at once is logged at info once, the rest at debug.
func TestHostRetryBacksOff(t *testing.T) {
	v := newEnv(t, newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		return nil, noAnswer{}
	}))
	v.register(newActor("a", actions("work")))
	for range 5 {
		async := req("a", "work", str("async"))
		async.Async = true
		v.invoke(async)
	}
	v.host.waitN(t, 5, called("a", "work"))
	v.blockUntilTimers(5)
	const msg = "the host did not take an async invocation; it is kept and tried again"
	if info, all := v.logs.FilterMessage(msg).FilterLevelExact(zapcore.InfoLevel).Len(), v.logs.FilterMessage(msg).Len(); info != 1 || all != 5 {
		t.Errorf("%d of %d refusals at one instant logged at info, want 1 of 5", info, all)
	}

	// One call alone now: its waits grow, then stop growing.
	v2 := newEnv(t, newHost(func(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
		return nil, noAnswer{}
	}))
	v2.register(newActor("a", actions("work")))
	async := req("a", "work", str("async"))
	async.Async = true
	v2.invoke(async)
	calls := 1
	v2.host.waitN(t, calls, called("a", "work"))
	var waits []time.Duration
	for range 8 {
		v2.blockUntilTimers(1)
		due, _ := v2.clock.Next()
		d := due.Sub(v2.clock.Now())
		waits = append(waits, d)
		v2.clock.Advance(d)
		calls++
		v2.host.waitN(t, calls, called("a", "work"))
	}
	want := []time.Duration{1, 1, 2, 4, 8, 16, 30, 30}
	for i := range want {
		want[i] *= time.Second
	}
	if !slices.Equal(waits, want) {
		t.Errorf("waits between tries %v, want %v", waits, want)
	}
}
