package chart

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spawn-go/spawn/bench/measure"
)

func TestAllDrawsWellFormedSVG(t *testing.T) {
	s := measure.NewSet("dispatch")
	s.Add("bytes/16B/handwritten", 1000)
	s.Add("bytes/16B/spawn-go", 1500)
	in := measure.NewSet("inprocess")
	in.Add("1-actor/1-caller/channel", 300)
	in.Add("1-actor/1-caller/spawn-go", 3000)
	res := &measure.Result{Schema: 1, Mode: "smoke", Machine: measure.ThisMachine(), Measurements: []measure.Measurement{
		s.M("bytes/16B/handwritten", "ns/op", "", nil, ""),
		s.M("bytes/16B/spawn-go", "ns/op", "bytes/16B/handwritten", nil, ""),
		in.M("1-actor/1-caller/channel", "ns/op", "", nil, ""),
		in.M("1-actor/1-caller/spawn-go", "ns/op", "1-actor/1-caller/channel", measure.Max("ratio", 5, "≤ 5× channel"), ""),
	}}
	dir := t.TempDir()
	if _, err := All(res, dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"targets.svg", "dispatch.svg", "inprocess.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(strings.NewReader(string(b)))
		for {
			if _, err := d.Token(); err != nil {
				if err.Error() != "EOF" {
					t.Errorf("%s is not well-formed: %v", name, err)
				}
				break
			}
		}
	}
	table, err := os.ReadFile(filepath.Join(dir, "table.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(table), "| 1-actor/1-caller/spawn-go | 10.00 | 1-actor/1-caller/channel | ≤ 5× channel | no |") {
		t.Errorf("table.md lacks the spawn-go row:\n%s", table)
	}
}

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		name string
		m    measure.Measurement
		want float64
	}{
		{"≤ on the ratio", measure.Measurement{Ratio: 2.5, Value: 100, Target: measure.Max("ratio", 5, "≤ 5×")}, 0.5},
		{"≥ on the ratio: target ÷ figure", measure.Measurement{Ratio: 4, Target: measure.Min("ratio", 2, "≥ 2")}, 0.5},
		{"≥ missed", measure.Measurement{Ratio: 0.5, Target: measure.Min("ratio", 0.8, "≥ 0.8×")}, 1.6},
		{"≤ on the value", measure.Measurement{Value: 2048, Target: measure.Max("value", 1024, "≤ 1024 B")}, 2},
		{"≈ 0: figure ÷ tolerance", measure.Measurement{Value: 8, Target: measure.Max("value", 16, "≈ 0 (baseline)")}, 0.5},
		{"≈ 0 below zero", measure.Measurement{Value: -32, Target: measure.Max("value", 16, "≈ 0 (baseline)")}, -2},
	} {
		if got := Distance(c.m); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
