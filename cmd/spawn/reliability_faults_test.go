//go:build unix

package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spawn-go/spawn"
)

// The process-level faults of the reliability suite: `spawn proxy` (the
// built binary) and a host program (this test binary, see TestMain) in
// processes of their own, signalled while callers in this process keep a
// load of ledger calls going. Every call is then checked against what its
// caller was told (ledgerLoad.check).

// faultCallers make the load of the fault tests, over faultLedgers
// ledgers.
const (
	faultCallers = 16
	faultLedgers = 8
)

// startLoad starts l on sys with faultCallers callers; the returned func
// stops it and waits for the calls in flight.
func startLoad(l *ledgerLoad, sys *spawn.System) (stop func()) {
	stopped := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.run(sys, faultCallers, 0, stopped)
	}()
	return func() {
		close(stopped)
		<-done
	}
}

// checkNoHang fails the test if a call returned long after its deadline.
func checkNoHang(t *testing.T, l *ledgerLoad) {
	t.Helper()
	l.mu.Lock()
	slowest := l.slowest
	l.mu.Unlock()
	if slowest > waitTimeout {
		t.Errorf("a call returned %v after its deadline", slowest)
	}
}

// TestReliabilityProxySIGTERMUnderLoad stops `spawn proxy` with SIGTERM
// twice while 16 callers make sync and async calls, and starts it again
// on the same data. A SIGTERM loses nothing: every acknowledged call,
// async ones included, is applied exactly once after the restarts, though
// the ledgers save only at snapshots and deactivation (no checkpoint).
func TestReliabilityProxySIGTERMUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs spawn proxy and a host program; skipped with -short")
	}
	dataDir, hostAddr := t.TempDir(), freeLoopbackAddr(t)
	proxy := startSpawnProxy(t, "0", hostAddr, dataDir)
	host := startHelperHost(t, proxy.port, hostAddr)
	registered, _ := host.out.await(t, 0, contains(hostRegistered))
	sys := clientSystem(t, proxy.port)

	l := newLedgerLoad(faultLedgers, "Apply")
	l.asyncEvery, l.timeout = 4, 2*time.Second
	stop := startLoad(l, sys)
	const restarts = 2
	for i := range restarts {
		l.waitAcked(t, l.acked()+200)
		proxy.stop(t) // SIGTERM, and a clean exit
		proxy = startSpawnProxy(t, proxy.port, hostAddr, dataDir)
		registered, _ = host.out.await(t, registered+1, contains(hostProxyBack))
		t.Logf("restart %d: %d calls acknowledged so far", i+1, l.acked())
	}
	l.waitAcked(t, l.acked()+200)
	stop()
	f := l.check(t, readLedger(sys))
	f.logExamples(t)
	checkNoHang(t, l)
	t.Logf("figures: %d SIGTERMs of spawn proxy under load: %s", restarts, f)
}

// TestReliabilityHostSIGTERMUnderLoad stops the host program with SIGTERM
// twice while 16 callers make sync and async calls through the proxy, and
// starts it again. State lives in the proxy, so nothing acknowledged may
// be lost: calls made while the host is down fail, and change nothing.
func TestReliabilityHostSIGTERMUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs spawn proxy and a host program; skipped with -short")
	}
	dataDir, hostAddr := t.TempDir(), freeLoopbackAddr(t)
	proxy := startSpawnProxy(t, "0", hostAddr, dataDir)
	host := startHelperHost(t, proxy.port, hostAddr)
	host.out.await(t, 0, contains(hostRegistered))
	sys := clientSystem(t, proxy.port)

	l := newLedgerLoad(faultLedgers, "Apply")
	l.asyncEvery, l.timeout = 4, 2*time.Second
	stop := startLoad(l, sys)
	const restarts = 2
	for i := range restarts {
		l.waitAcked(t, l.acked()+200)
		host.stop(t) // SIGTERM, and a clean exit
		host = startHelperHost(t, proxy.port, hostAddr)
		host.out.await(t, 0, contains(hostRegistered))
		t.Logf("restart %d: %d calls acknowledged so far", i+1, l.acked())
	}
	l.waitAcked(t, l.acked()+200)
	stop()
	f := l.check(t, readLedger(sys))
	f.logExamples(t)
	checkNoHang(t, l)
	t.Logf("figures: %d SIGTERMs of the host under load: %s", restarts, f)
}

// TestReliabilityHostDeathAndHang starts the host before the proxy (a
// late proxy), then, under a load of calls with a 1 s deadline, kills the
// host (SIGKILL) and starts it again, and stops it (SIGSTOP, a hang)
// until every caller has given up, then lets it go on (SIGCONT). No call
// may outlive its deadline, none may be answered ACTOR_NOT_FOUND, a call
// reported as failed before it was applied must not be applied (not even
// when the hung host answers it late), and every acknowledged call is
// applied exactly once.
func TestReliabilityHostDeathAndHang(t *testing.T) {
	if testing.Short() {
		t.Skip("runs spawn proxy and a host program; skipped with -short")
	}
	dataDir, hostAddr := t.TempDir(), freeLoopbackAddr(t)
	proxyAddr := freeLoopbackAddr(t)
	_, proxyPort, _ := strings.Cut(proxyAddr, ":")

	// The late proxy: the host retries its registration until it is up.
	host := startHelperHost(t, proxyPort, hostAddr)
	host.out.await(t, 0, contains("retrying registration"))
	startSpawnProxy(t, proxyPort, hostAddr, dataDir)
	host.out.await(t, 0, contains(hostRegistered))
	sys := clientSystem(t, proxyPort)

	l := newLedgerLoad(faultLedgers, "Apply")
	l.asyncEvery, l.timeout = 4, time.Second
	stop := startLoad(l, sys)

	// Death.
	l.waitAcked(t, l.acked()+200)
	if err := host.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-host.exited
	l.waitFailures(t, l.failures()+faultCallers) // calls to a dead host fail, and return
	host = startHelperHost(t, proxyPort, hostAddr)
	host.out.await(t, 0, contains(hostRegistered))
	l.waitAcked(t, l.acked()+200)
	t.Logf("host killed and started again: %d calls acknowledged so far", l.acked())

	// Hang.
	if err := host.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// Every caller hits its deadline twice; from the first round on, no
	// sync call can be acknowledged (async ones are: the proxy queues
	// them).
	l.waitFailures(t, l.failures()+faultCallers)
	ackedDuringHang := l.syncAcked()
	l.waitFailures(t, l.failures()+faultCallers)
	if n := l.syncAcked(); n != ackedDuringHang {
		t.Errorf("%d sync calls acknowledged while the host was stopped", n-ackedDuringHang)
	}
	if err := host.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	l.waitAcked(t, l.acked()+200)
	t.Logf("host hung and resumed: %d calls acknowledged so far", l.acked())

	stop()
	f := l.check(t, readLedger(sys))
	f.logExamples(t)
	checkNoHang(t, l)
	t.Logf("figures: a late proxy, 1 SIGKILL and 1 SIGSTOP of the host under load with 1 s deadlines: %s; slowest call %v past its deadline",
		f, l.slowest.Round(time.Millisecond))
}

// TestReliabilityEmbeddedSIGTERMUnderLoad stops a program that runs the
// Ledger on the embedded runtime (this test binary, in embedded mode) with
// SIGTERM while it makes sync and async calls itself, 16 callers at a
// time, then runs the Ledger on the same data in this process. Nothing
// acknowledged is lost: the stop waits for the queued calls, or keeps
// them for the next start.
func TestReliabilityEmbeddedSIGTERMUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a program on the embedded runtime; skipped with -short")
	}
	dataDir := t.TempDir()
	const rounds = 2
	l := newLedgerLoad(faultLedgers, "Apply")
	l.asyncEvery = 4 // as embeddedLoadMain's
	for round := range rounds {
		env := append(childEnv(), helperEnv+"=embedded", "SPAWN_DATA_DIR="+dataDir,
			fmt.Sprintf("%s=%d", firstIDEnv, l.next.Load()))
		p := start(t, "embedded", os.Args[0], nil, env)
		p.out.await(t, 0, contains(hostRegistered))
		// Calls keep going while the program stops.
		p.out.await(t, 0, hasPrefix(fmt.Sprintf("CALL %d ", l.next.Load()+400)))
		p.stop(t) // SIGTERM, and a clean exit
		<-p.readDone
		parseCalls(t, l, p.out)
		t.Logf("round %d: %d calls made, %d acknowledged so far", round+1, l.next.Load(), l.acked())
	}
	sys := startSystem(t, &Ledger{}, spawn.WithEmbedded(), spawn.WithDataDir(dataDir))
	f := l.check(t, readLedger(sys))
	f.logExamples(t)
	t.Logf("figures: %d SIGTERMs of an embedded program under its own load: %s", rounds, f)
}

// firstIDEnv is the first call id of an embedded helper, so that the ids
// of its rounds do not overlap.
const firstIDEnv = "SPAWN_RELIABILITY_FIRST_ID"

// embeddedLoadMain is the program of TestReliabilityEmbeddedSIGTERMUnderLoad:
// it runs the Ledger on the embedded runtime (data in SPAWN_DATA_DIR) and
// calls it from 16 callers, printing "CALL <id> <code> <message>" for each
// call that returned (code 0: acknowledged), until SIGTERM; then it stops
// the System while the callers go on, as a program serving requests does.
func embeddedLoadMain() error {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	first, err := strconv.ParseInt(os.Getenv(firstIDEnv), 10, 64)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sys, err := spawn.Start(ctx, &Ledger{}, spawn.WithEmbedded())
	if err != nil {
		return err
	}
	l := newLedgerLoad(faultLedgers, "Apply")
	l.asyncEvery, l.timeout = 4, 2*time.Second
	l.next.Store(first)
	var mu sync.Mutex
	l.onCall = func(id int64, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			fmt.Printf("CALL %d 0 \"\"\n", id)
			return
		}
		msg := err.Error()
		if se, ok := err.(*spawn.Error); ok {
			msg = se.Message
		}
		fmt.Printf("CALL %d %d %s\n", id, int(spawn.CodeOf(err)), strconv.Quote(msg))
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.run(sys, faultCallers, 0, stop)
	}()
	<-sigs
	err = sys.Stop(ctx)
	close(stop)
	<-done
	return err
}

// parseCalls reads the CALL lines of an embedded helper into l.
func parseCalls(t *testing.T, l *ledgerLoad, out *output) {
	t.Helper()
	out.mu.Lock()
	defer out.mu.Unlock()
	for _, line := range out.lines {
		rest, ok := strings.CutPrefix(line, "CALL ")
		if !ok {
			continue
		}
		var id int64
		var code int
		var quoted string
		if _, err := fmt.Sscanf(rest, "%d %d %q", &id, &code, &quoted); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		var err error
		if code != 0 {
			err = &spawn.Error{Code: spawn.Code(code), Message: quoted}
		}
		l.record(id, err, 0)
		l.next.Store(max(l.next.Load(), id+1))
	}
}
