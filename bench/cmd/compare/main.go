// Command compare prints two result files side by side, as a Markdown
// table to paste into docs:
//
//	go run ./cmd/compare before.json after.json
//
// For every measurement in both files it prints the value before and
// after and after ÷ before, the same for the ratio when there is one, and
// each file's target and whether it was met. Measurements in only one of
// the files are listed below the table.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spawn-go/spawn/bench/measure"
)

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./cmd/compare BEFORE.json AFTER.json\n\n"+
			"Prints a Markdown table of every measurement in both result files:\n"+
			"value and ratio before, after and after ÷ before, with the target and met of each.\n")
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	before, err := measure.Read(flag.Arg(0))
	if err != nil {
		fail(err)
	}
	after, err := measure.Read(flag.Arg(1))
	if err != nil {
		fail(err)
	}
	Compare(os.Stdout, before, after)
}

// Compare writes the comparison of before and after to w, in after's
// order of measurements.
func Compare(w io.Writer, before, after *measure.Result) {
	fmt.Fprintf(w, "Before: %s. After: %s.\n\n", describe(before), describe(after))
	fmt.Fprintln(w, "| figure | unit | before | after | after÷before | ratio before | ratio after | ratio after÷before | target before | met before | target after | met after |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---|---|---|---|")
	var onlyAfter []string
	for _, a := range after.Measurements {
		b := before.Find(a.Name)
		if b == nil {
			onlyAfter = append(onlyAfter, a.Name)
			continue
		}
		rb, ra, rq := "", "", ""
		if b.Baseline != "" {
			rb = fmt.Sprintf("%.2f × %s", b.Ratio, strings.TrimPrefix(b.Baseline, b.Group+"/"))
		}
		if a.Baseline != "" {
			ra = fmt.Sprintf("%.2f × %s", a.Ratio, strings.TrimPrefix(a.Baseline, a.Group+"/"))
		}
		if b.Baseline != "" && a.Baseline == b.Baseline {
			rq = quotient(a.Ratio, b.Ratio)
		}
		unit := a.Unit
		if b.Unit != a.Unit {
			unit = b.Unit + " → " + a.Unit
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			a.Name, unit, num(b.Value), num(a.Value), quotient(a.Value, b.Value), rb, ra, rq,
			target(b), met(b), target(&a), met(&a))
	}
	var onlyBefore []string
	for _, b := range before.Measurements {
		if after.Find(b.Name) == nil {
			onlyBefore = append(onlyBefore, b.Name)
		}
	}
	if len(onlyBefore) > 0 {
		fmt.Fprintf(w, "\nOnly before: %s.\n", strings.Join(onlyBefore, ", "))
	}
	if len(onlyAfter) > 0 {
		fmt.Fprintf(w, "\nOnly after: %s.\n", strings.Join(onlyAfter, ", "))
	}
}

// describe names a result file's run: mode, date, tree, Go.
func describe(r *measure.Result) string {
	s := fmt.Sprintf("%s run of %s, %s", r.Mode, r.Machine.Date, r.Machine.Go)
	if r.Tree != nil {
		s += ", SDK " + r.Tree.String()
	}
	if r.Profile {
		s += ", profiled"
	}
	if len(r.Runs) > 1 {
		for _, g := range r.Runs {
			if g.Date != r.Machine.Date {
				s += " (merged: some groups from earlier runs)"
				break
			}
		}
	}
	return s
}

// num prints v with up to three decimals, no trailing zeros.
func num(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	return s
}

// quotient prints a ÷ b, or "" when b is 0.
func quotient(a, b float64) string {
	if b == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f", a/b)
}

func target(m *measure.Measurement) string {
	if m.Target == nil {
		return ""
	}
	return m.Target.Text
}

func met(m *measure.Measurement) string {
	switch {
	case m.Met == nil:
		return ""
	case *m.Met:
		return "yes"
	default:
		return "no"
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "compare:", err)
	os.Exit(1)
}
