package main

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spawn-go/spawn/bench/measure"
)

func TestPlan(t *testing.T) {
	tmp := func() (string, error) { return "/tmp/smoke-1", nil }
	results := filepath.Join("results", "latest.json")
	for _, c := range []struct {
		name                string
		smoke               bool
		out, charts         string
		wantResult, wantDir string
		wantTemp            string
	}{
		{name: "default", wantResult: results, wantDir: "results"},
		{name: "default, charts elsewhere", charts: "/tmp/c", wantResult: results, wantDir: "/tmp/c"},
		{name: "-out the default file", out: "./results/latest.json", wantResult: results, wantDir: "results"},
		{name: "-out alone: JSON only", out: "/tmp/a.json", wantResult: "/tmp/a.json"},
		{name: "-out and -charts", out: "/tmp/a.json", charts: "/tmp/c", wantResult: "/tmp/a.json", wantDir: "/tmp/c"},
		{name: "smoke: a temporary directory", smoke: true, wantResult: "/tmp/smoke-1/smoke.json", wantDir: "/tmp/smoke-1", wantTemp: "/tmp/smoke-1"},
		{name: "smoke -out: JSON only", smoke: true, out: "/tmp/s.json", wantResult: "/tmp/s.json"},
		{name: "smoke -charts", smoke: true, charts: "/tmp/c", wantResult: "/tmp/smoke-1/smoke.json", wantDir: "/tmp/c", wantTemp: "/tmp/smoke-1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := plan(c.smoke, c.out, c.charts, tmp)
			if err != nil {
				t.Fatal(err)
			}
			want := paths{result: c.wantResult, charts: c.wantDir, temp: c.wantTemp}
			if p != want {
				t.Errorf("plan = %+v, want %+v", p, want)
			}
		})
	}
	if _, err := plan(true, "", "", func() (string, error) { return "", errors.New("no tmp") }); err == nil {
		t.Error("plan without a temporary directory succeeded")
	}
}

func TestLastLine(t *testing.T) {
	for _, c := range []struct {
		name    string
		p       paths
		written []string
		smoke   bool
		want    []string
	}{
		{"json only", paths{result: "/tmp/a.json"}, nil, false, []string{"/tmp/a.json only", "-charts DIR"}},
		{"charts", paths{result: "results/latest.json", charts: "results"}, []string{"a.svg", "b.svg", "table.md"}, false, []string{"table.md and 2 charts in results"}},
		{"smoke", paths{result: "/t/smoke.json", charts: "/t", temp: "/t"}, []string{"a.svg", "table.md"}, true, []string{smokeBanner, "table.md", "removed"}},
	} {
		got := lastLine(c.p, c.written, c.smoke, 1)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", c.name, got, w)
			}
		}
	}
}

func TestSummary(t *testing.T) {
	s := measure.NewSet("g")
	s.Add("bare-handler", 1)
	s.Add("a-rather-long-subject-name", 3)
	ms := []measure.Measurement{
		s.M("bare-handler", "ns/op", "", nil, ""),
		s.M("a-rather-long-subject-name", "ns/op", "bare-handler", measure.Max("ratio", 5, "≤ 5×"), ""),
	}
	for _, c := range []struct {
		smoke bool
		want  string
	}{{false, "target ≤ 5×: met"}, {true, "target ≤ 5×: -"}} {
		var b bytes.Buffer
		printSummary(&b, ms, c.smoke)
		out := b.String()
		if !strings.Contains(out, "ratio    3.00 × bare-handler") || !strings.Contains(out, c.want) {
			t.Errorf("smoke %v:\n%s", c.smoke, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if strings.Index(lines[0], "ns/op") != strings.Index(lines[1], "ns/op") {
			t.Errorf("columns not aligned:\n%s", out)
		}
	}
}
