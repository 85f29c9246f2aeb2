package spawn

import (
	"context"
	"slices"
	"sync"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/internal/telemetry"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/registry"
)

// Traces and metrics, through the OpenTelemetry API: the program chooses
// the SDK and the exporters. docs/guide/11-observability.md names every
// span, attribute and metric.

// WithTracerProvider makes spans with tp instead of the global tracer
// provider (otel.GetTracerProvider). Every call this program makes gets a
// CLIENT span, and every action it runs a SERVER span; the span context
// travels in the invocation's metadata as W3C traceparent and tracestate.
// A nil tp means the global provider.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) { c.tracerProvider = tp })
}

// WithMeterProvider records metrics with mp instead of the global meter
// provider (otel.GetMeterProvider). A nil mp means the global provider.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.meterProvider = mp })
}

// WithPropagator carries span contexts in invocations' metadata with p
// instead of the W3C trace context alone; for example
// propagation.NewCompositeTextMapPropagator(propagation.TraceContext{},
// propagation.Baggage{}) to carry baggage too.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c *config) { c.propagator = p })
}

// newTelemetry is the instrumentation c asks for.
func newTelemetry(c *config) *telemetry.T {
	return telemetry.New(telemetry.Config{TracerProvider: c.tracerProvider, MeterProvider: c.meterProvider,
		Propagator: c.propagator, Version: Version})
}

// defaultTelemetry, on the global providers, serves Systems built without
// Start.
var defaultTelemetry = sync.OnceValue(func() *telemetry.T { return newTelemetry(&config{}) })

// tel is s's instrumentation.
func (s *System) tel() *telemetry.T {
	if s.cfg.tel != nil {
		return s.cfg.tel
	}
	return defaultTelemetry()
}

// codeIDs name each Code in telemetry and in the activator's answers.
var codeIDs = [...]string{
	CodeUnknown:        telemetry.Unknown,
	CodeAction:         telemetry.ActionFailed,
	CodeNotFound:       telemetry.NotFound,
	CodeInvalid:        telemetry.Invalid,
	CodeUnavailable:    telemetry.Unavailable,
	CodeProxy:          telemetry.ProxyError,
	CodeCanceled:       telemetry.Canceled,
	CodeOutcomeUnknown: telemetry.OutcomeUnknown,
	CodeTimeout:        telemetry.Timeout,
	CodeOverloaded:     telemetry.Overloaded,
	CodeNotReady:       telemetry.NotReady,
}

// codeID is c's identifier, as in "NOT_FOUND".
func codeID(c Code) string {
	if c < 0 || int(c) >= len(codeIDs) {
		return telemetry.Unknown
	}
	return codeIDs[c]
}

// endCall ends the measurement of a call that returned err.
func endCall(ctx context.Context, c *telemetry.Call, err error) {
	if err == nil {
		c.End(ctx, telemetry.OK, "")
		return
	}
	c.End(ctx, codeID(CodeOf(err)), err.Error())
}

// measuredAs names an invocation of action on d (nil for an actor this
// host does not serve) in metrics: names the host does not serve are
// telemetry.Other, so that unknown names add no series.
func measuredAs(d *registry.Definition, action string) (string, string) {
	switch {
	case d == nil:
		return telemetry.Other, telemetry.Other
	case d.Handler(action) != nil, !d.ReadsOverridden && slices.Contains(protocol.GetActions, action):
		return d.Name, action
	}
	return d.Name, telemetry.Other
}

// outcome is the status code and message of the host's answer.
func outcome(resp *protocol.ActorInvocationResponse) (string, string) {
	v := resp.GetValue()
	if v.GetTypeUrl() != statusURL {
		return telemetry.OK, ""
	}
	var st protocol.RequestStatus
	if err := proto.Unmarshal(v.GetValue(), &st); err != nil {
		return telemetry.ActionFailed, "undecodable error reply"
	}
	if st.GetStatus() == protocol.Status_ACTOR_NOT_FOUND {
		return telemetry.NotFound, st.GetMessage()
	}
	return telemetry.ActionFailed, st.GetMessage()
}
