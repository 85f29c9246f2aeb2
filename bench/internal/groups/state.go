package groups

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/bench/measure"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime"
	"github.com/spawn-go/spawn/state"
)

// State is the group of durable state: checkpoints and write-behind.
const State = "state"

// Ledger is the actor of the checkpoint comparison.
type Ledger struct {
	spawn.Actor `spawn:"name=ledger"`
	State       *wrapperspb.Int64Value `spawn:"state"`
}

// Save sets the state and asks for it to be saved before the reply.
func (l *Ledger) Save(ctx *spawn.Context, in *wrapperspb.Int64Value) (spawn.Value, error) {
	l.State.Value = in.Value
	return spawn.Reply(l.State).Checkpoint(), nil
}

// Set sets the state, left to the periodic snapshot.
func (l *Ledger) Set(ctx *spawn.Context, in *wrapperspb.Int64Value) (*wrapperspb.Int64Value, error) {
	l.State.Value = in.Value
	return l.State, nil
}

// RunState compares a checkpointed call on the embedded runtime's disk
// store with the store's own durable write (state.Disk.Save) of the same
// record, and measures write-behind over 10,000 actors.
func RunState(cfg measure.Config) ([]measure.Measurement, error) {
	out, err := checkpoint(cfg)
	if err != nil {
		return out, fmt.Errorf("checkpoint: %w", err)
	}
	ms, err := writeBehind(cfg)
	out = append(out, ms...)
	if err != nil {
		return out, fmt.Errorf("write-behind: %w", err)
	}
	return out, nil
}

func checkpoint(cfg measure.Config) ([]measure.Measurement, error) {
	dir, err := os.MkdirTemp("", "spawn-bench-state-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	sys, err := spawn.Start(ctx, &Ledger{}, spawn.WithEmbedded(), spawn.WithDataDir(dir+"/sdk"), spawn.WithLogger(zap.NewNop()))
	if err != nil {
		return nil, err
	}
	defer sys.Stop(ctx)
	raw, err := state.Open(dir + "/raw")
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	url := protocol.TypeURL((&wrapperspb.Int64Value{}).ProtoReflect().Descriptor().FullName())
	key := state.Key{System: spawn.DefaultSystem, Name: "ledger"}

	var v int64
	var rev int64
	var out wrapperspb.Int64Value
	subjects := []struct {
		name string
		op   func() error
	}{
		{"raw-save", func() error {
			v++
			rev++
			data, _ := proto.Marshal(wrapperspb.Int64(v))
			return raw.Save(ctx, key, state.Record{Revision: rev, TypeURL: url, Data: data})
		}},
		{"checkpoint", func() error {
			v++
			if err := sys.Invoke(ctx, "ledger", "Save", wrapperspb.Int64(v), &out); err != nil {
				return err
			}
			return measure.Check(out.Value == v, "ledger answered %d, want %d", out.Value, v)
		}},
		{"no-checkpoint", func() error {
			v++
			if err := sys.Invoke(ctx, "ledger", "Set", wrapperspb.Int64(v), &out); err != nil {
				return err
			}
			return measure.Check(out.Value == v, "ledger answered %d, want %d", out.Value, v)
		}},
	}
	set := measure.NewSet(State)
	measure.Logf("state: checkpoint, %d rounds", cfg.Rounds)
	for r := range cfg.Rounds {
		for _, i := range measure.Rotate(len(subjects), r) {
			ns, err := measure.Serial(cfg.Dur, subjects[i].op)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", subjects[i].name, err)
			}
			set.Add(subjects[i].name, ns)
		}
	}
	if cfg.ProfileDir != "" {
		if err := measure.ProfileCPU(cfg.ProfileDir, "state-checkpoint-spawn-go", 3*cfg.Dur+time.Second, subjects[1].op); err != nil {
			return nil, err
		}
	}
	return []measure.Measurement{
		set.M("raw-save", "ns/op", "", nil, "state.Disk.Save of one record: a bbolt transaction, synced"),
		set.M("checkpoint", "ns/op", "raw-save", nil, "System.Invoke of an action returning Checkpoint(), on the disk store"),
		set.M("no-checkpoint", "ns/op", "raw-save", nil, "the same call without Checkpoint(): the state waits for the snapshot"),
	}, nil
}

// wbActors is the number of actors of the write-behind measurement.
const wbActors = 10000

// wbHost is a runtime.Host that makes the input the new state, standing
// in for the SDK's host: write-behind is the runtime's and the store's.
type wbHost struct{}

func (wbHost) Call(_ context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
	return &protocol.ActorInvocationResponse{
		UpdatedContext: &protocol.Context{State: inv.GetValue(), Tags: inv.GetCurrentContext().GetTags()},
		Payload:        &protocol.ActorInvocationResponse_Noop{Noop: &protocol.Noop{}},
	}, nil
}

// countingStore counts saves and remembers, per actor, the last value
// saved.
type countingStore struct {
	state.Store
	saves     atomic.Int64
	lastSaved []atomic.Int64
}

func (s *countingStore) Save(ctx context.Context, key state.Key, rec state.Record) error {
	if err := s.Store.Save(ctx, key, rec); err != nil {
		return err
	}
	s.saves.Add(1)
	var v wrapperspb.Int64Value
	if k, err := strconv.Atoi(strings.TrimPrefix(key.Name, "wb-")); err == nil && proto.Unmarshal(rec.Data, &v) == nil && k < len(s.lastSaved) {
		s.lastSaved[k].Store(v.Value)
	}
	return nil
}

// writeBehind drives state changes over wbActors actors (snapshot every
// second) from 16 callers for a while, then waits until every change is
// durable; beside it, the raw store's throughput with 16 writers. A smoke
// run snapshots every 50 ms over a load of 300 ms, so that it exercises
// the snapshots; either way, a load during which nothing was saved is an
// error.
func writeBehind(cfg measure.Config) ([]measure.Measurement, error) {
	load, rounds, n, every := 3*time.Second, min(cfg.Rounds, 3), wbActors, time.Second
	if cfg.Smoke {
		load, n, every = 300*time.Millisecond, 200, 50*time.Millisecond
	}
	set := measure.NewSet(State)
	p := fmt.Sprintf("write-behind/%d/", n)
	measure.Logf("state: write-behind over %d actors, %d rounds", n, rounds)
	for r := range rounds {
		for _, i := range measure.Rotate(2, r) {
			if i == 0 {
				perSec, err := rawThroughput(load, 16, n)
				if err != nil {
					return nil, err
				}
				set.Add(p+"raw-saves", perSec)
				continue
			}
			res, err := writeBehindOnce(load, 16, n, every)
			if err != nil {
				return nil, err
			}
			if res.savesPerSec == 0 {
				return nil, fmt.Errorf("no snapshot saved during %v of load with a snapshot every %v", load, every)
			}
			set.Add(p+"calls", res.callsPerSec)
			set.Add(p+"saves", res.savesPerSec)
			set.Add(p+"flush", res.flush.Seconds())
		}
	}
	return []measure.Measurement{
		set.M(p+"raw-saves", "saves/s", "", nil, "state.Disk.Save from 16 goroutines, each record a different actor"),
		set.M(p+"saves", "saves/s", p+"raw-saves", nil, fmt.Sprintf("snapshots written per second while 16 callers change state (snapshot every %v)", every)),
		set.M(p+"calls", "calls/s", "", nil, "state-changing calls per second meanwhile (runtime with a trivial host)"),
		set.M(p+"flush", "s", "", nil, "from the end of the load until every change is durable"),
	}, nil
}

type wbResult struct {
	callsPerSec, savesPerSec float64
	flush                    time.Duration
}

func writeBehindOnce(load time.Duration, callers, n int, every time.Duration) (wbResult, error) {
	dir, err := os.MkdirTemp("", "spawn-bench-wb-")
	if err != nil {
		return wbResult{}, err
	}
	defer os.RemoveAll(dir)
	disk, err := state.Open(dir)
	if err != nil {
		return wbResult{}, err
	}
	defer disk.Close()
	store := &countingStore{Store: disk, lastSaved: make([]atomic.Int64, n)}
	e, err := runtime.New(runtime.Options{Host: wbHost{}, Store: store})
	if err != nil {
		return wbResult{}, err
	}
	ctx := context.Background()
	defer e.Close(ctx)
	tmpl := &protocol.Actor{
		Id:    &protocol.ActorId{Name: "wb", System: spawn.DefaultSystem},
		State: &protocol.ActorState{},
		Settings: &protocol.ActorSettings{
			Kind: protocol.Kind_UNNAMED, Stateful: true,
			SnapshotStrategy:     &protocol.ActorSnapshotStrategy{Strategy: &protocol.ActorSnapshotStrategy_Timeout{Timeout: &protocol.TimeoutStrategy{Timeout: every.Milliseconds()}}},
			DeactivationStrategy: &protocol.ActorDeactivationStrategy{Strategy: &protocol.ActorDeactivationStrategy_Timeout{Timeout: &protocol.TimeoutStrategy{Timeout: 600000}}},
		},
		Actions: []*protocol.Action{{Name: "set"}},
	}
	_, err = e.Register(ctx, &protocol.RegistrationRequest{
		ServiceInfo: &protocol.ServiceInfo{ServiceName: "bench"},
		ActorSystem: &protocol.ActorSystem{Name: spawn.DefaultSystem, Registry: &protocol.Registry{Actors: map[string]*protocol.Actor{"wb": tmpl}}},
	})
	if err != nil {
		return wbResult{}, err
	}
	lastSet := make([]int64, n)
	request := func(k int, v int64) *protocol.InvocationRequest {
		a, _ := anypb.New(wrapperspb.Int64(v))
		return &protocol.InvocationRequest{
			System:      &protocol.ActorSystem{Name: spawn.DefaultSystem},
			Actor:       &protocol.Actor{Id: &protocol.ActorId{Name: "wb-" + strconv.Itoa(k), System: spawn.DefaultSystem}},
			ActionName:  "set",
			RegisterRef: "wb",
			Payload:     &protocol.InvocationRequest_Value{Value: a},
		}
	}
	var stop atomic.Bool
	var calls atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, callers)
	saves0 := store.saves.Load()
	start := time.Now()
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Caller c owns the actors k ≡ c (mod callers), so each
			// actor's values rise in order.
			for k := c; !stop.Load(); k += callers {
				if k >= n {
					k = c
				}
				v := lastSet[k] + 1
				if _, err := e.Invoke(ctx, request(k, v)); err != nil {
					errs[c] = err
					return
				}
				lastSet[k] = v
				calls.Add(1)
			}
		}()
	}
	time.Sleep(load)
	stop.Store(true)
	wg.Wait()
	loadEnd := time.Now()
	el := loadEnd.Sub(start)
	savesDuring := store.saves.Load() - saves0
	for _, err := range errs {
		if err != nil {
			return wbResult{}, err
		}
	}
	// Wait until every actor's last value is saved.
	deadline := loadEnd.Add(120 * time.Second)
	for {
		pending := 0
		for k := range n {
			if lastSet[k] != 0 && store.lastSaved[k].Load() < lastSet[k] {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			return wbResult{}, fmt.Errorf("%d of %d actors still not saved 120s after the load", pending, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return wbResult{
		callsPerSec: float64(calls.Load()) / el.Seconds(),
		savesPerSec: float64(savesDuring) / el.Seconds(),
		flush:       time.Since(loadEnd),
	}, nil
}

// rawThroughput returns state.Disk.Save calls per second from writers
// goroutines over load, each save a new revision of one of n actors.
func rawThroughput(load time.Duration, writers, n int) (float64, error) {
	dir, err := os.MkdirTemp("", "spawn-bench-raw-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	disk, err := state.Open(dir)
	if err != nil {
		return 0, err
	}
	defer disk.Close()
	url := protocol.TypeURL((&wrapperspb.Int64Value{}).ProtoReflect().Descriptor().FullName())
	ctx := context.Background()
	revs := make([]int64, n)
	var stop atomic.Bool
	var saves atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, writers)
	start := time.Now()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; !stop.Load(); k += writers {
				if k >= n {
					k = w
				}
				revs[k]++
				data, _ := proto.Marshal(wrapperspb.Int64(revs[k]))
				if err := disk.Save(ctx, state.Key{System: spawn.DefaultSystem, Name: "wb-" + strconv.Itoa(k), Parent: "wb"}, state.Record{Revision: revs[k], TypeURL: url, Data: data}); err != nil {
					errs[w] = err
					return
				}
				saves.Add(1)
			}
		}()
	}
	time.Sleep(load)
	stop.Store(true)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return float64(saves.Load()) / time.Since(start).Seconds(), nil
}
