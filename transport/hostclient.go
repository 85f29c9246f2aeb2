package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/protocol"
)

// hostCallTimeout bounds a host call whose context has no deadline; the real
// proxy gives the host the same 60 s.
const hostCallTimeout = 60 * time.Second

// HostClient calls a host's POST /api/v1/actors/actions the way the Spawn
// proxy does. It implements the runtime's Host interface over HTTP and is
// safe for concurrent use.
type HostClient struct {
	url    string
	client *http.Client
	rt     http.RoundTripper // see send
	token  string
}

// SetToken makes the client send token to the host (see WithToken). Call
// it before the first Call.
func (h *HostClient) SetToken(token string) { h.token = token }

// OverloadedError is a host's refusal of a call because it holds too many
// request bodies already (see WithMaxInflightBytes): the call did not run.
type OverloadedError struct{ Message string }

// Error implements error.
func (e *OverloadedError) Error() string { return e.Message }

// Overloaded reports true; the runtime recognises the error by it.
func (e *OverloadedError) Overloaded() bool { return true }

// NoAnswerError is a host call that got no answer: the host could not be
// reached (it is down or restarting), or the connection ended before its
// answer came. The proxy applied nothing of the call; the action may or
// may not have run.
type NoAnswerError struct{ Err error }

// Error implements error.
func (e *NoAnswerError) Error() string { return e.Err.Error() }

// Unwrap returns the transport's error.
func (e *NoAnswerError) Unwrap() error { return e.Err }

// NoAnswer reports true; the runtime recognises the error by it.
func (e *NoAnswerError) NoAnswer() bool { return true }

// NewHostClient returns a client for the host whose base URL is baseURL, for
// example "http://127.0.0.1:8090". A nil c uses a client of its own that
// keeps connections alive and ignores HTTP proxy environment variables.
func NewHostClient(baseURL string, c *http.Client) *HostClient {
	own := c == nil
	if own {
		c = newHTTPClient()
	}
	return &HostClient{url: strings.TrimRight(baseURL, "/") + protocol.HostPath, client: c, rt: roundTripper(c, own)}
}

// Call sends inv to the host and returns its answer. Like the real proxy it
// ignores the HTTP status and judges the body: an empty body, bytes that are
// not an ActorInvocationResponse, or a response without updated_context are
// errors, and so is a failure to reach the host. Without a deadline in ctx,
// the call gives up after 60 s. A host that could not be reached, or
// whose connection ended before it answered, is a *NoAnswerError; one that
// refused the call as overloaded, an *OverloadedError.
func (h *HostClient) Call(ctx context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, hostCallTimeout)
		defer cancel()
	}
	req, err := newProtoRequest(ctx, h.url, inv, h.rt != nil)
	var ee *encodeError
	if errors.As(err, &ee) {
		return nil, fmt.Errorf("encoding the invocation for the host: %w", ee.err)
	}
	if err != nil {
		return nil, fmt.Errorf("calling the host: %w", err)
	}
	setToken(req, h.token)

	res, err := send(h.client, h.rt, req)
	if err != nil {
		return nil, noAnswer(ctx, fmt.Errorf("calling the host at %s: %w", h.url, err))
	}
	defer res.Body.Close()
	buf, err := readResponse(res)
	if err != nil {
		return nil, noAnswer(ctx, fmt.Errorf("reading the host's answer (HTTP %d): %w", res.StatusCode, err))
	}
	defer putBuffer(buf) // decoding copies what it keeps
	b := *buf
	if res.StatusCode == http.StatusServiceUnavailable && bytes.HasPrefix(b, []byte(protocol.OverloadedPrefix)) {
		return nil, &OverloadedError{Message: "the host at " + h.url + " is " + string(b)}
	}
	return decodeHostResponse(res.StatusCode, b)
}

// noAnswer is err as a *NoAnswerError when it means the connection failed
// or ended before the answer, and not that ctx ended.
func noAnswer(ctx context.Context, err error) error {
	if ctx.Err() == nil && isConnFailure(err) {
		return &NoAnswerError{Err: err}
	}
	return err
}

// decodeHostResponse applies the proxy's rules to a host's answer.
func decodeHostResponse(code int, b []byte) (*protocol.ActorInvocationResponse, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("host answered HTTP %d with an empty body, want a spawn.ActorInvocationResponse", code)
	}
	resp := new(protocol.ActorInvocationResponse)
	if err := proto.Unmarshal(b, resp); err != nil {
		return nil, fmt.Errorf("host answered HTTP %d with a body that is not a spawn.ActorInvocationResponse (%s): %w",
			code, snippet(b), err)
	}
	if resp.GetUpdatedContext() == nil {
		return nil, fmt.Errorf("host answered HTTP %d with a spawn.ActorInvocationResponse without updated_context (%s)",
			code, snippet(b))
	}
	return resp, nil
}
