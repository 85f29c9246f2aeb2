package spawn_test

import (
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/testpb"
)

// Purse is a stateful actor whose every change is checkpointed.
type Purse struct {
	spawn.Actor `spawn:"name=purse"`
	State       *testpb.CounterState `spawn:"state"`
}

func (l *Purse) Add(ctx *spawn.Context, in *testpb.Add) (spawn.Value, error) {
	l.State.Value += in.Delta
	return spawn.Reply(&testpb.Total{Value: l.State.Value}).Checkpoint(), nil
}

// TestRuntimeMetricsInProcess reads the runtime's metrics of a program on
// the embedded runtime: the runtime's events reach them.
func TestRuntimeMetricsInProcess(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	sys, err := spawn.Start(ctx(t), &Purse{}, spawn.WithEmbedded(), spawn.WithMemoryStore(), spawn.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Stop(ctx(t)) })
	for range 2 {
		if err := sys.Invoke(ctx(t), "purse", "Add", &testpb.Add{Delta: 1}, nil); err != nil {
			t.Fatal(err)
		}
	}
	collect := func() map[string]metricdata.Aggregation {
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(ctx(t), &rm); err != nil {
			t.Fatal(err)
		}
		got := map[string]metricdata.Aggregation{}
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				got[m.Name] = m.Data
			}
		}
		return got
	}
	// The purse's activation at registration runs in the background, and
	// its message may still be in the mailbox after the calls: wait for
	// the mailbox to empty, as the gauge must then show.
	got := collect()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); got = collect() {
		if g, ok := got["spawn.mailbox.depth"].(metricdata.Gauge[int64]); ok && len(g.DataPoints) == 1 && g.DataPoints[0].Value == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if s, ok := got["spawn.actor.active"].(metricdata.Sum[int64]); !ok || len(s.DataPoints) != 1 || s.DataPoints[0].Value != 1 {
		t.Errorf("spawn.actor.active = %+v, want 1", got["spawn.actor.active"])
	}
	if g, ok := got["spawn.mailbox.depth"].(metricdata.Gauge[int64]); !ok || len(g.DataPoints) != 1 || g.DataPoints[0].Value != 0 {
		t.Errorf("spawn.mailbox.depth = %+v, want 0 for the purse", got["spawn.mailbox.depth"])
	}
	if h, ok := got["spawn.checkpoint.duration"].(metricdata.Histogram[float64]); !ok || len(h.DataPoints) != 1 || h.DataPoints[0].Count != 2 {
		t.Errorf("spawn.checkpoint.duration = %+v, want 2 saves", got["spawn.checkpoint.duration"])
	}
	if s, ok := got["spawn.registrations"].(metricdata.Sum[int64]); !ok || len(s.DataPoints) != 1 || s.DataPoints[0].Value != 1 {
		t.Errorf("spawn.registrations = %+v, want 1", got["spawn.registrations"])
	}
}
