package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spawn-go/spawn/bench/measure"
)

func result(date string, ms ...measure.Measurement) *measure.Result {
	return &measure.Result{Schema: measure.Schema, Mode: "full", Machine: measure.Machine{Date: date, Go: "go1.25.0"}, Measurements: ms}
}

func measured(name string, value, base float64, t *measure.Target) measure.Measurement {
	s := measure.NewSet("g")
	s.Add(name, value)
	if base == 0 {
		return s.M(name, "ns/op", "", t, "")
	}
	s.Add("base", base)
	return s.M(name, "ns/op", "base", t, "")
}

func TestCompare(t *testing.T) {
	before := result("d1",
		measured("a", 100, 0, nil),
		measured("b", 300, 100, measure.Max("ratio", 2, "≤ 2×")),
		measured("gone", 1, 0, nil),
	)
	after := result("d2",
		measured("a", 50, 0, nil),
		measured("b", 150, 100, measure.Max("ratio", 2, "≤ 2×")),
		measured("new", 1, 0, nil),
		measured("zero", 5, 0, nil),
	)
	before.Measurements = append(before.Measurements, measured("zero", 0, 0, nil))
	var w bytes.Buffer
	Compare(&w, before, after)
	out := w.String()
	for _, c := range []struct{ name, want string }{
		{"value only", "| g/a | ns/op | 100 | 50 | 0.50 |  |  |  |  |  |  |  |"},
		{"value, ratio, target, met", "| g/b | ns/op | 300 | 150 | 0.50 | 3.00 × base | 1.50 × base | 0.50 | ≤ 2× | no | ≤ 2× | yes |"},
		{"before 0: no quotient", "| g/zero | ns/op | 0 | 5 |  |"},
		{"only before", "Only before: g/gone."},
		{"only after", "Only after: g/new."},
		{"header", "| figure | unit | before | after | after÷before |"},
	} {
		if !strings.Contains(out, c.want) {
			t.Errorf("%s: output lacks %q:\n%s", c.name, c.want, out)
		}
	}
}

func TestNum(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want string
	}{{100, "100"}, {1.5, "1.5"}, {0.12345, "0.123"}, {-0.0001, "0"}, {25000.5, "25000.5"}} {
		if got := num(c.in); got != c.want {
			t.Errorf("num(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
