// Command charts redraws the suite's charts and table.md from a result
// file:
//
//	go run ./cmd/charts [-dir DIR] [RESULT-FILE]
//
// RESULT-FILE defaults to results/latest.json, DIR to the result file's
// directory. The suite draws them itself after each run; this is for
// redrawing without measuring again.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spawn-go/spawn/bench/internal/chart"
	"github.com/spawn-go/spawn/bench/measure"
)

func main() {
	dir := flag.String("dir", "", "where to write the charts and table.md (default: the result file's directory)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./cmd/charts [-dir DIR] [RESULT-FILE]\n\n"+
			"Redraws the charts (*.svg) and table.md from RESULT-FILE (default results/latest.json).\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	path := filepath.Join("results", "latest.json")
	if flag.NArg() > 0 {
		path = flag.Arg(0)
	}
	res, err := measure.Read(path)
	if err != nil {
		fail(err)
	}
	out := *dir
	if out == "" {
		out = filepath.Dir(path)
	}
	written, err := chart.All(res, out)
	if err != nil {
		fail(err)
	}
	fmt.Printf("charts: drew %s in %s from %s\n", strings.Join(written, ", "), out, path)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "charts:", err)
	os.Exit(1)
}
