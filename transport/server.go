package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/protobuf/proto"
)

// maxBodyBytes is the largest request body the proxy API reads; larger
// bodies get 413. It is the real proxy's read limit (8 000 000 bytes)
// rounded up to 8 MiB, so that anything the proxy accepts is accepted here
// too.
const maxBodyBytes = 8 << 20

// maxHostBodyBytes is the largest ActorInvocation the host endpoint reads.
// An invocation carries the actor's state, which the proxy takes from the
// host's earlier replies without a limit of its own: a host must accept
// as much as HostClient accepts from it, or an actor whose state grew past
// the proxy API's limit could never be called again.
const maxHostBodyBytes = maxResponseBytes

const (
	contentTypeProtobuf = "application/octet-stream"
	notFoundText        = "Not found!"
)

// Server is an HTTP server with graceful shutdown, built by NewHostServer or
// NewProxyServer. Its methods are safe for concurrent use.
type Server struct {
	echo     *echo.Echo
	http     *http.Server
	log      *zap.Logger
	opts     serverOptions
	bodies   *budget
	draining atomic.Bool
	// hot is the route every call takes, served without echo (see front).
	hot hotRoute
}

// hotRoute is a POST route served without echo: the host endpoint, or the
// proxy's invoke. Echo builds its middleware chain anew for every request,
// allocating a closure per middleware; front applies the same checks to
// this route inline.
type hotRoute struct {
	match func(path string) bool
	// serve answers; it writes only once it has its whole answer, so a
	// panic before then leaves the answer unwritten.
	serve func(w http.ResponseWriter, r *http.Request)
}

// front is the server's handler: the hot route directly, the others
// through echo.
type front struct{ s *Server }

func (f front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := f.s
	// Matched on the path echo's router would match on: the raw one when
	// the URL has one, so that escapes route as they did through echo.
	if s.hot.serve == nil || r.Method != http.MethodPost || !s.hot.match(echo.GetPath(r)) {
		s.echo.ServeHTTP(w, r)
		return
	}
	if !s.log.Core().Enabled(zapcore.DebugLevel) {
		s.serveHot(w, r)
		return
	}
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
	s.serveHot(sw, r)
	s.logRequest(r, sw.code, start)
}

// serveHot serves the hot route with what echo's middleware does for the
// others: the token, and a panic turned into a 500.
func (s *Server) serveHot(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if s.panicked(recover(), r) {
			s.setWriteDeadline(w)
			writeText(w, http.StatusInternalServerError, "internal error")
		}
	}()
	if s.opts.token != "" && !authorized(r, s.opts.token) {
		s.setWriteDeadline(w)
		writeText(w, http.StatusUnauthorized, unauthorizedText)
		return
	}
	s.hot.serve(w, r)
}

// setWriteDeadline bounds the writing of an answer about to start (see
// writeDeadline).
func (s *Server) setWriteDeadline(w http.ResponseWriter) {
	// An error means the writer cannot take deadlines (a test recorder);
	// there is nothing to bound then.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.opts.writeTimeout))
}

// statusWriter records the status of an answer, for the debug log.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection's deadlines.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func newServer(logger *zap.Logger, opts []ServerOption) *Server {
	if logger == nil {
		logger = zap.NewNop()
	}
	o := newServerOptions(opts)
	s := &Server{echo: echo.New(), log: logger, opts: o, bodies: &budget{limit: o.maxInflightBytes}}
	e := s.echo
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.recoverPanics, s.writeDeadline, s.authorize, s.logRequests)
	for _, r := range o.routes {
		e.GET(r.path, echo.WrapHandler(r.h))
	}

	// net/http reports what it cannot hand to a handler (TLS or protocol
	// errors, panics it recovered) through a standard logger.
	errLog, err := zap.NewStdLogAt(logger, zapcore.WarnLevel)
	if err != nil {
		// Only an invalid level makes NewStdLogAt fail; fall back to the
		// info-level adapter rather than losing net/http's messages.
		errLog = zap.NewStdLog(logger)
	}
	s.http = &http.Server{
		Handler:  front{s},
		ErrorLog: errLog,
		// Reading a request, body included, is bounded as a whole, so that
		// a client trickling its body cannot hold a connection. Writing is
		// bounded from the answer's first byte (see writeDeadline), not
		// from the request's end: an invocation may legitimately wait for
		// its host for a minute or more before it has an answer.
		ReadHeaderTimeout: min(readHeaderTimeout, o.readTimeout),
		ReadTimeout:       o.readTimeout,
		IdleTimeout:       o.idleTimeout,
	}
	return s
}

// writeDeadline bounds the writing of every answer, from its first byte.
func (s *Server) writeDeadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		res := c.Response()
		res.Before(func() { s.setWriteDeadline(res.Writer) })
		return next(c)
	}
}

// authorize refuses requests without the server's token, except on the
// health routes, which probes call without one.
func (s *Server) authorize(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.opts.token == "" || strings.HasPrefix(c.Request().URL.Path, "/health") || authorized(c.Request(), s.opts.token) {
			return next(c)
		}
		return c.String(http.StatusUnauthorized, unauthorizedText)
	}
}

// Serve accepts connections on l until Shutdown is called, and then returns
// nil. Any other failure to serve is returned as is.
func (s *Server) Serve(l net.Listener) error {
	s.log.Debug("serving HTTP", zap.Stringer("addr", l.Addr()))
	if err := s.http.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Handler returns the server's routes as an http.Handler, for tests that use
// net/http/httptest and for callers that run their own http.Server.
func (s *Server) Handler() http.Handler { return front{s} }

// Shutdown marks the server as draining (the proxy's GET /health/readiness
// answers 503 from then on), stops accepting connections, and waits until
// in-flight requests have finished or ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	return s.http.Shutdown(ctx)
}

// handleError answers the errors echo itself produces (no route, wrong
// method) and any error a handler returns instead of writing a response.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code := http.StatusInternalServerError
	msg := http.StatusText(code)
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = he.Code
		if m, ok := he.Message.(string); ok {
			msg = m
		}
	}
	// Like the real proxy's catch-all route: whatever is not one of the
	// known method+path pairs is "Not found!".
	if code == http.StatusNotFound || code == http.StatusMethodNotAllowed {
		code, msg = http.StatusNotFound, notFoundText
	}
	if code >= 500 {
		s.log.Error("request failed", zap.String("method", c.Request().Method),
			zap.String("path", c.Request().URL.Path), zap.Error(err))
	}
	if err := c.String(code, msg); err != nil {
		s.log.Debug("writing error response", zap.Error(err))
	}
}

// recoverPanics turns a panic in a handler (or in the code it calls) into a
// 500, so that one bad request neither kills the connection silently nor
// the process.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if s.panicked(recover(), c.Request()) {
				err = echo.NewHTTPError(http.StatusInternalServerError, "internal error")
			}
		}()
		return next(c)
	}
}

// panicked logs p, a recovered panic of a handler serving r, and reports
// whether there was one to answer with a 500. http.ErrAbortHandler, the
// documented way to abort a response, is raised again to keep its meaning.
func (s *Server) panicked(p any, r *http.Request) bool {
	if p == nil {
		return false
	}
	if p == http.ErrAbortHandler {
		panic(p)
	}
	s.log.Error("handler panicked", zap.String("path", r.URL.Path), zap.Any("panic", p), zap.Stack("stack"))
	return true
}

// logRequest writes the debug line of a request answered with status.
func (s *Server) logRequest(r *http.Request, status int, start time.Time) {
	s.log.Debug("request",
		zap.String("method", r.Method),
		zap.String("path", r.URL.Path),
		zap.Int("status", status),
		zap.Duration("took", time.Since(start)))
}

func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.log.Core().Enabled(zapcore.DebugLevel) {
			return next(c)
		}
		start := time.Now()
		err := next(c)
		s.logRequest(c.Request(), c.Response().Status, start)
		return err
	}
}

func (s *Server) health(c echo.Context) error {
	return c.JSONBlob(http.StatusOK, []byte(`{"status":"up"}`))
}

func (s *Server) readiness(c echo.Context) error {
	if s.draining.Load() {
		return c.JSONBlob(http.StatusServiceUnavailable, []byte(`{"status":"down"}`))
	}
	return c.JSONBlob(http.StatusOK, []byte(`{"status":"up"}`))
}

// requestError is a request the server refuses before it reaches the API:
// an HTTP status and a message for the client.
type requestError struct {
	code int
	msg  string
}

// body is a request body read into a pooled buffer and counted against a
// server's budget.
type body struct {
	bytes []byte
	buf   *[]byte
	held  int64
	b     *budget
}

// recycle gives the buffer back to the pool; the bytes must not be used
// after it. The budget still counts them: what was decoded from them is
// held until the request is answered.
func (rb *body) recycle() {
	putBuffer(rb.buf)
	rb.buf, rb.bytes = nil, nil
}

// done gives back the buffer, if recycle has not, and the budget; call it
// once the request is answered.
func (rb *body) done() {
	rb.recycle()
	rb.b.release(rb.held)
}

// readBody checks the request's content type and reads its body, at most
// limit bytes of it, counting them against b. allowMissing accepts a
// request without Content-Type.
func readBody(w http.ResponseWriter, req *http.Request, allowMissing bool, limit int64, b *budget) (body, *requestError) {
	ct := req.Header.Get("Content-Type")
	switch {
	case ct == "" && allowMissing:
	case ct == "":
		return body{}, &requestError{http.StatusUnsupportedMediaType,
			"missing Content-Type: send the protobuf body with Content-Type application/octet-stream or application/protobuf"}
	case !isProtobufContentType(ct):
		return body{}, &requestError{http.StatusUnsupportedMediaType,
			fmt.Sprintf("unsupported Content-Type %q: send the protobuf body with Content-Type application/octet-stream or application/protobuf", ct)}
	}
	if req.ContentLength > limit {
		return body{}, tooLarge(limit)
	}
	// Reserved before reading: a body of unknown length may take the
	// route's whole limit. What it does not use is given back below.
	reserved := limit
	if req.ContentLength >= 0 {
		reserved = req.ContentLength
	}
	if !b.reserve(reserved) {
		return body{}, overloadedError(b.limit)
	}
	r := req.Body
	if req.ContentLength < 0 {
		// A body of unknown length is cut at the limit. MaxBytesReader
		// also tells net/http to close the connection, so the rest of an
		// oversized body is never read. A known length needs neither:
		// net/http stops at it, and it was checked above.
		r = http.MaxBytesReader(w, req.Body, limit)
	}
	buf := getBuffer(sizeHint(req.ContentLength, limit))
	err := readInto(r, buf, limit)
	n := int64(len(*buf))
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		if n < reserved {
			// net/http stops at the announced length, so a body is
			// never longer than what was reserved.
			b.release(reserved - n)
		}
		return body{bytes: *buf, buf: buf, held: n, b: b}, nil
	case errors.Is(err, errTooLarge), errors.As(err, &mbe):
		err = nil
	}
	putBuffer(buf)
	b.release(reserved)
	if err == nil {
		return body{}, tooLarge(limit)
	}
	return body{}, &requestError{http.StatusBadRequest, "reading request body: " + err.Error()}
}

// tooLarge is the refusal of a body past limit; built only when needed.
func tooLarge(limit int64) *requestError {
	return &requestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", limit)}
}

// writeText answers with code and msg as plain text, the way the error
// answers of both servers look.
func writeText(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", echo.MIMETextPlainCharsetUTF8)
	w.WriteHeader(code)
	_, _ = io.WriteString(w, msg) // the client is gone; nobody to tell
}

// isProtobufContentType reports whether a Content-Type names a protobuf body.
// Parameters are ignored: Plug, for one, appends "; charset=utf-8".
func isProtobufContentType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(mt)
	return strings.EqualFold(mt, "application/octet-stream") || strings.EqualFold(mt, "application/protobuf")
}

// protobufContentType is a header value shared by every request and answer
// of ours, set without allocating (see setHeader).
var protobufContentType = []string{contentTypeProtobuf}

// setHeader sets h[key] to v, a one-element value. When own, h is seen
// only by net/http and this package, which only read header values, so v
// itself is used, shared and without allocating (Header.Add would append
// to a copy, len being cap). Otherwise other code (a caller's client or
// middleware) may see h and change its values in place, so h gets a copy.
func setHeader(h http.Header, key string, v []string, own bool) {
	if own {
		h[key] = v
		return
	}
	h[key] = []string{v[0]}
}

// chunkingThreshold is the size from which an answer without a
// Content-Length would be sent chunked: net/http buffers this much of a
// body and, when the handler ends within it, sets the length itself.
const chunkingThreshold = 2048

// writeBytes answers with status code and the protobuf body b; own says
// that w belongs to one of this package's servers (see setHeader).
func writeBytes(w http.ResponseWriter, code int, b []byte, own bool) {
	h := w.Header()
	setHeader(h, "Content-Type", protobufContentType, own)
	if len(b) >= chunkingThreshold {
		h.Set("Content-Length", strconv.Itoa(len(b)))
	}
	w.WriteHeader(code)
	_, _ = w.Write(b) // the client is gone; nobody to tell
}

// writeProto answers with status code and m encoded as protobuf. A message
// that cannot be encoded (in practice: a string with invalid UTF-8 coming
// from below) becomes a 500 whose body still carries a RequestStatus.
func (s *Server) writeProto(c echo.Context, code int, m proto.Message) error {
	s.writeProtoTo(c.Response(), code, m)
	return nil
}

// writeProtoTo is writeProto on a plain ResponseWriter. m is encoded into
// a pooled buffer, given back once written.
func (s *Server) writeProtoTo(w http.ResponseWriter, code int, m proto.Message) {
	buf := getBuffer(0)
	defer putBuffer(buf)
	b, err := proto.MarshalOptions{}.MarshalAppend(*buf, m)
	if err != nil {
		s.log.Error("encoding response", zap.String("type", string(m.ProtoReflect().Descriptor().FullName())), zap.Error(err))
		code = http.StatusInternalServerError
		b = statusOnlyBody("encoding the response failed: " + err.Error())
	} else {
		*buf = b // so that a buffer grown past the pool's limit is dropped
	}
	writeBytes(w, code, b, true)
}
