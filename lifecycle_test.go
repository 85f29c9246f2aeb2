package spawn_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	goruntime "runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/testpb"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime"
	"github.com/spawn-go/spawn/spawntest"
	"github.com/spawn-go/spawn/state"
	"github.com/spawn-go/spawn/transport"
)

// TestRegistrationWaitsForTheProxy starts the host before the proxy: the
// host retries registration until the proxy answers.
func TestRegistrationWaitsForTheProxy(t *testing.T) {
	proxyAddr, hostAddr := spawntest.FreeAddr(t), spawntest.FreeAddr(t)
	retried := make(chan struct{})
	var once bool
	watch, _ := observer.New(zap.InfoLevel)
	log := zap.New(zapcore.NewTee(
		zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)).Core(),
		zapcore.RegisterHooks(watch, func(e zapcore.Entry) error {
			if strings.Contains(e.Message, "retrying registration") && !once {
				once = true
				close(retried)
			}
			return nil
		}),
	))

	type started struct {
		sys *spawn.System
		err error
	}
	done := make(chan started, 1)
	go func() {
		c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		sys, err := spawn.Start(c, &Counter{Events: make(events, 16)}, spawn.WithProxy(proxyAddr), spawn.WithHostAddress(hostAddr), spawn.WithLogger(log))
		done <- started{sys, err}
	}()
	select {
	case <-retried:
	case s := <-done:
		t.Fatalf("Start returned before the proxy existed: %v", s.err)
	}

	eng, err := runtime.New(runtime.Options{Host: transport.NewHostClient("http://"+hostAddr, &http.Client{}), Store: state.NewMemory(), Logger: log.Named("proxy")})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", proxyAddr)
	if err != nil {
		t.Fatal(err)
	}
	srv := transport.NewProxyServer(eng, log)
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(l) }()
	defer func() {
		_ = eng.Close(context.Background())
		_ = srv.Shutdown(context.Background())
		<-served
	}()

	s := <-done
	if s.err != nil {
		t.Fatal(s.err)
	}
	defer s.sys.Stop(context.Background())
	var total testpb.Total
	if err := s.sys.Invoke(ctx(t), "counter", "Add", &testpb.Add{Delta: 1}, &total); err != nil || total.Value != 1 {
		t.Fatalf("after a late registration: %v, %v", &total, err)
	}
}

func TestStartFailsCleanlyWithoutAProxy(t *testing.T) {
	c, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := spawn.Start(c, &Counter{}, spawn.WithProxy(spawntest.FreeAddr(t)), spawn.WithHostAddress(spawntest.FreeAddr(t)), spawn.WithLogger(zap.NewNop()))
	var se *spawn.Error
	if !errors.As(err, &se) || se.Code != spawn.CodeUnavailable || !strings.Contains(se.Message, "PROXY_HTTP_HOST") {
		t.Fatalf("got %v, want an unavailable error that says which variables to set", err)
	}
}

func TestInvalidActorsFailBeforeAnyNetworkIO(t *testing.T) {
	// No proxy listens there: validation must fail first, without retrying.
	_, err := spawn.Start(context.Background(), &twoHooks{}, spawn.WithProxy("127.0.0.1:1"), spawn.WithLogger(zap.NewNop()))
	var ve *spawn.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a *spawn.ValidationError", err)
	}
}

// TestStopLetsInFlightCallsFinish stops the system while an action runs:
// the action completes and its caller gets the answer.
func TestStopLetsInFlightCallsFinish(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		b := &barrier{n: 2, open: make(chan struct{})}
		w := &Worker{Barrier: b}
		sys := start(w)
		callDone := make(chan error, 1)
		go func() { callDone <- sys.Invoke(ctx(t), "worker", "Work", nil, nil) }()
		// Wait until the action is running: it has arrived at the barrier.
		for {
			b.mu.Lock()
			arrived := b.arrived
			b.mu.Unlock()
			if arrived == 1 {
				break
			}
			select {
			case err := <-callDone:
				t.Fatalf("call ended early: %v", err)
			case <-time.After(time.Millisecond):
			}
		}
		stopDone := make(chan error, 1)
		go func() { stopDone <- sys.Stop(ctx(t)) }()
		select {
		case err := <-stopDone:
			t.Fatalf("Stop returned while an action was running: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		close(b.open)
		if err := <-callDone; err != nil {
			t.Fatalf("the in-flight call failed: %v", err)
		}
		if err := <-stopDone; err != nil {
			t.Fatal(err)
		}
	})
}

// TestStateSurvivesARestart runs the embedded runtime on disk twice.
func TestStateSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	for round := int64(1); round <= 2; round++ {
		sys, err := spawn.Start(ctx(t), &Counter{Events: make(events, 16)}, spawn.WithEmbedded(), spawn.WithDataDir(dir), spawn.WithLogger(zap.NewNop()))
		if err != nil {
			t.Fatal(err)
		}
		var total testpb.Total
		err = sys.Invoke(ctx(t), "counter", "Add", &testpb.Add{Delta: 10}, &total)
		if stopErr := sys.Stop(ctx(t)); stopErr != nil {
			t.Fatal(stopErr)
		}
		if err != nil || total.Value != 10*round {
			t.Fatalf("round %d: total %d, %v; want %d", round, total.Value, err, 10*round)
		}
	}
}

// TestRunStopsOnSIGTERM runs Run as a main would, and stops it the way
// Kubernetes does.
func TestRunStopsOnSIGTERM(t *testing.T) {
	ev := make(events, 16)
	done := make(chan error, 1)
	go func() {
		done <- spawn.Run(&Counter{Events: ev}, spawn.WithEmbedded(), spawn.WithMemoryStore(), spawn.WithLogger(zap.NewNop()))
	}()
	// The counter's activation hook runs once Run has registered it, and
	// Run listens for signals from before that.
	await(t, ev, "init counter")
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after SIGTERM")
	}
}

// Checkpointer is an unnamed actor that saves every change at once.
type Checkpointer struct {
	spawn.Actor `spawn:"name=ledger,kind=unnamed"`
	State       *testpb.CounterState `spawn:"state"`
}

func (c *Checkpointer) Add(ctx *spawn.Context, in *testpb.Add) (spawn.Value, error) {
	c.State.Value += in.Delta
	return spawn.Reply(&testpb.Total{Value: c.State.Value}).Checkpoint(), nil
}

// TestSpawnRestoresARevision saves three revisions, restarts, and spawns
// the instance again at revision 2.
func TestSpawnRestoresARevision(t *testing.T) {
	dir := t.TempDir()
	start := func() *spawn.System {
		sys, err := spawn.Start(ctx(t), &Checkpointer{}, spawn.WithEmbedded(), spawn.WithDataDir(dir), spawn.WithLogger(zap.NewNop()))
		if err != nil {
			t.Fatal(err)
		}
		return sys
	}
	sys := start()
	if err := sys.Spawn(ctx(t), "ledger", "acct"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []int64{1, 10, 100} {
		if err := sys.Invoke(ctx(t), "acct", "Add", &testpb.Add{Delta: d}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := sys.Stop(ctx(t)); err != nil {
		t.Fatal(err)
	}

	sys = start()
	defer sys.Stop(ctx(t))
	if err := sys.Spawn(ctx(t), "ledger", "acct", spawn.Revision(2)); err != nil {
		t.Fatal(err)
	}
	var st testpb.CounterState
	if err := sys.State(ctx(t), "acct", &st); err != nil {
		t.Fatal(err)
	}
	if st.Value != 11 {
		t.Fatalf("restored value %d, want 11 (revision 2)", st.Value)
	}
	if err := sys.Spawn(ctx(t), "ledger", "acct", spawn.Revision(-1)); !isCode(err, spawn.CodeInvalid) {
		t.Fatalf("negative revision: %v", err)
	}
}

// TestProxyConnectionsAreReusedAndReleased makes rounds of concurrent calls
// through a proxy: the second round reuses the first round's connections,
// and Stop closes them.
func TestProxyConnectionsAreReusedAndReleased(t *testing.T) {
	const n = 8
	var (
		mu                sync.Mutex
		opened, closed    int
		arrived           = make(chan struct{}, n)
		release           = make(chan struct{})
		invokeResponse, _ = proto.Marshal(&protocol.InvocationResponse{Status: &protocol.RequestStatus{Status: protocol.Status_OK}})
	)
	proxy := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		mu.Lock()
		wait := release
		mu.Unlock()
		<-wait
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(invokeResponse)
	}))
	proxy.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch s {
		case http.StateNew:
			opened++
		case http.StateClosed, http.StateHijacked:
			closed++
		}
	}
	proxy.Start()
	defer proxy.Close()
	counts := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return opened, closed
	}

	// With no actors to host, Start only sets up the client.
	sys, err := spawn.Start(ctx(t), spawn.WithProxy(proxy.Listener.Addr().String()), spawn.WithLogger(zap.NewNop()))
	if err != nil {
		t.Fatal(err)
	}
	round := func() {
		t.Helper()
		mu.Lock()
		release = make(chan struct{})
		mu.Unlock()
		errs := make(chan error, n)
		for range n {
			go func() { errs <- sys.Invoke(ctx(t), "counter", "Add", nil, nil) }()
		}
		for range n { // all n calls are in flight at once
			<-arrived
		}
		mu.Lock()
		close(release)
		mu.Unlock()
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	}
	round()
	first, _ := counts()
	time.Sleep(50 * time.Millisecond) // let the connections go back to the idle pool
	round()
	if second, _ := counts(); second-first > 2 {
		t.Errorf("the second round of %d concurrent calls opened %d new connections after the first opened %d; want them reused", n, second-first, first)
	}

	if err := sys.Stop(ctx(t)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		o, c := counts()
		if o == c {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after Stop, %d of %d connections to the proxy are still open", o-c, o)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFailedStartFreesTheHostAddress fails to register, then listens on
// the host address again at once: Start must not return with the host
// endpoint still holding it.
func TestFailedStartFreesTheHostAddress(t *testing.T) {
	hostAddr := spawntest.FreeAddr(t)
	// One P, so the goroutine that serves the host endpoint gets no
	// chance to run, and to close its listener, unless Start waits for it.
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(1))
	for range 5 {
		c, cancel := context.WithCancel(context.Background())
		cancel() // registration fails at its first attempt
		_, err := spawn.Start(c, &Counter{}, spawn.WithProxy(spawntest.FreeAddr(t)), spawn.WithHostAddress(hostAddr), spawn.WithLogger(zap.NewNop()))
		if err == nil {
			t.Fatal("Start succeeded without a proxy")
		}
		l, err := net.Listen("tcp", hostAddr)
		if err != nil {
			t.Fatalf("after a failed Start: %v", err)
		}
		l.Close()
	}
}

// TestCallsAfterStop checks that every kind of call through a System that
// has stopped fails at once with CodeInvalid, saying so, on both backends.
func TestCallsAfterStop(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		sys := start(&Counter{Events: make(events, 16)}, &Session{})
		if err := sys.Invoke(ctx(t), "counter", "Add", &testpb.Add{Delta: 1}, nil); err != nil {
			t.Fatalf("before Stop: %v", err)
		}
		if err := sys.Stop(ctx(t)); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		calls := []struct {
			name string
			call func() error
		}{
			{"Invoke", func() error { return sys.Invoke(ctx(t), "counter", "Add", &testpb.Add{Delta: 1}, nil) }},
			{"Invoke async", func() error { return sys.Invoke(ctx(t), "counter", "Add", &testpb.Add{Delta: 1}, nil, spawn.Async()) }},
			{"Call", func() error { _, err := spawn.Call(ctx(t), sys, (*Counter).Add, &testpb.Add{Delta: 1}); return err }},
			{"State", func() error { return sys.State(ctx(t), "counter", &testpb.CounterState{}) }},
			{"Spawn", func() error { return sys.Spawn(ctx(t), "session", "s1") }},
			{"Revisions", func() error { _, err := sys.Revisions(ctx(t), "counter"); return err }},
		}
		for _, c := range calls {
			err := c.call()
			if spawn.CodeOf(err) != spawn.CodeInvalid || !strings.Contains(err.Error(), "the system has stopped") {
				t.Errorf("%s after Stop: %v (code %v), want CodeInvalid saying the system has stopped", c.name, err, spawn.CodeOf(err))
			}
		}
	})
}
