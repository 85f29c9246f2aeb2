// Package promtext serves OpenTelemetry metrics in the Prometheus text
// exposition format (version 0.0.4), for spawn proxy's /metrics.
//
// It writes what an OpenTelemetry SDK reader collects, following the
// OpenTelemetry-to-Prometheus naming rules for what spawn-go records:
// dots become underscores, the unit becomes a suffix (s: _seconds), a
// monotonic sum is a counter ending in _total, other sums and gauges are
// gauges, explicit-bucket histograms are histograms, and the instrumentation
// scope and the resource become the otel_scope_* labels and target_info.
// OpenTelemetry's own Prometheus exporter does the same with the Prometheus
// client library and the eight modules that brings; the command that needs
// this serves one route, and is better off with this page of code.
package promtext

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// ContentType is the media type of the text format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Handler serves what r collects at each request.
func Handler(r sdkmetric.Reader) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var rm metricdata.ResourceMetrics
		if err := r.Collect(req.Context(), &rm); err != nil {
			http.Error(w, "collecting metrics: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", ContentType)
		_ = Write(w, &rm)
	})
}

// Collect is Handler's work without HTTP: it collects from r and writes.
func Collect(ctx context.Context, r sdkmetric.Reader, w io.Writer) error {
	var rm metricdata.ResourceMetrics
	if err := r.Collect(ctx, &rm); err != nil {
		return err
	}
	return Write(w, &rm)
}

// family is one metric name's HELP, TYPE and samples.
type family struct {
	name, help, typ string
	lines           []string
}

// Write writes rm in the text format: target_info first, then each metric
// family once, with the samples of every scope that records it.
func Write(w io.Writer, rm *metricdata.ResourceMetrics) error {
	var families []*family
	byName := map[string]*family{}
	add := func(name, help, typ string) *family {
		if f, ok := byName[name]; ok {
			if f.typ != typ {
				return nil // the same name with another type: drop it, as Prometheus would refuse it
			}
			return f
		}
		f := &family{name: name, help: help, typ: typ}
		byName[name] = f
		families = append(families, f)
		return f
	}
	if rm.Resource != nil && rm.Resource.Len() > 0 {
		f := add("target_info", "Target metadata", "gauge")
		f.lines = append(f.lines, "target_info"+labels(rm.Resource.Attributes(), nil)+" 1")
	}
	for _, sm := range rm.ScopeMetrics {
		scope := []attribute.KeyValue{attribute.String("otel_scope_name", sm.Scope.Name)}
		if sm.Scope.Version != "" {
			scope = append(scope, attribute.String("otel_scope_version", sm.Scope.Version))
		}
		for _, m := range sm.Metrics {
			name := metricName(m.Name, m.Unit)
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				sum(add, name, m.Description, d.IsMonotonic, d.DataPoints, scope)
			case metricdata.Sum[float64]:
				sum(add, name, m.Description, d.IsMonotonic, d.DataPoints, scope)
			case metricdata.Gauge[int64]:
				gauge(add(name, m.Description, "gauge"), d.DataPoints, scope)
			case metricdata.Gauge[float64]:
				gauge(add(name, m.Description, "gauge"), d.DataPoints, scope)
			case metricdata.Histogram[int64]:
				histogram(add(name, m.Description, "histogram"), d.DataPoints, scope)
			case metricdata.Histogram[float64]:
				histogram(add(name, m.Description, "histogram"), d.DataPoints, scope)
			}
			// Exponential histograms and summaries are not recorded by
			// spawn-go, and are left out.
		}
	}
	bw := bufio.NewWriter(w)
	for _, f := range families {
		if f.help != "" {
			fmt.Fprintf(bw, "# HELP %s %s\n", f.name, escapeHelp(f.help))
		}
		fmt.Fprintf(bw, "# TYPE %s %s\n", f.name, f.typ)
		for _, l := range f.lines {
			bw.WriteString(l)
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

type number interface{ int64 | float64 }

func sum[N number](add func(name, help, typ string) *family, name, help string, monotonic bool, dps []metricdata.DataPoint[N], scope []attribute.KeyValue) {
	if !monotonic {
		gauge(add(name, help, "gauge"), dps, scope)
		return
	}
	if !strings.HasSuffix(name, "_total") {
		name += "_total"
	}
	f := add(name, help, "counter")
	if f == nil {
		return
	}
	for _, dp := range dps {
		f.lines = append(f.lines, name+labels(dp.Attributes.ToSlice(), scope)+" "+value(float64(dp.Value)))
	}
}

func gauge[N number](f *family, dps []metricdata.DataPoint[N], scope []attribute.KeyValue) {
	if f == nil {
		return
	}
	for _, dp := range dps {
		f.lines = append(f.lines, f.name+labels(dp.Attributes.ToSlice(), scope)+" "+value(float64(dp.Value)))
	}
}

func histogram[N number](f *family, dps []metricdata.HistogramDataPoint[N], scope []attribute.KeyValue) {
	if f == nil {
		return
	}
	for _, dp := range dps {
		attrs := dp.Attributes.ToSlice()
		var cum uint64
		for i, b := range dp.Bounds {
			if i < len(dp.BucketCounts) {
				cum += dp.BucketCounts[i]
			}
			le := attribute.String("le", value(b))
			f.lines = append(f.lines, f.name+"_bucket"+labels(attrs, scope, le)+" "+strconv.FormatUint(cum, 10))
		}
		f.lines = append(f.lines,
			f.name+"_bucket"+labels(attrs, scope, attribute.String("le", "+Inf"))+" "+strconv.FormatUint(dp.Count, 10),
			f.name+"_sum"+labels(attrs, scope)+" "+value(float64(dp.Sum)),
			f.name+"_count"+labels(attrs, scope)+" "+strconv.FormatUint(dp.Count, 10))
	}
}

// unitSuffixes are the units spawn-go uses, and others common enough, with
// the words Prometheus names them by. Units in braces are annotations, and
// add nothing.
var unitSuffixes = map[string]string{
	"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds",
	"By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes", "min": "minutes", "h": "hours", "d": "days",
	"%": "percent",
}

// metricName is the Prometheus name of the metric name with unit.
func metricName(name, unit string) string {
	n := sanitize(name, true)
	suffix, ok := unitSuffixes[unit]
	if !ok && unit != "" && unit != "1" && !strings.HasPrefix(unit, "{") {
		suffix = sanitize(unit, false)
	}
	if suffix != "" && !strings.HasSuffix(n, "_"+suffix) {
		n += "_" + suffix
	}
	return n
}

// sanitize replaces what a Prometheus name cannot hold with underscores
// (colons only in metric names), collapses runs of them, and keeps the
// name from starting with a digit.
func sanitize(s string, metric bool) string {
	var b strings.Builder
	last := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (metric && c == ':')
		if !ok {
			c = '_'
		}
		if c == '_' && last == '_' {
			continue
		}
		b.WriteByte(c)
		last = c
	}
	out := b.String()
	if out == "" || (out[0] >= '0' && out[0] <= '9') {
		out = "_" + out
	}
	return out
}

// labels writes the label set of attrs, then of the extra pairs, sorted
// by name and with later pairs winning over earlier ones of the same name.
func labels(attrs []attribute.KeyValue, extra []attribute.KeyValue, more ...attribute.KeyValue) string {
	set := map[string]string{}
	for _, group := range [][]attribute.KeyValue{attrs, extra, more} {
		for _, kv := range group {
			k := sanitize(string(kv.Key), false)
			if strings.HasPrefix(k, "__") {
				k = "key" + k // reserved for Prometheus' own use
			}
			set[k] = kv.Value.Emit()
		}
	}
	if len(set) == 0 {
		return ""
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteString(`="`)
		b.WriteString(escapeValue(set[k]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

var (
	valueEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeValue(s string) string { return valueEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

// value formats a sample value as the text format spells it.
func value(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
