package spawn

import (
	"context"
	"fmt"
	"net"
	"time"

	"go.uber.org/zap"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/transport"
)

// Running with a Spawn proxy: serve the host endpoint, register the
// actors, and register them again whenever the proxy has forgotten them.

func (s *System) startWithProxy(ctx context.Context, reg *protocol.RegistrationRequest) error {
	// The transport's own client: it keeps enough idle connections for
	// concurrent calls and ignores HTTP_PROXY, which is meant for other traffic.
	client := transport.NewProxyClient("http://"+s.cfg.proxyAddr, nil, s.log)
	client.SetToken(s.cfg.token)
	s.client = client
	s.back = proxyBackend{client: client}
	if len(s.host.table.Definitions()) == 0 {
		// A program that hosts no actors only calls them: nothing to serve
		// or register.
		return nil
	}
	// The proxy activates actors, and so calls the host, as soon as it
	// has registered them: serve first, register second.
	if err := s.serveHost(); err != nil {
		return err
	}
	resp, err := register(ctx, client, reg)
	if err != nil {
		s.stopServing()
		return &Error{Code: codeOf(err), Message: "registering with the proxy at " + s.cfg.proxyAddr + ": " + messageOf(err), cause: err}
	}
	host := "mounted on the program's own server"
	if s.hostAddr != nil {
		host = s.hostAddr.String()
	}
	s.log.Info("spawn: registered with the proxy", zap.String("proxy", s.cfg.proxyAddr),
		zap.String("proxy_version", resp.GetProxyInfo().GetProxyVersion()), zap.String("host", host))
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

// serveHost serves the host endpoint: on the user's own server with
// WithMount, otherwise on a listener of its own.
func (s *System) serveHost() error {
	if s.cfg.mount != nil {
		s.cfg.mount(protocol.HostPath, transport.NewHostHandler(s.host.serveBytes, s.log, s.serverOptions()...))
		return nil
	}
	l, err := net.Listen("tcp", s.cfg.hostAddr)
	if err != nil {
		return fmt.Errorf("spawn: listening for the proxy on %s (%s/%s): %w", s.cfg.hostAddr, protocol.EnvHostHost, protocol.EnvHostPort, err)
	}
	s.hostAddr = l.Addr()
	s.server = transport.NewHostServer(s.host.serveBytes, s.log, s.serverOptions()...)
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		if err := s.server.Serve(l); err != nil {
			s.serveErr <- fmt.Errorf("spawn: host endpoint: %w", err)
		}
	}()
	return nil
}

// stopServing stops the host endpoint after a failed start. Serve closes
// the listener even when Shutdown came first; waiting for it frees the
// address before Start returns.
func (s *System) stopServing() {
	if s.server == nil {
		return
	}
	_ = s.server.Shutdown(context.Background())
	<-s.served
	s.server = nil
}

// serverOptions are the host endpoint's token and bound, from the
// configuration and SPAWN_MAX_INFLIGHT_BYTES.
func (s *System) serverOptions() []transport.ServerOption {
	return []transport.ServerOption{transport.WithToken(s.cfg.token), transport.WithMaxInflightBytes(s.cfg.maxInflightBytes)}
}
