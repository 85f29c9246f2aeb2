package spawn_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/testpb"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/spawntest"
)

// TestDeadlinesStayContextErrors checks that a call ended by its context
// says so: CodeCanceled, and errors.Is finds the context's error.
func TestDeadlinesStayContextErrors(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		b := &barrier{n: 100, open: make(chan struct{})} // never opens: too few callers
		defer close(b.open)
		sys := start(&Worker{Barrier: b})

		c, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		err := sys.Invoke(c, "worker", "Work", nil, nil)
		if !errors.Is(err, context.DeadlineExceeded) || spawn.CodeOf(err) != spawn.CodeCanceled {
			t.Fatalf("past its deadline: got %v (code %v), want CodeCanceled wrapping context.DeadlineExceeded", err, spawn.CodeOf(err))
		}
		if n := strings.Count(err.Error(), context.DeadlineExceeded.Error()); n != 1 {
			t.Errorf("past its deadline: %q says %q %d times, want once", err, context.DeadlineExceeded, n)
		}

		c, cancel = context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		err = sys.Invoke(c, "worker", "Work", nil, nil)
		if !errors.Is(err, context.Canceled) || spawn.CodeOf(err) != spawn.CodeCanceled {
			t.Fatalf("canceled: got %v (code %v), want CodeCanceled wrapping context.Canceled", err, spawn.CodeOf(err))
		}
		if n := strings.Count(err.Error(), context.Canceled.Error()); n != 1 {
			t.Errorf("canceled: %q says %q %d times, want once", err, context.Canceled, n)
		}
	})
}

func TestCodeOf(t *testing.T) {
	tests := []struct {
		err  error
		want spawn.Code
	}{
		{nil, spawn.CodeUnknown},
		{errors.New("plain"), spawn.CodeUnknown},
		{&spawn.Error{Code: spawn.CodeNotFound}, spawn.CodeNotFound},
		{errors.Join(errors.New("x"), &spawn.Error{Code: spawn.CodeAction}), spawn.CodeAction},
	}
	for _, tt := range tests {
		if got := spawn.CodeOf(tt.err); got != tt.want {
			t.Errorf("CodeOf(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// Gen is a generic actor: Call must resolve its methods whatever T is.
type Gen[T any] struct {
	spawn.Actor `spawn:"name=gen"`
	State       *testpb.CounterState `spawn:"state"`
	Unit        T
}

func (g *Gen[T]) Add(ctx *spawn.Context, in *testpb.Add) (*testpb.Total, error) {
	g.State.Value += in.Delta
	return &testpb.Total{Value: g.State.Value}, nil
}

// Publish returns a Value, whose reply type CallValue names.
func (g *Gen[T]) Publish(ctx *spawn.Context, in *testpb.Text) (spawn.Value, error) {
	return spawn.Reply(&testpb.Text{Text: "published " + in.Text}).Tag("last", in.Text), nil
}

func (g *Gen[T]) Status(ctx *spawn.Context) (spawn.Value, error) {
	return spawn.Reply(&testpb.Total{Value: g.State.Value}), nil
}

func TestCallGenericActorsAndValues(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		sys := start(&Gen[int]{})
		total, err := spawn.Call(ctx(t), sys, (*Gen[int]).Add, &testpb.Add{Delta: 3})
		if err != nil || total.Value != 3 {
			t.Fatalf("Call on a generic actor: %v, %v", total, err)
		}
		text, err := spawn.CallValue[*testpb.Text](ctx(t), sys, (*Gen[int]).Publish, &testpb.Text{Text: "x"})
		if err != nil || text.Text != "published x" {
			t.Fatalf("CallValue: %v, %v", text, err)
		}
		status, err := spawn.CallValueNoInput[*testpb.Total](ctx(t), sys, (*Gen[int]).Status)
		if err != nil || status.Value != 3 {
			t.Fatalf("CallValueNoInput: %v, %v", status, err)
		}
		_, err = spawn.CallValue[*testpb.Total](ctx(t), sys, (*Gen[int]).Publish, &testpb.Text{Text: "y"})
		if spawn.CodeOf(err) != spawn.CodeInvalid || !strings.Contains(err.Error(), "spawn.test.Text") {
			t.Fatalf("CallValue with the wrong reply type: %v, want CodeInvalid naming the reply's type", err)
		}
	})
}

// Camel names its actions the way callers in other languages do.
type Camel struct {
	spawn.Actor `spawn:"name=camel,action_names=lowerCamel"`
	_           spawn.Action `spawn:"method=HTTPGet,name=Fetch"`
}

func (c *Camel) SetLanguage(ctx *spawn.Context, in *testpb.Text) (*testpb.Text, error) {
	return &testpb.Text{Text: "set " + in.Text}, nil
}

func (c *Camel) HTTPGet(ctx *spawn.Context) (*testpb.Text, error) {
	return &testpb.Text{Text: "got"}, nil
}

func TestLowerCamelActionNames(t *testing.T) {
	reg, err := spawn.Registration("", &Camel{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range reg.GetActorSystem().GetRegistry().GetActors()["camel"].GetActions() {
		names = append(names, a.GetName())
	}
	if strings.Join(names, ",") != "Fetch,setLanguage" {
		t.Fatalf("registered actions %v, want Fetch (renamed by its field) and setLanguage", names)
	}
	sys := spawntest.Start(t, &Camel{})
	var out testpb.Text
	if err := sys.Invoke(ctx(t), "camel", "setLanguage", &testpb.Text{Text: "go"}, &out); err != nil || out.Text != "set go" {
		t.Fatalf("by wire name: %v, %v", &out, err)
	}
	if got, err := spawn.Call(ctx(t), sys, (*Camel).SetLanguage, &testpb.Text{Text: "py"}); err != nil || got.Text != "set py" {
		t.Fatalf("Call follows the wire name: %v, %v", got, err)
	}
}

func TestOtherSystemsAreNamedOrRefused(t *testing.T) {
	sys := spawntest.Start(t, &Counter{Events: make(events, 16)})
	err := sys.Invoke(ctx(t), "counter", "Add", &testpb.Add{Delta: 1}, nil, spawn.InSystem("elsewhere"))
	if spawn.CodeOf(err) != spawn.CodeProxy || !strings.Contains(err.Error(), `"elsewhere" is not served here`) {
		t.Fatalf("the embedded runtime must refuse another system clearly: %v", err)
	}
}

// TestWithMountServesOnTheUsersServer mounts the host endpoint on a mux
// that also serves the program's own routes.
func TestWithMountServesOnTheUsersServer(t *testing.T) {
	p := spawntest.NewProxy(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("mine")) })
	l, err := net.Listen("tcp", p.HostAddr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	sys, err := spawn.Start(ctx(t), &Counter{Events: make(events, 16)}, spawn.WithProxy(p.Addr), spawn.WithMount(mux.Handle), spawn.WithLogger(zap.NewNop()))
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Stop(context.Background())
	var total testpb.Total
	if err := sys.Invoke(ctx(t), "counter", "Add", &testpb.Add{Delta: 2}, &total); err != nil || total.Value != 2 {
		t.Fatalf("through the mounted endpoint: %v, %v", &total, err)
	}
	if sys.HostAddress() != nil {
		t.Errorf("HostAddress %v with WithMount, want nil", sys.HostAddress())
	}
	res, err := http.Get("http://" + p.HostAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("the program's own route answers %d", res.StatusCode)
	}
}

// TestPanicsLogOneReadableLine: a panicking action is logged as one error
// line that names where it panicked; the stack goes to debug.
func TestPanicsLogOneReadableLine(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	sys := spawntest.Start(t, &Counter{Events: make(events, 16)}, spawn.WithLogger(zap.New(core)))
	err := sys.Invoke(ctx(t), "counter", "Panic", nil, nil)
	if spawn.CodeOf(err) != spawn.CodeAction {
		t.Fatalf("Panic: %v", err)
	}
	// The caller learns what panicked, not where on the server.
	if msg := err.Error(); strings.Contains(msg, ".go:") || strings.Contains(msg, "spawn_test") {
		t.Errorf("the caller's error %q holds the server's file and line", msg)
	}
	entries := logs.FilterMessage("spawn: action panicked").All()
	if len(entries) != 1 {
		t.Fatalf("%d panic log entries, want 1", len(entries))
	}
	fields := entries[0].ContextMap()
	if at, _ := fields["at"].(string); !strings.Contains(at, "spawn_test.go:") {
		t.Errorf("the panic's location %q does not name the panicking line", at)
	}
	if _, ok := fields["stack"]; ok {
		t.Error("the error line carries the whole stack")
	}
}

// TestRunStopsCleanly runs a main written as the documentation says, in a
// child process, and stops it with SIGINT: it must exit 0 and print no
// error.
func TestRunStopsCleanly(t *testing.T) {
	if os.Getenv("SPAWN_TEST_RUN_MAIN") == "1" {
		documentedMain()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunStopsCleanly$")
	cmd.Env = append(os.Environ(), "SPAWN_TEST_RUN_MAIN=1", "SPAWN_LOG=info")
	var out childOutput
	cmd.Stdout, cmd.Stderr = &out, &out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Run installs its signal handler before it starts the actors.
	out.waitFor(t, "spawn: actors registered")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if err != nil || strings.Contains(out.String(), "<nil>") {
		t.Fatalf("a clean stop exited with %v and printed %q", err, out.String())
	}
}

// childOutput collects a child process's output, safe to read while the
// child writes.
type childOutput struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (o *childOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *childOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// waitFor waits until the output holds s: a child under a loaded machine
// may take seconds to start.
func (o *childOutput) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(o.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("the child never printed %q: %s", s, o.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// documentedMain is the main of the package documentation and the README.
func documentedMain() {
	if err := spawn.Run(&Counter{Events: make(events, 16)}, spawn.WithEmbedded(), spawn.WithMemoryStore()); err != nil {
		println(err.Error())
		os.Exit(1)
	}
	os.Exit(0)
}

// TestDocsUseTheCleanIdiom keeps log.Fatal(spawn.Run(…)), which prints
// "<nil>" and exits 1 on a clean stop, out of what users copy.
func TestDocsUseTheCleanIdiom(t *testing.T) {
	for _, f := range []string{"README.md", "doc.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "log.Fatal(spawn.Run(") {
			t.Errorf("%s shows log.Fatal(spawn.Run(…)); write if err := spawn.Run(…); err != nil { log.Fatal(err) }", f)
		}
	}
}

func TestCallerOnlyProgramsNeedAProxy(t *testing.T) {
	_, err := spawn.Start(ctx(t), spawn.WithEmbedded(), spawn.WithMemoryStore(), spawn.WithLogger(zap.NewNop()))
	if err == nil || !strings.Contains(err.Error(), "only calls actors") || !strings.Contains(err.Error(), "WithProxy") {
		t.Fatalf("Start with no actors and no proxy: %v, want an error that says to configure the proxy", err)
	}
}

func TestCallingATemplateNeedsAnInstance(t *testing.T) {
	sys := spawntest.Start(t, &Session{})
	_, err := spawn.Call(ctx(t), sys, (*Session).Add, &testpb.Add{Delta: 1})
	if spawn.CodeOf(err) != spawn.CodeInvalid || !strings.Contains(err.Error(), "spawn.Instance") {
		t.Fatalf("Call on an unnamed actor without Instance: %v", err)
	}
}

func TestACanceledCallIsNotSent(t *testing.T) {
	ev := make(events, 16)
	sys := spawntest.Start(t, &Counter{Events: ev})
	c, cancel := context.WithCancel(context.Background())
	cancel()
	err := sys.Invoke(c, "counter", "Add", &testpb.Add{Delta: 1}, nil)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "was not sent") {
		t.Fatalf("a call made with an ended context: %v", err)
	}
	var st testpb.CounterState
	if err := sys.State(ctx(t), "counter", &st); err != nil || st.Value != 0 {
		t.Fatalf("state %v, %v: the call must not have run", &st, err)
	}
}

func TestUnknownActionSuggestsTheNearest(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		sys := start(&Camel{})
		err := sys.Invoke(ctx(t), "camel", "SetLanguage", &testpb.Text{Text: "go"}, nil)
		if spawn.CodeOf(err) != spawn.CodeNotFound || !strings.Contains(err.Error(), `did you mean "setLanguage"?`) {
			t.Fatalf("a near miss: %v", err)
		}
	})
}

func TestValidateRefusesOptions(t *testing.T) {
	err := spawn.Validate(&Counter{}, spawn.WithSystem("x"))
	if err == nil || !strings.Contains(err.Error(), "Validate takes actors only") {
		t.Fatalf("Validate with an option: %v", err)
	}
}

func TestZeroActorIDPrints(t *testing.T) {
	if got := (spawn.ActorID{}).String(); got != "(no actor)" {
		t.Fatalf("zero ActorID prints %q", got)
	}
}

// Stuck is an actor whose activation never ends, to stop Run while a call
// is in flight.
type Stuck struct {
	spawn.Actor `spawn:"name=stuck,stateful"`
	State       *testpb.CounterState `spawn:"state"`
}

func (s *Stuck) Init(ctx *spawn.Context) error { select {} }

// TestASecondSignalStopsAtOnce: the first SIGINT waits for calls in
// flight; the second stops without them.
func TestASecondSignalStopsAtOnce(t *testing.T) {
	if os.Getenv("SPAWN_TEST_RUN_STUCK") == "1" {
		err := spawn.Run(&Stuck{}, spawn.WithEmbedded(), spawn.WithMemoryStore(), spawn.WithStopTimeout(time.Hour))
		println("run returned", err != nil)
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestASecondSignalStopsAtOnce$")
	cmd.Env = append(os.Environ(), "SPAWN_TEST_RUN_STUCK=1", "SPAWN_LOG=info")
	var out childOutput
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	out.waitFor(t, "spawn: actors registered")
	cmd.Process.Signal(syscall.SIGINT)
	out.waitFor(t, "a second Ctrl-C stops at once")
	select {
	case <-exited:
		t.Fatalf("Run stopped at the first signal with a call in flight: %s", out.String())
	case <-time.After(time.Second):
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("Run did not stop at the second signal: %s", out.String())
	}
	if !strings.Contains(out.String(), "a second Ctrl-C stops at once") || !strings.Contains(out.String(), "stopping at once") {
		t.Fatalf("the log does not say what happens: %s", out.String())
	}
}

// TestBadRequestTimeoutIsInvalid checks that a call whose request-timeout
// metadata is not a time limit fails with CodeInvalid, on both backends.
func TestBadRequestTimeoutIsInvalid(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		sys := start(&Counter{Events: make(events, 16)})
		err := sys.Invoke(ctx(t), "counter", "Add", &testpb.Add{Delta: 1}, nil, spawn.WithMetadata(protocol.RequestTimeoutKey, "abc"))
		if spawn.CodeOf(err) != spawn.CodeInvalid || !strings.Contains(err.Error(), `request-timeout="abc"`) {
			t.Fatalf("got %v (code %v), want CodeInvalid naming the value", err, spawn.CodeOf(err))
		}
	})
}
