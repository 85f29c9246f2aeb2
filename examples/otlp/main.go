// Command otlp runs an actor with its traces and metrics sent over OTLP
// (HTTP) to an OpenTelemetry Collector, Jaeger, Grafana Tempo or any other
// OTLP endpoint. The exporters read the standard variables, such as
// OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4318) and
// OTEL_SERVICE_NAME.
//
//	docker run --rm -p 16686:16686 -p 4318:4318 jaegertracing/all-in-one
//	go run . -calls 10
//
// then open http://localhost:16686.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
)

// Tally keeps a running total.
type Tally struct {
	spawn.Actor `spawn:"name=tally"`
	State       *domain.CounterState `spawn:"state"`
}

// Add adds to the total and replies with the new one.
func (t *Tally) Add(ctx *spawn.Context, in *domain.Increment) (*domain.Count, error) {
	t.State.Value += in.By
	return &domain.Count{Value: t.State.Value}, nil
}

func main() {
	calls := flag.Int("calls", 3, "calls to make before stopping; 0 serves until interrupted")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *calls); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, calls int) (err error) {
	shutdown, err := setupTelemetry(ctx)
	if err != nil {
		return err
	}
	// Flush what is left, even when ctx is done.
	defer func() { err = errors.Join(err, shutdown(context.WithoutCancel(ctx))) }()

	sys, err := spawn.Start(ctx, &Tally{}, spawn.WithMemoryStore())
	if err != nil {
		return err
	}
	defer sys.Stop(context.WithoutCancel(ctx))
	if calls == 0 {
		<-ctx.Done()
		return nil
	}
	var total domain.Count
	for range calls {
		if err := sys.Invoke(ctx, "tally", "Add", &domain.Increment{By: 1}, &total); err != nil {
			return err
		}
	}
	fmt.Println("total:", total.Value)
	return nil
}

// guide:start otlp
// setupTelemetry sends traces and metrics over OTLP/HTTP and sets them as
// the global providers, which spawn-go uses when none is passed. It
// returns the function that flushes and stops them.
func setupTelemetry(ctx context.Context) (func(context.Context) error, error) {
	res, err := resource.New(ctx, resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, err
	}
	// The exporters default to HTTPS, but a collector or Jaeger on this
	// machine listens in plain HTTP: with no endpoint set, say so.
	var traceOpts []otlptracehttp.Option
	var metricOpts []otlpmetrichttp.Option
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" {
		traceOpts = append(traceOpts, otlptracehttp.WithInsecure())
		metricOpts = append(metricOpts, otlpmetrichttp.WithInsecure())
	}
	spans, err := otlptracehttp.New(ctx, traceOpts...)
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(spans), sdktrace.WithResource(res))
	metrics, err := otlpmetrichttp.New(ctx, metricOpts...)
	if err != nil {
		return nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(metrics)), sdkmetric.WithResource(res))

	otel.SetTracerProvider(tp)
	otel.SetMeterProvider(mp)
	// For other instrumented libraries; spawn-go carries the W3C trace
	// context in the invocations' metadata whatever this says.
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return func(ctx context.Context) error {
		return errors.Join(tp.Shutdown(ctx), mp.Shutdown(ctx))
	}, nil
}

// guide:end otlp
