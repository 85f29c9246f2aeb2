package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
	"github.com/spawn-go/spawn/internal/golden"
	"github.com/spawn-go/spawn/spawntest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitTimeout bounds each wait for the child process to do something.
const waitTimeout = 20 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

func TestActorsAreValid(t *testing.T) {
	if err := spawn.Validate(&Greeter{}, &Visits{}); err != nil {
		t.Fatal(err)
	}
}

func TestRegistrationGolden(t *testing.T) {
	golden.CheckRegistration(t, spawn.DefaultSystem, &Greeter{}, &Visits{})
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"nothing set", nil, []string{
			"serves the actors greeter and visits of the actor system spawn-system;",
			"runs them on the embedded runtime, in this process",
			"stops on SIGINT (Ctrl-C) or SIGTERM.",
		}},
		{"as the Spawn operator sets it", map[string]string{
			"SPAWN_PROXY_INTERFACE": "0.0.0.0", "SPAWN_PROXY_PORT": "9001", "PROXY_ACTOR_SYSTEM_NAME": "shop",
		}, []string{
			"the actor system shop;",
			// The sidecar shares the pod's loopback: the host listens there.
			"registers them with the Spawn proxy named by SPAWN_PROXY_INTERFACE=0.0.0.0, SPAWN_PROXY_PORT=9001 and listens for it on 127.0.0.1:8090;",
		}},
		{"a port only", map[string]string{"PROXY_HTTP_PORT": "9001"}, []string{
			"named by PROXY_HTTP_PORT=9001 and listens for it on 127.0.0.1:8090;",
		}},
		{"a loopback proxy", map[string]string{"PROXY_HTTP_HOST": "::1"}, []string{
			"listens for it on 127.0.0.1:8090;",
		}},
		{"as docker compose sets it", map[string]string{
			"PROXY_HTTP_HOST": "proxy", "PROXY_HTTP_PORT": "9001", "USER_FUNCTION_PORT": "8091",
		}, []string{
			// A proxy elsewhere reaches the host on every interface.
			"named by PROXY_HTTP_HOST=proxy, PROXY_HTTP_PORT=9001 and listens for it on 0.0.0.0:8091;",
		}},
		{"USER_FUNCTION_HOST wins", map[string]string{
			"PROXY_HTTP_HOST": "127.0.0.1", "USER_FUNCTION_HOST": "0.0.0.0",
		}, []string{
			"listens for it on 0.0.0.0:8090;",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := describe(func(k string) string { return tt.env[k] })
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("describe printed\n%s\nwhich lacks %q", got, w)
				}
			}
		})
	}
}

// TestDescribeAsTheGuideShowsIt checks the descriptions the deployment
// guide shows: on a developer's machine, and as the Spawn operator
// configures the host.
func TestDescribeAsTheGuideShowsIt(t *testing.T) {
	for file, env := range map[string]map[string]string{
		"embedded.txt": nil,
		"operator.txt": {"SPAWN_PROXY_INTERFACE": "0.0.0.0", "SPAWN_PROXY_PORT": "9001", "PROXY_ACTOR_SYSTEM_NAME": "spawn-system"},
	} {
		checkGolden(t, file, describe(func(k string) string { return env[k] })+"\n")
	}
}

// checkGolden compares got with testdata/file, which -update rewrites.
func checkGolden(t *testing.T, file, got string) {
	t.Helper()
	path := filepath.Join("testdata", file)
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; run go test -update to create it", err)
	}
	if got != string(want) {
		t.Errorf("got\n%s\nwant (%s)\n%s", got, path, want)
	}
}

// TestServesWithProxy runs the program as it runs in a deployment: a
// separate process, configured by the environment, registering with a
// proxy, and stopped by SIGTERM.
func TestServesWithProxy(t *testing.T) {
	bin := build(t)
	proxy := spawntest.NewProxy(t)
	_, port, err := net.SplitHostPort(proxy.HostAddr)
	if err != nil {
		t.Fatal(err)
	}
	// No USER_FUNCTION_HOST: with its proxy on loopback, the host listens
	// on loopback too, where this proxy calls it.
	server := start(t, bin, childEnv(append(proxyEnv(t, proxy.Addr), "USER_FUNCTION_PORT="+port)...))

	reg := server.awaitLog(t, "spawn: actors registered")
	checkRegistered(t, reg, "the proxy at "+proxy.Addr)
	if got := server.awaitLog(t, "spawn: registered with the proxy")["host"]; got != proxy.HostAddr {
		t.Errorf("the host listens on %v, want %s: loopback, since the proxy is on loopback", got, proxy.HostAddr)
	}

	// The command the deployment guide uses to check a deployment: the
	// first greeting, as the guide shows it.
	cmd := exec.Command(bin, "greet", "ana")
	cmd.Env = childEnv()
	out, err := cmd.Output()
	if err == nil {
		t.Fatalf("server greet without a proxy in its environment succeeded, printing %q", out)
	}
	cmd = exec.Command(bin, "greet", "ana")
	cmd.Env = childEnv(proxyEnv(t, proxy.Addr)...)
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("server greet ana: %v\n%s", err, stderrOf(err))
	}
	checkGolden(t, "greet.txt", string(out))

	// A client that serves no actors calls them through the proxy, as
	// other programs in the cluster would.
	ctx := testContext(t)
	client, err := spawn.Start(ctx, spawn.WithProxy(proxy.Addr), spawn.WithLogger(zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := client.Stop(testContext(t)); err != nil {
			t.Errorf("stopping the client: %v", err)
		}
	}()
	for i, name := range []string{"bo", "cy"} {
		g, err := spawn.Call(ctx, client, (*Greeter).Greet, &domain.Hello{Name: name})
		if err != nil {
			t.Fatalf("greeting %s: %v", name, err)
		}
		if want := fmt.Sprintf("Hello, %s! You are visitor number %d.", name, i+2); g.Text != want {
			t.Fatalf("greeting %s: %q, want %q", name, g.Text, want)
		}
	}

	var st domain.CounterState
	if err := client.State(ctx, "visits", &st); err != nil || st.Value != 3 {
		t.Fatalf("visits state through the proxy: %v, %v; want 3", &st, err)
	}

	server.stop(t)
	checkDescription(t, server, "registers them with the Spawn proxy named by PROXY_HTTP_HOST=127.0.0.1, PROXY_HTTP_PORT=", "listens for it on "+proxy.HostAddr+";")
}

// TestServesEmbedded runs the same program with no proxy in its
// environment: it serves the actors itself, until SIGTERM.
func TestServesEmbedded(t *testing.T) {
	bin := build(t)
	server := start(t, bin, childEnv("SPAWN_DATA_DIR="+t.TempDir()))
	checkRegistered(t, server.awaitLog(t, "spawn: actors registered"), "the embedded runtime")
	server.stop(t)
	checkDescription(t, server, "runs them on the embedded runtime")
}

// checkRegistered checks the SDK's log line saying which actors it
// registered, and where.
func checkRegistered(t *testing.T, line map[string]any, on string) {
	t.Helper()
	if line["system"] != spawn.DefaultSystem || line["on"] != on {
		t.Errorf("registered in system %v on %v, want %s on %s", line["system"], line["on"], spawn.DefaultSystem, on)
	}
	var actors []string
	if list, ok := line["actors"].([]any); ok {
		for _, a := range list {
			actors = append(actors, fmt.Sprint(a))
		}
	}
	// describe names them too: this keeps its words true.
	if slices.Sort(actors); !slices.Equal(actors, []string{"greeter", "visits"}) {
		t.Errorf("registered actors %q, want greeter and visits", actors)
	}
}

// checkDescription checks what the program printed about itself, once it
// has exited.
func checkDescription(t *testing.T, p *proc, want ...string) {
	t.Helper()
	got := p.stdout.String()
	for _, w := range append([]string{"serves the actors greeter and visits of the actor system spawn-system"}, want...) {
		if !strings.Contains(got, w) {
			t.Errorf("the server printed\n%s\nwhich lacks %q", got, w)
		}
	}
}

// build builds the program once per test.
func build(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the program; skipped with -short")
	}
	if runtime.GOOS == "windows" {
		t.Skip("stops the program with SIGTERM, which Windows does not have")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the program with:", err)
	}
	bin := filepath.Join(t.TempDir(), "server")
	// No VCS stamping: it needs git, and the test needs none of it.
	if out, err := exec.Command(gobin, "build", "-buildvcs=false", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proxyEnv names the proxy at addr as the program reads it.
func proxyEnv(t *testing.T, addr string) []string {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return []string{"PROXY_HTTP_HOST=" + host, "PROXY_HTTP_PORT=" + port}
}

// childEnv is the test's environment without the variables that
// configure Spawn programs, so that a developer's settings cannot leak
// into the child, plus SPAWN_LOG=json, which the test reads, and vars.
func childEnv(vars ...string) []string {
	env := []string{"SPAWN_LOG=json"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PROXY_") || strings.HasPrefix(k, "USER_FUNCTION_") || strings.HasPrefix(k, "SPAWN_") || k == "KUBERNETES_SERVICE_HOST" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, vars...)
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}

// proc is the running program. What it prints goes to stdout; the SDK
// logs JSON lines to stderr.
type proc struct {
	cmd    *exec.Cmd
	stdout syncBuffer
	stderr lines
	exited chan struct{} // closed once Wait has returned
	err    error         // Wait's result, set before exited closes
}

// start starts the program with env; the test kills it, if it is still
// running, when it ends, and logs its output if the test failed.
func start(t *testing.T, bin string, env []string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin), exited: make(chan struct{})}
	p.stderr.changed = make(chan struct{})
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("server stdout:\n%s\nserver stderr:\n%s", p.stdout.String(), strings.Join(p.stderr.all(), "\n"))
		}
	})
	return p
}

// awaitLog waits for the log line whose message is msg and returns it
// decoded.
func (p *proc) awaitLog(t *testing.T, msg string) map[string]any {
	t.Helper()
	deadline := time.After(waitTimeout)
	for i := 0; ; {
		line, changed, ok := p.stderr.line(i)
		if ok {
			i++
			var entry map[string]any
			if json.Unmarshal([]byte(line), &entry) == nil && entry["msg"] == msg {
				return entry
			}
			continue
		}
		select {
		case <-changed:
		case <-p.exited:
			// Its last lines may still be on their way: look once more.
			if _, _, ok := p.stderr.line(i); !ok {
				t.Fatalf("the server exited (%v) without logging %q", p.err, msg)
			}
		case <-deadline:
			t.Fatalf("the server logged no %q within %v", msg, waitTimeout)
		}
	}
}

// stop sends SIGTERM and expects a clean exit, status 0, with no error
// logged.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	select {
	case <-p.exited:
		t.Fatalf("the server exited before it was stopped: %v", p.err)
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(waitTimeout):
		t.Fatalf("the server still runs %v after SIGTERM", waitTimeout)
	}
	if p.err != nil {
		t.Fatalf("after SIGTERM the server exited with %v, want status 0", p.err)
	}
	for _, l := range p.stderr.all() {
		if strings.Contains(l, `"level":"error"`) {
			t.Errorf("the server logged an error: %s", l)
		}
	}
}

// syncBuffer is a strings.Builder safe for the goroutine that copies the
// child's output and the test reading it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lines collects what is written to it as lines, and wakes waiters at
// each new one instead of letting them poll.
type lines struct {
	mu      sync.Mutex
	partial []byte
	done    []string
	changed chan struct{} // closed, then replaced, at each new line
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	added := false
	for {
		i := slices.Index(l.partial, '\n')
		if i < 0 {
			break
		}
		l.done = append(l.done, string(l.partial[:i]))
		l.partial = l.partial[i+1:]
		added = true
	}
	if added {
		close(l.changed)
		l.changed = make(chan struct{})
	}
	return len(p), nil
}

// line returns line i if it has been written, and otherwise a channel
// closed at the next line.
func (l *lines) line(i int) (string, <-chan struct{}, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i < len(l.done) {
		return l.done[i], nil, true
	}
	return "", l.changed, false
}

func (l *lines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		return append(slices.Clone(l.done), string(l.partial))
	}
	return slices.Clone(l.done)
}
