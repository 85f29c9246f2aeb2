package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"google.golang.org/protobuf/proto"
)

// maxResponseBytes bounds what a client reads from a response, so that a
// misbehaving peer cannot make it allocate without limit.
const maxResponseBytes = 64 << 20

// readResponse reads a response body, at most maxResponseBytes of it, into
// a pooled buffer, which the caller gives back with putBuffer once it has
// decoded the bytes. The buffer is nil when there is an error.
func readResponse(res *http.Response) (*[]byte, error) {
	buf := getBuffer(sizeHint(res.ContentLength, maxResponseBytes))
	if err := readInto(res.Body, buf, maxResponseBytes); err != nil {
		putBuffer(buf)
		if errors.Is(err, errTooLarge) {
			return nil, fmt.Errorf("body larger than %d bytes", maxResponseBytes)
		}
		return nil, err
	}
	return buf, nil
}

// maxIdleConnsPerHost is how many idle connections NewHTTPClient keeps to
// one peer. A proxy calls its host once per active actor at a time and a
// host calls its proxy once per concurrent caller, so the pool must hold at
// least as many connections as there are concurrent calls; otherwise every
// connection returned beyond it is closed and the next call dials again
// (Go's default keeps 2, which cost 30% at 16 callers). Idle connections
// cost a file descriptor each and close after idleConnTimeout.
const (
	maxIdleConnsPerHost = 256
	maxIdleConns        = 1024
	idleConnTimeout     = 90 * time.Second
)

// newHTTPClient returns the client used when the caller gives none: it
// keeps enough idle connections per peer for hundreds of concurrent calls,
// and ignores the environment's HTTP proxy settings (HTTP_PROXY and the
// like), which are meant for other traffic: both peers are normally on the
// same machine or pod.
func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.MaxIdleConns = maxIdleConns
	t.MaxIdleConnsPerHost = maxIdleConnsPerHost
	t.IdleConnTimeout = idleConnTimeout
	// Bodies are protobuf, which does not compress well, and a peer on
	// loopback gains nothing from it.
	t.DisableCompression = true
	return &http.Client{Transport: t}
}

// newProtoRequest returns a POST of m to url.
//
// The body is not taken from the buffer pool: a pooled buffer could only be
// given back when the transport closes the body, which needs a body type
// of our own, and net/http writes the headers of a request whose body is
// not a bytes.Reader (or another of its in-memory readers) in a write of
// their own: one more system call and packet per call, which cost more
// than the allocation saved.
//
// own says that the request goes to this package's own transport (see
// setHeader).
func newProtoRequest(ctx context.Context, url string, m proto.Message, own bool) (*http.Request, error) {
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, &encodeError{err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	setHeader(req.Header, "Content-Type", protobufContentType, own)
	return req, nil
}

// encodeError is newProtoRequest's failure to encode its message.
type encodeError struct{ err error }

func (e *encodeError) Error() string { return e.err.Error() }
func (e *encodeError) Unwrap() error { return e.err }

// roundTripper returns what send uses for c: its transport when c is one
// of this package's own clients, nil for a caller's client.
func roundTripper(c *http.Client, own bool) http.RoundTripper {
	if own {
		return c.Transport
	}
	return nil
}

// send sends req. With one of this package's own clients (rt not nil) it
// goes to the transport directly: http.Client would copy the headers and
// keep state for redirects and cookies, which these calls never use. A
// caller's client is used as it is. Errors read as http.Client's do.
func send(c *http.Client, rt http.RoundTripper, req *http.Request) (*http.Response, error) {
	if rt == nil {
		return c.Do(req)
	}
	res, err := rt.RoundTrip(req)
	if err != nil {
		return nil, &url.Error{Op: "Post", URL: req.URL.String(), Err: err}
	}
	return res, nil
}
