package transport

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spawn-go/spawn/protocol"
)

// ServerOption configures the servers and the host handler of this package.
type ServerOption func(*serverOptions)

type serverOptions struct {
	token            string
	maxInflightBytes int64
	readTimeout      time.Duration
	writeTimeout     time.Duration
	idleTimeout      time.Duration
	routes           []route
}

// route is an extra GET route of a server.
type route struct {
	path string
	h    http.Handler
}

// Defaults of the server options.
const (
	// DefaultMaxInflightBytes bounds the request bodies a server holds at
	// once.
	DefaultMaxInflightBytes = 128 << 20
	// DefaultReadTimeout bounds reading a whole request, body included:
	// a client that trickles its body cannot hold a connection for longer.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds writing an answer, from its first byte: a
	// client that does not read cannot hold a connection for longer. It
	// does not bound the time an invocation takes to produce the answer,
	// which its own time limit does.
	DefaultWriteTimeout = 30 * time.Second
	// DefaultIdleTimeout closes a kept-alive connection that carries no
	// request for that long.
	DefaultIdleTimeout = 2 * time.Minute
	// readHeaderTimeout bounds reading a request's headers.
	readHeaderTimeout = 10 * time.Second
)

func newServerOptions(opts []ServerOption) serverOptions {
	o := serverOptions{
		maxInflightBytes: DefaultMaxInflightBytes,
		readTimeout:      DefaultReadTimeout,
		writeTimeout:     DefaultWriteTimeout,
		idleTimeout:      DefaultIdleTimeout,
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithGet adds the route GET path, served by h, to NewProxyServer and
// NewHostServer: spawn proxy serves its metrics at /metrics this way. The
// route needs the token, when there is one, like every route but the
// health routes.
func WithGet(path string, h http.Handler) ServerOption {
	return func(o *serverOptions) { o.routes = append(o.routes, route{path, h}) }
}

// WithToken makes the server refuse, with 401, every request but the
// health routes that does not carry "Authorization: Bearer <token>". An
// empty token checks nothing. The real Spawn proxy sends no token: set one
// only between spawn-go's own host and proxy.
func WithToken(token string) ServerOption {
	return func(o *serverOptions) { o.token = token }
}

// WithMaxInflightBytes bounds the bytes of the request bodies the server
// holds at once (default DefaultMaxInflightBytes); a request that would
// pass it is refused as overloaded before its body is read. A negative
// value means no bound.
func WithMaxInflightBytes(n int64) ServerOption {
	return func(o *serverOptions) {
		if n != 0 {
			o.maxInflightBytes = n
		}
	}
}

// WithTimeouts sets the read, write and idle timeouts (see DefaultReadTimeout
// and its siblings); a zero value keeps the default.
func WithTimeouts(read, write, idle time.Duration) ServerOption {
	return func(o *serverOptions) {
		if read > 0 {
			o.readTimeout = read
		}
		if write > 0 {
			o.writeTimeout = write
		}
		if idle > 0 {
			o.idleTimeout = idle
		}
	}
}

// budget counts the bytes of the request bodies being handled.
type budget struct {
	limit int64 // < 0: none
	used  atomic.Int64
}

// reserve counts n more bytes, or reports false when that would pass the
// limit. A body larger than the whole limit is never reserved; bodies are
// bounded on their own, by the route's size limit.
func (b *budget) reserve(n int64) bool {
	if b == nil || b.limit < 0 {
		return true
	}
	if b.used.Add(n) > b.limit {
		b.used.Add(-n)
		return false
	}
	return true
}

func (b *budget) release(n int64) {
	if b != nil && b.limit >= 0 {
		b.used.Add(-n)
	}
}

func overloadedError(limit int64) *requestError {
	return &requestError{http.StatusServiceUnavailable,
		fmt.Sprintf("%srequest bodies of %d bytes are being handled, the limit; retry later", protocol.OverloadedPrefix, limit)}
}

// authorized reports whether r carries token, or token is empty.
func authorized(r *http.Request, token string) bool {
	if token == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

const unauthorizedText = "missing or wrong token: send Authorization: Bearer <token>, the token this server was started with"

// setToken sets the token on an outgoing request.
func setToken(r *http.Request, token string) {
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
}
