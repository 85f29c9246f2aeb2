// Package measure holds what every group of the suite shares: timing
// loops, interleaved rounds, medians of per-round ratios, process CPU and
// heap figures, and the result file. Like dispatch, it is importable from
// outside the repository, for harnesses that measure a peer that cannot
// be committed here.
package measure

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Serial runs op in a loop for about d and returns the mean time of one
// call in nanoseconds. A short calibration run (also a warm-up) sizes the
// loop, so the clock is read twice per measurement, not once per call.
func Serial(d time.Duration, op func() error) (float64, error) {
	n := 1
	var per float64
	for {
		el, err := loop(n, op)
		if err != nil {
			return 0, err
		}
		if el >= d/8 || n >= 1<<30 {
			per = float64(el) / float64(n)
			break
		}
		if el < time.Millisecond {
			n *= 10
		} else {
			n = int(float64(n) * float64(d/8) / float64(el) * 1.2)
		}
	}
	n = max(int(float64(d)/per), 1)
	el, err := loop(n, op)
	if err != nil {
		return 0, err
	}
	return float64(el) / float64(n), nil
}

func loop(n int, op func() error) (time.Duration, error) {
	start := time.Now()
	for range n {
		if err := op(); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// Parallel runs op from workers goroutines for about d (after a warm-up of
// d/5) and returns the wall time per call in nanoseconds, as
// testing.B.RunParallel reports it. op gets the worker's number and its
// own call count.
func Parallel(d time.Duration, workers int, op func(worker, i int) error) (float64, error) {
	if _, err := parallel(d/5, workers, op); err != nil {
		return 0, err
	}
	return parallel(d, workers, op)
}

func parallel(d time.Duration, workers int, op func(worker, i int) error) (float64, error) {
	var stop atomic.Bool
	var total atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i := 0
			for !stop.Load() {
				// Batches keep the stop flag off the per-call cost.
				for range 16 {
					if err := op(w, i); err != nil {
						errs[w] = err
						stop.Store(true)
						break
					}
					i++
				}
			}
			total.Add(int64(i))
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	el := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	return float64(el) / float64(max(total.Load(), 1)), nil
}

// Latencies runs op from callers goroutines, each calling in a loop, for
// about d after a warm-up of d/5, and returns every call's latency and the
// calls completed per second.
func Latencies(d time.Duration, callers int, op func(caller, i int) error) (lat []time.Duration, perSec float64, err error) {
	if _, _, err := latencies(d/5, callers, op); err != nil {
		return nil, 0, err
	}
	return latencies(d, callers, op)
}

func latencies(d time.Duration, callers int, op func(caller, i int) error) ([]time.Duration, float64, error) {
	var stop atomic.Bool
	var wg sync.WaitGroup
	per := make([][]time.Duration, callers)
	errs := make([]error, callers)
	start := time.Now()
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ls := make([]time.Duration, 0, 4096)
			for i := 0; !stop.Load(); i++ {
				t := time.Now()
				if err := op(c, i); err != nil {
					errs[c] = err
					stop.Store(true)
					break
				}
				ls = append(ls, time.Since(t))
			}
			per[c] = ls
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	el := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return nil, 0, err
	}
	var all []time.Duration
	for _, ls := range per {
		all = append(all, ls...)
	}
	slices.Sort(all)
	return all, float64(len(all)) / el.Seconds(), nil
}

// Quantile returns the q-quantile (0..1) of sorted durations.
func Quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Median returns the median of xs (the mean of the middle two for an even
// count), or 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Rotate returns the order in which round r visits n subjects: each round
// starts one further along, so no subject always runs first or last on a
// machine whose speed drifts.
func Rotate(n, r int) []int {
	out := make([]int, n)
	for i := range n {
		out[i] = (i + r) % n
	}
	return out
}

// ProcessCPU returns the CPU time (user + system) this process has used.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// HeapInuse returns runtime.MemStats.HeapInuse after two collections, so
// that what is left is what is reachable (and its fragmentation).
func HeapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// Check is a helper for verifying answers: nil when ok, else an error.
func Check(ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf(format, args...)
}
