package transport

import (
	"context"
	"net/http"

	"go.uber.org/zap"

	"github.com/spawn-go/spawn/protocol"
)

// HostHandler runs one encoded ActorInvocation and returns the HTTP status
// and the encoded ActorInvocationResponse to answer with. The proxy reads
// only the body, so the status is informative; 0 means 200.
//
// body is valid only until the answer has been written: the endpoint
// reads request bodies into buffers that it reuses. A HostHandler may
// answer with body's own bytes, but must not keep body, or anything that
// refers to its bytes, once it has returned. (proto.Unmarshal copies what
// it decodes, so decoded messages may be kept.)
type HostHandler func(ctx context.Context, body []byte) (status int, resp []byte)

// NewHostHandler returns the host endpoint alone, for a program that
// already runs an HTTP server with routes and probes of its own: mount it
// at protocol.HostPath, for example with
//
//	mux.Handle(protocol.HostPath, transport.NewHostHandler(h, logger))
//
// It answers POST protocol.HostPath by handing the request body to h, with
// the checks NewHostServer makes: a protobuf Content-Type or none (415
// otherwise), and a bounded body (413 beyond). Other methods get 405, other
// paths 404. A panic in h becomes a 500 and is logged. A nil logger logs
// nothing.
//
// Options may set a token (WithToken), without which a request is refused
// with 401, and bound the bodies held at once (WithMaxInflightBytes):
// past the bound, a request is refused with 503 and an "overloaded"
// message, which the proxy's host client reports as such. The timeouts of
// a mounted handler are those of the server it is mounted on.
func NewHostHandler(h HostHandler, logger *zap.Logger, opts ...ServerOption) http.Handler {
	if logger == nil {
		logger = zap.NewNop()
	}
	return newHostHandler(h, logger, newServerOptions(opts), nil)
}

// newHostHandler is NewHostHandler's handler; beforeWrite, when not nil,
// is called before any answer is written.
func newHostHandler(h HostHandler, logger *zap.Logger, o serverOptions, beforeWrite func(http.ResponseWriter)) *hostHandler {
	return &hostHandler{run: h, log: logger, token: o.token, bodies: &budget{limit: o.maxInflightBytes}, beforeWrite: beforeWrite}
}

type hostHandler struct {
	run         HostHandler
	log         *zap.Logger
	token       string
	bodies      *budget
	beforeWrite func(http.ResponseWriter)
}

func (h *hostHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != protocol.HostPath {
		h.text(w, http.StatusNotFound, notFoundText)
		return
	}
	if !authorized(r, h.token) {
		h.text(w, http.StatusUnauthorized, unauthorizedText)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.text(w, http.StatusMethodNotAllowed, "the host endpoint takes POST")
		return
	}
	// The real proxy sends application/octet-stream; hand-written clients
	// (curl, tests) often send no Content-Type at all.
	body, rerr := readBody(w, r, true, maxHostBodyBytes, h.bodies)
	if rerr != nil {
		h.text(w, rerr.code, rerr.msg)
		return
	}
	// After the answer is written: h may answer with the body's own bytes.
	defer body.done()
	status, resp, ok := h.call(r.Context(), body.bytes)
	if !ok {
		h.text(w, http.StatusInternalServerError, "internal error")
		return
	}
	if status == 0 {
		status = http.StatusOK
	}
	if h.beforeWrite != nil {
		h.beforeWrite(w)
	}
	// Served by NewHostServer's own server when beforeWrite is set.
	writeBytes(w, status, resp, h.beforeWrite != nil)
}

// text answers with a plain-text message.
func (h *hostHandler) text(w http.ResponseWriter, code int, msg string) {
	if h.beforeWrite != nil {
		h.beforeWrite(w)
	}
	writeText(w, code, msg)
}

// call runs the HostHandler, reporting false when it panicked: a panic must
// not take down the program, whose other routes may be serving.
func (h *hostHandler) call(ctx context.Context, body []byte) (status int, resp []byte, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r) // the documented way to abort a response; keep its meaning
			}
			h.log.Error("host handler panicked", zap.Any("panic", r), zap.Stack("stack"))
			ok = false
		}
	}()
	status, resp = h.run(ctx, body)
	return status, resp, true
}

// NewHostServer returns the user program's HTTP server: the endpoint of
// NewHostHandler at POST protocol.HostPath, GET /health answering 200
// {"status":"up"}, and 404 for anything else. A nil logger logs nothing.
func NewHostServer(h HostHandler, logger *zap.Logger, opts ...ServerOption) *Server {
	s := newServer(logger, opts)
	hh := newHostHandler(h, s.log, s.opts, s.setWriteDeadline)
	// Served by front, without echo; other methods on the path get echo's
	// 404 like any unknown route.
	s.hot = hotRoute{match: func(p string) bool { return p == protocol.HostPath }, serve: hh.ServeHTTP}
	s.echo.GET("/health", s.health)
	return s
}
