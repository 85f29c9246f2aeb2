package spawn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"go.uber.org/zap"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/spawn-go/spawn/internal/activator"
	"github.com/spawn-go/spawn/internal/dashboard"
	"github.com/spawn-go/spawn/internal/enginehook"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime"
)

// The development dashboard: a web page showing the embedded runtime's
// actors, their state and revisions, and the recent invocations.
// docs/guide/12-dashboard.md shows it.

// WithDashboard serves the development dashboard of the embedded runtime
// on addr, a loopback address ("127.0.0.1:9090"; without a host, ":9090"
// is "127.0.0.1:9090"; port 0 picks a free one, which
// System.DashboardAddress reports). Start fails for an address that is
// not loopback: the page shows the actors' state and restores revisions.
// The default is SPAWN_DASHBOARD_ADDR, and with neither, no dashboard;
// WithDashboard("") turns it off.
//
// The page lists the registered actors with their settings, active
// instances, mailboxes, timers and channels; shows an actor's state as
// JSON, its revisions and the diff of two, with a button to restore one;
// and lists the recent invocations. It refreshes itself every two
// seconds. It requires the token of WithToken (or SPAWN_TOKEN), when
// there is one: open it once as http://127.0.0.1:9090/?token=<token>.
// With the JSON activator on (WithActivator), it can call actions too.
//
// A program registered with a Spawn proxy serves no dashboard: spawn
// proxy serves its own (spawn proxy -dashboard).
func WithDashboard(addr string) Option {
	return optionFunc(func(c *config) { c.dashboardAddr = addr })
}

// DashboardAddress returns the address the dashboard listens on, or nil
// without one.
func (s *System) DashboardAddress() net.Addr {
	if s.dash == nil {
		return nil
	}
	return s.dash.listener.Addr()
}

// dashboardServer is the dashboard's listener and server.
type dashboardServer struct {
	listener net.Listener
	recent   *dashboard.Recent
	server   *http.Server
	done     chan struct{}
}

// prepareDashboard listens where the configuration asks for the
// dashboard, and has the embedded runtime record its invocations for it;
// startDashboard serves it once the runtime runs.
func (s *System) prepareDashboard() error {
	addr := s.cfg.dashboardAddr
	if addr == "" {
		return nil
	}
	if s.cfg.mode == modeProxy {
		s.log.Warn("spawn: no dashboard: the actors run on a proxy, and spawn proxy serves the dashboard (spawn proxy -dashboard)",
			zap.String("dashboard", addr))
		return nil
	}
	l, err := dashboard.Listen(addr)
	if err != nil {
		return fmt.Errorf("spawn: %w (WithDashboard or %s)", err, protocol.EnvDashboardAddr)
	}
	d := &dashboardServer{listener: l, recent: dashboard.NewRecent(0), done: make(chan struct{})}
	s.dash = d
	s.cfg.engineHooks = append(s.cfg.engineHooks, enginehook.Hook{
		Configure: func(o *runtime.Options) { o.Observer = runtime.JoinObservers(o.Observer, d.recent.Observer()) },
	})
	return nil
}

// startDashboard serves the dashboard prepared, on the running runtime.
func (s *System) startDashboard() error {
	d := s.dash
	if d == nil {
		return nil
	}
	o := dashboard.Options{
		Engine: s.engine,
		Recent: d.recent,
		System: s.cfg.system,
		Where:  "the embedded runtime of " + filepath.Base(os.Args[0]),
		Types:  protoregistry.GlobalTypes,
		Token:  s.cfg.token,
		Log:    s.log,
	}
	if s.cfg.activatorAddr != "" {
		o.Call = s.dashboardCall
	}
	h, err := dashboard.New(o)
	if err != nil {
		return fmt.Errorf("spawn: dashboard: %w", err)
	}
	d.server = h.Server()
	go func() {
		defer close(d.done)
		if err := d.server.Serve(d.listener); !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("spawn: dashboard stopped", zap.Error(err))
		}
	}()
	s.log.Info("spawn: dashboard listening", zap.String("url", "http://"+d.listener.Addr().String()+"/"))
	return nil
}

// stopDashboard stops the dashboard, letting the pages in flight finish as
// far as ctx allows.
func (s *System) stopDashboard(ctx context.Context) error {
	d := s.dash
	if d == nil {
		return nil
	}
	if d.server == nil {
		return d.listener.Close()
	}
	err := d.server.Shutdown(ctx)
	if err != nil {
		_ = d.server.Close()
	}
	<-d.done
	return err
}

// dashboardCall is a call from the dashboard's page, through the JSON
// activator.
func (s *System) dashboardCall(ctx context.Context, actor, instance, action string, body []byte) ([]byte, error) {
	reply, p := s.activate(ctx, activator.Request{Actor: actor, Instance: instance, Action: action, Body: body})
	if p != nil {
		return nil, p
	}
	if reply == nil || reply.GetTypeUrl() == "" {
		return nil, nil
	}
	return activator.Render(reply)
}
