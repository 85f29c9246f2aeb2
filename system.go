package spawn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/internal/dispatch"
	"github.com/spawn-go/spawn/internal/registry"
	"github.com/spawn-go/spawn/transport"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime"
	"github.com/spawn-go/spawn/state"
)

// Version is the version of this SDK, sent to the proxy at registration.
const Version = "0.1.0"

// System is a running set of actors: registered with a Spawn proxy, or
// served by the embedded runtime. Use it to invoke actors and to stop.
type System struct {
	cfg  config
	log  *zap.Logger
	defs []*registry.Definition
	disp *dispatch.Dispatcher
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

	// Embedded: the runtime and its store.
	engine *runtime.Engine
	store  state.Store

	stopOnce sync.Once
	stopErr  error
}

// backend is where invocations go: the proxy over HTTP, or the embedded
// runtime by plain calls.
type backend interface {
	invoke(ctx context.Context, req *protocol.InvocationRequest) (*protocol.InvocationResponse, error)
	spawn(ctx context.Context, req *protocol.SpawnRequest, revision int64) error
}

// Validate checks actor definitions the way Start does, without starting
// anything. Use it in a test to catch definition mistakes early:
//
//	if err := spawn.Validate(&Joe{}); err != nil { t.Fatal(err) }
func Validate(actors ...any) error {
	_, err := registry.Compile(markers, actors)
	return validationError(err)
}

// Run starts the actors, serves them until the program gets SIGINT or
// SIGTERM, then stops gracefully: in-flight invocations finish and, on
// the embedded runtime, state is saved. Options may be passed among the
// actors. Run is the one call a main needs:
//
//	func main() { log.Fatal(spawn.Run(&Joe{})) }
func Run(args ...any) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sys, err := Start(ctx, args...)
	if err != nil {
		return err
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-sys.serveErr:
	}
	stop()
	sctx, cancel := context.WithTimeout(context.Background(), sys.cfg.stopTimeout)
	defer cancel()
	return errors.Join(serveErr, sys.Stop(sctx))
}

// Start validates the actors, starts serving them and registers them, then
// returns. ctx bounds start-up only: registration is retried while the
// proxy is unreachable until ctx ends. The System runs until Stop.
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
	defs, err := registry.Compile(markers, actors)
	if err != nil {
		return nil, validationError(err)
	}
	s := &System{cfg: cfg, log: cfg.logger, defs: defs, serveErr: make(chan error, 1)}
	compiled, err := compile(s, defs)
	if err != nil {
		return nil, err
	}
	s.disp = dispatch.New(compiled, s.log)
	reg := registry.Registration(cfg.system, serviceInfo(), defs)

	if cfg.mode == modeProxy {
		err = s.startWithProxy(ctx, reg)
	} else {
		err = s.startEmbedded(ctx, reg)
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.Name
		for _, w := range d.Warnings {
			s.log.Warn("spawn: "+w, zap.String("actor", d.Name))
		}
	}
	s.log.Info("spawn: actors registered", zap.String("system", cfg.system), zap.Strings("actors", names), zap.String("runtime", s.Runtime()))
	return s, nil
}

func serviceInfo() *protocol.ServiceInfo {
	return &protocol.ServiceInfo{
		ServiceName:           "spawn-go",
		ServiceVersion:        Version,
		ServiceRuntime:        "go",
		SupportLibraryName:    "spawn-go",
		SupportLibraryVersion: Version,
		ProtocolMajorVersion:  1,
		ProtocolMinorVersion:  2,
	}
}

func (s *System) startWithProxy(ctx context.Context, reg *protocol.RegistrationRequest) error {
	// The transport's own client: it keeps enough idle connections for
	// concurrent calls and ignores HTTP_PROXY, which is meant for other traffic.
	client := transport.NewProxyClient("http://"+s.cfg.proxyAddr, nil, s.log)
	s.client = client
	s.back = proxyBackend{client: client, system: s.cfg.system}
	if len(s.defs) == 0 {
		// A program that hosts no actors only calls them: nothing to serve
		// or register.
		return nil
	}
	// The proxy activates actors, and so calls the host, as soon as it
	// has registered them: serve first, register second.
	l, err := net.Listen("tcp", s.cfg.hostAddr)
	if err != nil {
		return fmt.Errorf("spawn: listening for the proxy on %s (USER_FUNCTION_HOST/USER_FUNCTION_PORT): %w", s.cfg.hostAddr, err)
	}
	s.hostAddr = l.Addr()
	s.server = transport.NewHostServer(s.disp.ServeBytes, s.log)
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		if err := s.server.Serve(l); err != nil {
			s.serveErr <- fmt.Errorf("spawn: host endpoint: %w", err)
		}
	}()
	resp, err := register(ctx, client, reg)
	if err != nil {
		// Serve closes l even when Shutdown came first; waiting for it
		// frees the address before Start returns.
		_ = s.server.Shutdown(context.Background())
		<-s.served
		return &Error{Code: codeOf(err), Message: "registering with the proxy at " + s.cfg.proxyAddr + ": " + messageOf(err), cause: err}
	}
	s.log.Info("spawn: registered with the proxy", zap.String("proxy", s.cfg.proxyAddr),
		zap.String("proxy_version", resp.GetProxyInfo().GetProxyVersion()), zap.Stringer("host", s.hostAddr))
	wctx, cancel := context.WithCancel(context.Background())
	s.stopWatch, s.watchDone = cancel, make(chan struct{})
	go s.watchProxy(wctx, client, reg)
	return nil
}

func register(ctx context.Context, client *transport.ProxyClient, reg *protocol.RegistrationRequest) (*protocol.RegistrationResponse, error) {
	resp, err := client.Register(ctx, reg)
	if err == nil && resp.GetStatus().GetStatus() != protocol.Status_OK {
		err = fmt.Errorf("proxy refused the registration: %s", resp.GetStatus().GetMessage())
	}
	return resp, err
}

// watchInterval is how often a host checks that its proxy is still there.
const watchInterval = time.Second

// watchProxy registers the actors again when the proxy has forgotten
// them: after it was unreachable for a while, or, with spawn-go's own
// proxy, as soon as it answers as a new instance (a quick restart). It
// returns when ctx ends.
func (s *System) watchProxy(ctx context.Context, client *transport.ProxyClient, reg *protocol.RegistrationRequest) {
	defer close(s.watchDone)
	t := time.NewTicker(watchInterval)
	defer t.Stop()
	lost := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, pcancel := context.WithTimeout(ctx, watchInterval)
		instance, err := client.Alive(pctx)
		pcancel()
		known := client.RegisteredWith()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if !lost {
				s.log.Warn("spawn: lost the proxy; the actors will be registered again when it is back", zap.Error(err))
			}
			lost = true
		case lost, instance != "" && known != "" && instance != known:
			if _, err := register(ctx, client, reg); err != nil {
				s.log.Warn("spawn: registering again failed", zap.Error(err))
				continue
			}
			lost = false
			s.log.Info("spawn: the proxy is back; actors registered again")
		}
	}
}

func (s *System) startEmbedded(ctx context.Context, reg *protocol.RegistrationRequest) error {
	if s.cfg.memory {
		s.store = state.NewMemory()
	} else {
		dir := s.cfg.dataDir
		if dir == "" {
			dir = state.DefaultDir()
		}
		key, err := state.KeyFromEnv()
		if err != nil {
			return err
		}
		var opts []state.Option
		if key != nil {
			opts = append(opts, state.WithKey(key))
		}
		st, err := state.Open(dir, opts...)
		if err != nil {
			return fmt.Errorf("spawn: opening the state store: %w", err)
		}
		s.store = st
	}
	eng, err := runtime.New(runtime.Options{System: s.cfg.system, Host: s.disp, Store: s.store, Logger: s.log})
	if err != nil {
		_ = s.store.Close()
		return err
	}
	s.engine = eng
	s.back = engineBackend{eng}
	if _, err := eng.Register(ctx, reg); err != nil {
		_ = eng.Close(context.Background())
		_ = s.store.Close()
		return fmt.Errorf("spawn: registering with the embedded runtime: %w", err)
	}
	return nil
}

// Stop stops serving. In-flight invocations finish first, as far as ctx
// allows; on the embedded runtime every actor is deactivated and its state
// saved. Stop is safe to call more than once.
func (s *System) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		if s.stopWatch != nil {
			s.stopWatch()
			<-s.watchDone
		}
		var errs []error
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
		if s.store != nil {
			errs = append(errs, s.store.Close())
		}
		_ = s.log.Sync()
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// Name returns the actor system's name.
func (s *System) Name() string { return s.cfg.system }

// Runtime says where the actors run: "embedded", or "proxy host:port".
func (s *System) Runtime() string {
	if s.engine != nil {
		return "embedded"
	}
	return "proxy " + s.cfg.proxyAddr
}

// HostAddress returns the address the host endpoint listens on, or nil on
// the embedded runtime, which needs none.
func (s *System) HostAddress() net.Addr { return s.hostAddr }

// Invoke calls action on actor with in (nil for no input) and decodes the
// reply into out (nil to ignore it; left as it is when the action sends no
// reply). A deadline on ctx becomes the proxy's time limit for the call.
// Failures are *Error values.
func (s *System) Invoke(ctx context.Context, actor, action string, in, out proto.Message, opts ...InvokeOption) error {
	return s.invoke(ctx, nil, actor, action, in, out, opts)
}

func (s *System) invoke(ctx context.Context, caller *protocol.ActorId, actor, action string, in, out proto.Message, opts []InvokeOption) error {
	cfg := newInvokeConfig(opts)
	if cfg.err == nil && cfg.instance != "" {
		cfg.err = errors.New("Instance goes with Call; with Invoke, name the instance and pass Parent")
	}
	if cfg.err == nil && out != nil && !out.ProtoReflect().IsValid() {
		cfg.err = fmt.Errorf("out is a nil %T; pass a message to decode the reply into, or nil to drop it", out)
	}
	if cfg.err != nil {
		return &Error{Code: CodeInvalid, Actor: actor, Action: action, Message: cfg.err.Error()}
	}
	req, err := newRequest(s.cfg.system, actor, action, in, cfg)
	if err != nil {
		return &Error{Code: CodeInvalid, Actor: actor, Action: action, Message: err.Error(), cause: err}
	}
	if caller != nil {
		req.Caller = &protocol.ActorId{Name: caller.GetName(), System: caller.GetSystem(), Parent: caller.GetParent()}
	}
	deadlineMetadata(ctx, req)
	resp, err := s.back.invoke(ctx, req)
	if err != nil {
		return &Error{Code: codeOf(err), Actor: actor, Action: action, Message: messageOf(err), cause: err}
	}
	if req.Async || req.ScheduledTo != 0 {
		return nil
	}
	return decodeReply(actor, action, resp, out)
}

func decodeReply(actor, action string, resp *protocol.InvocationResponse, out proto.Message) error {
	v := resp.GetValue()
	if v == nil || (v.GetTypeUrl() == "" && len(v.GetValue()) == 0) {
		// No payload, or the empty Any a built-in get answers for an
		// actor that has no state yet: there is nothing to decode.
		return nil
	}
	if f, ok := dispatch.AsFailure(v); ok {
		code := CodeAction
		if f.Status == protocol.Status_ACTOR_NOT_FOUND {
			code = CodeNotFound
		}
		return &Error{Code: code, Actor: actor, Action: action, Message: f.Message}
	}
	if out == nil {
		return nil
	}
	if want := typeURL(out); v.GetTypeUrl() != want {
		return &Error{Code: CodeInvalid, Actor: actor, Action: action,
			Message: fmt.Sprintf("the reply is %s, but out is %s", v.GetTypeUrl(), want)}
	}
	if err := proto.Unmarshal(v.GetValue(), out); err != nil {
		return &Error{Code: CodeInvalid, Actor: actor, Action: action, Message: "decoding the reply: " + err.Error(), cause: err}
	}
	return nil
}

// SpawnOption changes how an unnamed actor's instance is spawned.
type SpawnOption interface {
	applySpawn(*spawnConfig)
}

type spawnConfig struct {
	revision int64
}

type spawnFunc func(*spawnConfig)

func (f spawnFunc) applySpawn(c *spawnConfig) { f(c) }

// Revision restores the instance's state as it was at revision n, on a
// runtime that keeps revisions (the embedded one does).
func Revision(n int64) SpawnOption {
	return spawnFunc(func(c *spawnConfig) { c.revision = n })
}

// Spawn creates the instance name of the unnamed actor parent. It does
// not activate it: that happens at its first invocation. Invoking with
// the Parent option spawns lazily instead.
func (s *System) Spawn(ctx context.Context, name, parent string, opts ...SpawnOption) error {
	var c spawnConfig
	for _, o := range opts {
		o.applySpawn(&c)
	}
	if name == "" || parent == "" {
		return &Error{Code: CodeInvalid, Actor: name, Message: "Spawn needs a name and a parent"}
	}
	if c.revision < 0 {
		return &Error{Code: CodeInvalid, Actor: name, Message: fmt.Sprintf("Revision(%d) must not be negative", c.revision)}
	}
	req := &protocol.SpawnRequest{Actors: []*protocol.ActorId{{Name: name, System: s.cfg.system, Parent: parent}}}
	if err := s.back.spawn(ctx, req, c.revision); err != nil {
		return &Error{Code: codeOf(err), Actor: name, Message: messageOf(err), cause: err}
	}
	return nil
}

// State reads an actor's current state into out, through the proxy's
// built-in "get" action. out is left as it is when the actor has no state
// yet.
func (s *System) State(ctx context.Context, actor string, out proto.Message, opts ...InvokeOption) error {
	return s.invoke(ctx, nil, actor, "get", nil, out, opts)
}

// messageOf is the part of a backend error worth showing: the proxy's own
// message without the transport's framing.
func messageOf(err error) string {
	var se *transport.StatusError
	if errors.As(err, &se) && se.Message != "" {
		return se.Message
	}
	var re *runtime.Error
	if errors.As(err, &re) {
		return re.Message
	}
	return err.Error()
}

// codeOf classifies an error from a backend.
func codeOf(err error) Code {
	var st interface{ ProtocolStatus() protocol.Status }
	var se *transport.StatusError
	switch {
	case errors.Is(err, transport.ErrUnavailable):
		return CodeUnavailable
	case errors.As(err, &se):
		if se.Status == protocol.Status_ACTOR_NOT_FOUND {
			return CodeNotFound
		}
		return CodeProxy
	case errors.As(err, &st):
		if st.ProtocolStatus() == protocol.Status_ACTOR_NOT_FOUND {
			return CodeNotFound
		}
		return CodeProxy
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return CodeUnavailable
	}
	return CodeProxy
}

type proxyBackend struct {
	client *transport.ProxyClient
	system string
}

func (p proxyBackend) invoke(ctx context.Context, req *protocol.InvocationRequest) (*protocol.InvocationResponse, error) {
	return p.client.Invoke(ctx, p.system, req.GetActor().GetId().GetName(), req)
}

func (p proxyBackend) spawn(ctx context.Context, req *protocol.SpawnRequest, revision int64) error {
	resp, err := p.client.Spawn(ctx, p.system, req, revision)
	if err == nil && resp.GetStatus().GetStatus() != protocol.Status_OK {
		err = fmt.Errorf("proxy refused the spawn: %s", resp.GetStatus().GetMessage())
	}
	return err
}

type engineBackend struct{ e *runtime.Engine }

func (b engineBackend) invoke(ctx context.Context, req *protocol.InvocationRequest) (*protocol.InvocationResponse, error) {
	return b.e.Invoke(ctx, req)
}

func (b engineBackend) spawn(ctx context.Context, req *protocol.SpawnRequest, revision int64) error {
	_, err := b.e.Spawn(ctx, req, revision)
	return err
}
