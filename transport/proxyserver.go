package transport

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/internal/version"
	"github.com/spawn-go/spawn/protocol"
)

// ProxyAPI is what the proxy's HTTP API serves: the runtime engine, for the
// standalone binary. Errors may implement ProtocolStatus() protocol.Status
// to report ACTOR_NOT_FOUND instead of ERROR.
type ProxyAPI interface {
	// Register adds or replaces the actors of a host.
	Register(ctx context.Context, req *protocol.RegistrationRequest) (*protocol.RegistrationResponse, error)
	// Spawn creates instances of unnamed actors; revision > 0 restores
	// that revision of their state when they activate.
	Spawn(ctx context.Context, req *protocol.SpawnRequest, revision int64) (*protocol.SpawnResponse, error)
	// Invoke runs an action on an actor.
	Invoke(ctx context.Context, req *protocol.InvocationRequest) (*protocol.InvocationResponse, error)
	// State returns an actor's current state and tags.
	State(ctx context.Context, id *protocol.ActorId) (*protocol.ActorState, error)
}

// InstanceHeader is the response header in which spawn-go's proxy names
// its current run. The real Spawn proxy sends none.
const InstanceHeader = "Spawn-Proxy-Instance"

// NewProxyServer returns the proxy's HTTP API on top of api, with the routes,
// content types and status codes of the real Spawn proxy:
//
//	POST /api/v1/system                                   RegistrationRequest → RegistrationResponse
//	POST /api/v1/system/:system/actors/spawn[?revision=N] SpawnRequest → SpawnResponse
//	POST /api/v1/system/:system/actors/:actor/invoke      InvocationRequest → InvocationResponse
//	GET  /api/v1/system/:system/actors/:actor[?parent=P]  → ActorState
//	GET  /health, /health/liveness, /health/readiness
//
// Where the real proxy crashes, this one answers: a non-integer revision is
// 400, and the GET state route works (its body format is our own choice).
// Registrations from the older protocol, whose channel_group holds plain
// topic strings, are accepted. A nil logger logs nothing.
func NewProxyServer(api ProxyAPI, logger *zap.Logger, opts ...ServerOption) *Server {
	s := newServer(logger, opts)
	r := &proxyRoutes{Server: s, api: api}
	e := s.echo
	// Every answer names this run of the proxy, so a host can tell a
	// restarted proxy (which has forgotten its registration) from the
	// one it registered with, however short the restart.
	instance := []string{rand.Text()}
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Header()[InstanceHeader] = instance
			return next(c)
		}
	})
	// Invocations, the route every call takes, are served by front
	// without echo.
	s.hot = hotRoute{match: isInvokePath, serve: func(w http.ResponseWriter, hr *http.Request) {
		w.Header()[InstanceHeader] = instance
		code, m := r.invoke(w, hr)
		s.setWriteDeadline(w)
		s.writeProtoTo(w, code, m)
	}}
	e.POST("/api/v1/system", r.register)
	e.POST("/api/v1/system/:system/actors/spawn", r.spawn)
	// The real proxy ignores these path parameters: the body decides.
	e.POST("/api/v1/system/:system/actors/:actor/invoke", func(c echo.Context) error {
		code, m := r.invoke(c.Response(), c.Request())
		return r.writeProto(c, code, m)
	})
	e.GET("/api/v1/system/:system/actors/:actor", r.state)
	e.GET("/health", s.health)
	e.GET("/health/liveness", s.health)
	e.GET("/health/readiness", s.readiness)
	return s
}

type proxyRoutes struct {
	*Server
	api ProxyAPI
}

func (r *proxyRoutes) register(c echo.Context) error {
	fail := func(code int, msg string) error {
		return r.writeProto(c, code, &protocol.RegistrationResponse{Status: newStatus(protocol.Status_ERROR, msg)})
	}
	body, rerr := readBody(c.Response(), c.Request(), false, maxBodyBytes, r.bodies)
	if rerr != nil {
		return fail(failCode(rerr.code), rerr.msg)
	}
	defer body.done()
	req, legacy, err := decodeRegistration(body.bytes)
	body.recycle() // decoding copies what it keeps
	if err != nil {
		return fail(http.StatusBadRequest, malformed(req, err))
	}
	if legacy > 0 {
		r.log.Info("registration uses the older protocol: read plain channel_group strings as topics with action \"receive\"",
			zap.Int("channels", legacy))
	}
	resp, err := r.api.Register(c.Request().Context(), req)
	if err != nil {
		r.log.Warn("registration failed", zap.Error(err))
		return fail(http.StatusInternalServerError, err.Error())
	}
	if resp == nil {
		resp = new(protocol.RegistrationResponse)
	}
	if resp.Status == nil {
		resp.Status = newStatus(protocol.Status_OK, "Accepted")
	}
	if resp.ProxyInfo == nil {
		resp.ProxyInfo = &protocol.ProxyInfo{
			ProtocolMajorVersion: protocol.MajorVersion,
			ProtocolMinorVersion: protocol.MinorVersion,
			ProxyName:            "spawn-go",
			ProxyVersion:         moduleVersion(),
		}
	}
	return r.writeProto(c, http.StatusOK, resp)
}

func (r *proxyRoutes) spawn(c echo.Context) error {
	fail := func(code int, msg string) error {
		return r.writeProto(c, code, &protocol.SpawnResponse{Status: newStatus(protocol.Status_ERROR, msg)})
	}
	var revision int64
	// An empty ?revision= counts as absent rather than as a bad number.
	if v := c.QueryParam("revision"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fail(http.StatusBadRequest, fmt.Sprintf("query parameter revision must be a non-negative integer, got %q", v))
		}
		revision = n
	}
	body, rerr := readBody(c.Response(), c.Request(), false, maxBodyBytes, r.bodies)
	if rerr != nil {
		return fail(failCode(rerr.code), rerr.msg)
	}
	req := new(protocol.SpawnRequest)
	defer body.done()
	err := proto.Unmarshal(body.bytes, req)
	body.recycle() // decoding copies what it keeps
	if err != nil {
		return fail(http.StatusBadRequest, malformed(req, err))
	}
	resp, err := r.api.Spawn(c.Request().Context(), req, revision)
	if err != nil {
		r.log.Info("spawn failed", zap.Error(err))
		return r.writeProto(c, http.StatusInternalServerError, &protocol.SpawnResponse{Status: newStatus(errorStatus(err), err.Error())})
	}
	if resp == nil {
		resp = new(protocol.SpawnResponse)
	}
	if resp.Status == nil {
		resp.Status = newStatus(protocol.Status_OK, "Accepted")
	}
	return r.writeProto(c, http.StatusOK, resp)
}

// invoke answers POST .../invoke with the status and message it returns.
func (r *proxyRoutes) invoke(w http.ResponseWriter, hr *http.Request) (int, proto.Message) {
	req := new(protocol.InvocationRequest)
	fail := func(code int, st protocol.Status, msg string) (int, proto.Message) {
		return code, &protocol.InvocationResponse{
			Status: newStatus(st, msg),
			System: req.GetSystem(),
			Actor:  req.GetActor(),
		}
	}
	body, rerr := readBody(w, hr, false, maxBodyBytes, r.bodies)
	if rerr != nil {
		return fail(failCode(rerr.code), protocol.Status_ERROR, rerr.msg)
	}
	defer body.done()
	err := decodeInvocation(body.bytes, req)
	body.recycle() // decoding copies what it keeps
	if err != nil {
		req.Reset() // echo nothing from a half-decoded message
		return fail(http.StatusBadRequest, protocol.Status_ERROR, malformed(req, err))
	}
	resp, err := r.api.Invoke(hr.Context(), req)
	if err != nil {
		r.log.Debug("invocation failed", zap.String("system", req.GetSystem().GetName()),
			zap.String("actor", req.GetActor().GetId().GetName()), zap.String("action", req.GetActionName()), zap.Error(err))
		// Like the real proxy, every failed invocation is a 500; only the
		// RequestStatus tells an unknown actor from other errors.
		return fail(http.StatusInternalServerError, errorStatus(err), err.Error())
	}
	if resp == nil {
		resp = new(protocol.InvocationResponse)
	}
	if resp.Status == nil {
		resp.Status = newStatus(protocol.Status_OK, "")
	}
	if resp.System == nil {
		resp.System = req.GetSystem()
	}
	if resp.Actor == nil {
		resp.Actor = req.GetActor()
	}
	return http.StatusOK, resp
}

// isInvokePath reports whether path is /api/v1/system/:system/actors/:actor/invoke
// with both parameters non-empty, the route front serves without echo.
// Anything else goes through echo, whose router decides as before.
func isInvokePath(path string) bool {
	rest, ok := strings.CutPrefix(path, "/api/v1/system/")
	if !ok {
		return false
	}
	if rest, ok = strings.CutSuffix(rest, "/invoke"); !ok {
		return false
	}
	system, actor, ok := strings.Cut(rest, "/actors/")
	return ok && system != "" && actor != "" && !strings.Contains(system, "/") && !strings.Contains(actor, "/")
}

func (r *proxyRoutes) state(c echo.Context) error {
	id := &protocol.ActorId{
		System: pathParam(c, "system"),
		Name:   pathParam(c, "actor"),
		// Instances of unnamed actors are told apart by their parent.
		Parent: c.QueryParam("parent"),
	}
	for _, p := range []struct{ what, v string }{{"actor system", id.System}, {"actor name", id.Name}, {"parent", id.Parent}} {
		// Names are protobuf strings: such a name names no actor, and
		// could not even be echoed in the answer.
		if !utf8.ValidString(p.v) {
			return r.writeProto(c, http.StatusBadRequest, &protocol.InvocationResponse{
				Status: newStatus(protocol.Status_ERROR, fmt.Sprintf("%s is not valid UTF-8: %q", p.what, p.v)),
			})
		}
	}
	st, err := r.api.State(c.Request().Context(), id)
	if err != nil {
		status := errorStatus(err)
		code := http.StatusInternalServerError
		if status == protocol.Status_ACTOR_NOT_FOUND {
			code = http.StatusNotFound
		}
		return r.writeProto(c, code, &protocol.InvocationResponse{
			Status: newStatus(status, err.Error()),
			System: &protocol.ActorSystem{Name: id.GetSystem()},
			Actor:  &protocol.Actor{Id: id},
		})
	}
	if st == nil {
		st = new(protocol.ActorState)
	}
	return r.writeProto(c, http.StatusOK, st)
}

// pathParam returns a path parameter unescaped. Echo matches on the raw path
// when the URL has one (so that %2F stays inside a segment) and leaves the
// parameter escaped then; otherwise the parameter is already decoded.
func pathParam(c echo.Context, name string) string {
	v := c.Param(name)
	if c.Request().URL.RawPath == "" {
		return v
	}
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// failCode is the HTTP status for a request refused before it reached the
// API: an overloaded server answers 500 like every other failure of the
// proxy API, with the reason in the message, because clients read 503 as
// "the proxy is not there".
func failCode(code int) int {
	if code == http.StatusServiceUnavailable {
		return http.StatusInternalServerError
	}
	return code
}

// errorStatus is the protocol status reported for err: the one it carries,
// or ERROR.
func errorStatus(err error) protocol.Status {
	type protocolStatuser interface {
		error
		ProtocolStatus() protocol.Status
	}
	var ps protocolStatuser
	if errors.As(err, &ps) {
		// An error is never OK; nor is "unknown" a useful answer.
		if st := ps.ProtocolStatus(); st != protocol.Status_OK && st != protocol.Status_UNKNOWN {
			return st
		}
	}
	return protocol.Status_ERROR
}

// malformed describes a body that does not decode as m's type.
func malformed(m proto.Message, err error) string {
	return fmt.Sprintf("malformed %s body: %v", m.ProtoReflect().Descriptor().FullName(), err)
}

// moduleVersion is the version of this module compiled into the binary, or
// "devel" when it is not known (go run, tests, a replace directive).
var moduleVersion = version.Module
