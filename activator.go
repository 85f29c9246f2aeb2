package spawn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.uber.org/zap"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/internal/activator"
	"github.com/spawn-go/spawn/internal/nearest"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/registry"
)

// The JSON activator: actors reached from outside Go, over HTTP with JSON
// bodies, through the same calls as System.Invoke. docs/guide/11-observability.md
// shows it with curl.

// WithActivator serves the JSON activator on addr ("host:port"; without a
// host, on loopback: ":8092" is "127.0.0.1:8092"; port 0 picks a free one,
// which System.ActivatorAddress reports). The default is SPAWN_ACTIVATOR_ADDR,
// and with neither, no activator. WithActivator("") turns it off.
//
// The activator answers
//
//	POST /v1/actors/{actor}/{action}
//	POST /v1/actors/{actor}/instances/{instance}/{action}
//
// taking the action's input and returning its reply as protobuf JSON; with
// ?async=true, it answers 202 once the call is accepted. It requires the
// token of WithToken (or SPAWN_TOKEN), when there is one, as
// "Authorization: Bearer <token>". To serve it on a server of your own,
// mount System.Activator instead.
func WithActivator(addr string) Option {
	return optionFunc(func(c *config) { c.activatorAddr = addr })
}

// Activator returns the JSON activator as an http.Handler, to mount on a
// server of your own under /v1/actors/:
//
//	mux.Handle("/v1/actors/", sys.Activator())
//
// For an actor this program serves, the body is the action's input
// message in the protobuf JSON mapping, and may be left out for an empty
// one. For an actor served elsewhere, or an action that takes *anypb.Any,
// it is a JSON Any, naming its type in "@type"; the type must be linked
// into this program. The reply is the reply message as JSON (204 when
// there is none); a failure is an HTTP status and
// {"code": "...", "message": "..."}, the call's Error.Message.
func (s *System) Activator() http.Handler {
	t := s.tel()
	return activator.NewHandler(s.activate, activator.Options{
		Token: s.cfg.token,
		Log:   s.log,
		Extract: func(ctx context.Context, h http.Header) context.Context {
			if !t.Tracing() {
				return ctx
			}
			return t.Propagator().Extract(ctx, propagation.HeaderCarrier(h))
		},
	})
}

// ActivatorAddress returns the address the activator listens on, or nil
// without one.
func (s *System) ActivatorAddress() net.Addr {
	if s.act == nil {
		return nil
	}
	return s.act.addr
}

// activate runs one activator request.
func (s *System) activate(ctx context.Context, r activator.Request) (*anypb.Any, *activator.Problem) {
	in, p := s.activatorInput(r)
	if p != nil && p.Code != codeID(CodeNotFound) {
		return nil, p
	}
	var opts []InvokeOption
	if r.Instance != "" {
		opts = append(opts, Instance(r.Instance))
	}
	if r.Async && p == nil {
		opts = append(opts, Async())
	}
	reply := new(anypb.Any)
	// An actor or action that is not there is still called (with no
	// input: activatorInput decodes none for it), so that the mistake shows in traces, metrics and the
	// dashboard as it does from Go; the answer is the activator's own,
	// more helpful, message.
	if err := s.invoke(ctx, nil, r.Actor, r.Action, in, reply, opts); err != nil {
		if p != nil && CodeOf(err) == CodeNotFound {
			return nil, p
		}
		return nil, problem(err)
	}
	return reply, nil
}

// activatorInput decodes the body of r: into the action's input type, for
// an actor this program serves, or as a JSON Any otherwise.
func (s *System) activatorInput(r activator.Request) (proto.Message, *activator.Problem) {
	invalid := func(format string, args ...any) *activator.Problem {
		return &activator.Problem{Status: http.StatusBadRequest, Code: codeID(CodeInvalid), Message: fmt.Sprintf(format, args...)}
	}
	body := bytes.TrimSpace(r.Body)
	empty := len(body) == 0 || bytes.Equal(body, []byte("{}"))
	var d *registry.Definition
	var hd *registry.Handler
	if s.host != nil {
		d = s.host.table.Lookup(&protocol.ActorId{Name: r.Actor})
	}
	if d == nil && s.Embedded() {
		// The embedded runtime runs this program's actors and no others.
		return nil, &activator.Problem{Status: http.StatusNotFound, Code: codeID(CodeNotFound),
			Message: fmt.Sprintf("this program serves no actor %q; %s", r.Actor, servedHint(r.Actor, s.host.table.Names()))}
	}
	if d != nil {
		switch {
		case r.Instance != "" && d.Kind != registry.Unnamed:
			return nil, invalid("actor %q is %s: instances are for unnamed actors; POST /v1/actors/%s/%s", d.Name, d.Kind, d.Name, r.Action)
		case r.Instance == "" && d.Kind == registry.Unnamed:
			return nil, invalid("actor %q is unnamed: call one of its instances, POST /v1/actors/%s/instances/{instance}/%s", d.Name, d.Name, r.Action)
		}
		hd = d.Handler(r.Action)
		switch {
		case hd == nil && !d.ReadsOverridden && slices.Contains(protocol.GetActions, r.Action):
			// A built-in read: no input.
			if !empty {
				return nil, invalid("%q of actor %q reads its state and takes no input; send no body", r.Action, d.Name)
			}
			return nil, nil
		case hd == nil:
			return nil, &activator.Problem{Status: http.StatusNotFound, Code: codeID(CodeNotFound),
				Message: fmt.Sprintf("actor %q has no action %q; %s", d.Name, r.Action, didYouMean(r.Action, d.HandlerNames()))}
		case hd.RawAny:
			// Any payload: a JSON Any, below.
		case hd.InputURL == "":
			if !empty {
				return nil, invalid("action %q of actor %q takes no input; send no body", r.Action, d.Name)
			}
			return nil, nil
		case namesType(body):
			// A JSON Any, as for actors served elsewhere: below.
		default:
			if len(body) == 0 {
				return nil, nil
			}
			in := hd.Signature().InMessage.New().Interface()
			if err := protojson.Unmarshal(body, in); err != nil {
				return nil, invalid("the body is not a %s in JSON: %v", in.ProtoReflect().Descriptor().FullName(), err)
			}
			return in, nil
		}
	}
	if len(body) == 0 {
		return nil, nil
	}
	if url, ok := typeOf(body); ok {
		if _, err := protoregistry.GlobalTypes.FindMessageByURL(url); err != nil {
			return nil, invalid("the body's \"@type\" names %s, a message type this program does not know: import the Go package generated for it (a blank import will do), so that it is linked in",
				describeURL(url))
		}
	}
	var in anypb.Any
	if err := protojson.Unmarshal(body, &in); err != nil {
		if hd != nil && !hd.RawAny {
			return nil, invalid("action %q of actor %q takes %s: send it in JSON, or as a JSON Any naming its type in \"@type\": %v",
				r.Action, d.Name, hd.Signature().InMessage.Descriptor().FullName(), err)
		}
		where := "is not served by this program"
		if d != nil {
			where = "takes any message"
		}
		return nil, invalid("actor %q %s: send a JSON Any, naming its type in \"@type\" (a type linked into this program): %v", r.Actor, where, err)
	}
	if hd != nil && !hd.RawAny && in.GetTypeUrl() != hd.InputURL {
		return nil, invalid("action %q of actor %q takes %s, not %s", r.Action, d.Name,
			hd.Signature().InMessage.Descriptor().FullName(), describeURL(in.GetTypeUrl()))
	}
	return &in, nil
}

// servedHint names the actor closest to a mistyped one, or lists them all.
func servedHint(actor string, names []string) string {
	if n := nearest.Name(actor, names); n != "" {
		return fmt.Sprintf("did you mean %q?", n)
	}
	return "it serves " + quoteList(names)
}

// typeOf returns the "@type" of body, a JSON object, when it has a string
// one.
func typeOf(body []byte) (string, bool) {
	if !namesType(body) {
		return "", false
	}
	var fields struct {
		Type *string `json:"@type"`
	}
	if json.Unmarshal(body, &fields) != nil || fields.Type == nil {
		return "", false
	}
	return *fields.Type, true
}

// namesType reports whether body is a JSON object with an "@type": a JSON
// Any, which any caller may send.
func namesType(body []byte) bool {
	if !bytes.Contains(body, []byte(`"@type"`)) {
		return false
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return false
	}
	_, ok := fields["@type"]
	return ok
}

// activatorStatus is the HTTP status of each Code.
var activatorStatus = [...]int{
	CodeUnknown:        http.StatusInternalServerError,
	CodeAction:         http.StatusUnprocessableEntity,
	CodeNotFound:       http.StatusNotFound,
	CodeInvalid:        http.StatusBadRequest,
	CodeUnavailable:    http.StatusServiceUnavailable,
	CodeProxy:          http.StatusBadGateway,
	CodeCanceled:       http.StatusGatewayTimeout,
	CodeOutcomeUnknown: http.StatusInternalServerError,
	CodeTimeout:        http.StatusGatewayTimeout,
	CodeOverloaded:     http.StatusTooManyRequests,
	CodeNotReady:       http.StatusServiceUnavailable,
}

// problem is the activator's answer to a failed call.
func problem(err error) *activator.Problem {
	c := CodeOf(err)
	status := http.StatusInternalServerError
	if c >= 0 && int(c) < len(activatorStatus) {
		status = activatorStatus[c]
	}
	msg := err.Error()
	var se *Error
	if errors.As(err, &se) {
		msg = se.Message
	}
	return &activator.Problem{Status: status, Code: codeID(c), Message: msg}
}

// activatorServer is the activator's own listener.
type activatorServer struct {
	addr   net.Addr
	server *http.Server
	done   chan struct{}
}

// startActivator serves the activator when the configuration asks for it.
func (s *System) startActivator() error {
	addr := s.cfg.activatorAddr
	if addr == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("spawn: activator address %q (WithActivator or %s): want host:port, as :8092 (loopback) or 0.0.0.0:8092 (every interface)", addr, protocol.EnvActivatorAddr)
	}
	if host == "" {
		host = "127.0.0.1" // what it runs is the program's actors: loopback unless asked
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return fmt.Errorf("spawn: activator: %w", err)
	}
	a := &activatorServer{addr: l.Addr(), done: make(chan struct{}), server: &http.Server{
		Handler:           s.Activator(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          zap.NewStdLog(s.log),
	}}
	s.act = a
	go func() {
		defer close(a.done)
		if err := a.server.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("spawn: activator stopped", zap.Error(err))
		}
	}()
	s.log.Info("spawn: JSON activator listening", zap.String("url", activatorURL(a.addr)))
	return nil
}

// activatorURL is the URL under which the activator listening on addr
// answers; a listener on every interface is reached on loopback here.
func activatorURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + activator.Prefix
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + activator.Prefix
}

// stopActivator stops the activator's listener, letting calls in flight
// finish as far as ctx allows.
func (s *System) stopActivator(ctx context.Context) error {
	if s.act == nil {
		return nil
	}
	err := s.act.server.Shutdown(ctx)
	if err != nil {
		_ = s.act.server.Close()
	}
	<-s.act.done
	return err
}
