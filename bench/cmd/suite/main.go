// Command suite runs spawn-go's performance suite and writes its result
// file and charts. From bench/:
//
//	go run ./cmd/suite                 # the full suite, under 10 minutes
//	go run ./cmd/suite -smoke          # a few iterations of everything (CI)
//	go run ./cmd/suite -only dispatch,inprocess -profile /tmp/prof
//
// The full run writes results/latest.json, and the charts and table.md
// beside it; -only merges the groups it runs into that file and redraws
// everything from the merged file. A smoke run writes to a temporary
// directory, removed at the end, unless -out says otherwise; -out alone
// writes only the JSON, -charts DIR draws the charts and table.md in DIR.
// It exits non-zero when any measurement fails.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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

// smokeBanner opens and closes the output of a smoke run.
const smokeBanner = "smoke run: figures mean nothing"

func main() {
	smoke := flag.Bool("smoke", false, "run a few iterations of everything, to check that it works (writes to a temporary directory, removed after)")
	out := flag.String("out", "", "result file (default results/latest.json); with -out alone, only the JSON is written")
	charts := flag.String("charts", "", "directory for the charts and table.md (default: results/ for the default result file, none for -out)")
	only := flag.String("only", "", "comma-separated groups to run, merged into the existing result file (default all: "+strings.Join(names(), ",")+")")
	rounds := flag.Int("rounds", 0, "rounds of each comparison (default 7, smoke 1)")
	dur := flag.Duration("dur", 0, "length of one timed measurement (default 200ms, smoke 10ms)")
	profile := flag.String("profile", "", "after the timed rounds, write CPU and heap profiles of the spawn-go side of each cost here")
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
	var selected []string
	if *only != "" {
		selected = strings.Split(*only, ",")
		for _, s := range selected {
			if !slices.ContainsFunc(all, func(g group) bool { return g.name == s }) {
				fail(fmt.Errorf("unknown group %q; the groups are %s", s, strings.Join(names(), ",")))
			}
		}
	}
	p, err := plan(*smoke, *out, *charts, func() (string, error) { return os.MkdirTemp("", "spawn-bench-smoke-") })
	if err != nil {
		fail(err)
	}
	if p.temp != "" {
		cleanup = func() { os.RemoveAll(p.temp) }
		defer cleanup()
	}
	if *smoke {
		measure.Logf(smokeBanner)
	}

	start := time.Now()
	res := &measure.Result{Schema: measure.Schema, Mode: "full", Machine: measure.ThisMachine(), Tree: measure.ThisTree(), Profile: *profile != ""}
	if *smoke {
		res.Mode = "smoke"
	}
	var errs []error
	var ran []string
	for _, g := range all {
		if selected != nil && !slices.Contains(selected, g.name) {
			continue
		}
		measure.Logf("== %s", g.name)
		t := time.Now()
		ms, err := g.run(cfg)
		res.Measurements = append(res.Measurements, ms...)
		res.Runs = append(res.Runs, measure.Run{Group: g.name, Date: res.Machine.Date, Go: res.Machine.Go, Tree: res.Tree, Profile: res.Profile, Seconds: time.Since(t).Seconds()})
		ran = append(ran, g.name)
		if err != nil {
			measure.Logf("%s FAILED: %v", g.name, err)
			errs = append(errs, fmt.Errorf("%s: %w", g.name, err))
		}
	}
	res.Seconds = time.Since(start).Seconds()
	printSummary(os.Stdout, res.Measurements, *smoke)

	file := res
	if selected != nil && !*smoke {
		prev, err := measure.Read(p.result)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			fail(fmt.Errorf("not merging into %s: %w", p.result, err))
		case prev.Mode == "smoke":
			measure.Logf("%s holds a smoke run: replaced, not merged", p.result)
		default:
			if prev.Machine.CPU != res.Machine.CPU || prev.Machine.Cores != res.Machine.Cores {
				measure.Logf("warning: %s was measured on %s (%d cores), this run on %s (%d cores)", p.result, prev.Machine.CPU, prev.Machine.Cores, res.Machine.CPU, res.Machine.Cores)
			}
			file = measure.Merge(prev, res, ran, names())
			measure.Logf("merged %s into %s; the other groups are kept from their runs", strings.Join(ran, ","), p.result)
		}
	}
	if err := file.Write(p.result); err != nil {
		fail(err)
	}
	var written []string
	if p.charts != "" {
		written, err = chart.All(file, p.charts)
		if err != nil {
			errs = append(errs, fmt.Errorf("charts: %w", err))
		}
	}
	fmt.Println(lastLine(p, written, *smoke, res.Seconds))
	if err := errors.Join(errs...); err != nil {
		fail(err)
	}
}

// paths is where a run writes.
type paths struct {
	// result is the result file.
	result string
	// charts is the directory of the charts and table.md, "" for none.
	charts string
	// temp is a directory to remove at the end, "" for none.
	temp string
}

// defaultResult is the committed result file, relative to bench/.
var defaultResult = filepath.Join("results", "latest.json")

// plan decides where a run writes. The default result file gets its
// charts and table.md beside it, in results/; a smoke run without -out
// writes everything to a temporary directory (made by mkTemp) that is
// removed at the end; with -out alone only the JSON is written. An
// explicit -charts always wins.
func plan(smoke bool, out, charts string, mkTemp func() (string, error)) (paths, error) {
	p := paths{result: out, charts: charts}
	switch {
	case out == "" && smoke:
		dir, err := mkTemp()
		if err != nil {
			return p, err
		}
		p.result, p.temp = filepath.Join(dir, "smoke.json"), dir
		if p.charts == "" {
			p.charts = dir
		}
	case out == "" || filepath.Clean(out) == defaultResult:
		p.result = defaultResult
		if p.charts == "" {
			p.charts = filepath.Dir(defaultResult)
		}
	}
	return p, nil
}

// lastLine says what the run wrote, in how long.
func lastLine(p paths, written []string, smoke bool, seconds float64) string {
	var what string
	switch {
	case p.charts == "":
		what = fmt.Sprintf("wrote %s only (no charts or table.md: -charts DIR draws them)", p.result)
	default:
		n := 0
		for _, w := range written {
			if strings.HasSuffix(w, ".svg") {
				n++
			}
		}
		plural := "s"
		if n == 1 {
			plural = ""
		}
		what = fmt.Sprintf("wrote %s, and table.md and %d chart%s in %s", p.result, n, plural, p.charts)
	}
	if p.temp != "" {
		what += ", all removed now"
	}
	what += fmt.Sprintf(" (%.0fs)", seconds)
	if smoke {
		return smokeBanner + "; " + what
	}
	return what
}

// names returns the groups in the order they run.
func names() []string {
	var n []string
	for _, g := range all {
		n = append(n, g.name)
	}
	return n
}

// printSummary prints one line per measurement: value and unit, the
// ratio and what it is against, the target and whether it is met ("-"
// for a smoke run, whose figures mean nothing). Columns are as wide as
// the longest entry.
func printSummary(w io.Writer, ms []measure.Measurement, smoke bool) {
	nameW, baseW := 0, 0
	for _, m := range ms {
		nameW = max(nameW, utf8.RuneCountInString(m.Name))
		baseW = max(baseW, utf8.RuneCountInString(short(m)))
	}
	for _, m := range ms {
		line := fmt.Sprintf("%-*s %14.1f %-8s", nameW, m.Name, m.Value, m.Unit)
		if m.Baseline != "" {
			line += fmt.Sprintf("  ratio %7.2f × %-*s", m.Ratio, baseW, short(m))
		} else if m.Target != nil {
			line += fmt.Sprintf("  %*s", 16+baseW, "")
		}
		if m.Met != nil {
			verdict := "-"
			switch {
			case smoke:
			case *m.Met:
				verdict = "met"
			default:
				verdict = "MISSED"
			}
			line += fmt.Sprintf("  target %s: %s", m.Target.Text, verdict)
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

// short is m's baseline without its group.
func short(m measure.Measurement) string {
	return strings.TrimPrefix(m.Baseline, m.Group+"/")
}

// cleanup runs before fail exits.
var cleanup = func() {}

func fail(err error) {
	cleanup()
	fmt.Fprintln(os.Stderr, "suite:", err)
	os.Exit(1)
}
