package transport

import (
	"fmt"
	"io"
	"net/http"
)

// maxResponseBytes bounds what a client reads from a response, so that a
// misbehaving peer cannot make it allocate without limit.
const maxResponseBytes = 64 << 20

// readResponse reads a response body, at most maxResponseBytes of it.
func readResponse(res *http.Response) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxResponseBytes {
		return nil, fmt.Errorf("body larger than %d bytes", maxResponseBytes)
	}
	return b, nil
}

// newHTTPClient returns the client used when the caller gives none. Both
// peers are normally on the same machine or pod: the environment's HTTP
// proxy settings are meant for other traffic, and a larger idle pool keeps
// concurrent calls from reopening connections (Go's default keeps 2).
func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.MaxIdleConnsPerHost = 32
	return &http.Client{Transport: t}
}
