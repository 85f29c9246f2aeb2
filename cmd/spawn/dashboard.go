package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"

	"go.uber.org/zap"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/spawn-go/spawn/internal/dashboard"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime"
)

// proxyDashboard is spawn proxy's dashboard (-dashboard): its listener,
// the recent invocations it shows, and its server once the engine runs.
type proxyDashboard struct {
	listener  net.Listener
	recent    *dashboard.Recent
	server    *http.Server
	done      chan struct{}
	closeOnce sync.Once
}

// listenDashboard listens on addr, on loopback, before the engine starts,
// so that a wrong address stops spawn proxy at once.
func listenDashboard(addr string) (*proxyDashboard, error) {
	l, err := dashboard.Listen(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v (-dashboard or %s)", errUsage, err, protocol.EnvDashboardAddr)
	}
	return &proxyDashboard{listener: l, recent: dashboard.NewRecent(0), done: make(chan struct{})}, nil
}

// serve serves the dashboard of eng. spawn proxy does not have the hosts'
// message types: states of types it links in (the well-known ones,
// Spawn's own) are shown as JSON, and others by type URL, size and bytes.
func (d *proxyDashboard) serve(eng *runtime.Engine, cfg proxyConfig, logger *zap.Logger, stdout io.Writer) error {
	h, err := dashboard.New(dashboard.Options{
		Engine: eng,
		Recent: d.recent,
		System: cfg.system,
		Where:  "spawn proxy",
		Types:  protoregistry.GlobalTypes,
		Token:  cfg.token,
		Log:    logger.Named("dashboard"),
	})
	if err != nil {
		return err
	}
	d.server = h.Server()
	go func() {
		defer close(d.done)
		if err := d.server.Serve(d.listener); !errors.Is(err, http.ErrServerClosed) {
			logger.Error("the dashboard stopped", zap.Error(err))
		}
	}()
	url := "http://" + d.listener.Addr().String() + "/"
	logger.Info("dashboard listening", zap.String("url", url))
	fmt.Fprintf(stdout, "spawn proxy dashboard on %s\n", url)
	return nil
}

// close stops the dashboard; the pages being made are cut short.
func (d *proxyDashboard) close() {
	d.closeOnce.Do(func() {
		if d.server == nil {
			_ = d.listener.Close()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout/10)
		defer cancel()
		if err := d.server.Shutdown(ctx); err != nil {
			_ = d.server.Close()
		}
		<-d.done
	})
}
