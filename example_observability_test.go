package spawn_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.uber.org/zap"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
)

// Example_stdoutExporters wires OpenTelemetry's stdout exporters, which
// print the spans in batches as they end and every metric every ten
// seconds: enough to see what spawn-go records before choosing a backend.
func Example_stdoutExporters() {
	ctx := context.Background()
	// guide:start stdout
	res := resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName("tally-service"))

	spans, err := stdouttrace.New(stdouttrace.WithPrettyPrint())
	if err != nil {
		log.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(spans), sdktrace.WithResource(res))
	defer tp.Shutdown(ctx) // flushes the last spans

	metrics, err := stdoutmetric.New()
	if err != nil {
		log.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(metrics, sdkmetric.WithInterval(10*time.Second))), sdkmetric.WithResource(res))
	defer mp.Shutdown(ctx)

	sys, err := spawn.Start(ctx, &Tally{}, spawn.WithTracerProvider(tp), spawn.WithMeterProvider(mp))
	// guide:end stdout
	if err != nil {
		log.Fatal(err)
	}
	defer sys.Stop(ctx)
}

// Example_globalProviders sets the global providers, which spawn-go uses
// when no provider is passed, as other instrumented libraries do.
func Example_globalProviders() {
	// guide:start global
	tp := sdktrace.NewTracerProvider( /* exporters */ )
	mp := sdkmetric.NewMeterProvider( /* readers */ )
	otel.SetTracerProvider(tp)
	otel.SetMeterProvider(mp)

	if err := spawn.Run(&Tally{}); err != nil {
		log.Fatal(err)
	}
	// guide:end global
}

// ExampleWithTracerProvider shows the spans of one call: the caller's
// CLIENT span and the action's SERVER span, in one trace.
func ExampleWithTracerProvider() {
	ctx := context.Background()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(ctx)
	sys, err := spawn.Start(ctx, &Tally{}, spawn.WithTracerProvider(tp),
		spawn.WithEmbedded(), spawn.WithMemoryStore(), spawn.WithLogger(zap.NewNop()))
	if err != nil {
		log.Fatal(err)
	}
	defer sys.Stop(ctx)
	if err := sys.Invoke(ctx, "tally", "Add", &domain.Increment{By: 2}, nil); err != nil {
		log.Fatal(err)
	}
	var lines []string
	for _, s := range rec.Ended() {
		lines = append(lines, fmt.Sprintf("%s %s, same trace: %v", s.SpanKind(), s.Name(),
			s.SpanContext().TraceID() == rec.Ended()[0].SpanContext().TraceID()))
	}
	sort.Strings(lines)
	fmt.Println(strings.Join(lines, "\n"))
	// Output:
	// client tally/Add, same trace: true
	// server tally/Add, same trace: true
}

// ExampleSystem_Activator mounts the JSON activator on a server of the
// program's own and calls an action with JSON.
func ExampleSystem_Activator() {
	ctx := context.Background()
	sys, err := spawn.Start(ctx, &Tally{}, spawn.WithEmbedded(), spawn.WithMemoryStore(), spawn.WithLogger(zap.NewNop()))
	if err != nil {
		log.Fatal(err)
	}
	defer sys.Stop(ctx)
	// guide:start mount
	mux := http.NewServeMux()
	mux.Handle("/v1/actors/", sys.Activator())
	// guide:end mount
	srv := httptest.NewServer(mux)
	defer srv.Close()

	res, err := http.Post(srv.URL+"/v1/actors/tally/Add", "application/json", strings.NewReader(`{"by": 3}`))
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode, string(body))
	// Output:
	// 200 {"value":"3"}
}
