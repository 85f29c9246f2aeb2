package chart

import (
	"fmt"
	"strings"

	"github.com/spawn-go/spawn/bench/measure"
)

// Table renders every measurement of res as a Markdown table, ratios
// first: figure, ratio and what it is to, target and whether it is met,
// then the absolute value and the number of samples.
func Table(res *measure.Result) string {
	var b strings.Builder
	m := res.Machine
	fmt.Fprintf(&b, "Measured %s on %s (%d cores, GOMAXPROCS %d, %d MiB), %s %s/%s; %s run, %.0f s.\n\n",
		m.Date, m.CPU, m.Cores, m.GOMAXPROCS, m.MemoryMiB, m.Go, m.OS, m.Arch, res.Mode, res.Seconds)
	if res.Tree != nil {
		fmt.Fprintf(&b, "SDK tree: %s", res.Tree)
		if res.Profile {
			b.WriteString(", with -profile")
		}
		b.WriteString(".\n")
	}
	group := ""
	for _, x := range res.Measurements {
		if x.Group != group {
			group = x.Group
			fmt.Fprintf(&b, "\n### %s\n\n", group)
			for _, r := range res.Runs {
				if r.Group == group && r.Date != m.Date {
					fmt.Fprintf(&b, "From an earlier run: %s, %s.\n\n", r.Describe(), r.Go)
				}
			}
			b.WriteString("| figure | ratio | to | target | met | value | unit | samples |\n")
			b.WriteString("|---|---:|---|---|---|---:|---|---:|\n")
		}
		ratio, to := "", ""
		if x.Baseline != "" {
			ratio = fmt.Sprintf("%.2f", x.Ratio)
			to = strings.TrimPrefix(x.Baseline, x.Group+"/")
		}
		target, met := "", ""
		if x.Target != nil {
			target = x.Target.Text
		}
		if x.Met != nil {
			met = "no"
			if *x.Met {
				met = "yes"
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %d |\n",
			strings.TrimPrefix(x.Name, x.Group+"/"), ratio, to, target, met, format(x.Value), x.Unit, len(x.Samples))
	}
	return b.String()
}
