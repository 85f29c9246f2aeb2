package measure

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"time"
)

// ProfileCPU runs op serially for about d under the CPU profiler and
// writes dir/name.pprof and, when the go command is at hand, the top
// functions by flat and by cumulative time to dir/name.top.txt.
func ProfileCPU(dir, name string, d time.Duration, op func() error) error {
	return profileWhile(dir, name, func() error {
		deadline := time.Now().Add(d)
		for time.Now().Before(deadline) {
			for range 64 {
				if err := op(); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// ProfileCPUWhile profiles the process while run runs.
func ProfileCPUWhile(dir, name string, run func() error) error {
	return profileWhile(dir, name, run)
}

func profileWhile(dir, name string, run func() error) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, name+".pprof")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	rerr := run()
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		return err
	}
	if rerr != nil {
		return rerr
	}
	writeTop(path)
	return nil
}

// ProfileHeap writes a heap profile (after a collection) to dir/name.pprof
// and its top entries by in-use space.
func ProfileHeap(dir, name string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, name+".pprof")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	HeapInuse() // collects
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	writeTop(path, "-sample_index=inuse_space")
	return nil
}

// writeTop writes the profile's top entries beside it, if `go tool pprof`
// runs; a missing go command only loses the summary.
func writeTop(path string, extra ...string) {
	var out []byte
	for _, sort := range []string{"-flat", "-cum"} {
		args := append([]string{"tool", "pprof", "-top", "-nodecount=25", sort}, extra...)
		b, err := exec.Command("go", append(args, path)...).CombinedOutput()
		if err != nil {
			Logf("pprof summary of %s: %v", path, err)
			return
		}
		out = append(out, fmt.Sprintf("== sorted by %s\n", sort[1:])...)
		out = append(out, b...)
	}
	_ = os.WriteFile(path[:len(path)-len(".pprof")]+".top.txt", out, 0o644)
}
