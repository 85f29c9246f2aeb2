package spawn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"reflect"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/reflectx"
	"github.com/spawn-go/spawn/registry"
	"github.com/spawn-go/spawn/runtime"
	"github.com/spawn-go/spawn/state"
	"github.com/spawn-go/spawn/transport"
)

// Version is the version of this SDK, sent to the proxy at registration.
const Version = "0.1.0"

// spawnTypes tell the registry and reflectx which types are this package's.
var spawnTypes = reflectx.Types{
	Actor:   reflect.TypeFor[Actor](),
	Action:  reflect.TypeFor[Action](),
	Context: reflect.TypeFor[Context](),
	Tick:    reflect.TypeFor[Tick](),
	Value:   reflect.TypeFor[Value](),
}

// Run starts the actors, serves them until the program gets SIGINT or
// SIGTERM, then stops gracefully: in-flight invocations finish and, on
// the embedded runtime, state is saved. Options may be passed among the
// actors. Run returns nil after a clean stop, so a main reads:
//
//	func main() {
//		if err := spawn.Run(&Joe{}); err != nil {
//			log.Fatal(err)
//		}
//	}
//
// A second signal while it stops stops at once, without waiting for the
// calls still running.
func Run(args ...any) error {
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-signals:
			cancel()
		case <-ctx.Done():
		}
	}()

	sys, err := Start(ctx, args...)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped by a signal while starting: nothing to report
		}
		return err
	}
	var serveErr error
	select {
	case <-ctx.Done():
		sys.log.Info("spawn: stopping; waiting for the calls in flight (a second Ctrl-C stops at once)",
			zap.String("system", sys.cfg.system), zap.Duration("at_most", sys.cfg.stopTimeout))
	case serveErr = <-sys.serveErr:
	}
	sctx, scancel := context.WithTimeout(context.Background(), sys.cfg.stopTimeout)
	defer scancel()
	go func() {
		select {
		case <-signals:
			sys.log.Warn("spawn: stopping at once")
			scancel()
		case <-sctx.Done():
		}
	}()
	err = errors.Join(serveErr, sys.Stop(sctx))
	if err == nil {
		sys.log.Info("spawn: stopped", zap.String("system", sys.cfg.system))
	}
	return err
}

// Validate checks actor definitions the way Start does, without starting
// anything. Use it in a test to catch definition mistakes early:
//
//	if err := spawn.Validate(&Joe{}); err != nil { t.Fatal(err) }
func Validate(actors ...any) error {
	for i, a := range actors {
		if _, ok := a.(Option); ok {
			return &ValidationError{Problems: []Problem{{Where: fmt.Sprintf("argument %d", i+1),
				Msg: "Validate takes actors only; options go to Start and Run"}}}
		}
	}
	_, err := registry.Build(spawnTypes, actors)
	return validationError(err)
}

// Registration returns the RegistrationRequest that Start would send to
// the proxy for actors in the actor system named system (DefaultSystem
// when empty), for golden tests and tooling. It validates the actors as
// Start does and fails with the same *ValidationError; it starts nothing.
func Registration(system string, actors ...any) (*protocol.RegistrationRequest, error) {
	if system == "" {
		system = DefaultSystem
	}
	table, err := registry.Build(spawnTypes, actors)
	if err != nil {
		return nil, validationError(err)
	}
	return table.Registration(system, serviceInfo()), nil
}

func serviceInfo() *protocol.ServiceInfo {
	return &protocol.ServiceInfo{
		ServiceName:           "spawn-go",
		ServiceVersion:        Version,
		ServiceRuntime:        "go",
		SupportLibraryName:    "spawn-go",
		SupportLibraryVersion: Version,
		ProtocolMajorVersion:  protocol.MajorVersion,
		ProtocolMinorVersion:  protocol.MinorVersion,
	}
}

// System is a running set of actors: registered with a Spawn proxy, or
// served by the embedded runtime. Use it to invoke actors and to stop.
type System struct {
	cfg  config
	log  *zap.Logger
	host *host
	back backend

	// With a proxy: the client that calls it, the host endpoint it calls,
	// and the watch that registers again after the proxy restarts.
	client    *transport.ProxyClient
	server    *transport.Server
	hostAddr  net.Addr
	serveErr  chan error
	served    chan struct{} // closed when the host endpoint's Serve returned
	stopWatch context.CancelFunc
	watchDone chan struct{}

	// Embedded: the runtime and its store, and the function that stops
	// reading its mailboxes for the metrics.
	engine      *runtime.Engine
	store       state.Store
	stopMetrics func() error

	// now is the time delayed calls count from: the runtime's clock.
	now func() time.Time

	// The JSON activator's listener, with WithActivator.
	act *activatorServer
	// The dashboard's, with WithDashboard.
	dash *dashboardServer

	stopOnce sync.Once
	stopErr  error
	// stopped is set once Stop has returned: calls then fail at once with
	// a message saying so, rather than with whatever the closed runtime
	// or client would make of them.
	stopped atomic.Bool
}

// Start validates the actors, starts serving them and registers them, then
// returns. ctx bounds start-up only: registration is retried while the
// proxy is unreachable until ctx ends. The System runs until Stop.
//
// With no actors, Start returns a System that only calls actors served
// elsewhere.
func Start(ctx context.Context, args ...any) (*System, error) {
	var actors []any
	var opts []Option
	for _, a := range args {
		if o, ok := a.(Option); ok {
			opts = append(opts, o)
			continue
		}
		actors = append(actors, a)
	}
	cfg, err := loadConfig(os.Getenv, opts)
	if err != nil {
		return nil, err
	}
	table, err := registry.Build(spawnTypes, actors)
	if err != nil {
		return nil, validationError(err)
	}
	if len(actors) == 0 && cfg.mode != modeProxy {
		return nil, fmt.Errorf("spawn: Start with no actors makes a program that only calls actors, and it needs the proxy that serves them: set %s and %s, or pass WithProxy; the embedded runtime serves only the actors given to Start, in this process",
			protocol.EnvProxyHost, protocol.EnvProxyPort)
	}
	s := &System{cfg: cfg, log: cfg.logger, serveErr: make(chan error, 1), now: time.Now}
	s.host = &host{table: table, sys: s, log: s.log}
	reg := table.Registration(cfg.system, serviceInfo())
	if err := s.prepareDashboard(); err != nil {
		return nil, err
	}
	if cfg.mode == modeProxy {
		err = s.startWithProxy(ctx, reg)
	} else {
		err = s.startEmbedded(ctx, reg)
	}
	if err != nil {
		_ = s.stopDashboard(ctx)
		return nil, err
	}
	if err := errors.Join(s.startActivator(), s.startDashboard()); err != nil {
		_ = s.Stop(ctx)
		return nil, err
	}
	for _, d := range table.Definitions() {
		for _, w := range d.Warnings {
			s.log.Warn("spawn: "+w, zap.String("actor", d.Name))
		}
	}
	switch {
	case len(actors) == 0:
		s.log.Info("spawn: calling actors through the proxy", zap.String("system", cfg.system), zap.String("proxy", cfg.proxyAddr))
	case s.Embedded():
		if cfg.mount != nil {
			s.log.Warn("spawn: WithMount is not used: the embedded runtime calls the actors in this process, with no HTTP")
		}
		s.log.Info("spawn: actors registered", zap.String("system", cfg.system), zap.Strings("actors", table.Names()), zap.String("on", "the embedded runtime"))
	default:
		s.log.Info("spawn: actors registered", zap.String("system", cfg.system), zap.Strings("actors", table.Names()), zap.String("on", "the proxy at "+cfg.proxyAddr))
	}
	return s, nil
}

// Stop stops serving. In-flight invocations finish first, as far as ctx
// allows; on the embedded runtime every actor is deactivated and its state
// saved. Stop is safe to call more than once. Calls through s after Stop
// fail with CodeInvalid, saying that the system has stopped.
func (s *System) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		if s.stopWatch != nil {
			s.stopWatch()
			<-s.watchDone
		}
		errs := []error{s.stopActivator(ctx), s.stopDashboard(ctx)}
		if s.server != nil {
			errs = append(errs, s.server.Shutdown(ctx))
			<-s.served
		}
		if s.client != nil {
			s.client.CloseIdleConnections()
		}
		if s.engine != nil {
			errs = append(errs, s.engine.Close(ctx))
		}
		if s.stopMetrics != nil {
			_ = s.stopMetrics()
		}
		if s.store != nil {
			errs = append(errs, s.store.Close())
		}
		_ = s.log.Sync()
		s.stopErr = errors.Join(errs...)
		s.stopped.Store(true)
	})
	return s.stopErr
}

// stoppedError is the error of a call made through s after Stop, or nil.
func (s *System) stoppedError(actor, action string) *Error {
	if !s.stopped.Load() {
		return nil
	}
	return &Error{Code: CodeInvalid, Actor: actor, Action: action,
		Message: "the system has stopped: make calls before Stop, or Start a new System"}
}

// Name returns the actor system's name.
func (s *System) Name() string { return s.cfg.system }

// Embedded reports whether the actors run on the embedded runtime, in
// this process, rather than with a Spawn proxy.
func (s *System) Embedded() bool { return s.engine != nil }

// HostAddress returns the address the host endpoint listens on, or nil
// when it has none: on the embedded runtime, in a System that only calls
// actors, and with WithMount.
func (s *System) HostAddress() net.Addr { return s.hostAddr }
