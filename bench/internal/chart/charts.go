package chart

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spawn-go/spawn/bench/measure"
)

// All draws every chart of res into dir, and writes the table of every
// figure there as table.md. It returns the names of the files written, in
// order.
func All(res *measure.Result, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	sub := fmt.Sprintf("%s, %d cores, %s, %s (%s run)", res.Machine.CPU, res.Machine.Cores, res.Machine.Go, res.Machine.Date[:10], res.Mode)
	charts := map[string]HBar{
		"targets.svg":          targets(res, sub),
		"dispatch.svg":         bySubject(res, sub, "Host dispatch: one invocation, bytes in to bytes out", "ns per invocation (log scale)", "dispatch/", true),
		"inprocess.svg":        bySubject(res, sub, "In-process sync call", "ns per call (log scale)", "inprocess/", true),
		"overhttp-latency.svg": bySubject(res, sub, "Through spawn proxy vs the bare two-hop chain: latency", "µs (log scale)", "overhttp/", true, "/p50/", "/p99/"),
		"overhttp-calls.svg":   bySubject(res, sub, "Through spawn proxy vs the bare two-hop chain: throughput", "calls per second", "overhttp/", false, "/throughput/"),
		"scale-memory.svg":     bySubject(res, sub, "Heap per actor", "bytes per actor", "scale/", false, "heap-per", "store-copy"),
		"scale-cpu.svg":        bySubject(res, sub, "Idle CPU", "% of one core", "scale/", false, "idle-cpu"),
		"state.svg":            bySubject(res, sub, "Checkpoint vs the store's own durable write", "ns per call (log scale)", "state/", true, "checkpoint", "raw-save"),
	}
	var written []string
	for _, name := range slices.Sorted(maps.Keys(charts)) {
		c := charts[name]
		if len(c.Blocks) == 0 {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), c.SVG(), 0o644); err != nil {
			return written, err
		}
		written = append(written, name)
	}
	if err := os.WriteFile(filepath.Join(dir, "table.md"), []byte(Table(res)), 0o644); err != nil {
		return written, err
	}
	return append(written, "table.md"), nil
}

// TargetsTitle and TargetsUnit say what targets.svg plots.
const (
	TargetsTitle = "How far each figure is from its target (below 1 meets it)"
	TargetsUnit  = "figure ÷ target; for ≥ targets, target ÷ figure; for ≈ 0, figure ÷ its tolerance (log scale)"
)

// Distance returns how far m is from its target, so that 1 is the
// target and below 1 meets it: the figure ÷ the limit for a "≤" target,
// the limit ÷ the figure for a "≥" target. An "≈ 0" target is a "≤"
// target whose limit is the tolerance that counts as 0 (16 B for the heap
// left after deactivation), so it plots the figure ÷ that tolerance; a
// figure at or below 0 has no place on the log axis and is drawn as the
// shortest bar, its value printed beside it.
func Distance(m measure.Measurement) float64 {
	v := m.Value
	if m.Target.On == "ratio" {
		v = m.Ratio
	}
	if m.Target.Op == ">=" {
		return m.Target.Limit / v
	}
	return v / m.Target.Limit
}

// approxZero says whether t is an "≈ 0" target.
func approxZero(t *measure.Target) bool { return strings.HasPrefix(t.Text, "≈ 0") }

// targets shows every targeted figure as its distance from its target
// (see Distance), so that 1 is the target and below 1 meets it.
func targets(res *measure.Result, sub string) HBar {
	blocks := map[string]*Block{}
	var order []string
	for _, m := range res.Measurements {
		if m.Target == nil || m.Met == nil {
			continue
		}
		v := m.Value
		if m.Target.On == "ratio" {
			v = m.Ratio
		}
		frac := Distance(m)
		target := m.Target.Text
		if approxZero(m.Target) {
			target += fmt.Sprintf(", tolerance %s %s", format(m.Target.Limit), m.Unit)
		}
		series := "missed"
		if *m.Met {
			series = "met"
		}
		b, ok := blocks[m.Group]
		if !ok {
			b = &Block{Title: m.Group}
			blocks[m.Group] = b
			order = append(order, m.Group)
		}
		b.Rows = append(b.Rows, Row{
			Label:  strings.TrimPrefix(m.Name, m.Group+"/"),
			Value:  frac,
			Text:   fmt.Sprintf("%s (target %s)", short(v, m), target),
			Series: series,
		})
	}
	c := HBar{Title: TargetsTitle, Subtitle: sub, Unit: TargetsUnit, Log: true, Ref: 1, RefText: "target"}
	for _, g := range order {
		c.Blocks = append(c.Blocks, *blocks[g])
	}
	return c
}

func short(v float64, m measure.Measurement) string {
	if m.Target.On == "ratio" {
		return fmt.Sprintf("%.2f×", v)
	}
	return format(v) + " " + m.Unit
}

// bySubject draws the measurements under prefix whose names contain one
// of parts (all when none), one block per name without its last element,
// one bar per subject (the last element).
func bySubject(res *measure.Result, sub, title, unit, prefix string, log bool, parts ...string) HBar {
	c := HBar{Title: title, Subtitle: sub, Unit: unit, Log: log}
	index := map[string]int{}
	for _, m := range res.Measurements {
		if !strings.HasPrefix(m.Name, prefix) || strings.Contains(m.Name, "-vs-") || strings.Contains(m.Name, "http-own") {
			continue
		}
		if len(parts) > 0 && !containsAny(m.Name, parts) {
			continue
		}
		name := strings.TrimPrefix(m.Name, prefix)
		block, subject := name, name
		if i := strings.LastIndex(name, "/"); i >= 0 {
			block, subject = name[:i], name[i+1:]
		}
		if strings.HasPrefix(prefix, "scale/") {
			// scale/N/figure: one block per size, one bar per figure.
			block, subject = name[:strings.Index(name, "/")], name[strings.Index(name, "/")+1:]
		}
		i, ok := index[block]
		if !ok {
			i = len(c.Blocks)
			index[block] = i
			c.Blocks = append(c.Blocks, Block{Title: blockTitle(prefix, block)})
		}
		text := format(m.Value)
		if m.Baseline != "" {
			text += fmt.Sprintf("  (%.2f× %s)", m.Ratio, m.Baseline[strings.LastIndex(m.Baseline, "/")+1:])
		}
		series := subject
		if strings.HasPrefix(prefix, "scale/") {
			series = "spawn-go"
		}
		c.Blocks[i].Rows = append(c.Blocks[i].Rows, Row{Label: subject, Value: m.Value, Text: text, Series: series})
	}
	return c
}

func blockTitle(prefix, block string) string {
	switch prefix {
	case "dispatch/":
		block = strings.Replace(block, "bytes/", "in memory, ", 1)
		block = strings.Replace(block, "http/", "through HTTP, ", 1)
	case "scale/":
		block += " actors"
	}
	return strings.ReplaceAll(block, "/", ", ")
}

func containsAny(s string, parts []string) bool {
	for _, p := range parts {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}
