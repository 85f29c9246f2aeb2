//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/protocol"
)

// Tally is a named actor with state: a bystander of the bad input test,
// and the target of the requests that name a named actor.
type Tally struct {
	spawn.Actor `spawn:"name=tally"`
	State       *wrapperspb.Int64Value `spawn:"state"`
}

// Add adds its input to the tally.
func (t *Tally) Add(ctx *spawn.Context, in *wrapperspb.Int64Value) (*wrapperspb.Int64Value, error) {
	t.State.Value += in.GetValue()
	return wrapperspb.Int64(t.State.Value), nil
}

const badInputToken = "s3cret"

// badCase is one bad request and the answer it must get.
type badCase struct {
	name string
	// send makes the request.
	send func(t *testing.T, b *badInput) answer
	// code is the HTTP status of the answer.
	code int
	// into decodes a protobuf answer (nil: a text answer); status is the
	// RequestStatus it must carry (for a reply of the host, the error
	// reply's), and msg a part of its message, or of the text.
	into   func() proto.Message
	status protocol.Status
	msg    string
}

// TestReliabilityBadInput sends bad requests to the host endpoint and to
// spawn proxy's API, both run in this process with a token set, and
// checks each answer (HTTP status, protocol status, message), that both
// servers still serve afterwards, and that no actor's state changed: the
// tally and two ledgers are read before and after every case.
func TestReliabilityBadInput(t *testing.T) {
	b := startBadInput(t)
	hostCases, proxyCases := badHostCases(), badProxyCases()
	if n := len(hostCases) + len(proxyCases); n < 40 {
		t.Fatalf("%d cases; the suite asks for 40 at least", n)
	}
	before := b.snapshot(t)
	for _, c := range append(hostCases, proxyCases...) {
		t.Run(c.name, func(t *testing.T) {
			a := c.send(t, b)
			if a.code != c.code {
				t.Errorf("HTTP %d, want %d (body %q)", a.code, c.code, snippetOf(a.body))
			}
			st, msg := a.message(t, c.into)
			if c.into != nil && st != c.status {
				t.Errorf("status %v, want %v (%q)", st, c.status, msg)
			}
			if !strings.Contains(msg, c.msg) {
				t.Errorf("message %q, want it to contain %q", msg, c.msg)
			}
			b.stillServes(t)
			if after := b.snapshot(t); after != before {
				t.Errorf("state changed:\n%s\nwant:\n%s", after, before)
			}
		})
	}
	if !t.Failed() {
		t.Logf("figures: %d bad requests (%d to the host endpoint, %d to the proxy API), each answered as expected; both servers served after each, and no actor's state changed",
			len(hostCases)+len(proxyCases), len(hostCases), len(proxyCases))
	}
}

// badInput is the system under test: spawn proxy's address, the host's,
// and a System that calls through the proxy.
type badInput struct {
	proxy, host string
	sys         *spawn.System
	scratch     int64 // calls made to the scratch ledger
}

func startBadInput(t *testing.T) *badInput {
	hostAddr := freeLoopbackAddr(t)
	proxy := runProxyWith(t, map[string]string{"SPAWN_TOKEN": badInputToken}, hostAddr, "-registration-grace", "0")
	sys := startSystem(t, &Tally{}, &Ledger{}, spawn.WithProxy(proxy), spawn.WithHostAddress(hostAddr), spawn.WithToken(badInputToken))
	b := &badInput{proxy: "http://" + proxy, host: "http://" + hostAddr, sys: sys}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := sys.Invoke(ctx, "tally", "Add", wrapperspb.Int64(5), nil); err != nil {
		t.Fatal(err)
	}
	for i, slots := range [][]int64{{0, 3}, {1}} {
		for _, s := range slots {
			if err := sys.Invoke(ctx, "ledger", "Apply", wrapperspb.Int64(s), nil, spawn.Instance(fmt.Sprint("bystander-", i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b
}

// snapshot renders the state of the tally and of the bystander ledgers.
func (b *badInput) snapshot(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	var tally wrapperspb.Int64Value
	if err := b.sys.State(ctx, "tally", &tally); err != nil {
		t.Fatalf("reading the tally: %v", err)
	}
	s := fmt.Sprintf("tally %d", tally.GetValue())
	for i := range 2 {
		var l wrapperspb.BytesValue
		if err := b.sys.State(ctx, "ledger", &l, spawn.Instance(fmt.Sprint("bystander-", i))); err != nil {
			t.Fatalf("reading a ledger: %v", err)
		}
		s += fmt.Sprintf(", bystander-%d %v", i, l.GetValue())
	}
	return s
}

// stillServes checks that both servers answer a good request.
func (b *badInput) stillServes(t *testing.T) {
	t.Helper()
	a := b.postHost(t, mustMarshal(t, tallyInvocation("Add", wrapperspb.Int64(1))))
	if st, msg := a.message(t, hostReply); a.code != http.StatusOK || st != protocol.Status_OK {
		t.Errorf("the host endpoint after the case: HTTP %d, %v %q", a.code, st, msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := b.sys.Invoke(ctx, "ledger", "Apply", wrapperspb.Int64(b.scratch), nil, spawn.Instance("scratch")); err != nil {
		t.Errorf("the proxy after the case: %v", err)
	}
	b.scratch++
	for _, url := range []string{b.proxy + "/health", b.host + "/health"} {
		res, err := http.Get(url)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Errorf("%s after the case: %v, %v", url, res, err)
			continue
		}
		res.Body.Close()
	}
}

// answer is an HTTP answer.
type answer struct {
	code  int
	ctype string
	body  []byte
}

// message returns the RequestStatus of a protobuf answer decoded with
// into (for a reply carrying an error reply as its payload, that one's),
// or UNKNOWN and the text of a text answer.
func (a answer) message(t *testing.T, into func() proto.Message) (protocol.Status, string) {
	t.Helper()
	if into == nil || strings.HasPrefix(a.ctype, "text/") {
		return protocol.Status_UNKNOWN, string(a.body)
	}
	m := into()
	if err := proto.Unmarshal(a.body, m); err != nil {
		t.Fatalf("answer %q does not decode as %T: %v", snippetOf(a.body), m, err)
	}
	var st *protocol.RequestStatus
	var payload *anypb.Any
	switch m := m.(type) {
	case *protocol.InvocationResponse:
		st, payload = m.GetStatus(), m.GetValue()
	case *protocol.ActorInvocationResponse:
		st, payload = &protocol.RequestStatus{Status: protocol.Status_OK}, m.GetValue()
	case *protocol.RegistrationResponse:
		st = m.GetStatus()
	case *protocol.SpawnResponse:
		st = m.GetStatus()
	case *protocol.ActorState:
		st = &protocol.RequestStatus{Status: protocol.Status_OK}
	}
	if st.GetStatus() == protocol.Status_OK && payload.MessageIs(&protocol.RequestStatus{}) {
		st = new(protocol.RequestStatus)
		if err := payload.UnmarshalTo(st); err != nil {
			t.Fatal(err)
		}
	}
	return st.GetStatus(), st.GetMessage()
}

func snippetOf(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// The decoders of the answers.
var (
	hostReply     = func() proto.Message { return new(protocol.ActorInvocationResponse) }
	invokeReply   = func() proto.Message { return new(protocol.InvocationResponse) }
	registerReply = func() proto.Message { return new(protocol.RegistrationResponse) }
	spawnReply    = func() proto.Message { return new(protocol.SpawnResponse) }
)

// request sends a request with the token (unless token is "-") and
// returns the answer.
func request(t *testing.T, method, url, ctype, token string, body []byte) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	switch token {
	case "-":
	case "":
		req.Header.Set("Authorization", "Bearer "+badInputToken)
	default:
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{res.StatusCode, res.Header.Get("Content-Type"), b}
}

// rawRequest writes head (a request line and headers, without the blank
// line) and body to base's server, closes its side of the connection, and
// reads the answer: for requests whose Content-Length no client would
// send.
func rawRequest(t *testing.T, base, head string, body []byte) answer {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(waitTimeout))
	fmt.Fprintf(conn, "%s\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n%s", head, badInputToken, body)
	_ = conn.(*net.TCPConn).CloseWrite()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header.Get("Content-Type"), b}
}

func (b *badInput) postHost(t *testing.T, body []byte) answer {
	return request(t, http.MethodPost, b.host+protocol.HostPath, "application/octet-stream", "", body)
}

func (b *badInput) postProxy(t *testing.T, path string, body []byte) answer {
	return request(t, http.MethodPost, b.proxy+path, "application/octet-stream", "", body)
}

const invokePath = "/api/v1/system/spawn-system/actors/tally/invoke"

// tallyInvocation is what the proxy sends the host for tally.action.
func tallyInvocation(action string, in proto.Message) *protocol.ActorInvocation {
	id := &protocol.ActorId{Name: "tally", System: spawn.DefaultSystem}
	inv := &protocol.ActorInvocation{Actor: id, ActionName: action, Caller: id,
		CurrentContext: &protocol.Context{Self: id, Caller: id}}
	if in != nil {
		v, _ := anypb.New(in)
		inv.Payload = &protocol.ActorInvocation_Value{Value: v}
	}
	return inv
}

// invocation is a request to invoke action on actor with in.
func invocation(actor, action string, in proto.Message) *protocol.InvocationRequest {
	r := &protocol.InvocationRequest{
		System:     &protocol.ActorSystem{Name: spawn.DefaultSystem},
		Actor:      &protocol.Actor{Id: &protocol.ActorId{Name: actor, System: spawn.DefaultSystem}},
		ActionName: action,
	}
	if in != nil {
		v, _ := anypb.New(in)
		r.Payload = &protocol.InvocationRequest_Value{Value: v}
	}
	return r
}

// scratchInvocation applies the next call of the scratch ledger.
func (b *badInput) scratchInvocation() *protocol.InvocationRequest {
	r := invocation("scratch", "Apply", wrapperspb.Int64(b.scratch))
	r.Actor.Id.Parent, r.RegisterRef = "", "ledger"
	b.scratch++
	return r
}

// withTimeout sets the request-timeout metadata of r.
func withTimeout(r *protocol.InvocationRequest, v string) *protocol.InvocationRequest {
	r.Metadata = map[string]string{protocol.RequestTimeoutKey: v}
	return r
}

// badUTF8 marshals m, whose name field holds "BADUTF8!", with those bytes
// replaced by bytes that are not UTF-8.
func badUTF8(t *testing.T, m proto.Message) []byte {
	b := mustMarshal(t, m)
	return bytes.Replace(b, []byte("BADUTF8!"), []byte("\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8"), 1)
}

// truncated marshals m, without its last byte: the last field, a
// message, ends early. (A cut between fields would leave a shorter
// message, and a valid one.)
func truncated(t *testing.T, m proto.Message) []byte {
	b := mustMarshal(t, m)
	return b[:len(b)-1]
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// badHostCases are bad requests to the host endpoint, as a proxy (or
// anybody reaching the host's port) could send them.
func badHostCases() []badCase {
	post := func(body func(*testing.T) []byte) func(*testing.T, *badInput) answer {
		return func(t *testing.T, b *badInput) answer { return b.postHost(t, body(t)) }
	}
	good := func(t *testing.T) []byte { return mustMarshal(t, tallyInvocation("Add", wrapperspb.Int64(1))) }
	typed := func(url string, value []byte) func(*testing.T) []byte {
		return func(t *testing.T) []byte {
			inv := tallyInvocation("Add", nil)
			inv.Payload = &protocol.ActorInvocation_Value{Value: &anypb.Any{TypeUrl: url, Value: value}}
			return mustMarshal(t, inv)
		}
	}
	return []badCase{
		{name: "host/no token", code: 401, msg: "missing or wrong token", send: func(t *testing.T, b *badInput) answer {
			return request(t, "POST", b.host+protocol.HostPath, "application/octet-stream", "-", good(t))
		}},
		{name: "host/wrong token", code: 401, msg: "missing or wrong token", send: func(t *testing.T, b *badInput) answer {
			return request(t, "POST", b.host+protocol.HostPath, "application/octet-stream", "guess", good(t))
		}},
		{name: "host/malformed protobuf", code: 400, into: hostReply, status: protocol.Status_ERROR, msg: "malformed ActorInvocation",
			send: post(func(*testing.T) []byte { return []byte{0xff, 0xff, 0xff, 0xff} })},
		{name: "host/truncated body", code: 400, into: hostReply, status: protocol.Status_ERROR, msg: "malformed ActorInvocation",
			send: post(func(t *testing.T) []byte { return truncated(t, tallyInvocation("Add", wrapperspb.Int64(1))) })},
		{name: "host/text content type", code: 415, msg: `unsupported Content-Type "text/plain"`, send: func(t *testing.T, b *badInput) answer {
			return request(t, "POST", b.host+protocol.HostPath, "text/plain", "", good(t))
		}},
		{name: "host/json content type", code: 415, msg: `unsupported Content-Type "application/json"`, send: func(t *testing.T, b *badInput) answer {
			return request(t, "POST", b.host+protocol.HostPath, "application/json", "", []byte(`{"actor":"tally"}`))
		}},
		{name: "host/oversized body", code: 413, msg: "request body larger than", send: func(t *testing.T, b *badInput) answer {
			return rawRequest(t, b.host, fmt.Sprintf("POST %s HTTP/1.1\r\nContent-Type: application/octet-stream\r\nContent-Length: %d", protocol.HostPath, 1<<40), nil)
		}},
		{name: "host/unknown actor", code: 200, into: hostReply, status: protocol.Status_ACTOR_NOT_FOUND, msg: `this host has no actor "nobody"`,
			send: post(func(t *testing.T) []byte {
				inv := tallyInvocation("Add", wrapperspb.Int64(1))
				inv.Actor = &protocol.ActorId{Name: "nobody", System: spawn.DefaultSystem}
				return mustMarshal(t, inv)
			})},
		{name: "host/unknown action", code: 200, into: hostReply, status: protocol.Status_ACTOR_NOT_FOUND, msg: `actor "tally" has no action "Ad"; did you mean "Add"?`,
			send: post(func(t *testing.T) []byte { return mustMarshal(t, tallyInvocation("Ad", wrapperspb.Int64(1))) })},
		{name: "host/wrong payload type", code: 200, into: hostReply, status: protocol.Status_ERROR, msg: "takes google.protobuf.Int64Value, got google.protobuf.StringValue",
			send: post(func(t *testing.T) []byte { return mustMarshal(t, tallyInvocation("Add", wrapperspb.String("1"))) })},
		{name: "host/payload that does not decode", code: 200, into: hostReply, status: protocol.Status_ERROR, msg: "payload does not decode as google.protobuf.Int64Value",
			send: post(typed("type.googleapis.com/google.protobuf.Int64Value", []byte{0x08}))},
		{name: "host/payload without a type URL", code: 200, into: hostReply, status: protocol.Status_ERROR, msg: "got a payload without a type URL",
			send: post(typed("", []byte{0x08, 0x01}))},
		{name: "host/state of another type", code: 200, into: hostReply, status: protocol.Status_ERROR, msg: "it holds state of type google.protobuf.StringValue",
			send: post(func(t *testing.T) []byte {
				inv := tallyInvocation("Add", wrapperspb.Int64(1))
				inv.CurrentContext.State, _ = anypb.New(wrapperspb.String("x"))
				return mustMarshal(t, inv)
			})},
		{name: "host/missing actor id", code: 200, into: hostReply, status: protocol.Status_ACTOR_NOT_FOUND, msg: `this host has no actor ""`,
			send: post(func(t *testing.T) []byte { return mustMarshal(t, &protocol.ActorInvocation{ActionName: "Add"}) })},
		{name: "host/invalid UTF-8 in the actor name", code: 400, into: hostReply, status: protocol.Status_ERROR, msg: "invalid UTF-8",
			send: post(func(t *testing.T) []byte {
				inv := tallyInvocation("Add", wrapperspb.Int64(1))
				inv.Actor.Name = "BADUTF8!"
				return badUTF8(t, inv)
			})},
		{name: "host/GET", code: 404, msg: "Not found!", send: func(t *testing.T, b *badInput) answer {
			return request(t, "GET", b.host+protocol.HostPath, "", "", nil)
		}},
		{name: "host/odd path", code: 404, msg: "Not found!", send: func(t *testing.T, b *badInput) answer {
			return request(t, "POST", b.host+protocol.HostPath+"/../../../etc/passwd", "application/octet-stream", "", good(t))
		}},
		{name: "host/huge metadata", code: 200, into: hostReply, status: protocol.Status_OK, send: post(func(t *testing.T) []byte {
			inv := tallyInvocation("Add", wrapperspb.Int64(1))
			inv.CurrentContext.Metadata = map[string]string{"big": strings.Repeat("m", 4<<20)}
			return mustMarshal(t, inv)
		})},
	}
}

// badProxyCases are bad requests to spawn proxy's API.
func badProxyCases() []badCase {
	invoke := func(r func(*testing.T, *badInput) *protocol.InvocationRequest) func(*testing.T, *badInput) answer {
		return func(t *testing.T, b *badInput) answer { return b.postProxy(t, invokePath, mustMarshal(t, r(t, b))) }
	}
	invokeBytes := func(body func(*testing.T) []byte) func(*testing.T, *badInput) answer {
		return func(t *testing.T, b *badInput) answer { return b.postProxy(t, invokePath, body(t)) }
	}
	register := func(edit func(*protocol.Actor)) func(*testing.T, *badInput) answer {
		return func(t *testing.T, b *badInput) answer {
			return b.postProxy(t, "/api/v1/system", mustMarshal(t, registrationOf(edit)))
		}
	}
	spawnPath := "/api/v1/system/spawn-system/actors/spawn"
	spawnReq := func(name, parent, query string) func(*testing.T, *badInput) answer {
		return func(t *testing.T, b *badInput) answer {
			return b.postProxy(t, spawnPath+query, mustMarshal(t, &protocol.SpawnRequest{
				Actors: []*protocol.ActorId{{Name: name, System: spawn.DefaultSystem, Parent: parent}}}))
		}
	}
	get := func(path, token string) func(*testing.T, *badInput) answer {
		return func(t *testing.T, b *badInput) answer { return request(t, "GET", b.proxy+path, "", token, nil) }
	}
	good := func(t *testing.T, _ *badInput) *protocol.InvocationRequest {
		return invocation("tally", "Add", wrapperspb.Int64(1))
	}
	ok := func(name string, r func(*testing.T, *badInput) *protocol.InvocationRequest) badCase {
		return badCase{name: name, code: 200, into: invokeReply, status: protocol.Status_OK, send: invoke(r)}
	}
	return []badCase{
		{name: "proxy/invoke without a token", code: 401, msg: "missing or wrong token", send: func(t *testing.T, b *badInput) answer {
			return request(t, "POST", b.proxy+invokePath, "application/octet-stream", "-", mustMarshal(t, good(t, b)))
		}},
		{name: "proxy/invoke with a wrong token", code: 401, msg: "missing or wrong token", send: func(t *testing.T, b *badInput) answer {
			return request(t, "POST", b.proxy+invokePath, "application/octet-stream", "s3cre", mustMarshal(t, good(t, b)))
		}},
		{name: "proxy/register without a token", code: 401, msg: "missing or wrong token", send: func(t *testing.T, b *badInput) answer {
			return request(t, "POST", b.proxy+"/api/v1/system", "application/octet-stream", "-", mustMarshal(t, registrationOf(nil)))
		}},
		{name: "proxy/state without a token", code: 401, msg: "missing or wrong token", send: get("/api/v1/system/spawn-system/actors/tally", "-")},
		{name: "proxy/malformed invocation", code: 400, into: invokeReply, status: protocol.Status_ERROR, msg: "malformed",
			send: invokeBytes(func(*testing.T) []byte { return []byte{0x0a, 0xff} })},
		{name: "proxy/truncated invocation", code: 400, into: invokeReply, status: protocol.Status_ERROR, msg: "malformed",
			send: invokeBytes(func(t *testing.T) []byte { return truncated(t, invocation("tally", "Add", wrapperspb.Int64(1))) })},
		{name: "proxy/text content type", code: 415, into: invokeReply, status: protocol.Status_ERROR, msg: `unsupported Content-Type "text/plain"`,
			send: func(t *testing.T, b *badInput) answer {
				return request(t, "POST", b.proxy+invokePath, "text/plain", "", mustMarshal(t, good(t, b)))
			}},
		{name: "proxy/no content type", code: 415, into: invokeReply, status: protocol.Status_ERROR, msg: "missing Content-Type",
			send: func(t *testing.T, b *badInput) answer {
				return request(t, "POST", b.proxy+invokePath, "", "", mustMarshal(t, good(t, b)))
			}},
		{name: "proxy/oversized body", code: 413, into: invokeReply, status: protocol.Status_ERROR, msg: "request body larger than 8388608 bytes",
			send: func(t *testing.T, b *badInput) answer {
				return rawRequest(t, b.proxy, "POST "+invokePath+" HTTP/1.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 9000000", nil)
			}},
		{name: "proxy/body shorter than its Content-Length", code: 400, into: invokeReply, status: protocol.Status_ERROR, msg: "reading request body: unexpected EOF",
			send: func(t *testing.T, b *badInput) answer {
				body := mustMarshal(t, good(t, b))
				return rawRequest(t, b.proxy, fmt.Sprintf("POST %s HTTP/1.1\r\nContent-Type: application/octet-stream\r\nContent-Length: %d", invokePath, len(body)+10), body)
			}},
		{name: "proxy/huge metadata", code: 413, into: invokeReply, status: protocol.Status_ERROR, msg: "request body larger than 8388608 bytes",
			send: invoke(func(t *testing.T, b *badInput) *protocol.InvocationRequest {
				r := good(t, b)
				r.Metadata = map[string]string{"big": strings.Repeat("m", 9<<20)}
				return r
			})},
		ok("proxy/large metadata within the limit", func(t *testing.T, b *badInput) *protocol.InvocationRequest {
			r := b.scratchInvocation()
			r.Metadata = map[string]string{"big": strings.Repeat("m", 4<<20)}
			return r
		}),
		{name: "proxy/unknown system", code: 500, into: invokeReply, status: protocol.Status_ERROR, msg: `actor system "elsewhere" is not served here`,
			send: invoke(func(t *testing.T, b *badInput) *protocol.InvocationRequest {
				r := good(t, b)
				r.System.Name, r.Actor.Id.System = "elsewhere", "elsewhere"
				return r
			})},
		{name: "proxy/unknown actor", code: 500, into: invokeReply, status: protocol.Status_ACTOR_NOT_FOUND, msg: `actor "nobody" not found`,
			send: invoke(func(t *testing.T, b *badInput) *protocol.InvocationRequest { return invocation("nobody", "Add", nil) })},
		{name: "proxy/unknown actor, async", code: 500, into: invokeReply, status: protocol.Status_ACTOR_NOT_FOUND, msg: `actor "nobody" not found`,
			send: invoke(func(t *testing.T, b *badInput) *protocol.InvocationRequest {
				r := invocation("nobody", "Add", nil)
				r.Async = true
				return r
			})},
		{name: "proxy/unknown action", code: 500, into: invokeReply, status: protocol.Status_ACTOR_NOT_FOUND, msg: `action "add" not found for actor "tally"; did you mean "Add"?`,
			send: invoke(func(t *testing.T, b *badInput) *protocol.InvocationRequest { return invocation("tally", "add", nil) })},
		{name: "proxy/no system", code: 500, into: invokeReply, status: protocol.Status_ERROR, msg: "invocation has no system",
			send: invoke(func(t *testing.T, b *badInput) *protocol.InvocationRequest {
				r := good(t, b)
				r.System = nil
				return r
			})},
		{name: "proxy/no actor id", code: 500, into: invokeReply, status: protocol.Status_ERROR, msg: "invocation has no actor.id.name",
			send: invoke(func(t *testing.T, b *badInput) *protocol.InvocationRequest {
				r := good(t, b)
				r.Actor = nil
				return r
			})},
		{name: "proxy/wrong payload type", code: 200, into: invokeReply, status: protocol.Status_ERROR, msg: "takes google.protobuf.Int64Value, got google.protobuf.BytesValue",
			send: invoke(func(t *testing.T, b *badInput) *protocol.InvocationRequest {
				return invocation("tally", "Add", wrapperspb.Bytes([]byte{1}))
			})},
		{name: "proxy/invalid UTF-8 in the actor name", code: 400, into: invokeReply, status: protocol.Status_ERROR, msg: "invalid UTF-8",
			send: invokeBytes(func(t *testing.T) []byte { return badUTF8(t, invocation("BADUTF8!", "Add", nil)) })},
		{name: "proxy/negative request-timeout", code: 500, into: invokeReply, status: protocol.Status_ERROR, msg: `request-timeout="-5": want a positive integer`,
			send: invoke(func(t *testing.T, b *badInput) *protocol.InvocationRequest { return withTimeout(good(t, b), "-5") })},
		{name: "proxy/zero request-timeout", code: 500, into: invokeReply, status: protocol.Status_ERROR, msg: `request-timeout="0": want a positive integer`,
			send: invoke(func(t *testing.T, b *badInput) *protocol.InvocationRequest { return withTimeout(good(t, b), "0") })},
		{name: "proxy/request-timeout not a number", code: 500, into: invokeReply, status: protocol.Status_ERROR, msg: `request-timeout="1.5s": want a positive integer`,
			send: invoke(func(t *testing.T, b *badInput) *protocol.InvocationRequest { return withTimeout(good(t, b), "1.5s") })},
		{name: "proxy/negative overflowing request-timeout", code: 500, into: invokeReply, status: protocol.Status_ERROR, msg: "want a positive integer",
			send: invoke(func(t *testing.T, b *badInput) *protocol.InvocationRequest {
				return withTimeout(good(t, b), "-99999999999999999999999")
			})},
		ok("proxy/overflowing request-timeout means no limit", func(t *testing.T, b *badInput) *protocol.InvocationRequest {
			return withTimeout(b.scratchInvocation(), "99999999999999999999999")
		}),
		{name: "proxy/register_ref on a named actor", code: 500, into: invokeReply, status: protocol.Status_ERROR, msg: `actor "tally" is NAMED, and only UNNAMED actors can be spawned from`,
			send: invoke(func(t *testing.T, b *badInput) *protocol.InvocationRequest {
				r := invocation("x", "Add", wrapperspb.Int64(1))
				r.RegisterRef = "tally"
				return r
			})},
		{name: "proxy/register_ref over a registered actor", code: 500, into: invokeReply, status: protocol.Status_ERROR, msg: "a registered actor has that name",
			send: invoke(func(t *testing.T, b *badInput) *protocol.InvocationRequest {
				r := invocation("tally", "Apply", wrapperspb.Int64(1))
				r.RegisterRef = "ledger"
				return r
			})},
		{name: "proxy/malformed registration", code: 400, into: registerReply, status: protocol.Status_ERROR, msg: "malformed",
			send: func(t *testing.T, b *badInput) answer {
				return b.postProxy(t, "/api/v1/system", []byte{0x12, 0x05, 0x0a})
			}},
		{name: "proxy/truncated registration", code: 400, into: registerReply, status: protocol.Status_ERROR, msg: "malformed",
			send: func(t *testing.T, b *badInput) answer {
				return b.postProxy(t, "/api/v1/system", truncated(t, registrationOf(nil)))
			}},
		{name: "proxy/registration as JSON", code: 415, into: registerReply, status: protocol.Status_ERROR, msg: `unsupported Content-Type "application/json"`,
			send: func(t *testing.T, b *badInput) answer {
				return request(t, "POST", b.proxy+"/api/v1/system", "application/json", "", []byte(`{}`))
			}},
		{name: "proxy/registration with a zero deactivation timeout", code: 500, into: registerReply, status: protocol.Status_ERROR,
			msg: `actor "newcomer": deactivation_strategy.timeout must be a positive number of milliseconds, got 0`,
			send: register(func(a *protocol.Actor) {
				a.Settings.DeactivationStrategy = &protocol.ActorDeactivationStrategy{Strategy: &protocol.ActorDeactivationStrategy_Timeout{Timeout: &protocol.TimeoutStrategy{}}}
			})},
		{name: "proxy/registration with a negative snapshot timeout", code: 500, into: registerReply, status: protocol.Status_ERROR,
			msg: `actor "newcomer": snapshot_strategy.timeout must be a positive number of milliseconds, got -1`,
			send: register(func(a *protocol.Actor) {
				a.Settings.SnapshotStrategy = &protocol.ActorSnapshotStrategy{Strategy: &protocol.ActorSnapshotStrategy_Timeout{Timeout: &protocol.TimeoutStrategy{Timeout: -1}}}
			})},
		{name: "proxy/registration with a zero timer period", code: 500, into: registerReply, status: protocol.Status_ERROR, msg: `timer action "Tick" has period 0`,
			send: register(func(a *protocol.Actor) {
				a.TimerActions = []*protocol.FixedTimerAction{{Action: &protocol.Action{Name: "Tick"}}}
			})},
		{name: "proxy/registration without a system", code: 500, into: registerReply, status: protocol.Status_ERROR, msg: `actor "newcomer": id.system is empty`,
			send: register(func(a *protocol.Actor) { a.Id.System = "" })},
		{name: "proxy/registration without settings", code: 500, into: registerReply, status: protocol.Status_ERROR, msg: `actor "newcomer" has no settings`,
			send: register(func(a *protocol.Actor) { a.Settings = nil })},
		{name: "proxy/registration without service info", code: 500, into: registerReply, status: protocol.Status_ERROR, msg: "registration has no service_info",
			send: func(t *testing.T, b *badInput) answer {
				r := registrationOf(nil)
				r.ServiceInfo = nil
				return b.postProxy(t, "/api/v1/system", mustMarshal(t, r))
			}},
		{name: "proxy/registration of nothing", code: 500, into: registerReply, status: protocol.Status_ERROR, msg: "registration has no actor_system.registry",
			send: func(t *testing.T, b *badInput) answer {
				return b.postProxy(t, "/api/v1/system", mustMarshal(t, &protocol.RegistrationRequest{ServiceInfo: &protocol.ServiceInfo{}}))
			}},
		{name: "proxy/registration of an actor twice", code: 500, into: registerReply, status: protocol.Status_ERROR, msg: `actor "newcomer" is registered twice`,
			send: func(t *testing.T, b *badInput) answer {
				r := registrationOf(nil)
				twin := proto.CloneOf(r.ActorSystem.Registry.Actors["newcomer"])
				twin.Actions = nil
				r.ActorSystem.Registry.Actors["twin"] = twin
				return b.postProxy(t, "/api/v1/system", mustMarshal(t, r))
			}},
		{name: "proxy/registration with invalid UTF-8 in a name", code: 400, into: registerReply, status: protocol.Status_ERROR, msg: "invalid UTF-8",
			send: func(t *testing.T, b *badInput) answer {
				return b.postProxy(t, "/api/v1/system", badUTF8(t, registrationOf(func(a *protocol.Actor) { a.Id.Name = "BADUTF8!" })))
			}},
		{name: "proxy/spawn from a named actor", code: 500, into: spawnReply, status: protocol.Status_ERROR, msg: `actor "tally" is NAMED, and only UNNAMED actors can be spawned from`,
			send: spawnReq("t2", "tally", "")},
		{name: "proxy/spawn over a registered actor", code: 500, into: spawnReply, status: protocol.Status_ERROR, msg: "a registered actor has that name",
			send: spawnReq("tally", "ledger", "")},
		{name: "proxy/spawn from an unknown parent", code: 500, into: spawnReply, status: protocol.Status_ACTOR_NOT_FOUND, msg: `parent actor "nobody" not found`,
			send: spawnReq("x", "nobody", "")},
		{name: "proxy/spawn without a parent", code: 500, into: spawnReply, status: protocol.Status_ERROR, msg: "needs a name, a system and a parent",
			send: spawnReq("x", "", "")},
		{name: "proxy/spawn with a bad revision", code: 400, into: spawnReply, status: protocol.Status_ERROR, msg: `revision must be a non-negative integer, got "abc"`,
			send: spawnReq("x", "ledger", "?revision=abc")},
		{name: "proxy/spawn with a negative revision", code: 400, into: spawnReply, status: protocol.Status_ERROR, msg: `revision must be a non-negative integer, got "-1"`,
			send: spawnReq("x", "ledger", "?revision=-1")},
		{name: "proxy/spawn with an overflowing revision", code: 400, into: spawnReply, status: protocol.Status_ERROR, msg: `revision must be a non-negative integer, got "99999999999999999999"`,
			send: spawnReq("x", "ledger", "?revision=99999999999999999999")},
		{name: "proxy/malformed spawn", code: 400, into: spawnReply, status: protocol.Status_ERROR, msg: "malformed",
			send: func(t *testing.T, b *badInput) answer { return b.postProxy(t, spawnPath, []byte{0x0a, 0x7f}) }},
		{name: "proxy/state of an unknown actor", code: 404, into: invokeReply, status: protocol.Status_ACTOR_NOT_FOUND, msg: `actor "nobody" not found`,
			send: get("/api/v1/system/spawn-system/actors/nobody", "")},
		{name: "proxy/state in another system", code: 500, into: invokeReply, status: protocol.Status_ERROR, msg: `actor system "elsewhere" is not served here`,
			send: get("/api/v1/system/elsewhere/actors/tally", "")},
		{name: "proxy/state of a dot-dot name", code: 404, into: invokeReply, status: protocol.Status_ACTOR_NOT_FOUND, msg: `actor ".." not found`,
			send: get("/api/v1/system/spawn-system/actors/%2e%2e", "")},
		{name: "proxy/state of a name that is not UTF-8", code: 400, into: invokeReply, status: protocol.Status_ERROR, msg: "not valid UTF-8",
			send: get("/api/v1/system/spawn-system/actors/%ff%fe", "")},
		{name: "proxy/GET the registration route", code: 404, msg: "Not found!", send: get("/api/v1/system", "")},
		{name: "proxy/GET with no actor", code: 404, msg: "Not found!", send: get("/api/v1/system/spawn-system/actors/", "")},
		{name: "proxy/GET below an actor", code: 404, msg: "Not found!", send: get("/api/v1/system/spawn-system/actors/tally/state", "")},
		{name: "proxy/GET a path out of the API", code: 404, msg: "Not found!", send: get("/api/v1/../../etc/passwd", "")},
		{name: "proxy/DELETE an actor", code: 404, msg: "Not found!", send: func(t *testing.T, b *badInput) answer {
			return request(t, "DELETE", b.proxy+"/api/v1/system/spawn-system/actors/tally", "", "", nil)
		}},
	}
}

// registrationOf registers "newcomer", an actor of no consequence, as a
// host would, after edit.
func registrationOf(edit func(*protocol.Actor)) *protocol.RegistrationRequest {
	a := &protocol.Actor{
		Id:       &protocol.ActorId{Name: "newcomer", System: spawn.DefaultSystem},
		State:    &protocol.ActorState{},
		Settings: &protocol.ActorSettings{Kind: protocol.Kind_NAMED},
		Actions:  []*protocol.Action{{Name: "Hi"}},
	}
	if edit != nil {
		edit(a)
	}
	return &protocol.RegistrationRequest{
		ServiceInfo: &protocol.ServiceInfo{ServiceName: "bad input"},
		ActorSystem: &protocol.ActorSystem{Name: spawn.DefaultSystem, Registry: &protocol.Registry{Actors: map[string]*protocol.Actor{"newcomer": a}}},
	}
}
