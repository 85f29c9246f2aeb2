package promtext

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
)

func TestExpositionParses(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	res := resource.NewSchemaless(attribute.String("service.name", "spawn-proxy"))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithResource(res))
	ctx := context.Background()
	m := mp.Meter("github.com/spawn-go/spawn", metric.WithInstrumentationVersion("0.1.0"))
	calls, _ := m.Float64Histogram("rpc.server.call.duration", metric.WithUnit("s"), metric.WithDescription("Duration.\nOf calls \\ here."),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.1))
	calls.Record(ctx, 0.002, metric.WithAttributes(attribute.String("rpc.method", "joe/Hi")))
	calls.Record(ctx, 0.05, metric.WithAttributes(attribute.String("rpc.method", "joe/Hi")))
	calls.Record(ctx, 3, metric.WithAttributes(attribute.String("rpc.method", `we"ird\name`+"\n")))
	regs, _ := m.Int64Counter("spawn.registrations", metric.WithUnit("{registration}"))
	regs.Add(ctx, 2)
	active, _ := m.Int64UpDownCounter("spawn.actor.active", metric.WithUnit("{actor}"))
	active.Add(ctx, 3, metric.WithAttributes(attribute.String("spawn.actor", "joe")))
	active.Add(ctx, -1, metric.WithAttributes(attribute.String("spawn.actor", "joe")))
	depth, _ := m.Int64Gauge("9lives", metric.WithUnit("By"))
	depth.Record(ctx, 7)
	// The same metric from a second scope joins the first's family.
	other, _ := mp.Meter("other").Int64Counter("spawn.registrations", metric.WithUnit("{registration}"))
	other.Add(ctx, 1)

	srv := httptest.NewServer(Handler(reader))
	defer srv.Close()
	res2, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res2.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(res2.Body)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	text := b.String()
	if ct := res2.Header.Get("Content-Type"); ct != ContentType {
		t.Errorf("Content-Type %q, want %q", ct, ContentType)
	}
	e, err := Parse(text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	for fam, typ := range map[string]string{
		"target_info":                      "gauge",
		"rpc_server_call_duration_seconds": "histogram",
		"spawn_registrations_total":        "counter",
		"spawn_actor_active":               "gauge",
		"_9lives_bytes":                    "gauge",
	} {
		if e.Types[fam] != typ {
			t.Errorf("family %s has type %q, want %q\n%s", fam, e.Types[fam], typ, text)
		}
	}
	for _, tt := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"target_info", map[string]string{"service_name": "spawn-proxy"}, 1},
		{"rpc_server_call_duration_seconds_bucket", map[string]string{"rpc_method": "joe/Hi", "le": "0.005"}, 1},
		{"rpc_server_call_duration_seconds_bucket", map[string]string{"rpc_method": "joe/Hi", "le": "0.1"}, 2},
		{"rpc_server_call_duration_seconds_count", map[string]string{"rpc_method": "joe/Hi", "otel_scope_name": "github.com/spawn-go/spawn", "otel_scope_version": "0.1.0"}, 2},
		{"rpc_server_call_duration_seconds_sum", map[string]string{"rpc_method": `we"ird\name` + "\n"}, 3},
		{"spawn_registrations_total", map[string]string{"otel_scope_name": "github.com/spawn-go/spawn"}, 2},
		{"spawn_registrations_total", map[string]string{"otel_scope_name": "other"}, 1},
		{"spawn_actor_active", map[string]string{"spawn_actor": "joe"}, 2},
		{"_9lives_bytes", nil, 7},
	} {
		got, ok := e.Value(tt.name, tt.labels)
		if !ok || got != tt.want {
			t.Errorf("%s%v = %v (found %v), want %v\n%s", tt.name, tt.labels, got, ok, tt.want, text)
		}
	}
}

func TestParseRefusesBrokenText(t *testing.T) {
	for name, text := range map[string]string{
		"sample before its TYPE":   "# TYPE a gauge\nb 1\n",
		"second TYPE":              "# TYPE a gauge\na 1\n# TYPE a gauge\n",
		"bad escape":               "# TYPE a gauge\na{x=\"\\t\"} 1\n",
		"counter without _total":   "# TYPE a counter\na 1\n",
		"buckets not cumulative":   "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
		"family split in two":      "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n",
		"no space before value":    "# TYPE a gauge\na{x=\"1\"}1\n",
		"+Inf differs from count":  "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\n",
		"label name with a dot in": "# TYPE a gauge\na{x.y=\"1\"} 1\n",
	} {
		if _, err := Parse(text); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
}
