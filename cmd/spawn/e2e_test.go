//go:build unix

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/testpb"
)

// The end-to-end test runs what users run: `spawn proxy` in one process and
// a host program (testdata/e2ehost) in another, talking HTTP on loopback,
// with the test process invoking actors as a client-only spawn.System.
// Nothing is shared in memory, so every wait is on a line a child prints:
// the host reports what its actors do as "EVENT ..." lines on stdout, and
// the SDK's log lines on stderr say when it has registered.

// waitTimeout bounds each wait for another process to do something.
const waitTimeout = 10 * time.Second

// Lines the programs print that the test waits for.
const (
	proxyListening = "spawn proxy listening on"
	hostRegistered = `"spawn: actors registered"`
	hostLostProxy  = `"spawn: lost the proxy`
	hostProxyBack  = `"spawn: the proxy is back; actors registered again"`
)

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the proxy and a host program; skipped with -short")
	}
	bin := buildE2E(t)
	dataDir := t.TempDir()
	hostAddr := freeLoopbackAddr(t)

	proxy := startProxy(t, bin, "0", hostAddr, dataDir)
	host := startHost(t, bin, proxy.port, hostAddr)
	host.out.await(t, 0, contains(hostRegistered))
	sys := clientSystem(t, proxy.port)
	ctx := func(t *testing.T) context.Context {
		c, cancel := context.WithTimeout(context.Background(), waitTimeout)
		t.Cleanup(cancel)
		return c
	}
	// Steps share the processes and build on each other's state: stop at
	// the first failure rather than pile up consequences of it.
	step := func(name string, f func(t *testing.T)) {
		t.Helper()
		if !t.Run(name, f) {
			t.FailNow()
		}
	}

	step("sync invocations keep state", func(t *testing.T) {
		for i, want := range []int64{2, 4, 6} {
			var total testpb.Total
			if err := sys.Invoke(ctx(t), "counter", "Add", &testpb.Add{Delta: 2}, &total); err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
			if total.Value != want {
				t.Fatalf("call %d: total %d, want %d", i, total.Value, want)
			}
		}
		if got := counterState(t, ctx(t), sys).Value; got != 6 {
			t.Fatalf("state %d, want 6", got)
		}
	})

	step("an action error reaches the caller", func(t *testing.T) {
		err := sys.Invoke(ctx(t), "counter", "Fail", &testpb.Add{Delta: 7}, &testpb.Total{})
		var se *spawn.Error
		if !errors.As(err, &se) || se.Code != spawn.CodeAction || se.Message != "refusing 7" ||
			se.Actor != "counter" || se.Action != "Fail" {
			t.Fatalf("got %#v (%v), want a *spawn.Error with code %v and message %q", err, err, spawn.CodeAction, "refusing 7")
		}
		if got := counterState(t, ctx(t), sys).Value; got != 6 {
			t.Fatalf("state %d after a failed action, want 6: the failure must change nothing", got)
		}
	})

	step("timer action", func(t *testing.T) {
		// The clock is stateful, so the proxy activated it at
		// registration and its 50ms timer runs without any call.
		i, first := awaitTick(t, host, 0)
		_, second := awaitTick(t, host, i+1)
		if second <= first {
			t.Fatalf("tick n=%d after n=%d: the count must grow", second, first)
		}
	})

	step("broadcast reaches a channel subscriber", func(t *testing.T) {
		from := host.out.len()
		var out testpb.Text
		if err := sys.Invoke(ctx(t), "counter", "Publish", &testpb.Text{Text: "news-1"}, &out); err != nil || out.Text != "published" {
			t.Fatalf("publish: %v, %v", &out, err)
		}
		host.out.await(t, from, hasPrefix("EVENT heard text=news-1 caller=counter"))
	})

	step("side effect with a delay", func(t *testing.T) {
		const delay = 200 * time.Millisecond
		from := host.out.len()
		start := time.Now()
		var out testpb.Text
		err := sys.Invoke(ctx(t), "relay", "Effect", &testpb.Text{Text: "fx"}, &out, spawn.WithMetadata("delay", delay.String()))
		if err != nil || out.Text != "sent" {
			t.Fatalf("effect: %v, %v", &out, err)
		}
		host.out.await(t, from, hasPrefix("EVENT bump text=fx caller=relay"))
		// scheduled_to has millisecond resolution, hence the slack.
		if took := time.Since(start); took < delay-5*time.Millisecond {
			t.Fatalf("the effect ran %v after the call, before its %v delay", took, delay)
		}
	})

	step("forward and pipe", func(t *testing.T) {
		var total testpb.Total
		// Forward: the counter gets the relay's input, the caller its reply.
		if err := sys.Invoke(ctx(t), "relay", "Forward", &testpb.Add{Delta: 3}, &total); err != nil || total.Value != 9 {
			t.Fatalf("forward: %v, %v; want 9", &total, err)
		}
		// Pipe: the counter gets the relay's output (10 × 2).
		if err := sys.Invoke(ctx(t), "relay", "Pipe", &testpb.Add{Delta: 2}, &total); err != nil || total.Value != 29 {
			t.Fatalf("pipe: %v, %v; want 29", &total, err)
		}
	})

	step("unnamed actors", func(t *testing.T) {
		if err := sys.Spawn(ctx(t), "session", "s0"); err != nil {
			t.Fatal(err)
		}
		var total testpb.Total
		if err := sys.Invoke(ctx(t), "s0", "Add", &testpb.Add{Delta: 5}, &total); err != nil || total.Value != 5 {
			t.Fatalf("spawned s0: %v, %v; want 5", &total, err)
		}
		// register_ref: the first call spawns s1; instances share nothing.
		for _, want := range []int64{1, 2} {
			if err := sys.Invoke(ctx(t), "session", "Add", &testpb.Add{Delta: 1}, &total, spawn.Instance("s1")); err != nil || total.Value != want {
				t.Fatalf("s1 through register_ref: %v, %v; want %d", &total, err, want)
			}
		}
		var st testpb.CounterState
		if err := sys.State(ctx(t), "s1", &st); err != nil || !slices.Equal(st.Log, []string{"s1/session", "s1/session"}) {
			t.Fatalf("s1 state: %v, %v", &st, err)
		}
	})

	step("async and delayed calls", func(t *testing.T) {
		from := host.out.len()
		if err := sys.Invoke(ctx(t), "counter", "Bump", &testpb.Text{Text: "async"}, nil, spawn.Async()); err != nil {
			t.Fatal(err)
		}
		host.out.await(t, from, equals("EVENT bump text=async caller="))

		const delay = 150 * time.Millisecond
		from = host.out.len()
		start := time.Now()
		if err := sys.Invoke(ctx(t), "counter", "Bump", &testpb.Text{Text: "later"}, nil, spawn.Delay(delay)); err != nil {
			t.Fatal(err)
		}
		host.out.await(t, from, hasPrefix("EVENT bump text=later "))
		if took := time.Since(start); took < delay-5*time.Millisecond {
			t.Fatalf("the delayed call ran after %v, before its %v delay", took, delay)
		}
	})

	// The restart runs on the test's own goroutine, not in a subtest: the
	// new proxy must live as long as the test, not as long as a step.
	_, lastTick := awaitTick(t, host, host.out.len())
	// Stored durably by the proxy, and due while it is down or just after
	// it is back: either way the new proxy must run it.
	if err := sys.Invoke(ctx(t), "counter", "Bump", &testpb.Text{Text: "across"}, nil, spawn.Delay(time.Second)); err != nil {
		t.Fatal(err)
	}
	oldProxy := proxy
	oldProxy.stop(t) // SIGTERM: the proxy saves every actor's state
	lost, _ := host.out.await(t, 0, contains(hostLostProxy))
	if i, ok := host.out.find(0, hasPrefix("EVENT bump text=across ")); ok {
		t.Fatalf("the delayed call ran before the restart (host output line %d)", i)
	}
	proxy = startProxy(t, bin, proxy.port, hostAddr, dataDir)
	back, _ := host.out.await(t, lost, contains(hostProxyBack))

	step("state survived the restart", func(t *testing.T) {
		var total testpb.Total
		if err := sys.Invoke(ctx(t), "counter", "Add", &testpb.Add{Delta: 1}, &total); err != nil || total.Value != 30 {
			t.Fatalf("counter after the restart: %v, %v; want 30", &total, err)
		}
		// Spawned instances are not remembered across a restart (nor by
		// the real proxy): register_ref and Spawn bring them back, with
		// their state.
		if err := sys.Invoke(ctx(t), "session", "Add", &testpb.Add{Delta: 1}, &total, spawn.Instance("s1")); err != nil || total.Value != 3 {
			t.Fatalf("s1 after the restart: %v, %v; want 3", &total, err)
		}
		if err := sys.Spawn(ctx(t), "session", "s0"); err != nil {
			t.Fatal(err)
		}
		if err := sys.Invoke(ctx(t), "s0", "Add", &testpb.Add{Delta: 1}, &total); err != nil || total.Value != 6 {
			t.Fatalf("s0 after the restart: %v, %v; want 6", &total, err)
		}
	})

	step("timers and broadcasts work again", func(t *testing.T) {
		// Every line the old proxy caused precedes the host's "back" line,
		// so the first tick after it comes from the new proxy. Had the
		// clock's state been lost, it would count from 1 again.
		if _, n := awaitTick(t, host, back); n <= lastTick {
			t.Fatalf("first tick after the restart has n=%d, not above the n=%d seen before it: the clock's state was lost", n, lastTick)
		}
		from := host.out.len()
		if err := sys.Invoke(ctx(t), "counter", "Publish", &testpb.Text{Text: "news-2"}, nil); err != nil {
			t.Fatal(err)
		}
		host.out.await(t, from, hasPrefix("EVENT heard text=news-2 caller=counter"))
	})

	step("the delayed call from before the restart ran", func(t *testing.T) {
		host.out.await(t, 0, equals("EVENT bump text=across caller="))
		// The host printed the line while running Bump; the read below
		// queues behind Bump in the counter's mailbox, so it sees the result.
		want := []string{"fx", "async", "later", "across"}
		if st := counterState(t, ctx(t), sys); !slices.Equal(st.Log, want) {
			t.Fatalf("counter log %q, want %q", st.Log, want)
		}
	})

	step("both programs stop cleanly", func(t *testing.T) {
		// The proxy first: its clock would otherwise tick into a host
		// that is gone, and rightly log an error.
		proxy.stop(t)
		host.stop(t)
		for _, p := range []*proc{oldProxy.proc, proxy.proc, host} {
			if i, ok := p.out.find(0, contains(`"level":"error"`)); ok {
				t.Errorf("%s logged an error: %s", p.name, p.out.line(i))
			}
		}
	})
}

// counterState reads the counter's state through the proxy.
func counterState(t *testing.T, ctx context.Context, sys *spawn.System) *testpb.CounterState {
	t.Helper()
	var st testpb.CounterState
	if err := sys.State(ctx, "counter", &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

// awaitTick waits for a tick of the clock at or after line from, and
// returns the line's index and the tick count it reports.
func awaitTick(t *testing.T, host *proc, from int) (int, int64) {
	t.Helper()
	i, line := host.out.await(t, from, hasPrefix("EVENT tick "))
	var n int64
	var caller string
	if _, err := fmt.Sscanf(line, "EVENT tick n=%d caller=%s", &n, &caller); err != nil || caller != "clock" {
		t.Fatalf("tick line %q: want n=<count> caller=clock (%v)", line, err)
	}
	return i, n
}

// binaries are the programs under test, built for this test run.
type binaries struct{ proxy, host string }

// buildE2E builds `spawn` and the host program once, with one go command,
// so both come from the code under test and the build cache is shared.
func buildE2E(t *testing.T) binaries {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the programs with:", err)
	}
	dir := t.TempDir()
	// With -o naming a directory, each main package becomes a binary named
	// after its folder: spawn (this package) and e2ehost. No VCS stamping:
	// it needs git, and the test needs none of it.
	cmd := exec.Command(gobin, "build", "-buildvcs=false", "-o", dir+string(filepath.Separator), ".", "./testdata/e2ehost")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return binaries{proxy: filepath.Join(dir, "spawn"), host: filepath.Join(dir, "e2ehost")}
}

// proxyProc is a running `spawn proxy`.
type proxyProc struct {
	*proc
	port string
}

// startProxy starts `spawn proxy` on port ("0" for a free one) and waits
// until it listens.
func startProxy(t *testing.T, bin binaries, port, hostAddr, dataDir string) *proxyProc {
	t.Helper()
	p := start(t, "proxy", bin.proxy, []string{"proxy", "-port", port, "-host-addr", hostAddr, "-data-dir", dataDir}, childEnv())
	_, line := p.out.await(t, 0, hasPrefix(proxyListening))
	_, got, err := net.SplitHostPort(strings.TrimPrefix(proxyURL(t, line), "http://"))
	if err != nil {
		t.Fatalf("start line %q: %v", line, err)
	}
	if port != "0" && got != port {
		t.Fatalf("proxy listens on port %s, want %s", got, port)
	}
	return &proxyProc{proc: p, port: got}
}

// startHost starts the host program, registering with the proxy on
// proxyPort and listening on hostAddr, configured as in production: by
// the environment.
func startHost(t *testing.T, bin binaries, proxyPort, hostAddr string) *proc {
	t.Helper()
	h, p, err := net.SplitHostPort(hostAddr)
	if err != nil {
		t.Fatal(err)
	}
	env := append(childEnv(),
		"PROXY_HTTP_HOST=127.0.0.1", "PROXY_HTTP_PORT="+proxyPort,
		"USER_FUNCTION_HOST="+h, "USER_FUNCTION_PORT="+p)
	return start(t, "host", bin.host, nil, env)
}

// clientSystem returns a spawn.System that serves no actors and only calls
// them through the proxy on port.
func clientSystem(t *testing.T, port string) *spawn.System {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	sys, err := spawn.Start(ctx, spawn.WithProxy("127.0.0.1:"+port), spawn.WithLogger(zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := sys.Stop(ctx); err != nil {
			t.Errorf("stopping the client system: %v", err)
		}
	})
	return sys
}

// childEnv is the test's environment without the variables that configure
// Spawn programs, so that a developer's settings cannot leak into the
// children; each child gets its own on top. Both children log JSON, whose
// lines the test looks for.
func childEnv() []string {
	env := []string{"SPAWN_LOG=json"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PROXY_") || strings.HasPrefix(k, "USER_FUNCTION_") || strings.HasPrefix(k, "SPAWN_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// freeLoopbackAddr returns a loopback address whose port was free a moment
// ago. The proxy must know the host's address before the host starts.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// proc is a child process whose stdout and stderr go, interleaved in the
// order it wrote them, to out.
type proc struct {
	name     string
	cmd      *exec.Cmd
	out      *output
	exited   chan struct{} // closed once Wait has returned
	waitErr  error         // Wait's result, set before exited closes
	readDone chan struct{} // closed once all output has been read
}

// start starts a child that the test kills, if it is still running, when
// it ends; on failure the test's log gets the child's last lines.
func start(t *testing.T, name, bin string, args, env []string) *proc {
	t.Helper()
	// One pipe for both streams keeps the order of the child's writes,
	// which lets a log line on stderr serve as a barrier for the event
	// lines on stdout.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = w, w
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	w.Close() // the child has its copy; EOF comes when it exits
	p := &proc{name: name, cmd: cmd, out: newOutput(), exited: make(chan struct{}), readDone: make(chan struct{})}
	go func() {
		defer close(p.readDone)
		defer r.Close()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			p.out.add(sc.Text())
		}
		p.out.close()
	}()
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
		<-p.readDone
		if t.Failed() {
			p.out.dump(t, p.name)
		}
	})
	return p
}

// stop sends SIGTERM and expects a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	select {
	case <-p.exited:
		t.Fatalf("%s exited before it was stopped: %v", p.name, p.waitErr)
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("signalling %s: %v", p.name, err)
	}
	select {
	case <-p.exited:
	case <-time.After(waitTimeout):
		t.Fatalf("%s still running %v after SIGTERM", p.name, waitTimeout)
	}
	if p.waitErr != nil {
		t.Fatalf("%s exited after SIGTERM with %v", p.name, p.waitErr)
	}
}

// output is the lines a child printed so far; waiters are woken by each
// new line instead of polling.
type output struct {
	mu      sync.Mutex
	lines   []string
	eof     bool
	changed chan struct{} // closed, then replaced, at each new line and at EOF
}

func newOutput() *output { return &output{changed: make(chan struct{})} }

func (o *output) add(line string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lines = append(o.lines, line)
	close(o.changed)
	o.changed = make(chan struct{})
}

func (o *output) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.eof = true
	close(o.changed)
	o.changed = make(chan struct{})
}

// len returns the number of lines so far: the index the next line gets.
func (o *output) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.lines)
}

// line returns line i.
func (o *output) line(i int) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lines[i]
}

// find returns the first line at or after index from that matches.
func (o *output) find(from int, m matcher) (int, bool) {
	i, _, _, _ := o.scan(from, m)
	return i, i >= 0
}

// scan is find that also returns the line, whether the child's output has
// ended, and a channel closed at the next change.
func (o *output) scan(from int, m matcher) (int, string, bool, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := from; i < len(o.lines); i++ {
		if m.match(o.lines[i]) {
			return i, o.lines[i], o.eof, o.changed
		}
	}
	return -1, "", o.eof, o.changed
}

// await waits for a line at or after index from that matches, and returns
// its index and text. It fails the test if none comes within waitTimeout
// or the child's output ends first.
func (o *output) await(t *testing.T, from int, m matcher) (int, string) {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		i, line, eof, changed := o.scan(from, m)
		switch {
		case i >= 0:
			return i, line
		case eof:
			t.Fatalf("the output ended without %s (from line %d)", m.desc, from)
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("no %s after %v (from line %d)", m.desc, waitTimeout, from)
		}
	}
}

// dump logs the output, leaving out the clock's ticks, which would bury
// everything else.
func (o *output) dump(t *testing.T, name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t.Logf("--- %s: %d lines of output, ticks left out", name, len(o.lines))
	for i, l := range o.lines {
		if !strings.HasPrefix(l, "EVENT tick ") {
			t.Logf("%s %4d| %s", name, i, l)
		}
	}
}

// matcher selects the line a test waits for; desc names it in failures.
type matcher struct {
	desc  string
	match func(string) bool
}

func contains(s string) matcher {
	return matcher{"a line containing " + strconv.Quote(s), func(line string) bool { return strings.Contains(line, s) }}
}

func equals(s string) matcher {
	return matcher{"the line " + strconv.Quote(s), func(line string) bool { return line == s }}
}

func hasPrefix(s string) matcher {
	return matcher{"a line starting with " + strconv.Quote(s), func(line string) bool { return strings.HasPrefix(line, s) }}
}

// TestEndToEndQuickProxyRestart restarts the proxy the way a supervisor
// does, at once, with no gap for the host's once-a-second liveness check
// to notice. The new proxy knows no actors until the host registers again,
// so the host must find out that its proxy restarted, not only that it
// was unreachable for a while: each run of the proxy names itself in a
// response header, and the host registers again when the name changes.
func TestEndToEndQuickProxyRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the proxy and a host program; skipped with -short")
	}
	bin := buildE2E(t)
	dataDir := t.TempDir()
	hostAddr := freeLoopbackAddr(t)
	proxy := startProxy(t, bin, "0", hostAddr, dataDir)
	host := startHost(t, bin, proxy.port, hostAddr)
	registered, _ := host.out.await(t, 0, contains(hostRegistered))
	sys := clientSystem(t, proxy.port)
	var total testpb.Total
	if err := sys.Invoke(context.Background(), "counter", "Add", &testpb.Add{Delta: 1}, &total); err != nil {
		t.Fatal(err)
	}

	proxy.stop(t)
	startProxy(t, bin, proxy.port, hostAddr, dataDir)
	// The host sees a new proxy instance and registers again.
	host.out.await(t, registered, contains(hostProxyBack))
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := sys.Invoke(ctx, "counter", "Add", &testpb.Add{Delta: 1}, &total); err != nil {
		t.Fatalf("the host's actors after a quick restart: %v", err)
	}
	if total.Value != 2 {
		t.Fatalf("counter %d after the restart, want 2", total.Value)
	}
}
