// Command charts redraws the suite's charts from a result file:
//
//	go run ./cmd/charts [-dir results] [results/latest.json]
//
// The suite draws them itself after each run; this is for redrawing
// without measuring again.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spawn-go/spawn/bench/internal/chart"
	"github.com/spawn-go/spawn/bench/measure"
)

func main() {
	dir := flag.String("dir", "", "where to write the charts (default: beside the result file)")
	flag.Parse()
	path := filepath.Join("results", "latest.json")
	if flag.NArg() > 0 {
		path = flag.Arg(0)
	}
	res, err := measure.Read(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "charts:", err)
		os.Exit(1)
	}
	out := *dir
	if out == "" {
		out = filepath.Dir(path)
	}
	if err := chart.All(res, out); err != nil {
		fmt.Fprintln(os.Stderr, "charts:", err)
		os.Exit(1)
	}
}
