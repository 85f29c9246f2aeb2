// Command suite runs spawn-go's performance suite and writes its result
// file and charts. From bench/:
//
//	go run ./cmd/suite                 # the full suite, under 10 minutes
//	go run ./cmd/suite -smoke          # a few iterations of everything (CI)
//	go run ./cmd/suite -only dispatch,inprocess -profile /tmp/prof
//
// The full run writes results/latest.json and the charts beside it; a
// smoke run writes to a temporary directory unless -out says otherwise.
// It exits non-zero when any measurement fails.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spawn-go/spawn/bench/dispatch"
	"github.com/spawn-go/spawn/bench/internal/chart"
	"github.com/spawn-go/spawn/bench/internal/groups"
	"github.com/spawn-go/spawn/bench/measure"
)

type group struct {
	name string
	run  func(measure.Config) ([]measure.Measurement, error)
}

var all = []group{
	{dispatch.Group, dispatch.Suite},
	{groups.InProcess, groups.RunInProcess},
	{groups.OverHTTP, groups.RunOverHTTP},
	{groups.Scale, groups.RunScale},
	{groups.State, groups.RunState},
}

func main() {
	smoke := flag.Bool("smoke", false, "run a few iterations of everything, to check that it works")
	out := flag.String("out", "", "result file (default results/latest.json; for -smoke, a temporary file)")
	charts := flag.String("charts", "", "directory for the charts (default: the result file's)")
	only := flag.String("only", "", "comma-separated groups to run (default all: "+names()+")")
	rounds := flag.Int("rounds", 0, "rounds of each comparison (default 7, smoke 1)")
	dur := flag.Duration("dur", 0, "length of one timed measurement (default 200ms, smoke 10ms)")
	profile := flag.String("profile", "", "write CPU and heap profiles of the spawn-go side of each cost here")
	flag.Parse()

	cfg := measure.Config{Smoke: *smoke, Rounds: 7, Dur: 200 * time.Millisecond, ProfileDir: *profile}
	if *smoke {
		cfg.Rounds, cfg.Dur = 1, 10*time.Millisecond
	}
	if *rounds > 0 {
		cfg.Rounds = *rounds
	}
	if *dur > 0 {
		cfg.Dur = *dur
	}
	path := *out
	if path == "" {
		path = filepath.Join("results", "latest.json")
		if *smoke {
			dir, err := os.MkdirTemp("", "spawn-bench-smoke-")
			if err != nil {
				fail(err)
			}
			path = filepath.Join(dir, "smoke.json")
		}
	}
	chartDir := *charts
	if chartDir == "" {
		chartDir = filepath.Dir(path)
	}
	var selected []string
	if *only != "" {
		selected = strings.Split(*only, ",")
		for _, s := range selected {
			if !slices.ContainsFunc(all, func(g group) bool { return g.name == s }) {
				fail(fmt.Errorf("unknown group %q; the groups are %s", s, names()))
			}
		}
	}

	start := time.Now()
	res := &measure.Result{Schema: 1, Mode: "full", Machine: measure.ThisMachine()}
	if *smoke {
		res.Mode = "smoke"
	}
	var errs []error
	for _, g := range all {
		if selected != nil && !slices.Contains(selected, g.name) {
			continue
		}
		measure.Logf("== %s", g.name)
		ms, err := g.run(cfg)
		res.Measurements = append(res.Measurements, ms...)
		if err != nil {
			measure.Logf("%s FAILED: %v", g.name, err)
			errs = append(errs, fmt.Errorf("%s: %w", g.name, err))
		}
	}
	res.Seconds = time.Since(start).Seconds()
	if err := res.Write(path); err != nil {
		fail(err)
	}
	if _, err := chart.All(res, chartDir); err != nil {
		errs = append(errs, fmt.Errorf("charts: %w", err))
	}
	printSummary(res)
	measure.Logf("wrote %s and charts in %s (%.0fs)", path, chartDir, res.Seconds)
	if err := errors.Join(errs...); err != nil {
		fail(err)
	}
}

func names() string {
	var n []string
	for _, g := range all {
		n = append(n, g.name)
	}
	return strings.Join(n, ",")
}

func printSummary(res *measure.Result) {
	for _, m := range res.Measurements {
		line := fmt.Sprintf("%-44s %14.1f %-8s", m.Name, m.Value, m.Unit)
		if m.Baseline != "" {
			line += fmt.Sprintf("  ratio %7.2f", m.Ratio)
		}
		if m.Met != nil {
			verdict := "MISSED"
			if *m.Met {
				verdict = "met"
			}
			line += fmt.Sprintf("  target %s: %s", m.Target.Text, verdict)
		}
		fmt.Println(line)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "suite:", err)
	os.Exit(1)
}
