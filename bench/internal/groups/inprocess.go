package groups

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/bench/measure"
)

// InProcess is the in-process group: a sync request and reply with an
// actor in the same process.
const InProcess = "inprocess"

// inprocSubject is one implementation: start returns a call function for
// actor k (of n) from worker w, a check run after the rounds with the
// number of calls made, and a stop function.
type inprocSubject struct {
	name  string
	start func(n int) (call func(w, k int) error, check func(calls int64) error, stop func(), err error)
}

var inprocSubjects = []inprocSubject{
	{"channel", startChannel},
	{"protoactor", startProtoActor},
	{"spawn-go", startSpawnInProc},
}

// RunInProcess compares a call of spawn-go's embedded runtime with
// Proto.Actor's RequestFuture and a bare channel round trip, with one
// caller and with GOMAXPROCS callers, on 1 actor and on 10,000.
func RunInProcess(cfg measure.Config) ([]measure.Measurement, error) {
	var out []measure.Measurement
	workers := runtime.GOMAXPROCS(0)
	for _, n := range []int{1, 10000} {
		set := measure.NewSet(InProcess)
		type running struct {
			name  string
			call  func(w, k int) error
			check func(int64) error
			stop  func()
			calls *counts
		}
		var subs []*running
		stopAll := func() {
			for _, s := range subs {
				s.stop()
			}
		}
		for _, s := range inprocSubjects {
			call, check, stop, err := s.start(n)
			if err != nil {
				stopAll()
				return out, fmt.Errorf("%s: %w", s.name, err)
			}
			subs = append(subs, &running{name: s.name, call: call, check: check, stop: stop, calls: new(counts)})
		}
		measure.Logf("inprocess: %d actors, %d rounds", n, cfg.Rounds)
		for r := range cfg.Rounds {
			for _, i := range measure.Rotate(len(subs), r) {
				s := subs[i]
				k := 0
				ns, err := measure.Serial(cfg.Dur, func() error {
					k++
					if k == n {
						k = 0
					}
					s.calls[0].n++
					return s.call(0, k)
				})
				if err != nil {
					stopAll()
					return out, fmt.Errorf("%s: %w", s.name, err)
				}
				set.Add(fmt.Sprintf("%s/1-caller/%s", actorsLabel(n), s.name), ns)
			}
			for _, i := range measure.Rotate(len(subs), r) {
				s := subs[i]
				ns, err := measure.Parallel(cfg.Dur, workers, func(w, i int) error {
					s.calls[w].n++
					return s.call(w, (w*7919+i)%n)
				})
				if err != nil {
					stopAll()
					return out, fmt.Errorf("%s: %w", s.name, err)
				}
				set.Add(fmt.Sprintf("%s/parallel/%s", actorsLabel(n), s.name), ns)
			}
		}
		for _, s := range subs {
			if err := s.check(s.calls.sum()); err != nil {
				stopAll()
				return out, fmt.Errorf("%s: %w", s.name, err)
			}
		}
		for _, mode := range []string{"1-caller", "parallel"} {
			p := actorsLabel(n) + "/" + mode + "/"
			out = append(out,
				set.M(p+"channel", "ns/op", "", nil, "bare channel round trip to one goroutine per actor"),
				set.M(p+"protoactor", "ns/op", p+"channel", nil, "Proto.Actor RequestFuture(...).Result()"),
				set.M(p+"spawn-go", "ns/op", p+"channel", measure.Max("ratio", 5, "≤ 5× channel"), "System.Invoke on the embedded runtime"),
				set.MAs(p+"spawn-go-vs-protoactor", p+"spawn-go", "ns/op", p+"protoactor", measure.Max("ratio", 1, "< 1× Proto.Actor"), "the same spawn-go figure, against Proto.Actor"),
			)
		}
		if cfg.ProfileDir != "" {
			for _, s := range subs {
				if s.name != "spawn-go" {
					continue
				}
				k := 0
				err := measure.ProfileCPU(cfg.ProfileDir, fmt.Sprintf("inprocess-%s-1-caller-spawn-go", actorsLabel(n)), 3*cfg.Dur+time.Second, func() error {
					k = (k + 1) % n
					s.calls[0].n++
					return s.call(0, k)
				})
				if err != nil {
					stopAll()
					return out, err
				}
			}
		}
		stopAll()
	}
	return out, nil
}

func actorsLabel(n int) string {
	if n == 1 {
		return "1-actor"
	}
	return fmt.Sprintf("%d-actors", n)
}

// startChannel: one goroutine per actor serves requests from its channel
// and answers on the request's own channel, as a mailbox and a sync reply
// would, doing nothing else.
func startChannel(n int) (func(w, k int) error, func(int64) error, func(), error) {
	type request struct {
		delta int64
		reply chan int64
	}
	reqs := make([]chan request, n)
	totals := make([]chan int64, n)
	for i := range n {
		reqs[i] = make(chan request)
		totals[i] = make(chan int64, 1)
		go func() {
			var total int64
			for r := range reqs[i] {
				total += r.delta
				r.reply <- total
			}
			totals[i] <- total
		}()
	}
	call := func(w, k int) error {
		r := request{delta: 1, reply: make(chan int64, 1)}
		reqs[k] <- r
		if <-r.reply <= 0 {
			return fmt.Errorf("bad total")
		}
		return nil
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			for i := range n {
				close(reqs[i])
			}
		}
	}
	check := func(calls int64) error {
		stop()
		var sum int64
		for i := range n {
			sum += <-totals[i]
		}
		return measure.Check(sum == calls, "channel actors counted %d calls, want %d", sum, calls)
	}
	return call, check, stop, nil
}

type paAdd struct{ delta int64 }
type paTotal struct{ total int64 }
type paGet struct{}

type paCounter struct{ total int64 }

func (a *paCounter) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *paAdd:
		a.total += m.delta
		ctx.Respond(&paTotal{a.total})
	case *paGet:
		ctx.Respond(&paTotal{a.total})
	}
}

// startProtoActor spawns n Proto.Actor actors and calls them with
// RequestFuture, the framework's sync request.
func startProtoActor(n int) (func(w, k int) error, func(int64) error, func(), error) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	props := actor.PropsFromProducer(func() actor.Actor { return &paCounter{} })
	pids := make([]*actor.PID, n)
	for i := range n {
		pids[i] = sys.Root.Spawn(props)
	}
	add := &paAdd{delta: 1}
	call := func(w, k int) error {
		res, err := sys.Root.RequestFuture(pids[k], add, 10*time.Second).Result()
		if err != nil {
			return err
		}
		if t, ok := res.(*paTotal); !ok || t.total <= 0 {
			return fmt.Errorf("protoactor answered %v", res)
		}
		return nil
	}
	check := func(calls int64) error {
		var sum int64
		for _, pid := range pids {
			res, err := sys.Root.RequestFuture(pid, &paGet{}, 10*time.Second).Result()
			if err != nil {
				return err
			}
			sum += res.(*paTotal).total
		}
		return measure.Check(sum == calls, "protoactor actors counted %d calls, want %d", sum, calls)
	}
	return call, check, sys.Shutdown, nil
}

// startSpawnInProc runs Counter on the embedded runtime (in-memory store)
// with n instances, all activated before timing.
func startSpawnInProc(n int) (func(w, k int) error, func(int64) error, func(), error) {
	sys, stop, err := startEmbedded(&Counter{})
	if err != nil {
		return nil, nil, nil, err
	}
	_, opts := instances("c", n)
	ctx := context.Background()
	one := wrapperspb.Int64(1)
	type slot struct {
		out wrapperspb.Int64Value
		_   [40]byte
	}
	outs := make([]slot, 64)
	var activated int64
	for k := range n {
		if err := sys.Invoke(ctx, "counter", "Add", one, nil, opts[k]); err != nil {
			stop()
			return nil, nil, nil, err
		}
		activated++
	}
	call := func(w, k int) error {
		out := &outs[w].out
		if err := sys.Invoke(ctx, "counter", "Add", one, out, opts[k]); err != nil {
			return err
		}
		if out.Value <= 0 {
			return fmt.Errorf("spawn-go answered %d", out.Value)
		}
		return nil
	}
	check := func(calls int64) error {
		sum, err := sumStates(sys, opts)
		if err != nil {
			return err
		}
		return measure.Check(sum == calls+activated, "spawn-go actors counted %d calls, want %d", sum, calls+activated)
	}
	return call, check, stop, nil
}

var _ spawn.InvokeOption
