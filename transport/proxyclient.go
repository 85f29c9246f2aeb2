package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/protocol"
)

// ErrUnavailable is wrapped by every ProxyClient error caused by not
// reaching the proxy at all: nothing listening, connection reset, or a
// gateway in front of it answering 502, 503 or 504.
var ErrUnavailable = errors.New("spawn proxy unavailable")

// ErrNoAnswer is wrapped by every ProxyClient error where the request was
// sent but no answer came: the connection broke, or a gateway in front of
// the proxy gave up waiting (504). The proxy may have run the request.
var ErrNoAnswer = errors.New("no answer from the spawn proxy")

// StatusError is the error for an answer of the proxy other than 200.
type StatusError struct {
	// HTTPStatus is the HTTP status code of the answer.
	HTTPStatus int
	// Status is the RequestStatus.status of the body, or UNKNOWN when the
	// body carried none (it was empty, text, or not protobuf).
	Status protocol.Status
	// Message is the RequestStatus.message of the body or, for a body that
	// is not protobuf, a description quoting its start.
	Message string
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("spawn proxy answered HTTP %d (%s): %s", e.HTTPStatus, e.Status, e.Message)
}

// Backoff for Register while the proxy is not up yet.
const (
	registerFirstDelay = 100 * time.Millisecond
	registerMaxDelay   = 5 * time.Second
)

// ProxyClient calls a Spawn proxy's HTTP API: the real Elixir sidecar or the
// standalone runtime of cmd/spawn. It is safe for concurrent use and reuses
// connections.
type ProxyClient struct {
	base   string
	client *http.Client
	rt     http.RoundTripper // see send
	log    *zap.Logger

	// Register's backoff bounds; tests shorten them.
	firstDelay, maxDelay time.Duration

	// registeredWith is the InstanceHeader of the last successful
	// registration's answer.
	registeredWith atomic.Value // string

	token string
}

// SetToken makes the client send token to the proxy (see WithToken). Call
// it before the first request.
func (p *ProxyClient) SetToken(token string) { p.token = token }

// RegisteredWith returns the instance of the proxy (see InstanceHeader)
// that accepted the last registration, or "" when the proxy names none.
func (p *ProxyClient) RegisteredWith() string {
	s, _ := p.registeredWith.Load().(string)
	return s
}

// NewProxyClient returns a client for the proxy whose base URL is baseURL,
// for example "http://127.0.0.1:9001". A nil c uses a client of its own that
// keeps connections alive and ignores HTTP proxy environment variables; a
// nil logger logs nothing.
func NewProxyClient(baseURL string, c *http.Client, logger *zap.Logger) *ProxyClient {
	own := c == nil
	if own {
		c = newHTTPClient()
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	return &ProxyClient{
		base:       strings.TrimRight(baseURL, "/"),
		client:     c,
		rt:         roundTripper(c, own),
		log:        logger,
		firstDelay: registerFirstDelay,
		maxDelay:   registerMaxDelay,
	}
}

// Register registers the host's actors. The proxy usually starts next to
// the host, so while it cannot be reached Register retries with capped
// exponential backoff until ctx is done; any other refusal is final and
// returned as a *StatusError.
func (p *ProxyClient) Register(ctx context.Context, req *protocol.RegistrationRequest) (*protocol.RegistrationResponse, error) {
	body, err := proto.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encoding the registration: %w", err)
	}
	resp := new(protocol.RegistrationResponse)
	delay := p.firstDelay
	var unavailable error // the last ErrUnavailable, for the final error
	for attempt := 1; ; attempt++ {
		err := p.post(ctx, "/api/v1/system", body, resp)
		switch {
		case err == nil:
			return resp, nil
		case errors.Is(err, ErrUnavailable), errors.Is(err, ErrNoAnswer):
			// Registering again is harmless, so a broken connection is
			// retried like a proxy that is not up yet.
			unavailable = err
		case ctx.Err() != nil && unavailable != nil:
			// The deadline struck during an attempt: say why we were
			// still trying rather than only that time ran out.
			return nil, gaveUp(attempt, ctx.Err(), unavailable)
		default:
			return nil, err
		}
		// Equal jitter: keep half the delay, randomise the rest, so that
		// hosts started together do not knock on the proxy in step.
		wait := delay/2 + rand.N(delay/2+1)
		p.log.Info("spawn proxy not reachable yet, retrying registration",
			zap.Int("attempt", attempt), zap.Duration("delay", wait), zap.Error(err))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, gaveUp(attempt, ctx.Err(), unavailable)
		case <-t.C:
		}
		delay = min(2*delay, p.maxDelay)
	}
}

func gaveUp(attempts int, ctxErr, last error) error {
	return fmt.Errorf("registering actors: gave up after %d attempts: %w (%w)", attempts, ctxErr, last)
}

// Spawn creates instances of unnamed actors in system. A revision above 0
// asks the proxy to restore that revision of their state at activation.
func (p *ProxyClient) Spawn(ctx context.Context, system string, req *protocol.SpawnRequest, revision int64) (*protocol.SpawnResponse, error) {
	if system == "" {
		return nil, errors.New("spawning actors: empty actor system name")
	}
	body, err := proto.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encoding the spawn request: %w", err)
	}
	path := "/api/v1/system/" + url.PathEscape(system) + "/actors/spawn"
	if revision > 0 {
		path += "?revision=" + strconv.FormatInt(revision, 10)
	}
	resp := new(protocol.SpawnResponse)
	if err := p.post(ctx, path, body, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// Invoke runs an action. The proxy reads system and actor from req; they
// are also in the path because every Spawn SDK puts them there.
func (p *ProxyClient) Invoke(ctx context.Context, system, actor string, req *protocol.InvocationRequest) (*protocol.InvocationResponse, error) {
	if system == "" || actor == "" {
		return nil, fmt.Errorf("invoking an actor: empty actor system (%q) or actor name (%q)", system, actor)
	}
	path := "/api/v1/system/" + url.PathEscape(system) + "/actors/" + url.PathEscape(actor) + "/invoke"
	hreq, err := newProtoRequest(ctx, p.base+path, req, p.rt != nil)
	var ee *encodeError
	if errors.As(err, &ee) {
		return nil, fmt.Errorf("encoding the invocation: %w", ee.err)
	}
	if err != nil {
		return nil, fmt.Errorf("building a request for the spawn proxy: %w", err)
	}
	resp := new(protocol.InvocationResponse)
	if err := p.do(ctx, hreq, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// post sends body to path and decodes a 200 answer into resp. The three
// response types carry their RequestStatus in field 1, so resp also serves
// to read the status of an error answer.
func (p *ProxyClient) post(ctx context.Context, path string, body []byte, resp proto.Message) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building a request for the spawn proxy: %w", err)
	}
	setHeader(req.Header, "Content-Type", protobufContentType, p.rt != nil)
	return p.do(ctx, req, resp)
}

// do sends req, a POST with its body and Content-Type set, and decodes a
// 200 answer into resp, as post does.
func (p *ProxyClient) do(ctx context.Context, req *http.Request, resp proto.Message) error {
	setHeader(req.Header, "Accept", protobufContentType, p.rt != nil)
	setToken(req, p.token)

	res, err := send(p.client, p.rt, req)
	if err != nil {
		switch {
		case ctx.Err() != nil:
		case isDialFailure(err), closedIdle(err):
			return p.unavailable(err)
		case isConnFailure(err):
			return p.noAnswer(err)
		}
		return fmt.Errorf("calling the spawn proxy at %s: %w", p.base, err)
	}
	defer res.Body.Close()
	buf, err := readResponse(res)
	if err != nil {
		if ctx.Err() == nil && isConnFailure(err) {
			return p.noAnswer(err)
		}
		return fmt.Errorf("reading the spawn proxy's answer (HTTP %d): %w", res.StatusCode, err)
	}
	defer putBuffer(buf) // decoding copies what it keeps, errors quote copies
	b := *buf

	switch res.StatusCode {
	case http.StatusOK:
		if err := proto.Unmarshal(b, resp); err != nil {
			return fmt.Errorf("spawn proxy answered HTTP 200 with a body that is not a %s (%s): %w",
				resp.ProtoReflect().Descriptor().FullName(), snippet(b), err)
		}
		if _, ok := resp.(*protocol.RegistrationResponse); ok {
			p.registeredWith.Store(res.Header.Get(InstanceHeader))
		}
		return nil
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return p.unavailable(fmt.Errorf("HTTP %d (%s)", res.StatusCode, snippet(b)))
	case http.StatusGatewayTimeout:
		// The gateway passed the request on and gave up waiting.
		return p.noAnswer(fmt.Errorf("HTTP %d (%s)", res.StatusCode, snippet(b)))
	case http.StatusUnauthorized, http.StatusForbidden:
		// The same token would be refused again: say which to set, once,
		// rather than retry or quote the proxy's text body.
		return &StatusError{HTTPStatus: res.StatusCode, Status: protocol.Status_ERROR, Message: fmt.Sprintf(
			"the proxy at %s refused the token (HTTP %d): set %s or use spawn.WithToken, with the token the proxy was started with",
			p.base, res.StatusCode, protocol.EnvToken)}
	}
	return statusError(res, b, resp)
}

// unavailable wraps both ErrUnavailable and the cause, and tells the user
// what to check.
func (p *ProxyClient) unavailable(cause error) error {
	return fmt.Errorf("%w at %s (start it, or set %s and %s to its address): %w",
		ErrUnavailable, p.base, protocol.EnvProxyHost, protocol.EnvProxyPort, cause)
}

// noAnswer wraps both ErrNoAnswer and the cause.
func (p *ProxyClient) noAnswer(cause error) error {
	return fmt.Errorf("%w at %s: the request was sent, and the connection ended before the answer came; it may have run: %w",
		ErrNoAnswer, p.base, cause)
}

// statusError builds the error for a non-200 answer, using the body's
// RequestStatus when the body is protobuf and quoting it otherwise.
func statusError(res *http.Response, b []byte, scratch proto.Message) *StatusError {
	e := &StatusError{HTTPStatus: res.StatusCode}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); !strings.HasPrefix(mt, "text/") && mt != "application/json" {
		proto.Reset(scratch)
		if proto.Unmarshal(b, scratch) == nil {
			if st, ok := requestStatus(scratch); ok {
				e.Status, e.Message = st.GetStatus(), st.GetMessage()
				return e
			}
		}
	}
	e.Message = "body is not a protobuf status (" + snippet(b) + ")"
	return e
}

// requestStatus returns the RequestStatus of a proxy response message.
func requestStatus(m proto.Message) (*protocol.RequestStatus, bool) {
	var st *protocol.RequestStatus
	switch m := m.(type) {
	case *protocol.RegistrationResponse:
		st = m.GetStatus()
	case *protocol.SpawnResponse:
		st = m.GetStatus()
	case *protocol.InvocationResponse:
		st = m.GetStatus()
	}
	return st, st != nil
}

// isDialFailure reports whether err means no connection could be made, so
// that nothing was sent.
func isDialFailure(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// closedIdle reports whether err is net/http's "server closed idle
// connection": the proxy closed a kept-alive connection as idle just as
// the request went out on it (a host or proxy stopping closes its idle
// connections). A server closes only connections with no
// request in flight, so the request was not handled, and may be sent
// again (net/http does so itself for idempotent requests). net/http
// exports no value for it, hence the text.
func closedIdle(err error) bool {
	return strings.Contains(err.Error(), "http: server closed idle connection")
}

// isConnFailure reports whether err means the proxy could not be reached or
// dropped the connection, as opposed to a request that was answered.
func isConnFailure(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || closedIdle(err) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return true
	}
	return false
}

// CloseIdleConnections closes the connections to the proxy that are not
// in use, as a host does when it stops.
func (p *ProxyClient) CloseIdleConnections() { p.client.CloseIdleConnections() }

// Alive asks the proxy's liveness endpoint whether it is up, and returns
// the proxy's instance (see InstanceHeader; empty for the real proxy). The
// error wraps ErrUnavailable when the proxy cannot be reached.
func (p *ProxyClient) Alive(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/health/liveness", nil)
	if err != nil {
		return "", fmt.Errorf("building a request for the spawn proxy: %w", err)
	}
	res, err := p.client.Do(req)
	if err != nil {
		if isConnFailure(err) || ctx.Err() != nil {
			return "", p.unavailable(err)
		}
		return "", fmt.Errorf("calling the spawn proxy at %s: %w", p.base, err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("spawn proxy at %s is not live: HTTP %d", p.base, res.StatusCode)
	}
	return res.Header.Get(InstanceHeader), nil
}
