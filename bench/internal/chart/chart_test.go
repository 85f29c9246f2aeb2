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
	if err := All(res, dir); err != nil {
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
