//go:build unix

package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/spawn-go/spawn"
)

// Load figures of the issue: loadCalls calls from loadCallers callers.
const (
	loadCalls   = 10_000
	loadCallers = 64
	// memFactor bounds the heap in use once the load is over and the
	// ledgers have deactivated, as a multiple of the heap in use before
	// it (after a warm-up that fills the connection pools). HeapInuse
	// counts whole spans, so fragmentation, the goroutine descriptors the
	// Go runtime keeps, and the registry maps, which do not shrink, keep
	// it a little above the baseline (1.0-1.6× in practice); what the
	// load's calls or its 1,000 active actors held would not fit.
	memFactor = 2.0
)

// TestReliabilityLoad makes 10,000 calls from 64 callers over 1 ledger and
// over 1,000, on the embedded runtime and through spawn proxy's HTTP path
// (the proxy run as main runs it, and the host, both in this process so
// that their memory is measured). Every 10th call is async and every
// 100th has a deadline of 1-3 ms, so that some calls are not
// acknowledged. No call may be lost or applied twice (ledgerLoad.check),
// and the heap in use must come back within memFactor of its baseline
// once the ledgers have deactivated.
func TestReliabilityLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 calls four times; skipped with -short")
	}
	for _, backend := range []string{"embedded", "proxy"} {
		for _, actors := range []int{1, 1000} {
			t.Run(fmt.Sprintf("%s/%d-actors", backend, actors), func(t *testing.T) {
				var sys *spawn.System
				if backend == "embedded" {
					sys = startSystem(t, &Ledger{}, spawn.WithEmbedded(), spawn.WithDataDir(t.TempDir()))
				} else {
					hostAddr := freeLoopbackAddr(t)
					proxy := runProxyInProcess(t, hostAddr)
					sys = startSystem(t, &Ledger{}, spawn.WithProxy(proxy), spawn.WithHostAddress(hostAddr))
				}
				runLoad(t, sys, actors)
			})
		}
	}
}

func runLoad(t *testing.T, sys *spawn.System, actors int) {
	// Warm up what stays for the life of the process (connections,
	// pools, lazily built tables), then measure.
	warm := newLedgerLoad(1, "Apply")
	warm.prefix = "warm-up-"
	warm.run(sys, loadCallers, 4*loadCallers, nil)
	if n := warm.acked(); n != 4*loadCallers {
		t.Fatalf("%d of %d warm-up calls failed", 4*loadCallers-n, 4*loadCallers)
	}
	baseline := heapInuse()

	l := newLedgerLoad(actors, "Apply")
	l.asyncEvery, l.shortEvery = 10, 100
	if actors > 1 {
		// Sessions: each ledger gets its calls in a burst, from several
		// callers at once, then deactivates while the load goes on.
		l.burst = loadCalls / actors
	}
	peak := samplePeak()
	start := time.Now()
	l.run(sys, loadCallers, loadCalls, nil)
	took := time.Since(start)
	peakHeap := peak.end()
	f := l.check(t, readLedger(sys))
	if f.calls != loadCalls {
		t.Errorf("%d calls made, want %d", f.calls, loadCalls)
	}

	// The ledgers deactivate half a second after their last call; then
	// what they held must be freed. Once the heap is within the limit,
	// a few more readings let it settle, for the figure.
	limit := uint64(memFactor * float64(baseline))
	after := heapInuse()
	deadline := time.Now().Add(3 * waitTimeout)
	for after > limit && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond) // waiting for deactivation
		after = heapInuse()
	}
	if after > limit {
		t.Errorf("heap in use %s, %v after the load: more than %.0f × the baseline %s", mib(after), 3*waitTimeout, memFactor, mib(baseline))
	}
	for range 10 {
		time.Sleep(100 * time.Millisecond)
		after = min(after, heapInuse())
	}
	t.Logf("figures: %s; %d callers over %d ledgers in %v; heap in use: baseline %s, peak %s, after %s (limit %s)",
		f, loadCallers, actors, took.Round(10*time.Millisecond), mib(baseline), mib(peakHeap), mib(after), mib(limit))
}

// startSystem starts actors with opts, and stops them when the test ends.
func startSystem(t *testing.T, args ...any) *spawn.System {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	sys, err := spawn.Start(ctx, append(args, spawn.WithLogger(testLogger(t)))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*waitTimeout)
		defer cancel()
		if err := sys.Stop(ctx); err != nil {
			t.Errorf("stopping: %v", err)
		}
	})
	return sys
}

// runProxyInProcess runs `spawn proxy` in this process, as main does, with
// its state in a temporary directory and extra flags, and returns its
// address. It stops when the test ends.
func runProxyInProcess(t *testing.T, hostAddr string, flags ...string) string {
	t.Helper()
	return runProxyWith(t, nil, hostAddr, flags...)
}

// runProxyWith is runProxyInProcess with more environment variables.
func runProxyWith(t *testing.T, env map[string]string, hostAddr string, flags ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	args := append([]string{"proxy", "-port", "0", "-host-addr", hostAddr, "-data-dir", t.TempDir()}, flags...)
	vars := map[string]string{"SPAWN_LOG": "error"}
	maps.Copy(vars, env)
	go func() {
		err := run(ctx, args, envMap(vars), pw)
		pw.Close()
		done <- err
	}()
	first := make(chan string, 1)
	go lines(pr, func(line string) {
		select {
		case first <- line:
		default:
		}
	})
	var line string
	select {
	case line = <-first:
	case err := <-done:
		cancel()
		t.Fatalf("spawn proxy stopped as it started: %v", err)
	case <-time.After(waitTimeout):
		cancel()
		t.Fatalf("spawn proxy did not start within %v", waitTimeout)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("spawn proxy: %v", err)
		}
	})
	return strings.TrimPrefix(proxyURL(t, line), "http://")
}
