// Package chart draws the suite's charts from its result file, as SVG
// written by hand: no dependency, and the same bytes for the same data.
package chart

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Row is one bar.
type Row struct {
	Label string
	Value float64
	// Text is printed after the bar (default: the value).
	Text string
	// Series picks the colour.
	Series string
}

// Block is a titled group of bars.
type Block struct {
	Title string
	Rows  []Row
}

// HBar is a horizontal bar chart.
type HBar struct {
	Title, Subtitle, Unit string
	Blocks                []Block
	// Log draws the axis in powers of ten.
	Log bool
	// Ref draws a dashed line at this value (0: none), labelled RefText.
	Ref     float64
	RefText string
}

var palette = map[string]string{
	"spawn-go":    "#2563eb",
	"handwritten": "#16a34a",
	"channel":     "#16a34a",
	"two-hop":     "#16a34a",
	"bare":        "#9ca3af",
	"dapr":        "#f59e0b",
	"protoactor":  "#a855f7",
	"official":    "#dc2626",
	"met":         "#16a34a",
	"missed":      "#dc2626",
}

func colour(series string) string {
	if c, ok := palette[series]; ok {
		return c
	}
	return "#6b7280"
}

const (
	width    = 960
	labelW   = 300
	barW     = 520
	rowH     = 18
	blockGap = 26
	top      = 64
)

// SVG renders the chart.
func (c HBar) SVG() []byte {
	lo, hi := math.Inf(1), math.Inf(-1)
	rows := 0
	for _, b := range c.Blocks {
		for _, r := range b.Rows {
			if r.Value > 0 || !c.Log {
				lo, hi = math.Min(lo, r.Value), math.Max(hi, r.Value)
			}
			rows++
		}
	}
	if c.Ref > 0 {
		lo, hi = math.Min(lo, c.Ref), math.Max(hi, c.Ref)
	}
	if math.IsInf(lo, 0) {
		lo, hi = 0, 1
	}
	var x func(v float64) float64
	var ticks []float64
	if c.Log {
		l, h := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
		if h <= l {
			h = l + 1
		}
		x = func(v float64) float64 {
			if v <= 0 {
				return 0
			}
			return (math.Log10(v) - l) / (h - l) * barW
		}
		for e := l; e <= h; e++ {
			ticks = append(ticks, math.Pow(10, e))
		}
	} else {
		lo = math.Min(lo, 0)
		step := niceStep((hi - lo) / 5)
		h := math.Ceil(hi/step) * step
		x = func(v float64) float64 { return (v - lo) / (h - lo) * barW }
		for t := lo; t <= h+step/2; t += step {
			ticks = append(ticks, t)
		}
	}
	height := top + rows*rowH + len(c.Blocks)*blockGap + 40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="12" y="22" font-size="16" font-weight="bold">%s</text>`+"\n", esc(c.Title))
	fmt.Fprintf(&b, `<text x="12" y="42" fill="#4b5563">%s</text>`+"\n", esc(c.Subtitle))
	axisY := height - 30
	for _, t := range ticks {
		tx := labelW + x(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e5e7eb"/>`+"\n", tx, top-8, tx, axisY)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#4b5563">%s</text>`+"\n", tx, axisY+14, esc(format(t)))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#4b5563">%s</text>`+"\n", labelW+barW/2, axisY+28, esc(c.Unit))
	y := top
	for _, bl := range c.Blocks {
		fmt.Fprintf(&b, `<text x="12" y="%d" font-weight="bold">%s</text>`+"\n", y+4, esc(bl.Title))
		y += 10
		for _, r := range bl.Rows {
			w := math.Max(x(r.Value), 1)
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelW-8, y+rowH-5, esc(r.Label))
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", labelW, y+2, w, rowH-4, colour(r.Series))
			text := r.Text
			if text == "" {
				text = format(r.Value)
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#111827">%s</text>`+"\n", float64(labelW)+w+4, y+rowH-5, esc(text))
			y += rowH
		}
		y += blockGap - 10
	}
	if c.Ref > 0 {
		rx := labelW + x(c.Ref)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#111827" stroke-dasharray="4 3"/>`+"\n", rx, top-8, rx, axisY)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", rx, top-12, esc(c.RefText))
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// format prints a value with three significant figures and a suffix.
func format(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return trim(v/1e9) + "G"
	case a >= 1e6:
		return trim(v/1e6) + "M"
	case a >= 1e4:
		return trim(v/1e3) + "k"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func trim(v float64) string {
	s := fmt.Sprintf("%.3g", v)
	return s
}

func esc(s string) string { return html.EscapeString(s) }
