package transport

import (
	"errors"
	"fmt"
	"net/http"
	"time"
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
