//go:build unix

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/spawn-go/spawn"
)

// The reliability suite (docs/reliability.md) checks every call against
// what happened to it. Its actor is the Ledger: each call carries a unique
// id, and the ledger's state counts how many times each call was applied.
// So a test can say, call by call, that an acknowledged call was applied
// exactly once, that a call reported as not applied was not, and that no
// call was applied twice, whatever the faults it injects.

// TestMain lets the test binary play the programs the suite kills: with
// helperEnv set, it is a host program or an embedded one (helperMain)
// rather than a test run.
func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helperMain(mode))
	}
	code := m.Run()
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

// Ledger counts, in its state, how many times each call was applied: byte
// i of the state is the count of the call in slot i, saturating at 255.
// It deactivates half a second after its last call, so that the load
// tests see memory come back.
type Ledger struct {
	spawn.Actor `spawn:"name=ledger,kind=unnamed,deactivate=500ms"`
	State       *wrapperspb.BytesValue `spawn:"state"`
}

// maxSlots bounds a ledger's state.
const maxSlots = 1 << 20

// Apply applies the call in slot in.Value and answers the slot's count.
func (l *Ledger) Apply(ctx *spawn.Context, in *wrapperspb.Int64Value) (*wrapperspb.Int64Value, error) {
	n, err := l.apply(in.GetValue())
	if err != nil {
		return nil, err
	}
	return wrapperspb.Int64(n), nil
}

// ApplyCheckpoint is Apply, saved before the caller hears of it.
func (l *Ledger) ApplyCheckpoint(ctx *spawn.Context, in *wrapperspb.Int64Value) (spawn.Value, error) {
	n, err := l.apply(in.GetValue())
	if err != nil {
		return spawn.Value{}, err
	}
	return spawn.Reply(wrapperspb.Int64(n)).Checkpoint(), nil
}

func (l *Ledger) apply(slot int64) (int64, error) {
	if slot < 0 || slot >= maxSlots {
		return 0, fmt.Errorf("slot %d out of range", slot)
	}
	b := l.State.GetValue()
	if int64(len(b)) <= slot {
		b = append(b, make([]byte, int(slot)+1-len(b))...)
	}
	if b[slot] < 255 {
		b[slot]++
	}
	l.State = wrapperspb.Bytes(b)
	return int64(b[slot]), nil
}

// ledgerLoad is a load of calls to ledgers, each with a unique id, and
// what every caller was told.
type ledgerLoad struct {
	prefix string // of the ledgers' names
	actors int    // ledger instances, named <prefix><n>
	burst  int    // consecutive calls to one ledger (see place)
	action string // "Apply" or "ApplyCheckpoint"
	// Every asyncEvery-th call is async, and every shortEvery-th has a
	// deadline too short to be sure of (0: none).
	asyncEvery, shortEvery int64
	// timeout is the deadline of the other calls.
	timeout time.Duration

	// onCall, if set, is told of every call once it has returned.
	onCall func(id int64, err error)

	next atomic.Int64
	mu   sync.Mutex
	told map[int64]error // by id, once the call has returned; nil: acknowledged
	// slowest is the longest a call took beyond its deadline.
	slowest time.Duration
}

func newLedgerLoad(actors int, action string) *ledgerLoad {
	return &ledgerLoad{prefix: "ledger-", actors: actors, action: action, timeout: 5 * time.Second, told: make(map[int64]error)}
}

// place returns the ledger and slot of call id: bursts of burst
// consecutive calls go to one ledger, and the bursts go round the ledgers.
func (l *ledgerLoad) place(id int64) (string, int64) {
	burst, actors := int64(max(l.burst, 1)), int64(l.actors)
	b, j := id/burst, id%burst
	return fmt.Sprint(l.prefix, b%actors), b/actors*burst + j
}

// id is the inverse of place.
func (l *ledgerLoad) id(actor int, slot int64) int64 {
	burst, actors := int64(max(l.burst, 1)), int64(l.actors)
	return (slot/burst*actors+int64(actor))*burst + slot%burst
}

// run makes calls from callers goroutines until limit calls have been
// made (limit > 0) or stop is closed, and returns when every call has
// returned. A caller whose call failed in a way that suggests the proxy
// or host is down pauses a moment rather than spin.
func (l *ledgerLoad) run(sys *spawn.System, callers int, limit int64, stop <-chan struct{}) {
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := l.next.Add(1) - 1
				if limit > 0 && id >= limit {
					return
				}
				err := l.call(sys, id)
				if l.onCall != nil {
					l.onCall(id, err)
				}
				if err != nil && spawn.CodeOf(err) != spawn.CodeCanceled {
					time.Sleep(5 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
}

// call makes call id and records what its caller was told.
func (l *ledgerLoad) call(sys *spawn.System, id int64) error {
	actor, slot := l.place(id)
	timeout := l.timeout
	if l.shortEvery > 0 && id%l.shortEvery == 0 {
		timeout = time.Duration(1+id%3) * time.Millisecond
	}
	opts := []spawn.InvokeOption{spawn.Instance(actor)}
	if l.async(id) {
		opts = append(opts, spawn.Async())
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := sys.Invoke(ctx, "ledger", l.action, wrapperspb.Int64(slot), &wrapperspb.Int64Value{}, opts...)
	l.record(id, err, time.Since(start)-timeout)
	return err
}

// record notes what the caller of call id was told, and how long the call
// took beyond its deadline.
func (l *ledgerLoad) record(id int64, err error, over time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.told[id] = err
	l.slowest = max(l.slowest, over)
}

// acked returns the number of acknowledged calls so far.
func (l *ledgerLoad) acked() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ackedLocked()
}

// failures returns the number of failed calls so far.
func (l *ledgerLoad) failures() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.told)) - l.ackedLocked()
}

func (l *ledgerLoad) ackedLocked() int64 {
	n := int64(0)
	for _, err := range l.told {
		if err == nil {
			n++
		}
	}
	return n
}

// async reports whether call id is async.
func (l *ledgerLoad) async(id int64) bool { return l.asyncEvery > 0 && id%l.asyncEvery == 1 }

// syncAcked returns the number of sync calls acknowledged so far: those
// the actor has applied.
func (l *ledgerLoad) syncAcked() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := int64(0)
	for id, err := range l.told {
		if err == nil && !l.async(id) {
			n++
		}
	}
	return n
}

// waitAcked waits until at least n calls have been acknowledged.
func (l *ledgerLoad) waitAcked(t *testing.T, n int64) {
	t.Helper()
	l.waitCount(t, "acknowledged", l.acked, n)
}

// waitFailures waits until at least n calls have failed.
func (l *ledgerLoad) waitFailures(t *testing.T, n int64) {
	t.Helper()
	l.waitCount(t, "failed", l.failures, n)
}

func (l *ledgerLoad) waitCount(t *testing.T, what string, count func() int64, n int64) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d calls %s after %v, want %d", count(), what, waitTimeout, n)
		}
		time.Sleep(5 * time.Millisecond) // polling a count, not synchronising
	}
}

// toldNotApplied reports whether err says the call was not applied: a
// retryable code, or a cancellation the runtime knew to be before the
// call was applied or sent.
func toldNotApplied(err error) bool {
	var se *spawn.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code.Retryable() ||
		(se.Code == spawn.CodeCanceled && (strings.HasSuffix(se.Message, "it was not applied") || strings.HasSuffix(se.Message, "the call was not sent")))
}

// ledgerFigures sum up a checked load.
type ledgerFigures struct {
	calls, acked, asyncAcked, failed int
	// unackedApplied: calls whose caller was not told they were applied
	// (a deadline, a broken connection) that were applied once.
	unackedApplied int
	// lost: acknowledged calls not applied; twice: calls applied more
	// than once; wrong: calls applied though reported as not applied.
	lost, twice, wrong int
	codes              map[spawn.Code]int
	examples           map[spawn.Code]string
}

func (f ledgerFigures) String() string {
	codes := slices.Sorted(maps.Keys(f.codes))
	var b strings.Builder
	for _, c := range codes {
		fmt.Fprintf(&b, ", %d %v", f.codes[c], c)
	}
	return fmt.Sprintf("%d calls: %d acknowledged (%d async), %d failed (%s); %d unacknowledged applied once; acknowledged lost %d, applied twice %d, applied though reported not applied %d",
		f.calls, f.acked, f.asyncAcked, f.failed, strings.TrimPrefix(b.String(), ", "), f.unackedApplied, f.lost, f.twice, f.wrong)
}

// logExamples logs a message of each failure code seen.
func (f ledgerFigures) logExamples(t *testing.T) {
	t.Helper()
	for _, c := range slices.Sorted(maps.Keys(f.examples)) {
		t.Logf("calls failing with %v, e.g.: %s", c, f.examples[c])
	}
}

// check reads every ledger with read and checks each call against what
// its caller was told:
//
//   - acknowledged: applied exactly once;
//   - told it was not applied (toldNotApplied): not applied;
//   - anything else (outcome unknown, a cancellation that may have run):
//     applied at most once.
//
// Acknowledged calls may be applied after their acknowledgement (async
// calls, calls kept across a restart): check reads again, for up to
// waitTimeout, while some are missing.
func (l *ledgerLoad) check(t *testing.T, read func(ctx context.Context, actor string) ([]byte, error)) ledgerFigures {
	t.Helper()
	l.mu.Lock()
	told := maps.Clone(l.told)
	l.mu.Unlock()
	counts := make(map[string][]byte, l.actors)
	readAll := func() {
		for a := range l.actors {
			name := fmt.Sprint(l.prefix, a)
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			b, err := read(ctx, name)
			cancel()
			if err != nil {
				t.Fatalf("reading %s: %v", name, err)
			}
			counts[name] = b
		}
	}
	count := func(id int64) byte {
		actor, slot := l.place(id)
		if b := counts[actor]; int64(len(b)) > slot {
			return b[slot]
		}
		return 0
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		readAll()
		missing := 0
		for id, err := range told {
			if err == nil && count(id) == 0 {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // acknowledged calls still running
	}

	f := ledgerFigures{calls: len(told), codes: map[spawn.Code]int{}, examples: map[spawn.Code]string{}}
	bad := 0
	report := func(format string, args ...any) {
		if bad++; bad <= 20 {
			t.Errorf(format, args...)
		}
	}
	for id, err := range told {
		n := count(id)
		actor, slot := l.place(id)
		if n > 1 {
			f.twice++
		}
		if err != nil {
			f.failed++
			f.codes[spawn.CodeOf(err)]++
			if _, ok := f.examples[spawn.CodeOf(err)]; !ok {
				f.examples[spawn.CodeOf(err)] = err.Error()
			}
		}
		switch {
		case spawn.CodeOf(err) == spawn.CodeNotFound:
			report("call %d (%s slot %d): a ledger, an instance of a registered template, answered not found: %v", id, actor, slot, err)
		case err == nil:
			f.acked++
			if l.async(id) {
				f.asyncAcked++
			}
			if n == 0 {
				f.lost++
			}
			if n != 1 {
				report("call %d (%s slot %d) was acknowledged and applied %d times", id, actor, slot, n)
			}
		case toldNotApplied(err):
			if n != 0 {
				f.wrong++
				report("call %d (%s slot %d) was applied %d times, but its caller was told it was not: %v", id, actor, slot, n, err)
			}
		default:
			if n > 1 {
				report("call %d (%s slot %d) was applied %d times (caller told: %v)", id, actor, slot, n, err)
			}
			if n == 1 {
				f.unackedApplied++
			}
		}
	}
	// Nothing applied that nobody called.
	for actor, b := range counts {
		for slot, n := range b {
			var a int
			fmt.Sscanf(strings.TrimPrefix(actor, l.prefix), "%d", &a)
			id := l.id(a, int64(slot))
			if _, called := told[id]; n != 0 && !called {
				report("%s slot %d (call %d) applied %d times, and never called (or still running)", actor, slot, id, n)
			}
		}
	}
	if bad > 20 {
		t.Errorf("... %d problems in all", bad)
	}
	return f
}

// readLedger reads a ledger's counts through sys.
func readLedger(sys *spawn.System) func(ctx context.Context, actor string) ([]byte, error) {
	return func(ctx context.Context, actor string) ([]byte, error) {
		var st wrapperspb.BytesValue
		err := sys.State(ctx, "ledger", &st, spawn.Instance(actor))
		return st.GetValue(), err
	}
}

// heapInuse returns the bytes of heap in use after a full collection.
func heapInuse() uint64 {
	goruntime.GC()
	debug.FreeOSMemory()
	var m goruntime.MemStats
	goruntime.ReadMemStats(&m)
	return m.HeapInuse
}

// peakSampler records the largest HeapInuse seen while it runs.
type peakSampler struct {
	stop chan struct{}
	done chan struct{}
	peak uint64
}

func samplePeak() *peakSampler {
	p := &peakSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var m goruntime.MemStats
			goruntime.ReadMemStats(&m)
			p.peak = max(p.peak, m.HeapInuse)
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

func (p *peakSampler) end() uint64 {
	close(p.stop)
	<-p.done
	return p.peak
}

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// builtDir holds the spawn binary built for the suite, once per test run.
var (
	builtDir  string
	buildOnce sync.Once
	buildErr  error
)

// spawnBinary returns the path of the spawn command built from this
// package, building it at the first call.
func spawnBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("no go command to build spawn with: %w", err)
			return
		}
		if builtDir, buildErr = os.MkdirTemp("", "spawn-reliability-"); buildErr != nil {
			return
		}
		out, err := exec.Command(gobin, "build", "-buildvcs=false", "-o", filepath.Join(builtDir, "spawn"), ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(builtDir, "spawn")
}

// startSpawnProxy starts the built `spawn proxy` on port ("0": a free one)
// with extra flags, and waits until it listens.
func startSpawnProxy(t *testing.T, port, hostAddr, dataDir string, flags ...string) *proxyProc {
	t.Helper()
	args := append([]string{"proxy", "-port", port, "-host-addr", hostAddr, "-data-dir", dataDir}, flags...)
	p := start(t, "proxy", spawnBinary(t), args, childEnv())
	_, line := p.out.await(t, 0, hasPrefix(proxyListening))
	return &proxyProc{proc: p, port: strings.TrimPrefix(proxyURL(t, line), "http://127.0.0.1:")}
}

// helperEnv makes the test binary a program of the suite (see TestMain):
// "host" serves the Ledger to the proxy named by the environment, as any
// host program does; "embedded" runs the Ledger on the embedded runtime
// and calls it itself (embeddedLoadMain).
const helperEnv = "SPAWN_RELIABILITY_HELPER"

// startHelperHost starts this test binary as a host program serving the
// Ledger, registering with the proxy on proxyPort and listening on
// hostAddr.
func startHelperHost(t *testing.T, proxyPort, hostAddr string) *proc {
	t.Helper()
	host, port, _ := strings.Cut(hostAddr, ":")
	env := append(childEnv(), helperEnv+"=host",
		"PROXY_HTTP_HOST=127.0.0.1", "PROXY_HTTP_PORT="+proxyPort,
		"USER_FUNCTION_HOST="+host, "USER_FUNCTION_PORT="+port)
	return start(t, "host", os.Args[0], nil, env)
}

// helperMain runs the program mode names, and returns its exit status.
func helperMain(mode string) int {
	var err error
	switch mode {
	case "host":
		err = spawn.Run(&Ledger{})
	case "embedded":
		err = embeddedLoadMain()
	default:
		err = fmt.Errorf("unknown %s %q", helperEnv, mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	return 0
}

// testLogger logs warnings and errors to t.
func testLogger(t *testing.T) *zap.Logger {
	return zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
}

// lines calls f with each line read from r until r ends.
func lines(r io.Reader, f func(string)) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f(sc.Text())
	}
}
