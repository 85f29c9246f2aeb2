package spawn_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/testpb"
)

// Front and Back show every way one action leads to another: a call from
// inside an action, a side effect, a delayed side effect, a forward, a
// pipe and a broadcast. Back tells the test what it ran.
type Front struct {
	spawn.Actor `spawn:"name=front"`
}

func (f *Front) Call(ctx *spawn.Context, in *testpb.Text) (*testpb.Text, error) {
	var out testpb.Text
	err := ctx.Invoke("back", "Echo", in, &out)
	return &out, err
}

func (f *Front) Effect(ctx *spawn.Context, in *testpb.Text) (spawn.Value, error) {
	return spawn.NoReply().Effect("back", "Echo", in), nil
}

func (f *Front) Later(ctx *spawn.Context, in *testpb.Text) (spawn.Value, error) {
	return spawn.NoReply().Effect("back", "Echo", in, spawn.Delay(20*time.Millisecond)), nil
}

func (f *Front) Forward(ctx *spawn.Context, in *testpb.Text) (spawn.Value, error) {
	return spawn.NoReply().Forward("back", "Echo"), nil
}

func (f *Front) Pipe(ctx *spawn.Context, in *testpb.Text) (spawn.Value, error) {
	return spawn.Reply(&testpb.Text{Text: "piped " + in.Text}).Pipe("back", "Echo"), nil
}

func (f *Front) Publish(ctx *spawn.Context, in *testpb.Text) (spawn.Value, error) {
	return spawn.NoReply().Broadcast("news", in), nil
}

func (f *Front) Fail(ctx *spawn.Context, in *testpb.Text) (*testpb.Text, error) {
	return nil, errBoom
}

type Back struct {
	spawn.Actor `spawn:"name=back,channel=news:Hear"`
	Events      events
}

func (b *Back) Echo(ctx *spawn.Context, in *testpb.Text) (*testpb.Text, error) {
	b.Events.send("echo %s", in.Text)
	return in, nil
}

func (b *Back) Hear(ctx *spawn.Context, in *testpb.Text) error {
	b.Events.send("hear %s", in.Text)
	return nil
}

var errBoom = boom("boom")

type boom string

func (b boom) Error() string { return string(b) }

// traced starts Front and Back with a tracer provider that records spans.
func traced(t *testing.T, start func(args ...any) *spawn.System, opts ...any) (*spawn.System, *tracetest.SpanRecorder, trace.Tracer, events) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	ev := make(events, 16)
	args := append([]any{&Front{}, &Back{Events: ev}, spawn.WithTracerProvider(tp)}, opts...)
	sys := start(args...)
	return sys, rec, tp.Tracer("test"), ev
}

// span waits for the ended span named name of kind, in trace.
func span(t *testing.T, rec *tracetest.SpanRecorder, tid trace.TraceID, name string, kind trace.SpanKind) sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, s := range rec.Ended() {
			if s.Name() == name && s.SpanKind() == kind && s.SpanContext().TraceID() == tid {
				return s
			}
		}
		if time.Now().After(deadline) {
			var seen []string
			for _, s := range rec.Ended() {
				seen = append(seen, s.SpanKind().String()+" "+s.Name()+" "+s.SpanContext().TraceID().String()[:8])
			}
			t.Fatalf("no %s span %q in trace %s; ended spans: %s", kind, name, tid, strings.Join(seen, ", "))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value.Emit()
		}
	}
	return ""
}

// TestTraceCrossesEveryHop shows the trace going from a caller through
// the action it calls to the action that one leads to, by each kind of
// workflow, embedded and through a proxy over HTTP.
func TestTraceCrossesEveryHop(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		sys, rec, tracer, ev := traced(t, start)
		for _, tt := range []struct {
			action string
			// via is the span between front's action and back's: the
			// CLIENT span of a call made inside the action, or none.
			via   string
			event string
			back  string
		}{
			{"Call", "back/Echo", "echo call", "back/Echo"},
			{"Effect", "", "echo effect", "back/Echo"},
			{"Later", "", "echo later", "back/Echo"},
			{"Forward", "", "echo forward", "back/Echo"},
			{"Pipe", "", "echo piped pipe", "back/Echo"},
			{"Publish", "", "hear publish", "back/Hear"},
		} {
			t.Run(tt.action, func(t *testing.T) {
				root, parent := tracer.Start(ctx(t), "test")
				err := sys.Invoke(root, "front", tt.action, &testpb.Text{Text: strings.ToLower(tt.action)}, nil)
				parent.End()
				if err != nil {
					t.Fatal(err)
				}
				await(t, ev, tt.event)
				tid := parent.SpanContext().TraceID()

				client := span(t, rec, tid, "front/"+tt.action, trace.SpanKindClient)
				if client.Parent().SpanID() != parent.SpanContext().SpanID() {
					t.Errorf("the call's CLIENT span is not a child of the caller's span")
				}
				server := span(t, rec, tid, "front/"+tt.action, trace.SpanKindServer)
				if server.Parent().SpanID() != client.SpanContext().SpanID() {
					t.Errorf("front's SERVER span is not a child of the call's CLIENT span")
				}
				want := server.SpanContext().SpanID()
				if tt.via != "" {
					via := span(t, rec, tid, tt.via, trace.SpanKindClient)
					if via.Parent().SpanID() != want {
						t.Errorf("the inner call's CLIENT span is not a child of front's SERVER span")
					}
					want = via.SpanContext().SpanID()
				}
				back := span(t, rec, tid, tt.back, trace.SpanKindServer)
				if back.Parent().SpanID() != want {
					t.Errorf("%s's SERVER span has parent %s, want %s", tt.back, back.Parent().SpanID(), want)
				}
				for k, v := range map[string]string{"rpc.system.name": "spawn", "rpc.method": "front/" + tt.action,
					"spawn.actor": "front", "spawn.action": tt.action, "rpc.response.status_code": "OK"} {
					if got := attr(server, k); got != v {
						t.Errorf("front's SERVER span: %s=%q, want %q", k, got, v)
					}
				}
			})
		}
	})
}

func TestSpansOfAFailure(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		sys, rec, tracer, _ := traced(t, start)
		root, parent := tracer.Start(ctx(t), "test")
		err := sys.Invoke(root, "front", "Fail", &testpb.Text{}, nil)
		parent.End()
		if !isCode(err, spawn.CodeAction) {
			t.Fatalf("got %v, want an action error", err)
		}
		tid := parent.SpanContext().TraceID()
		for _, kind := range []trace.SpanKind{trace.SpanKindClient, trace.SpanKindServer} {
			s := span(t, rec, tid, "front/Fail", kind)
			if s.Status().Code != codes.Error || s.Status().Description == "" || !strings.Contains(s.Status().Description, "boom") {
				t.Errorf("%s span status %+v, want an error saying boom", kind, s.Status())
			}
			if got := attr(s, "error.type"); got != "ACTION_FAILED" {
				t.Errorf("%s span error.type %q, want ACTION_FAILED", kind, got)
			}
		}
	})
}

// TestCallMetrics reads the call metrics of a program with a meter
// provider of its own.
func TestCallMetrics(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
		sys := start(&Front{}, &Back{Events: make(events, 16)}, spawn.WithMeterProvider(mp))
		c := ctx(t)
		for range 3 {
			if err := sys.Invoke(c, "front", "Call", &testpb.Text{Text: "x"}, nil); err != nil {
				t.Fatal(err)
			}
		}
		_ = sys.Invoke(c, "front", "Fail", &testpb.Text{}, nil)
		_ = sys.Invoke(c, "nobody", "Nothing", nil, nil)

		var rm metricdata.ResourceMetrics
		if err := reader.Collect(c, &rm); err != nil {
			t.Fatal(err)
		}
		count := func(name string, want ...attribute.KeyValue) uint64 {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					if m.Name != name {
						continue
					}
					h := m.Data.(metricdata.Histogram[float64])
					var n uint64
					for _, dp := range h.DataPoints {
						match := true
						for _, kv := range want {
							if v, ok := dp.Attributes.Value(kv.Key); !ok || v != kv.Value {
								match = false
							}
						}
						if match {
							n += dp.Count
						}
					}
					return n
				}
			}
			return 0
		}
		for _, tt := range []struct {
			metric string
			attrs  []attribute.KeyValue
			want   uint64
		}{
			{"rpc.client.call.duration", []attribute.KeyValue{attribute.String("rpc.method", "front/Call"), attribute.String("rpc.response.status_code", "OK")}, 3},
			// Front's calls to back, from inside its action.
			{"rpc.client.call.duration", []attribute.KeyValue{attribute.String("rpc.method", "back/Echo")}, 3},
			{"rpc.server.call.duration", []attribute.KeyValue{attribute.String("rpc.method", "back/Echo"), attribute.String("spawn.actor", "back")}, 3},
			{"rpc.client.call.duration", []attribute.KeyValue{attribute.String("rpc.method", "front/Fail"), attribute.String("error.type", "ACTION_FAILED")}, 1},
			{"rpc.server.call.duration", []attribute.KeyValue{attribute.String("rpc.method", "front/Fail"), attribute.String("error.type", "ACTION_FAILED")}, 1},
			// Unknown names are counted under _OTHER, not as series of their own.
			{"rpc.client.call.duration", []attribute.KeyValue{attribute.String("rpc.method", "_OTHER"), attribute.String("error.type", "NOT_FOUND")}, 1},
		} {
			if got := count(tt.metric, tt.attrs...); got != tt.want {
				t.Errorf("%s %v: %d calls, want %d", tt.metric, tt.attrs, got, tt.want)
			}
		}
	})
}
