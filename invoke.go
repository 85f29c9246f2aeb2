package spawn

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/effects"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/registry"
	"github.com/spawn-go/spawn/runtime"
	"github.com/spawn-go/spawn/transport"
)

// The calling side of the protocol: a call is turned into an
// InvocationRequest, sent to the backend (the proxy over HTTP, or the
// embedded runtime), and its answer decoded or turned into an *Error.

// backend is where invocations go.
type backend interface {
	invoke(ctx context.Context, req *protocol.InvocationRequest) (*protocol.InvocationResponse, error)
	spawn(ctx context.Context, req *protocol.SpawnRequest, revision int64) error
}

// Invoke calls action on actor with in (nil for no input) and decodes the
// reply into out (nil to ignore it; left as it is when the action sends no
// reply; an *anypb.Any out takes any reply undecoded). A deadline on ctx becomes the proxy's time limit for the call.
// Failures are *Error values.
func (s *System) Invoke(ctx context.Context, actor, action string, in, out proto.Message, opts ...InvokeOption) error {
	return s.invoke(ctx, nil, actor, action, in, out, opts)
}

// target is the Target of a call to action on actor, in the light of the
// Instance and InSystem options. An empty system stays empty: the caller's
// own is filled in where it is known.
func (c *invokeConfig) target(actor, action, system string) effects.Target {
	t := effects.Target{System: system, Actor: actor, Action: action}
	if c.system != "" {
		t.System = c.system
	}
	if c.instance != "" {
		t.Actor, t.Parent = c.instance, actor
	}
	return t
}

func (s *System) invoke(ctx context.Context, caller *protocol.ActorId, actor, action string, in, out proto.Message, opts []InvokeOption) error {
	if err := s.stoppedError(actor, action); err != nil {
		return err
	}
	cfg := newInvokeConfig(opts)
	if cfg.err == nil && out != nil && !out.ProtoReflect().IsValid() {
		cfg.err = fmt.Errorf("out is a nil %T; pass a message to decode the reply into, or nil to drop it", out)
	}
	if cfg.err == nil && cfg.system == "" {
		cfg.err = s.checkInstance(actor, cfg.instance, false)
	}
	if cfg.err == nil {
		cfg.err = checkTimeout(cfg.metadata)
	}
	if cfg.err != nil {
		return &Error{Code: CodeInvalid, Actor: actor, Action: action, Message: cfg.err.Error()}
	}
	if s.callsItself(caller, &cfg, actor, action) {
		return &Error{Code: CodeInvalid, Actor: actor, Action: action, Message: fmt.Sprintf(
			"%s cannot call itself synchronously: the call would wait for the very action making it; use spawn.Async() or act directly",
			describeID(caller))}
	}
	req, err := s.request(caller, actor, action, in, &cfg)
	if err != nil {
		return &Error{Code: CodeInvalid, Actor: actor, Action: action, Message: err.Error(), cause: err}
	}
	if err := ctx.Err(); err != nil {
		return notSent(actor, action, err)
	}
	setTimeout(ctx, req)
	ctx, call := s.tel().StartCall(ctx, req)
	err = s.send(ctx, actor, action, req, out)
	endCall(ctx, &call, err)
	return err
}

// callsItself reports whether the call of action on actor that caller
// makes is a synchronous call to caller itself, which would wait until its
// deadline for the actor to finish the action that waits for it. A pooled
// actor's call may go to another of its instances, so it is let through.
func (s *System) callsItself(caller *protocol.ActorId, cfg *invokeConfig, actor, action string) bool {
	if caller == nil || cfg.async || cfg.delay > 0 || !cfg.at.IsZero() {
		return false
	}
	t := cfg.target(actor, action, s.cfg.system)
	self := caller.GetSystem()
	if self == "" {
		self = s.cfg.system
	}
	if t.Actor != caller.GetName() || t.Parent != caller.GetParent() || (t.System != "" && t.System != self) {
		return false
	}
	d := s.host.table.Lookup(caller)
	return d == nil || d.Kind != registry.Pooled
}

// describeID names id for a message: the actor's name, or the instance's
// and its actor's.
func describeID(id *protocol.ActorId) string {
	if id.GetParent() != "" {
		return fmt.Sprintf("%s instance %q", id.GetParent(), id.GetName())
	}
	return id.GetName()
}

// send sends req, the call of action on actor, and decodes its answer
// into out.
func (s *System) send(ctx context.Context, actor, action string, req *protocol.InvocationRequest, out proto.Message) error {
	resp, err := s.back.invoke(ctx, req)
	if err != nil {
		instance := ""
		if id := req.GetActor().GetId(); id.GetParent() != "" {
			instance = id.GetName()
		}
		return callError(ctx, actor, instance, action, err)
	}
	if req.Async || req.ScheduledTo != 0 {
		return nil
	}
	return decodeReply(actor, action, resp, out)
}

// request builds the InvocationRequest for a call.
func (s *System) request(caller *protocol.ActorId, actor, action string, in proto.Message, cfg *invokeConfig) (*protocol.InvocationRequest, error) {
	payload, err := effects.Payload(in)
	if err != nil {
		return nil, fmt.Errorf("encoding the input: %w", err)
	}
	req, err := effects.Request(cfg.target(actor, action, s.cfg.system), payload, cfg.metadata)
	if err != nil {
		return nil, err
	}
	req.Async = cfg.async
	req.ScheduledTo = cfg.scheduledTo(s.now())
	if caller != nil {
		req.Caller = &protocol.ActorId{Name: caller.GetName(), System: caller.GetSystem(), Parent: caller.GetParent()}
	}
	return req, nil
}

// checkTimeout checks the request-timeout metadata, when a call sets it,
// so that a bad value is the caller's CodeInvalid rather than the proxy's
// refusal.
func checkTimeout(md map[string]string) error {
	v, ok := md[protocol.RequestTimeoutKey]
	if !ok {
		return nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err != nil || n <= 0 {
		return fmt.Errorf("metadata %s=%q is not a time limit: write a positive whole number of milliseconds, like %q, or give the call's context a deadline",
			protocol.RequestTimeoutKey, v, "1500")
	}
	return nil
}

// timeoutMargin is added to the caller's remaining time to make the
// proxy's time limit: the caller's own deadline then always ends the call
// first, and the caller sees its context's error, not the proxy's.
const timeoutMargin = 100 * time.Millisecond

// setTimeout turns ctx's deadline into the proxy's time limit, so a call
// the caller stopped waiting for does not run on for a minute.
func setTimeout(ctx context.Context, req *protocol.InvocationRequest) {
	dl, ok := ctx.Deadline()
	if !ok {
		return
	}
	if _, set := req.Metadata[protocol.RequestTimeoutKey]; set {
		return
	}
	ms := max((time.Until(dl) + timeoutMargin).Milliseconds(), 1)
	if req.Metadata == nil {
		req.Metadata = map[string]string{}
	}
	req.Metadata[protocol.RequestTimeoutKey] = strconv.FormatInt(ms, 10)
}

func decodeReply(actor, action string, resp *protocol.InvocationResponse, out proto.Message) error {
	v := resp.GetValue()
	if v == nil || (v.GetTypeUrl() == "" && len(v.GetValue()) == 0) {
		// No payload, or the empty Any a built-in get answers for an
		// actor that has no state yet: there is nothing to decode.
		return nil
	}
	if v.GetTypeUrl() == statusURL {
		return actionError(actor, action, v.GetValue())
	}
	if out == nil {
		return nil
	}
	name := out.ProtoReflect().Descriptor().FullName()
	// Compared in two parts: building the URL would cost an allocation
	// on every call.
	match := strings.HasPrefix(v.GetTypeUrl(), protocol.TypeURLPrefix) && v.GetTypeUrl()[len(protocol.TypeURLPrefix):] == string(name)
	if raw, ok := out.(*anypb.Any); ok && !match {
		// An Any takes the reply undecoded, whatever its type.
		raw.TypeUrl, raw.Value = v.GetTypeUrl(), v.GetValue()
		return nil
	}
	if !match {
		return &Error{Code: CodeInvalid, Actor: actor, Action: action,
			Message: fmt.Sprintf("the reply is %s, but out is %s", v.GetTypeUrl(), protocol.TypeURL(name))}
	}
	if err := proto.Unmarshal(v.GetValue(), out); err != nil {
		return &Error{Code: CodeInvalid, Actor: actor, Action: action, Message: "decoding the reply: " + err.Error(), cause: err}
	}
	return nil
}

// actionError reads the error reply a host sends for a failed action (see
// failed in host.go).
func actionError(actor, action string, b []byte) *Error {
	var st protocol.RequestStatus
	if err := proto.Unmarshal(b, &st); err != nil {
		return &Error{Code: CodeAction, Actor: actor, Action: action, Message: "undecodable error reply: " + err.Error(), cause: err}
	}
	code := CodeAction
	if st.GetStatus() == protocol.Status_ACTOR_NOT_FOUND {
		code = CodeNotFound
	}
	return &Error{Code: code, Actor: actor, Action: action, Message: st.GetMessage()}
}

// backendError turns a backend's error into an *Error. A call whose
// context ended is CodeCanceled and wraps the context's error, whatever
// the backend made of it.
func backendError(ctx context.Context, actor, action string, err error) *Error {
	return callError(ctx, actor, "", action, err)
}

// callError is backendError for a call to instance, an instance of the
// unnamed actor (or "" for the actor itself), which a CodeCanceled
// message names.
func callError(ctx context.Context, actor, instance, action string, err error) *Error {
	if cerr := contextError(ctx, err); cerr != nil {
		var re *runtime.Error
		if errors.As(err, &re) {
			// The embedded runtime knows where the call was, and names the
			// instance itself.
			return canceled(actor, action, cerr, runtimeWhy(re.Message, cerr), re.Reason == runtime.NotApplied)
		}
		if action == "" {
			return canceled(actor, action, cerr, "", false)
		}
		who := strconv.Quote(actor)
		if instance != "" {
			who = fmt.Sprintf("%q (an instance of %q)", instance, actor)
		}
		return canceled(actor, action, cerr, fmt.Sprintf(
			"the proxy had not answered: actor %s's host call for action %q had not returned, or the call was still waiting in the actor's mailbox",
			who, action), false)
	}
	return &Error{Code: codeOf(err), Actor: actor, Action: action, Message: messageOf(err), cause: err}
}

// runtimeWhy is the part of the runtime's message about a call whose
// context ended that says where the call was. canceled states the
// context's error and whether the call was applied once, so their copies
// in the runtime's message go: its reason prefix, the context's error in
// parentheses, and its own verdict at the end.
func runtimeWhy(msg string, ctxErr error) string {
	for _, p := range messageCodes {
		msg = strings.TrimPrefix(msg, p.prefix)
	}
	msg = strings.Replace(msg, " ("+ctxErr.Error()+")", "", 1)
	for _, verdict := range []string{"; nothing was applied", "; it did not run"} {
		msg = strings.TrimSuffix(msg, verdict)
	}
	return msg
}

// messageOf is the part of a backend error worth showing: the proxy's own
// message without the transport's framing.
func messageOf(err error) string {
	var se *transport.StatusError
	if errors.As(err, &se) && se.Message != "" {
		return se.Message
	}
	var re *runtime.Error
	if errors.As(err, &re) {
		return re.Message
	}
	return err.Error()
}

// codeOf classifies an error from a backend.
func codeOf(err error) Code {
	var re *runtime.Error
	var se *transport.StatusError
	switch {
	case errors.Is(err, transport.ErrUnavailable):
		return CodeUnavailable
	case errors.Is(err, transport.ErrNoAnswer):
		return CodeOutcomeUnknown
	case errors.As(err, &re):
		return statusCode(re.Status, re.Message)
	case errors.As(err, &se):
		return statusCode(se.Status, se.Message)
	}
	return CodeProxy
}

// statusCode is the Code of a failure the proxy reported as status and
// msg: spawn-go's proxy starts the message with a prefix for the failures a
// caller should treat differently (protocol.OutcomeUnknownPrefix and its
// siblings); the real proxy sends ERROR and no prefix.
func statusCode(status protocol.Status, msg string) Code {
	for _, p := range messageCodes {
		if strings.HasPrefix(msg, p.prefix) {
			return p.code
		}
	}
	if status == protocol.Status_ACTOR_NOT_FOUND {
		return CodeNotFound
	}
	return CodeProxy
}

var messageCodes = []struct {
	prefix string
	code   Code
}{
	{protocol.OutcomeUnknownPrefix, CodeOutcomeUnknown},
	{protocol.NotAppliedPrefix, CodeTimeout},
	{protocol.OverloadedPrefix, CodeOverloaded},
	{protocol.NotReadyPrefix, CodeNotReady},
	{protocol.UnavailablePrefix, CodeUnavailable},
}

// Spawn creates instance, an instance of the unnamed actor named actor. It
// does not activate it: that happens at its first invocation. Invoking
// with the Instance option spawns lazily instead.
func (s *System) Spawn(ctx context.Context, actor, instance string, opts ...SpawnOption) error {
	var c spawnConfig
	for _, o := range opts {
		o.applySpawn(&c)
	}
	if err := s.stoppedError(actor, ""); err != nil {
		return err
	}
	if actor == "" || instance == "" {
		return &Error{Code: CodeInvalid, Actor: actor, Message: "Spawn needs an actor and an instance name"}
	}
	if c.revision < 0 {
		return &Error{Code: CodeInvalid, Actor: instance, Message: fmt.Sprintf("Revision(%d) must not be negative", c.revision)}
	}
	req := &protocol.SpawnRequest{Actors: []*protocol.ActorId{{Name: instance, System: s.cfg.system, Parent: actor}}}
	if err := s.back.spawn(ctx, req, c.revision); err != nil {
		return backendError(ctx, instance, "", err)
	}
	return nil
}

// State reads an actor's current state into out, through the proxy's
// built-in "get" action. out is left as it is when the actor has no state
// yet. The option Instance reads an instance of an unnamed actor; to read
// an actor of another system, invoke its "get" action with InSystem.
func (s *System) State(ctx context.Context, actor string, out proto.Message, opts ...RouteOption) error {
	iopts := make([]InvokeOption, len(opts))
	for i, o := range opts {
		iopts[i] = o
	}
	return s.invoke(ctx, nil, actor, protocol.GetActions[0], nil, out, iopts)
}

type proxyBackend struct {
	client *transport.ProxyClient
}

func (p proxyBackend) invoke(ctx context.Context, req *protocol.InvocationRequest) (*protocol.InvocationResponse, error) {
	return p.client.Invoke(ctx, req.GetSystem().GetName(), req.GetActor().GetId().GetName(), req)
}

func (p proxyBackend) spawn(ctx context.Context, req *protocol.SpawnRequest, revision int64) error {
	resp, err := p.client.Spawn(ctx, req.GetActors()[0].GetSystem(), req, revision)
	if err == nil && resp.GetStatus().GetStatus() != protocol.Status_OK {
		err = fmt.Errorf("proxy refused the spawn: %s", resp.GetStatus().GetMessage())
	}
	return err
}

type engineBackend struct{ e *runtime.Engine }

func (b engineBackend) invoke(ctx context.Context, req *protocol.InvocationRequest) (*protocol.InvocationResponse, error) {
	return b.e.Invoke(ctx, req)
}

func (b engineBackend) spawn(ctx context.Context, req *protocol.SpawnRequest, revision int64) error {
	_, err := b.e.Spawn(ctx, req, revision)
	return err
}
