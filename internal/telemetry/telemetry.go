// Package telemetry is spawn-go's OpenTelemetry instrumentation: a span for
// every invocation on the calling side (CLIENT) and for every action on the
// host (SERVER), linked across the hop by the W3C trace context that the
// invocation carries in its metadata, and the metrics of calls, actions and
// the runtime.
//
// It uses the OpenTelemetry API only, so the program chooses the SDK and the
// exporters. With the default (global, no-op) providers, or explicit no-op
// ones, it does no work and allocates nothing on the paths it instruments:
// tracing is on only when the tracer provider is a real one, and each
// measurement is guarded by its instrument's Enabled.
//
// The names of spans, attributes and metrics follow the OpenTelemetry
// semantic conventions for RPC where they exist (rpc.system.name "spawn",
// rpc.method "actor/action"); docs/guide/11-observability.md lists them all.
package telemetry

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of every span and metric.
const ScopeName = "github.com/spawn-go/spawn"

// SystemName is the value of rpc.system.name.
const SystemName = "spawn"

// Metric names.
const (
	MetricClientDuration     = "rpc.client.call.duration"
	MetricServerDuration     = "rpc.server.call.duration"
	MetricActorsActive       = "spawn.actor.active"
	MetricMailboxDepth       = "spawn.mailbox.depth"
	MetricSnapshotDuration   = "spawn.snapshot.duration"
	MetricCheckpointDuration = "spawn.checkpoint.duration"
	MetricRegistrations      = "spawn.registrations"
)

// Attribute keys: the semantic conventions' for RPC, and spawn-go's own.
const (
	KeySystemName     = semconv.RPCSystemNameKey
	KeyMethod         = semconv.RPCMethodKey
	KeyMethodOriginal = semconv.RPCMethodOriginalKey
	KeyStatusCode     = semconv.RPCResponseStatusCodeKey
	KeyErrorType      = semconv.ErrorTypeKey

	// KeyActor is the actor's registered name: for an instance of an
	// unnamed actor, the unnamed actor's.
	KeyActor = attribute.Key("spawn.actor")
	// KeyInstance is the name of an unnamed actor's instance (spans only).
	KeyInstance = attribute.Key("spawn.actor.instance")
	// KeyAction is the action's name.
	KeyAction = attribute.Key("spawn.action")
	// KeyActorSystem is the actor system (spans only).
	KeyActorSystem = attribute.Key("spawn.system")
	// KeyCaller is the calling actor's name (spans only).
	KeyCaller = attribute.Key("spawn.caller")
	// KeyAsync is true for async, delayed and scheduled calls.
	KeyAsync = attribute.Key("spawn.async")
)

// Status codes, the values of rpc.response.status_code and error.type: one
// per spawn.Code, and OK.
const (
	OK             = "OK"
	ActionFailed   = "ACTION_FAILED"
	NotFound       = "NOT_FOUND"
	Invalid        = "INVALID"
	Unavailable    = "UNAVAILABLE"
	ProxyError     = "PROXY_ERROR"
	Canceled       = "CANCELED"
	OutcomeUnknown = "OUTCOME_UNKNOWN"
	Timeout        = "TIMEOUT"
	Overloaded     = "OVERLOADED"
	NotReady       = "NOT_READY"
	Unknown        = "UNKNOWN"
)

// Other stands for a method that the instrumentation does not recognise, as
// the semantic conventions ask, so that unknown names cannot make the number
// of metric series grow without bound.
const Other = "_OTHER"

// durationBuckets are the semantic conventions' boundaries for RPC
// durations, in seconds.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// Config says where spans and measurements go.
type Config struct {
	// TracerProvider, when nil, is the global one (otel.GetTracerProvider),
	// followed as it is set later.
	TracerProvider trace.TracerProvider
	// MeterProvider, when nil, is the global one, followed as it is set
	// later.
	MeterProvider metric.MeterProvider
	// Propagator carries span contexts in the invocations' metadata; nil
	// means the W3C trace context (traceparent and tracestate).
	Propagator propagation.TextMapPropagator
	// Version is the instrumentation's version.
	Version string
}

// T instruments one System, or one spawn proxy. Its methods are safe for
// concurrent use.
type T struct {
	version string
	fixed   *tracing // with an explicit tracer provider
	global  atomic.Pointer[tracing]
	prop    propagation.TextMapPropagator

	meter                metric.Meter
	client, server       metric.Float64Histogram
	active               metric.Int64UpDownCounter
	mailbox              metric.Int64ObservableGauge
	snapshot, checkpoint metric.Float64Histogram
	registrations        metric.Int64Counter

	sets setCache
}

// New returns the instrumentation cfg describes. Instruments the meter
// provider refuses are reported to otel.Handle and replaced by no-ops.
func New(cfg Config) *T {
	t := &T{version: cfg.Version, prop: cfg.Propagator}
	if t.prop == nil {
		t.prop = propagation.TraceContext{}
	}
	if cfg.TracerProvider != nil {
		t.fixed = t.newTracing(cfg.TracerProvider)
	}
	mp := cfg.MeterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(ScopeName, metric.WithInstrumentationVersion(cfg.Version), metric.WithSchemaURL(semconv.SchemaURL))
	t.meter = m
	t.client = float64Histogram(m, MetricClientDuration, "s", "Duration of invocations made by this program, from the call to its answer.")
	t.server = float64Histogram(m, MetricServerDuration, "s", "Duration of the actions this host ran, from the invocation's arrival to its response.")
	t.snapshot = float64Histogram(m, MetricSnapshotDuration, "s", "Duration of periodic saves of actors' state.")
	t.checkpoint = float64Histogram(m, MetricCheckpointDuration, "s", "Duration of the durable saves that actions asked for with Checkpoint.")
	var err error
	if t.active, err = m.Int64UpDownCounter(MetricActorsActive, metric.WithUnit("{actor}"),
		metric.WithDescription("Actors active in the runtime.")); err != nil {
		otel.Handle(err)
		t.active = noop.Int64UpDownCounter{}
	}
	if t.mailbox, err = m.Int64ObservableGauge(MetricMailboxDepth, metric.WithUnit("{message}"),
		metric.WithDescription("Messages waiting in the mailboxes of an actor's active instances.")); err != nil {
		otel.Handle(err)
		t.mailbox = noop.Int64ObservableGauge{}
	}
	if t.registrations, err = m.Int64Counter(MetricRegistrations, metric.WithUnit("{registration}"),
		metric.WithDescription("Registrations of hosts' actors received by the runtime.")); err != nil {
		otel.Handle(err)
		t.registrations = noop.Int64Counter{}
	}
	return t
}

func float64Histogram(m metric.Meter, name, unit, desc string) metric.Float64Histogram {
	h, err := m.Float64Histogram(name, metric.WithUnit(unit), metric.WithDescription(desc),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	if err != nil {
		otel.Handle(err)
		return noop.Float64Histogram{}
	}
	return h
}

// tracing is a tracer provider, its tracer, and whether it records
// anything at all.
type tracing struct {
	tp     trace.TracerProvider
	tracer trace.Tracer
	on     bool
	// comparable: tp's dynamic type can be compared with ==.
	comparable bool
}

func (t *T) newTracing(tp trace.TracerProvider) *tracing {
	typ := reflect.TypeOf(tp)
	return &tracing{
		tp:         tp,
		tracer:     tp.Tracer(ScopeName, trace.WithInstrumentationVersion(t.version), trace.WithSchemaURL(semconv.SchemaURL)),
		on:         tracingOn(tp),
		comparable: typ != nil && typ.Comparable(),
	}
}

// tracing returns the tracer to use now: the explicit provider's, or the
// global provider's as it is at this moment.
func (t *T) tracing() *tracing {
	if t.fixed != nil {
		return t.fixed
	}
	tp := otel.GetTracerProvider()
	// Comparing interfaces panics only for two values of one
	// non-comparable type; cur's type is comparable.
	if cur := t.global.Load(); cur != nil && cur.comparable && cur.tp == tp {
		return cur
	}
	tr := t.newTracing(tp)
	t.global.Store(tr)
	return tr
}

// Tracing reports whether spans are being made: whether the tracer
// provider in use is a real one.
func (t *T) Tracing() bool { return t.tracing().on }

// Propagator returns the propagator that carries span contexts in
// metadata.
func (t *T) Propagator() propagation.TextMapPropagator { return t.prop }

// tracingOn reports whether tp makes spans: false for the global provider
// before one is set (it hands out non-recording spans), and for the no-op
// providers of the trace API. Starting a span on those still allocates, so
// the instrumented paths skip them altogether.
func tracingOn(tp trace.TracerProvider) bool {
	typ := reflect.TypeOf(tp)
	if typ == nil {
		return false
	}
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch typ.PkgPath() {
	case "go.opentelemetry.io/otel/internal/global", "go.opentelemetry.io/otel/trace/noop":
		return false
	case "go.opentelemetry.io/otel/trace":
		return !strings.HasPrefix(strings.ToLower(typ.Name()), "noop")
	}
	return true
}

// Active reports whether anything is recorded for a call now: spans, or
// the client or server durations. The instrumented paths do nothing more
// when it is false.
func (t *T) Active(ctx context.Context) bool {
	return t.tracing().on || t.client.Enabled(ctx) || t.server.Enabled(ctx)
}

// setKey names one series of the call metrics.
type setKey struct {
	actor, action, code string
	async               bool
}

// setCache keeps the measurement options of each series, so that recording
// a call builds no attribute set. It stops adding at maxSets series: past
// that, each measurement builds its own.
type setCache struct {
	mu sync.RWMutex
	m  map[setKey][]metric.RecordOption
}

const maxSets = 4096

func (c *setCache) get(k setKey) []metric.RecordOption {
	c.mu.RLock()
	o, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return o
	}
	o = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(k.attrs()...))}
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[setKey][]metric.RecordOption)
	}
	if len(c.m) < maxSets {
		c.m[k] = o
	}
	c.mu.Unlock()
	return o
}

func (k setKey) attrs() []attribute.KeyValue {
	a := []attribute.KeyValue{
		KeySystemName.String(SystemName),
		KeyMethod.String(method(k.actor, k.action)),
		KeyActor.String(k.actor),
		KeyAction.String(k.action),
		KeyStatusCode.String(k.code),
	}
	if k.code != OK {
		a = append(a, KeyErrorType.String(k.code))
	}
	if k.async {
		a = append(a, KeyAsync.Bool(true))
	}
	return a
}

// method is the rpc.method of action on actor.
func method(actor, action string) string {
	if actor == Other && action == Other {
		return Other
	}
	return actor + "/" + action
}
