package telemetry

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/protocol"
)

func request() *protocol.InvocationRequest {
	return &protocol.InvocationRequest{
		System:     &protocol.ActorSystem{Name: "sys"},
		Actor:      &protocol.Actor{Id: &protocol.ActorId{Name: "joe", System: "sys"}},
		ActionName: "Hi",
	}
}

func invocation(md map[string]string) *protocol.ActorInvocation {
	return &protocol.ActorInvocation{
		Actor:          &protocol.ActorId{Name: "joe", System: "sys"},
		ActionName:     "Hi",
		CurrentContext: &protocol.Context{Metadata: md},
	}
}

// TestNothingWithoutProviders checks the promise of the package: with the
// global providers unset, or no-op providers, the instrumented paths do
// nothing, allocate nothing and leave the request alone.
func TestNothingWithoutProviders(t *testing.T) {
	for name, cfg := range map[string]Config{
		"global": {},
		"noop":   {TracerProvider: tracenoop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider()},
	} {
		t.Run(name, func(t *testing.T) {
			tel := New(cfg)
			ctx := context.Background()
			if tel.Active(ctx) || tel.Tracing() {
				t.Fatal("active without providers")
			}
			req, inv := request(), invocation(nil)
			allocs := testing.AllocsPerRun(100, func() {
				c, call := tel.StartCall(ctx, req)
				call.End(c, OK, "")
				c, act := tel.StartAction(ctx, inv, "joe", "Hi")
				act.End(c, OK, "")
				tel.Activated(ctx, "joe")
				tel.Snapshot(ctx, "joe", time.Millisecond, OK)
			})
			if allocs != 0 {
				t.Errorf("%v allocations per call without providers, want 0", allocs)
			}
			if req.Metadata != nil {
				t.Errorf("metadata %v written without a tracer provider", req.Metadata)
			}
		})
	}
}

func TestTracingOn(t *testing.T) {
	sdk := sdktrace.NewTracerProvider()
	defer func() { _ = sdk.Shutdown(context.Background()) }()
	for _, tt := range []struct {
		name string
		tp   trace.TracerProvider
		want bool
	}{
		{"global before one is set", otel.GetTracerProvider(), false},
		{"noop", tracenoop.NewTracerProvider(), false},
		{"sdk", sdk, true},
	} {
		if got := tracingOn(tt.tp); got != tt.want {
			t.Errorf("%s: tracingOn = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestFollowsTheGlobalProvider sets the global tracer provider after the
// instrumentation was built, as programs that configure telemetry late do.
func TestFollowsTheGlobalProvider(t *testing.T) {
	tel := New(Config{})
	if tel.Tracing() {
		t.Fatal("tracing before a provider is set")
	}
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	defer otel.SetTracerProvider(prev)
	if !tel.Tracing() {
		t.Fatal("not tracing once the global provider is set")
	}
	req := request()
	ctx, call := tel.StartCall(context.Background(), req)
	call.End(ctx, OK, "")
	if len(rec.Ended()) != 1 || req.Metadata["traceparent"] == "" {
		t.Fatalf("%d spans, metadata %v; want one span, carried in traceparent", len(rec.Ended()), req.Metadata)
	}
}

func TestServerSpanContinuesTheCaller(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tel := New(Config{TracerProvider: tp})
	req := request()
	req.Metadata = map[string]string{"room": "kitchen"}
	ctx, call := tel.StartCall(context.Background(), req)
	_, act := tel.StartAction(context.Background(), invocation(req.Metadata), "joe", Other)
	act.End(ctx, NotFound, "no action Hi")
	call.End(ctx, NotFound, "no action Hi")
	if req.Metadata["room"] != "kitchen" {
		t.Errorf("the caller's metadata was lost: %v", req.Metadata)
	}
	spans := rec.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	server, client := spans[0], spans[1]
	if server.Parent().SpanID() != client.SpanContext().SpanID() || !server.Parent().IsRemote() {
		t.Errorf("the SERVER span's parent is %v, want the CLIENT span %v", server.Parent(), client.SpanContext())
	}
	if server.Name() != "joe/_OTHER" {
		t.Errorf("an unknown action's span is named %q, want joe/_OTHER", server.Name())
	}
	found := false
	for _, a := range server.Attributes() {
		if a.Key == KeyMethodOriginal && a.Value.AsString() == "joe/Hi" {
			found = true
		}
	}
	if !found {
		t.Errorf("no rpc.method_original in %v", server.Attributes())
	}
}

func TestOriginsForget(t *testing.T) {
	o := &originTable{}
	self := &protocol.ActorId{Name: "pub", System: "sys"}
	sc := func(i byte) trace.SpanContext {
		return trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{i, 1}})
	}
	first := &anypb.Any{TypeUrl: "t", Value: []byte("first")}
	o.put(self, trace.SpanID{}, first, sc(1))
	inv := &protocol.ActorInvocation{Caller: self, Payload: &protocol.ActorInvocation_Value{Value: first}}
	if got, ok := o.find(inv, trace.SpanID{}); !ok || !got.Equal(sc(1)) {
		t.Fatalf("find = %v, %v; want the origin put", got, ok)
	}
	if _, ok := o.find(inv, trace.SpanID{9}); ok {
		t.Fatal("found an origin for an invocation whose metadata names another span")
	}
	other := &protocol.ActorInvocation{Caller: self, Payload: &protocol.ActorInvocation_Value{Value: &anypb.Any{TypeUrl: "t", Value: []byte("x")}}}
	if _, ok := o.find(other, trace.SpanID{}); ok {
		t.Fatal("found an origin for another payload")
	}
	// The same origin again, then enough others to push the first put out:
	// the second put keeps it.
	o.put(self, trace.SpanID{}, first, sc(2))
	for i := range maxOrigins - 1 {
		o.put(self, trace.SpanID{}, &anypb.Any{Value: []byte{byte(i), byte(i >> 8)}}, sc(3))
	}
	if got, ok := o.find(inv, trace.SpanID{}); !ok || !got.Equal(sc(2)) {
		t.Fatalf("after evicting the older entry: find = %v, %v; want the newer origin", got, ok)
	}
	o.put(self, trace.SpanID{}, &anypb.Any{Value: []byte("last")}, sc(3))
	if _, ok := o.find(inv, trace.SpanID{}); ok {
		t.Fatal("an origin outlived maxOrigins newer ones")
	}
	if len(o.m) > maxOrigins {
		t.Fatalf("%d origins kept, more than %d", len(o.m), maxOrigins)
	}
}

func TestRuntimeMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	tel := New(Config{MeterProvider: mp})
	ctx := context.Background()
	tel.Activated(ctx, "joe")
	tel.Activated(ctx, "joe")
	tel.Deactivated(ctx, "joe")
	stop, err := tel.ObserveMailboxes(func(report func(string, int)) {
		report("joe", 3) // two instances of joe
		report("joe", 1)
		report("ann", 0)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	tel.Snapshot(ctx, "joe", 2*time.Millisecond, OK)
	tel.Checkpoint(ctx, "joe", time.Millisecond, "STORE_FAILED")
	tel.Registered(ctx, OK)
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != ScopeName {
			t.Errorf("scope %q, want %q", sm.Scope.Name, ScopeName)
		}
		for _, m := range sm.Metrics {
			got[m.Name] = m.Data
		}
	}
	joe := attribute.NewSet(KeyActor.String("joe"))
	if s := got[MetricActorsActive].(metricdata.Sum[int64]); len(s.DataPoints) != 1 || s.DataPoints[0].Value != 1 || !s.DataPoints[0].Attributes.Equals(&joe) {
		t.Errorf("%s = %+v, want 1 for joe", MetricActorsActive, s.DataPoints)
	}
	depths := map[string]int64{}
	for _, dp := range got[MetricMailboxDepth].(metricdata.Gauge[int64]).DataPoints {
		v, _ := dp.Attributes.Value(KeyActor)
		depths[v.AsString()] = dp.Value
	}
	if len(depths) != 2 || depths["joe"] != 4 || depths["ann"] != 0 {
		t.Errorf("%s = %v, want joe 4 and ann 0", MetricMailboxDepth, depths)
	}
	if h := got[MetricSnapshotDuration].(metricdata.Histogram[float64]); len(h.DataPoints) != 1 || h.DataPoints[0].Sum != 0.002 {
		t.Errorf("%s = %+v, want one of 2ms", MetricSnapshotDuration, h.DataPoints)
	}
	if h := got[MetricCheckpointDuration].(metricdata.Histogram[float64]); len(h.DataPoints) != 1 {
		t.Errorf("%s = %+v, want one", MetricCheckpointDuration, h.DataPoints)
	} else if v, _ := h.DataPoints[0].Attributes.Value(KeyErrorType); v.AsString() != "STORE_FAILED" {
		t.Errorf("%s error.type = %q", MetricCheckpointDuration, v.AsString())
	}
	if s := got[MetricRegistrations].(metricdata.Sum[int64]); len(s.DataPoints) != 1 || s.DataPoints[0].Value != 1 {
		t.Errorf("%s = %+v, want 1", MetricRegistrations, s.DataPoints)
	}
}

// BenchmarkWithoutProviders measures what the instrumentation adds to a
// call and to an action when nothing is recorded: the whole of its cost
// on the hot paths of programs that set no provider.
func BenchmarkWithoutProviders(b *testing.B) {
	tel := New(Config{})
	ctx := context.Background()
	req, inv := request(), invocation(nil)
	b.ReportAllocs()
	for b.Loop() {
		c, call := tel.StartCall(ctx, req)
		call.End(c, OK, "")
		if tel.Active(ctx) {
			b.Fatal("active")
		}
		c, act := tel.StartAction(ctx, inv, "joe", "Hi")
		act.End(c, OK, "")
	}
}
