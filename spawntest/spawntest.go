// Package spawntest runs actors in tests, with no proxy, no database and
// no sleeping.
//
// NewKit is the test kit: it runs the actors on the real embedded runtime
// with their state in memory and a fake clock. A test invokes them, presets
// and reads their state and tags, moves the clock to fire timers,
// snapshots, deactivations and delayed calls, and checks what the actions
// did: the calls each actor handled, the broadcasts, side effects, forwards
// and pipes their replies asked for.
//
// Start runs the actors on the embedded runtime with state in memory and
// the real clock; StartWithProxy registers them over real HTTP with a Spawn
// proxy that runs on loopback inside the test.
package spawntest

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/enginehook"
	"github.com/spawn-go/spawn/runtime"
	"github.com/spawn-go/spawn/state"
	"github.com/spawn-go/spawn/transport"
)

// Start runs the actors on the embedded runtime with an in-memory store
// and a logger that writes to t. The System stops when the test ends.
// Options may be passed among the actors, as with spawn.Start.
//
// Stopping waits at most SettleTimeout: an action still running then is
// reported as an error of the test, and left running.
func Start(t testing.TB, args ...any) *spawn.System {
	t.Helper()
	var engine atomic.Pointer[runtime.Engine]
	hook := enginehook.Option(enginehook.Hook{Started: func(e *runtime.Engine) { engine.Store(e) }})
	args = append([]any{spawn.WithEmbedded(), spawn.WithMemoryStore(), spawn.WithLogger(logger(t)), hook}, args...)
	return start(t, args, func() string { return busyActors(engine.Load()) })
}

// start starts the System of args, and stops it when the test ends; busy
// describes the actors at work, for a stop that does not finish.
func start(t testing.TB, args []any, busy func() string) *spawn.System {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sys, err := spawn.Start(ctx, args...)
	if err != nil {
		t.Fatalf("spawntest: starting actors: %v", err)
	}
	t.Cleanup(func() {
		if err := stopWithin(sys, busy); err != nil {
			t.Errorf("spawntest: stopping actors: %v", err)
		}
	})
	return sys
}

// stops holds the stop of each System under way, so that a second stop
// (the test's, then the cleanup's) waits for the first, which is still
// going when an action hangs, rather than start another.
var stops sync.Map // *spawn.System → *stopping

type stopping struct {
	done chan struct{}
	err  error
}

// stopWithin stops sys, waiting at most SettleTimeout. When an action is
// still running then, it returns an error naming the actors at work (as
// busy describes them) and leaves the stop going in the background.
func stopWithin(sys *spawn.System, busy func() string) error {
	limit := SettleTimeout
	st := &stopping{done: make(chan struct{})}
	if prev, loaded := stops.LoadOrStore(sys, st); loaded {
		st = prev.(*stopping)
	} else {
		go func() {
			defer close(st.done)
			// The runtime gets most of the time to finish in-flight work
			// and save state, and the rest to return once it gave up.
			// Shortly before it gives up, the actors still at work are
			// noted: once it has, they are no longer listed.
			var late atomic.Pointer[string]
			note := time.AfterFunc(limit*8/10, func() {
				b := busy()
				late.Store(&b)
			})
			ctx, cancel := context.WithTimeout(context.Background(), limit*9/10)
			defer cancel()
			err := sys.Stop(ctx)
			note.Stop()
			if b := late.Load(); err != nil && b != nil && *b != "" {
				err = fmt.Errorf("%w; still at work after %v: %s; is an action stuck, or calling itself synchronously?", err, limit*8/10, *b)
			}
			st.err = err
		}()
	}
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-st.done:
		return st.err
	case <-t.C:
	}
	what := "an action that ignores its context"
	if b := busy(); b != "" {
		what = b
	}
	return fmt.Errorf("the actors did not stop within SettleTimeout (%v): still at work: %s; is an action stuck, or calling itself synchronously?",
		limit, what)
}

// busyActors describes the actors of e that are handling or holding
// calls, or "" for none (and for a nil e).
func busyActors(e *runtime.Engine) string {
	if e == nil {
		return ""
	}
	var busy []string
	for _, a := range e.Activations() {
		if a.Busy > 0 || a.Mailbox > 0 {
			busy = append(busy, fmt.Sprintf("%s (%d busy, %d waiting)", a.Actor, a.Busy, a.Mailbox))
		}
	}
	return strings.Join(busy, ", ")
}

// Proxy is a Spawn runtime serving the proxy's HTTP API on loopback, as
// `spawn proxy` does, for tests of the path through a real proxy.
type Proxy struct {
	// Addr is where the proxy listens ("127.0.0.1:port").
	Addr string
	// HostAddr is where the proxy calls the host.
	HostAddr string
	// Store holds the proxy's state.
	Store state.Store

	engine *runtime.Engine
	server *transport.Server
}

// NewProxy starts a proxy with an in-memory store, for the system
// "spawn-system". It stops when the test ends.
func NewProxy(t testing.TB) *Proxy {
	t.Helper()
	return NewProxyWithStore(t, state.NewMemory())
}

// NewProxyWithStore starts a proxy on the given store, which it does not
// close, so a test can stop a proxy and start another on the same state.
func NewProxyWithStore(t testing.TB, store state.Store) *Proxy {
	t.Helper()
	hostAddr := FreeAddr(t)
	log := logger(t).Named("proxy")
	eng, err := runtime.New(runtime.Options{
		System: spawn.DefaultSystem,
		// nil: the transport's own client, whose idle pool is sized for
		// concurrent calls (a bare http.Client keeps 2 per host).
		Host:   transport.NewHostClient("http://"+hostAddr, nil),
		Store:  store,
		Logger: log,
	})
	if err != nil {
		t.Fatalf("spawntest: starting the runtime: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("spawntest: %v", err)
	}
	p := &Proxy{Addr: l.Addr().String(), HostAddr: hostAddr, Store: store, engine: eng, server: transport.NewProxyServer(eng, log)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.server.Serve(l)
	}()
	t.Cleanup(func() {
		p.Stop(t)
		<-done
	})
	return p
}

// Stop stops the proxy: the runtime saves every actor's state, then the
// HTTP server shuts down. Stopping twice is harmless.
func (p *Proxy) Stop(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.engine.Close(ctx); err != nil {
		t.Errorf("spawntest: closing the runtime: %v", err)
	}
	if err := p.server.Shutdown(ctx); err != nil {
		t.Errorf("spawntest: stopping the proxy: %v", err)
	}
}

// Options returns the options that make spawn.Start register with p.
func (p *Proxy) Options() []any {
	return []any{spawn.WithProxy(p.Addr), spawn.WithHostAddress(p.HostAddr)}
}

// StartWithProxy starts a Proxy and registers the actors with it over
// HTTP. Both stop when the test ends.
func StartWithProxy(t testing.TB, args ...any) (*spawn.System, *Proxy) {
	t.Helper()
	p := NewProxy(t)
	all := append(append([]any{spawn.WithLogger(logger(t))}, p.Options()...), args...)
	return start(t, all, func() string { return busyActors(p.engine) }), p
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("spawntest: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

func logger(t testing.TB) *zap.Logger {
	return zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
}
