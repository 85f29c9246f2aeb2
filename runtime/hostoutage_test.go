package runtime

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

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
