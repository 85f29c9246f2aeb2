package dispatch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/bench/internal/loopback"
	"github.com/spawn-go/spawn/protocol"
	"go.uber.org/zap"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Subject is one host implementation under test.
type Subject struct {
	// Name names it in the results: "spawn-go", "handwritten", ...
	Name string
	// Body returns the request body for a payload of n bytes, and
	// Check verifies the answer to it.
	Body  func(n int) []byte
	Check func(n int, resp []byte) error
	// Method, Path and ContentType are how the request is sent.
	Method, Path, ContentType string
	// Handler answers requests in memory; nil leaves the subject out of
	// the in-memory comparison.
	Handler http.Handler
	// URL is the base URL of a live server answering the same requests;
	// "" leaves the subject out of the HTTP comparison.
	URL string
	// Close releases what the subject started.
	Close func()
}

// Protobuf returns a subject that speaks the Spawn host protocol: a POST
// of an encoded ActorInvocation to protocol.HostPath.
func Protobuf(name string, h http.Handler, baseURL string, closeFn func()) Subject {
	return Subject{
		Name: name, Body: Invocation, Check: CheckResponse,
		Method: http.MethodPost, Path: protocol.HostPath, ContentType: "application/octet-stream",
		Handler: h, URL: baseURL, Close: closeFn,
	}
}

// HandWrittenSubject serves HandWritten behind a minimal handler (read the
// body, answer the bytes), in memory and on a loopback server.
func HandWrittenSubject() (Subject, error) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out, err := HandWritten(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(out)
	})
	u, stop, err := loopback.Serve(h)
	if err != nil {
		return Subject{}, err
	}
	return Protobuf("handwritten", h, u, stop), nil
}

// BareSubject answers every request with its own body and does nothing
// else: the cost of the HTTP harness itself, which the HTTP comparison
// subtracts to get each handler's own cost. It is not run in memory.
func BareSubject() (Subject, error) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(body)
	})
	u, stop, err := loopback.Serve(h)
	if err != nil {
		return Subject{}, err
	}
	s := Protobuf("bare", nil, u, stop)
	s.Check = func(n int, resp []byte) error {
		if len(resp) != len(Invocation(n)) {
			return fmt.Errorf("bare echo answered %d bytes", len(resp))
		}
		return nil
	}
	return s, nil
}

// Echo is the spawn-go actor of the comparison.
type Echo struct {
	spawn.Actor `spawn:"name=echo"`
	State       *wrapperspb.Int64Value `spawn:"state"`
}

// Echo counts the call and answers with its input.
func (e *Echo) Echo(ctx *spawn.Context, in *wrapperspb.BytesValue) (*wrapperspb.BytesValue, error) {
	e.State.Value++
	return in, nil
}

// SpawnGoSubject runs Echo with the spawn package as a user would against
// a Spawn proxy (spawn-go's own, on loopback): in memory through the host
// endpoint that spawn.WithMount hands out, and over HTTP through the
// server the SDK starts by itself.
func SpawnGoSubject() (Subject, error) {
	p, err := loopback.StartProxy()
	if err != nil {
		return Subject{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mounted http.Handler
	mem, err := spawn.Start(ctx, &Echo{}, spawn.WithProxy(p.Addr), spawn.WithLogger(zap.NewNop()),
		spawn.WithMount(func(_ string, h http.Handler) { mounted = h }))
	if err != nil {
		_ = p.Close()
		return Subject{}, err
	}
	served, err := spawn.Start(ctx, &Echo{}, spawn.WithProxy(p.Addr), spawn.WithHostAddress(p.HostAddr), spawn.WithLogger(zap.NewNop()))
	if err != nil {
		_ = mem.Stop(ctx)
		_ = p.Close()
		return Subject{}, err
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = served.Stop(ctx)
		_ = mem.Stop(ctx)
		_ = p.Close()
	}
	return Protobuf("spawn-go", mounted, "http://"+p.HostAddr, stop), nil
}

// memWriter is the in-memory ResponseWriter: it keeps the body in a
// buffer reused from call to call.
type memWriter struct {
	h    http.Header
	buf  bytes.Buffer
	code int
}

func (w *memWriter) Header() http.Header { return w.h }
func (w *memWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *memWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.buf.Write(b)
}

// memCaller hands requests to a handler without a network: the same
// request value, rebuilt cheaply, for every call.
type memCaller struct {
	s    Subject
	u    *url.URL
	body []byte
	rd   bytes.Reader
	w    memWriter
	hdr  http.Header
}

func newMemCaller(s Subject, n int) *memCaller {
	u := &url.URL{Scheme: "http", Host: "127.0.0.1", Path: s.Path}
	return &memCaller{s: s, u: u, body: s.Body(n), hdr: http.Header{"Content-Type": {s.ContentType}}, w: memWriter{h: http.Header{}}}
}

func (c *memCaller) call() ([]byte, error) {
	c.rd.Reset(c.body)
	r := &http.Request{
		Method: c.s.Method, URL: c.u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: c.hdr, Body: io.NopCloser(&c.rd), ContentLength: int64(len(c.body)),
		Host: c.u.Host, RequestURI: c.u.Path,
	}
	c.w.buf.Reset()
	c.w.code = 0
	clear(c.w.h)
	c.s.Handler.ServeHTTP(&c.w, r)
	if c.w.code != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d: %.200s", c.s.Name, c.w.code, c.w.buf.Bytes())
	}
	return c.w.buf.Bytes(), nil
}

// httpCaller sends requests to a live server on a kept-alive connection.
type httpCaller struct {
	s      Subject
	client *http.Client
	url    string
	body   []byte
	buf    bytes.Buffer
}

func newHTTPCaller(s Subject, n int, client *http.Client) *httpCaller {
	return &httpCaller{s: s, client: client, url: s.URL + s.Path, body: s.Body(n)}
}

func (c *httpCaller) call() ([]byte, error) {
	req, err := http.NewRequest(c.s.Method, c.url, bytes.NewReader(c.body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", c.s.ContentType)
	res, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	c.buf.Reset()
	_, err = c.buf.ReadFrom(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d: %.200s", c.s.Name, res.StatusCode, c.buf.Bytes())
	}
	return c.buf.Bytes(), nil
}
