//go:build unix

package main

import (
	"syscall"
	"testing"
	"time"
)

// proxyKills is how many times TestReliabilityProxyRestartUnderLoad kills
// spawn proxy with SIGKILL, between its SIGTERMs.
const proxyKills = 4

// TestReliabilityProxyRestartUnderLoad restarts `spawn proxy` under a load
// of checkpointed calls from 16 callers: twice with SIGTERM, and
// proxyKills times with SIGKILL in the middle of the writes. No call may
// be answered ACTOR_NOT_FOUND: until the host has registered again, calls
// wait (the registration grace) or answer "not ready". Calls made while
// the proxy is down are unavailable or of unknown outcome. And since every
// call checkpoints, not even a SIGKILL loses an acknowledged call: each is
// applied exactly once, and none twice (ledgerLoad.check).
func TestReliabilityProxyRestartUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs spawn proxy and a host program; skipped with -short")
	}
	dataDir, hostAddr := t.TempDir(), freeLoopbackAddr(t)
	proxy := startSpawnProxy(t, "0", hostAddr, dataDir)
	host := startHelperHost(t, proxy.port, hostAddr)
	registered, _ := host.out.await(t, 0, contains(hostRegistered))
	sys := clientSystem(t, proxy.port)

	// Sync only: async calls queued in a killed proxy are lost, as
	// docs/reliability.md says.
	l := newLedgerLoad(faultLedgers, "ApplyCheckpoint")
	l.timeout = 2 * time.Second
	stop := startLoad(l, sys)
	signals := []syscall.Signal{syscall.SIGTERM}
	for range proxyKills {
		signals = append(signals, syscall.SIGKILL)
	}
	signals = append(signals, syscall.SIGTERM)
	kills := 0
	for i, sig := range signals {
		l.waitAcked(t, l.acked()+50)
		if err := proxy.cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		<-proxy.exited
		if sig == syscall.SIGTERM && proxy.waitErr != nil {
			t.Fatalf("proxy exited after SIGTERM with %v", proxy.waitErr)
		}
		if sig == syscall.SIGKILL {
			kills++
		}
		proxy = startSpawnProxy(t, proxy.port, hostAddr, dataDir)
		registered, _ = host.out.await(t, registered+1, contains(hostProxyBack))
		t.Logf("restart %d (%v) done, %d calls acknowledged so far", i+1, sig, l.acked())
	}
	l.waitAcked(t, l.acked()+50)
	stop()
	f := l.check(t, readLedger(sys))
	f.logExamples(t)
	checkNoHang(t, l)
	t.Logf("figures: %d restarts of spawn proxy under checkpointed load (%d SIGTERM, %d SIGKILL): %s",
		len(signals), len(signals)-kills, kills, f)
}
