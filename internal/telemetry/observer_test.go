package telemetry

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/spawn-go/spawn/runtime"
)

// collect reads every metric of reader by name.
func collect(t *testing.T, reader *sdkmetric.ManualReader) map[string]metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
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

// byActor is a metric's values by spawn.actor.
func byActor[N int64 | float64](t *testing.T, dps []metricdata.DataPoint[N]) map[string]N {
	t.Helper()
	out := map[string]N{}
	for _, dp := range dps {
		v, _ := dp.Attributes.Value(KeyActor)
		out[v.AsString()] += dp.Value
	}
	return out
}

type activations []runtime.ActivationInfo

func (a activations) Activations() []runtime.ActivationInfo { return a }

// TestObserver feeds the runtime's events to the Observer and reads the
// metrics they make: an actor activated again by a restore counts once,
// instances count under their unnamed actor, only snapshots and
// checkpoints are timed, and the mailboxes are read from the engine.
func TestObserver(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	tel := New(Config{MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))})
	obs := tel.Observer()
	if obs.Invoked != nil || obs.Scheduled != nil {
		t.Error("the observer of the runtime metrics watches invocations; they are measured where they are served")
	}
	joe := runtime.ActorRef{System: "s", Name: "joe"}
	c1 := runtime.ActorRef{System: "s", Name: "c-1", Parent: "cart"}
	c2 := runtime.ActorRef{System: "s", Name: "c-2", Parent: "cart"}
	obs.Activated(runtime.Activation{Actor: joe})
	obs.Activated(runtime.Activation{Actor: joe, Revision: 3}) // a restore
	obs.Activated(runtime.Activation{Actor: c1})
	obs.Activated(runtime.Activation{Actor: c2})
	obs.Deactivated(runtime.Deactivation{Actor: c1})
	obs.Deactivated(runtime.Deactivation{Actor: c1}) // never twice
	obs.Deactivated(runtime.Deactivation{Actor: runtime.ActorRef{System: "s", Name: "ann"}})
	obs.Saved(runtime.Save{Actor: joe, Cause: runtime.SavedBySnapshot, Took: 2 * time.Millisecond})
	obs.Saved(runtime.Save{Actor: c2, Cause: runtime.SavedByCheckpoint, Took: time.Millisecond, Err: errors.New("disk full")})
	obs.Saved(runtime.Save{Actor: joe, Cause: runtime.SavedByDeactivation})
	obs.Saved(runtime.Save{Actor: joe, Cause: runtime.SavedByRestore})
	obs.Registered(runtime.Registration{Service: "svc"})
	stop, err := tel.ObserveEngine(activations{{Actor: joe, Mailbox: 2}, {Actor: c2, Mailbox: 1}, {Actor: c1, Mailbox: 4}})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	got := collect(t, reader)
	active := byActor(t, got[MetricActorsActive].(metricdata.Sum[int64]).DataPoints)
	if len(active) != 2 || active["joe"] != 1 || active["cart"] != 1 {
		t.Errorf("%s = %v, want joe 1 and cart 1", MetricActorsActive, active)
	}
	if depths := byActor(t, got[MetricMailboxDepth].(metricdata.Gauge[int64]).DataPoints); len(depths) != 2 || depths["joe"] != 2 || depths["cart"] != 5 {
		t.Errorf("%s = %v, want joe 2 and cart 5", MetricMailboxDepth, depths)
	}
	snap := got[MetricSnapshotDuration].(metricdata.Histogram[float64]).DataPoints
	if len(snap) != 1 || snap[0].Count != 1 || snap[0].Sum != 0.002 {
		t.Errorf("%s = %+v, want one of 2ms; saves at deactivation and restore are not snapshots", MetricSnapshotDuration, snap)
	}
	cp := got[MetricCheckpointDuration].(metricdata.Histogram[float64]).DataPoints
	want := attribute.NewSet(KeyActor.String("cart"), KeyErrorType.String(Unknown))
	if len(cp) != 1 || !cp[0].Attributes.Equals(&want) {
		t.Errorf("%s = %+v, want one failed save of cart", MetricCheckpointDuration, cp)
	}
	if s := got[MetricRegistrations].(metricdata.Sum[int64]); len(s.DataPoints) != 1 || s.DataPoints[0].Value != 1 || s.DataPoints[0].Attributes.Len() != 0 {
		t.Errorf("%s = %+v, want 1 without error", MetricRegistrations, s.DataPoints)
	}
}
