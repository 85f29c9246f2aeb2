package chart

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spawn-go/spawn/bench/measure"
)

// All draws every chart of res into dir, and writes the table of every
// figure there as table.md.
func All(res *measure.Result, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
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
	for name, c := range charts {
		if len(c.Blocks) == 0 {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), c.SVG(), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "table.md"), []byte(Table(res)), 0o644)
}

// targets shows every targeted figure as a fraction of its target, so
// that 1 is the target and below 1 meets it.
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
		frac := v / m.Target.Limit
		if m.Target.Op == ">=" {
			frac = m.Target.Limit / v
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
			Text:   fmt.Sprintf("%s (target %s)", short(v, m), m.Target.Text),
			Series: series,
		})
	}
	c := HBar{Title: "Each target: today's figure ÷ the target (below 1 meets it)", Subtitle: sub, Unit: "fraction of the target (log scale)", Log: true, Ref: 1, RefText: "target"}
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
