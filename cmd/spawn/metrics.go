package main

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/spawn-go/spawn/internal/promtext"
	"github.com/spawn-go/spawn/internal/telemetry"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime"
	"github.com/spawn-go/spawn/transport"
)

// metricsPath is where spawn proxy serves its metrics, in the Prometheus
// text format, as the real proxy does.
const metricsPath = "/metrics"

// proxyMetrics are spawn proxy's metrics: an OpenTelemetry meter provider
// whose reader GET /metrics reads at each scrape, and the instrumentation
// that records into it.
type proxyMetrics struct {
	provider *sdkmetric.MeterProvider
	reader   *sdkmetric.ManualReader
	tel      *telemetry.T
}

func newProxyMetrics(system string) *proxyMetrics {
	reader := sdkmetric.NewManualReader()
	res := resource.NewSchemaless(attribute.String("service.name", "spawn-proxy"),
		attribute.String("spawn.system", system))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithResource(res))
	return &proxyMetrics{provider: mp, reader: reader, tel: telemetry.New(telemetry.Config{MeterProvider: mp})}
}

// route is the server option that serves the metrics.
func (m *proxyMetrics) route() transport.ServerOption {
	return transport.WithGet(metricsPath, promtext.Handler(m.reader))
}

// measured returns api with its invocations and failed registrations
// measured. The runtime's own events (activations, accepted registrations,
// snapshots and checkpoints) reach m.tel through the engine's Observer,
// m.tel.Observer(), and its mailboxes through observe.
func (m *proxyMetrics) measured(api transport.ProxyAPI) transport.ProxyAPI {
	return meteredAPI{ProxyAPI: api, tel: m.tel}
}

// observe reads the mailboxes of eng at each scrape.
func (m *proxyMetrics) observe(eng *runtime.Engine) error {
	_, err := m.tel.ObserveEngine(eng)
	return err
}

func (m *proxyMetrics) shutdown(ctx context.Context) error { return m.provider.Shutdown(ctx) }

// meteredAPI measures the proxy API's invocations (rpc.server.call.duration,
// as the caller sees them, host time included) and the registrations it
// refuses (spawn.registrations with an error.type); the runtime's Observer
// counts those it accepts.
type meteredAPI struct {
	transport.ProxyAPI
	tel *telemetry.T
}

func (m meteredAPI) Invoke(ctx context.Context, req *protocol.InvocationRequest) (*protocol.InvocationResponse, error) {
	start := time.Now()
	resp, err := m.ProxyAPI.Invoke(ctx, req)
	m.tel.Served(ctx, req, resp, err, time.Since(start))
	return resp, err
}

func (m meteredAPI) Register(ctx context.Context, req *protocol.RegistrationRequest) (*protocol.RegistrationResponse, error) {
	resp, err := m.ProxyAPI.Register(ctx, req)
	if err != nil || (resp.GetStatus() != nil && resp.GetStatus().GetStatus() != protocol.Status_OK) {
		m.tel.Registered(ctx, telemetry.ProxyError)
	}
	return resp, err
}
