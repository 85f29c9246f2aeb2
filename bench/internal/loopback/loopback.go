// Package loopback starts spawn-go's standalone proxy (the runtime engine
// behind the proxy's HTTP API, calling its host over HTTP) on loopback,
// in-process, the way spawntest and `spawn proxy` wire it.
package loopback

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/runtime"
	"github.com/spawn-go/spawn/state"
	"github.com/spawn-go/spawn/transport"
)

// Proxy is a running spawn proxy.
type Proxy struct {
	// Addr is where the proxy's HTTP API listens; HostAddr is where it
	// calls the host.
	Addr, HostAddr string

	engine *runtime.Engine
	server *transport.Server
	done   chan struct{}
}

// StartProxy starts a proxy with an in-memory store that calls its host
// at a free loopback address (HostAddr).
func StartProxy() (*Proxy, error) {
	hostAddr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	eng, err := runtime.New(runtime.Options{
		System: spawn.DefaultSystem,
		Host:   transport.NewHostClient("http://"+hostAddr, nil),
		Store:  state.NewMemory(),
	})
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = eng.Close(context.Background())
		return nil, err
	}
	p := &Proxy{Addr: l.Addr().String(), HostAddr: hostAddr, engine: eng, server: transport.NewProxyServer(eng, nil), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		_ = p.server.Serve(l)
	}()
	return p, nil
}

// Close stops the engine, then the HTTP server.
func (p *Proxy) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := p.engine.Close(ctx)
	if serr := p.server.Shutdown(ctx); err == nil {
		err = serr
	}
	<-p.done
	return err
}

// FreeAddr returns a loopback address whose port was free a moment ago.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Client returns an HTTP client that keeps up to conns idle connections
// per host and ignores proxy environment variables.
func Client(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns,
		DisableCompression:  true,
		IdleConnTimeout:     time.Minute,
	}}
}

// Serve serves h on a new loopback listener and returns its base URL and
// a function that stops it.
func Serve(h http.Handler) (url string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	return "http://" + l.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}

// WaitListening waits until something accepts connections at addr.
func WaitListening(addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}
