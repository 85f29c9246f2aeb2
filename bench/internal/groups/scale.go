package groups

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/bench/measure"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/state"
)

// Scale is the group of many actors: memory, activation rate and idle CPU.
const Scale = "scale"

// Idle is the actor of the scale group: stateful, unnamed, with the
// default snapshot period (2s) and a deactivation period (10 minutes)
// long enough that none deactivates while the group watches them idle.
type Idle struct {
	spawn.Actor `spawn:"name=idle,kind=unnamed,deactivate=10m"`
	State       *wrapperspb.Int64Value `spawn:"state"`
}

// Touch sets the state.
func (a *Idle) Touch(ctx *spawn.Context, in *wrapperspb.Int64Value) error {
	a.State.Value = in.Value
	return nil
}

// Brief is Idle with a deactivation period of one second, to measure
// what is left once actors have deactivated.
type Brief struct {
	spawn.Actor `spawn:"name=brief,kind=unnamed,deactivate=1s"`
	State       *wrapperspb.Int64Value `spawn:"state"`
}

// Touch sets the state.
func (a *Brief) Touch(ctx *spawn.Context, in *wrapperspb.Int64Value) error {
	a.State.Value = in.Value
	return nil
}

// activators is how many goroutines activate actors at once.
const activators = 8

// RunScale activates 10,000 and 100,000 actors on the embedded runtime
// (in-memory store) and measures the activation rate, the heap per active
// actor, the process's CPU while they sit idle, and the heap left once
// they have deactivated.
func RunScale(cfg measure.Config) ([]measure.Measurement, error) {
	sizes, window := []int{10000, 100000}, 5*time.Second
	if cfg.Smoke {
		sizes, window = []int{1000}, 200*time.Millisecond
	}
	var out []measure.Measurement
	for _, n := range sizes {
		ms, err := scaleOne(cfg, n, window, n == sizes[len(sizes)-1], cfg.Smoke)
		out = append(out, ms...)
		if err != nil {
			return out, fmt.Errorf("%d actors: %w", n, err)
		}
	}
	return out, nil
}

func scaleOne(cfg measure.Config, n int, window time.Duration, last, smoke bool) ([]measure.Measurement, error) {
	set := measure.NewSet(Scale)
	// The waits outlast the periods they wait for (first snapshot 2s,
	// workers' linger 1-2s, deactivation 1s); a smoke run only checks
	// that the code runs, and waits less.
	settle := func(d time.Duration) {
		if smoke {
			d /= 10
		}
		time.Sleep(d)
	}
	stableEvery := 2 * time.Second
	if smoke {
		stableEvery = 300 * time.Millisecond
	}
	p := fmt.Sprintf("%d/", n)
	stateSize := float64(proto.Size(wrapperspb.Int64(int64(n))))

	// What the in-memory store keeps per actor, which the heap figures
	// include once the actors have been snapshotted or deactivated: it is
	// the stored state, not the runtime's, so it is subtracted.
	storeShare, err := storeCopy(n)
	if err != nil {
		return nil, err
	}
	set.Add(p+"store-copy-per-actor", storeShare)

	// Active, then idle.
	_, opts := instances("idle", n)
	sys, stop, err := startEmbedded(&Idle{})
	if err != nil {
		return nil, err
	}
	settle(2 * time.Second)
	base := measure.HeapInuse()
	set.Add(p+"idle-cpu-no-actors", idleCPU(window))
	measure.Logf("scale: activating %d actors", n)
	rate, err := activate(sys, "idle", opts)
	if err != nil {
		stop()
		return nil, err
	}
	set.Add(p+"activation-rate", rate)
	// Past the first snapshot (2s after activation) and the workers'
	// linger (up to 2s), the actors are idle.
	settle(3 * time.Second)
	perActor := (float64(measure.HeapInuse()) - float64(base)) / float64(n)
	set.Add(p+"heap-per-active-actor", perActor)
	set.Add(p+"heap-per-active-actor-above-state", perActor-storeShare-stateSize)
	measure.Logf("scale: %d actors idle for %v", n, window)
	set.Add(p+"idle-cpu", idleCPU(window))
	if cfg.ProfileDir != "" && last {
		if err := measure.ProfileHeap(cfg.ProfileDir, fmt.Sprintf("scale-heap-%d-active", n)); err != nil {
			stop()
			return nil, err
		}
		err := measure.ProfileCPUWhile(cfg.ProfileDir, fmt.Sprintf("scale-idle-%d", n), func() error {
			time.Sleep(window)
			return nil
		})
		if err != nil {
			stop()
			return nil, err
		}
	}
	stop()

	// Activated, then deactivated.
	_, opts = instances("brief", n)
	sys, stop, err = startEmbedded(&Brief{})
	if err != nil {
		return nil, err
	}
	defer stop()
	settle(2 * time.Second)
	base = measure.HeapInuse()
	rate2, err := activate(sys, "brief", opts)
	if err != nil {
		return nil, err
	}
	set.Add(p+"activation-rate", rate2)
	measure.Logf("scale: waiting for %d actors to deactivate", n)
	after := waitStable(stableEvery, 60*time.Second)
	left := (float64(after) - float64(base)) / float64(n)
	set.Add(p+"heap-per-actor-after-deactivation", left-storeShare)
	if cfg.ProfileDir != "" && last {
		if err := measure.ProfileHeap(cfg.ProfileDir, fmt.Sprintf("scale-heap-%d-deactivated", n)); err != nil {
			return nil, err
		}
		// A separate pass once every figure is taken: the activation of
		// as many fresh instances, under the profiler.
		_, opts = instances("profiled", n)
		err = measure.ProfileCPUWhile(cfg.ProfileDir, fmt.Sprintf("scale-activation-%d", n), func() error {
			_, err := activate(sys, "brief", opts)
			return err
		})
		if err != nil {
			return nil, err
		}
	}

	var t100 func(*measure.Target) *measure.Target = func(t *measure.Target) *measure.Target {
		if n < 100000 {
			return nil
		}
		return t
	}
	return []measure.Measurement{
		set.M(p+"activation-rate", "actors/s", "", nil, fmt.Sprintf("first calls from %d goroutines; two samples: the idle and the brief actors", activators)),
		set.M(p+"heap-per-active-actor", "B/actor", "", nil, "HeapInuse after GC, above the system's before activation, per idle actor"),
		set.M(p+"store-copy-per-actor", "B/actor", "", nil, "what the in-memory store holds per saved actor, measured alone"),
		set.M(p+"heap-per-active-actor-above-state", "B/actor", "", t100(measure.Max("value", 1024, "≤ 1024 B")), fmt.Sprintf("heap per active actor less the store's copy and the state's %0.f encoded bytes", stateSize)),
		set.M(p+"idle-cpu-no-actors", "% core", "", nil, "process CPU over the idle window before any actor is active"),
		set.M(p+"idle-cpu", "% core", "", t100(measure.Max("value", 1, "< 1% core")), fmt.Sprintf("process CPU (getrusage) over %v of idleness", window)),
		set.M(p+"heap-per-actor-after-deactivation", "B/actor", "", t100(measure.Max("value", 16, "≈ 0 (baseline)")), "HeapInuse after GC once every actor deactivated, above the system's before activation, less the store's copy"),
	}, nil
}

// activate calls each instance once from activators goroutines and
// returns the actors activated per second.
func activate(sys *spawn.System, actor string, opts []spawn.InvokeOption) (float64, error) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, activators)
	start := time.Now()
	for g := range activators {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := g; k < len(opts); k += activators {
				if err := sys.Invoke(ctx, actor, "Touch", wrapperspb.Int64(int64(k+1)), nil, opts[k]); err != nil {
					errs[g] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return float64(len(opts)) / el.Seconds(), nil
}

// idleCPU returns the process's CPU use over window, in % of one core.
func idleCPU(window time.Duration) float64 {
	c0, t0 := measure.ProcessCPU(), time.Now()
	time.Sleep(window)
	return 100 * float64(measure.ProcessCPU()-c0) / float64(time.Since(t0))
}

// waitStable polls the heap (after GC) every interval until two readings
// in a row are within 1% of each other, or within gives up, and returns
// the last reading.
func waitStable(interval, within time.Duration) uint64 {
	deadline := time.Now().Add(within)
	prev := measure.HeapInuse()
	for {
		time.Sleep(interval)
		cur := measure.HeapInuse()
		diff := float64(cur) - float64(prev)
		if (diff < 0 && -diff < 0.01*float64(prev)) || (diff >= 0 && diff < 0.01*float64(prev)) || time.Now().After(deadline) {
			return cur
		}
		prev = cur
	}
}

// storeCopy returns the heap an in-memory store holds per record for n
// records shaped like the scale actors' saved state.
func storeCopy(n int) (float64, error) {
	ctx := context.Background()
	st := state.NewMemory()
	defer st.Close()
	url := protocol.TypeURL((&wrapperspb.Int64Value{}).ProtoReflect().Descriptor().FullName())
	keys := make([]state.Key, n)
	for i := range n {
		keys[i] = state.Key{System: spawn.DefaultSystem, Name: fmt.Sprintf("idle-%d", i), Parent: "idle"}
	}
	base := measure.HeapInuse()
	for i, k := range keys {
		data, _ := proto.Marshal(wrapperspb.Int64(int64(i + 1)))
		if err := st.Save(ctx, k, state.Record{Revision: 1, TypeURL: url, Data: data}); err != nil {
			return 0, err
		}
	}
	per := (float64(measure.HeapInuse()) - float64(base)) / float64(n)
	if _, err := st.Load(ctx, keys[0]); err != nil { // keeps st alive past the measurement
		return 0, err
	}
	return per, nil
}
