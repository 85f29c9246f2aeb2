package spawn

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/internal/nearest"
	"github.com/spawn-go/spawn/internal/telemetry"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/registry"
)

// The host side of the protocol, in the order an invocation goes through
// it: bytes in (serveBytes), the actor and action looked up in the table
// (call), the input and the state decoded onto a fresh copy of the actor
// (prepare), the user's method run (run), and the reply built from what it
// returned (respond), then bytes out.

// host runs the actions of one program's actors. Over HTTP, transport's
// host endpoint hands it request bodies; in-process, the embedded runtime
// calls it as its runtime.Host.
type host struct {
	table *registry.Table
	sys   *System
	log   *zap.Logger
}

// serveBytes answers one encoded ActorInvocation with an encoded
// ActorInvocationResponse and the HTTP status to send. Malformed input gets
// a 400 with an error reply; nothing here can panic on bad bytes.
func (h *host) serveBytes(ctx context.Context, body []byte) (int, []byte) {
	var inv protocol.ActorInvocation
	if err := proto.Unmarshal(body, &inv); err != nil {
		out, _ := proto.Marshal(failed(&inv, protocol.Status_ERROR, "malformed ActorInvocation: "+err.Error()))
		return http.StatusBadRequest, out
	}
	out, err := proto.Marshal(h.call(ctx, &inv))
	if err != nil {
		h.log.Error("spawn: encoding a response", zap.Error(err))
		out, _ = proto.Marshal(failed(&inv, protocol.Status_ERROR, "encoding the response: "+err.Error()))
	}
	return http.StatusOK, out
}

// Call runs one invocation for the embedded runtime. Every outcome,
// failures included, is a response.
func (h *host) Call(ctx context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
	return h.call(ctx, inv), nil
}

// call runs inv, measured: a span for the action and its duration, when
// telemetry records anything.
func (h *host) call(ctx context.Context, inv *protocol.ActorInvocation) *protocol.ActorInvocationResponse {
	d := h.table.Lookup(inv.GetActor())
	t := h.sys.tel()
	if !t.Active(ctx) {
		return h.dispatch(ctx, inv, d, nil)
	}
	actor, action := measuredAs(d, inv.GetActionName())
	ctx, act := t.StartAction(ctx, inv, actor, action)
	resp := h.dispatch(ctx, inv, d, &act)
	code, msg := outcome(resp)
	act.End(ctx, code, msg)
	return resp
}

// dispatch runs inv on d, the actor that serves it (nil for none). act,
// when not nil, is the action's measurement, whose span the workflow
// carries on.
func (h *host) dispatch(ctx context.Context, inv *protocol.ActorInvocation, d *registry.Definition, act *telemetry.Action) *protocol.ActorInvocationResponse {
	if d == nil {
		return failed(inv, protocol.Status_ACTOR_NOT_FOUND, fmt.Sprintf("this host has no actor %q%s; it serves %s",
			inv.GetActor().GetName(), parentNote(inv.GetActor()), quoteList(h.table.Names())))
	}
	if d.Kind == registry.Unnamed && inv.GetActor().GetParent() == "" {
		// The template itself, which has no state of its own to run on.
		return failed(inv, protocol.Status_ACTOR_NOT_FOUND, unnamedCall(d.Name))
	}
	action := inv.GetActionName()
	hd := d.Handler(action)
	if hd == nil {
		if !d.ReadsOverridden && slices.Contains(protocol.GetActions, action) {
			return read(inv)
		}
		return failed(inv, protocol.Status_ACTOR_NOT_FOUND, fmt.Sprintf("actor %q has no action %q; %s",
			d.Name, action, didYouMean(action, d.HandlerNames())))
	}
	recv, in, msg := prepare(d, hd, inv)
	if msg != "" {
		return failed(inv, protocol.Status_ERROR, fmt.Sprintf("actor %q action %q: %s", d.Name, hd.Name, msg))
	}
	v, err := h.run(ctx, d, hd, recv, inv, in)
	if err == nil {
		err = v.err
	}
	if err != nil {
		return failed(inv, protocol.Status_ERROR, err.Error())
	}
	resp, err := respond(ctx, d, recv, inv, v, act, h.now)
	if err != nil {
		return failed(inv, protocol.Status_ERROR, fmt.Sprintf("actor %q action %q: %v", d.Name, hd.Name, err))
	}
	return resp
}

// now is the time on the System's clock, which counts the delays of side
// effects.
func (h *host) now() time.Time {
	if h.sys == nil || h.sys.now == nil {
		return time.Now()
	}
	return h.sys.now()
}

// prepare decodes the input and the state, onto a fresh copy of the actor
// value. It returns what is wrong with them, or "".
func prepare(d *registry.Definition, hd *registry.Handler, inv *protocol.ActorInvocation) (recv reflect.Value, in proto.Message, msg string) {
	if hd.InputURL != "" {
		if in, msg = decodeInput(hd, inv); msg != "" {
			return recv, nil, msg
		}
	}
	recv = d.New()
	if d.State == nil {
		return recv, in, ""
	}
	st := d.State.Message.New().Interface()
	if cur := inv.GetCurrentContext().GetState(); cur.GetTypeUrl() != "" {
		if cur.GetTypeUrl() != d.State.URL {
			return recv, nil, fmt.Sprintf("it holds state of type %s, but declares %s; migrate the stored state or change the state field",
				strings.TrimPrefix(cur.GetTypeUrl(), protocol.TypeURLPrefix), strings.TrimPrefix(d.State.URL, protocol.TypeURLPrefix))
		}
		if err := proto.Unmarshal(cur.GetValue(), st); err != nil {
			return recv, nil, fmt.Sprintf("the stored state does not decode as %s: %v", d.State.Message.Descriptor().FullName(), err)
		}
	}
	// Never nil: an actor with no state yet sees an empty message.
	d.State.Field.Set(recv, st)
	return recv, in, ""
}

func decodeInput(hd *registry.Handler, inv *protocol.ActorInvocation) (proto.Message, string) {
	v, ok := inv.GetPayload().(*protocol.ActorInvocation_Value)
	if hd.RawAny {
		if !ok || v.Value == nil {
			return &anypb.Any{}, ""
		}
		return v.Value, ""
	}
	sig := hd.Signature()
	in := sig.InMessage.New().Interface()
	if !ok || v.Value == nil {
		// No payload: the action sees an empty message, never nil.
		return in, ""
	}
	if v.Value.GetTypeUrl() != hd.InputURL {
		return nil, fmt.Sprintf("takes %s, got %s", sig.InMessage.Descriptor().FullName(), describeURL(v.Value.GetTypeUrl()))
	}
	if err := proto.Unmarshal(v.Value.GetValue(), in); err != nil {
		return nil, fmt.Sprintf("payload does not decode as %s: %v", sig.InMessage.Descriptor().FullName(), err)
	}
	return in, ""
}

// run calls the action and turns what it returned into a Value. A panic
// becomes an error, so one bad action never takes the host down.
func (h *host) run(ctx context.Context, d *registry.Definition, hd *registry.Handler, recv reflect.Value, inv *protocol.ActorInvocation, in proto.Message) (v Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			where := panicSite()
			h.log.Error("spawn: action panicked", zap.String("actor", d.Name), zap.String("action", hd.Name),
				zap.String("panic", fmt.Sprint(r)), zap.String("at", where))
			h.log.Debug("spawn: stack of the panic", zap.String("actor", d.Name), zap.String("action", hd.Name), zap.ByteString("stack", debug.Stack()))
			// The location stays in the log: it names a file on the
			// server, which the caller has no use for.
			v, err = Value{}, fmt.Errorf("panic in %s.%s: %v (the location is in the host's log)", d.Name, hd.Name, r)
		}
	}()
	res, err := hd.Method.Call(recv, &Context{ctx: ctx, inv: inv, sys: h.sys}, in)
	if err != nil {
		return Value{}, err
	}
	switch r := res.(type) {
	case Value:
		return r, nil
	case proto.Message:
		return Reply(r), nil
	}
	return NoReply(), nil
}

// panicSite returns file:line of the code that panicked: the first frame
// below the panic that is neither the runtime's nor reflect's.
func panicSite() string {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	past := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic" || strings.HasPrefix(f.Function, "runtime.panic"):
			past = true
		case past && !strings.HasPrefix(f.Function, "runtime.") && !strings.HasPrefix(f.Function, "reflect."):
			return fmt.Sprintf("%s:%d", f.File, f.Line)
		}
		if !more {
			return "unknown location"
		}
	}
}

// respond builds the response from what the action returned. act, when
// not nil, is the action's measurement: its span goes with the workflow.
// now reads the System's clock, for the delays of side effects.
func respond(ctx context.Context, d *registry.Definition, recv reflect.Value, inv *protocol.ActorInvocation, v Value, act *telemetry.Action, now func() time.Time) (*protocol.ActorInvocationResponse, error) {
	uc := &protocol.Context{
		Self:   inv.GetActor(),
		Caller: inv.GetCaller(),
		Tags:   mergeTags(inv.GetCurrentContext().GetTags(), v),
	}
	st, err := newState(d, recv, v)
	if err != nil {
		return nil, err
	}
	// Without a state field, leaving State unset keeps the proxy's copy.
	uc.State = st
	var trace map[string]string
	if act != nil && len(v.effects) > 0 {
		trace = act.Carrier(ctx)
	}
	wf, err := v.workflow(inv.GetActor(), trace, now)
	if err != nil {
		return nil, err
	}
	resp := &protocol.ActorInvocationResponse{
		ActorName:      inv.GetActor().GetName(),
		ActorSystem:    inv.GetActor().GetSystem(),
		UpdatedContext: uc,
		Workflow:       wf,
		Checkpoint:     v.checkpoint,
	}
	var reply *anypb.Any
	if v.reply == nil {
		resp.Payload = &protocol.ActorInvocationResponse_Noop{Noop: &protocol.Noop{}}
	} else {
		if reply, err = newAny(v.reply); err != nil {
			return nil, fmt.Errorf("encoding the reply: %w", err)
		}
		resp.Payload = &protocol.ActorInvocationResponse_Value{Value: reply}
	}
	if act != nil {
		noteOrigins(act, inv, v, reply)
	}
	return resp, nil
}

// noteOrigins tells telemetry what the proxy will make of v's broadcast
// and its forward or pipe, so that those invocations continue the action's
// trace.
func noteOrigins(act *telemetry.Action, inv *protocol.ActorInvocation, v Value, reply *anypb.Any) {
	if v.broadcast != nil {
		act.Broadcast(inv.GetActor(), v.broadcast.GetValue())
	}
	switch {
	case v.route == nil:
	case v.route.pipe:
		act.Routed(inv.GetActor(), reply)
	default:
		act.Routed(inv.GetActor(), inv.GetValue())
	}
}

// newState encodes the actor's new state: Value.State when the action set
// it, otherwise what the state field holds.
func newState(d *registry.Definition, recv reflect.Value, v Value) (*anypb.Any, error) {
	st := v.state
	switch {
	case d.State == nil && st == nil:
		return nil, nil
	case d.State != nil && st != nil && st.ProtoReflect().Descriptor().FullName() != d.State.Message.Descriptor().FullName():
		// Stored, it would make every later call fail to decode the state.
		return nil, fmt.Errorf("the new state is a %s, but the state field holds %s",
			st.ProtoReflect().Descriptor().FullName(), d.State.Message.Descriptor().FullName())
	case st == nil:
		st, _ = d.State.Field.Get(recv).(proto.Message)
		if st == nil || !st.ProtoReflect().IsValid() {
			return nil, nil // the action set the field to nil: keep the state
		}
	}
	a, err := newAny(st)
	if err != nil {
		return nil, fmt.Errorf("encoding the state: %w", err)
	}
	return a, nil
}

// newAny is anypb.New without building the type URL anew for every
// message: the URLs of the types seen so far are kept in typeURLs.
func newAny(m proto.Message) (*anypb.Any, error) {
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, err
	}
	return &anypb.Any{TypeUrl: typeURL(m.ProtoReflect().Descriptor()), Value: b}, nil
}

// typeURLs maps a protoreflect.MessageDescriptor to its Any type URL. A
// program's message types are few and fixed; in case descriptors are made
// at run time (dynamicpb), it keeps at most maxTypeURLs of them.
var (
	typeURLs     sync.Map
	typeURLCount atomic.Int64
)

const maxTypeURLs = 1024

func typeURL(d protoreflect.MessageDescriptor) string {
	if u, ok := typeURLs.Load(d); ok {
		return u.(string)
	}
	u := protocol.TypeURL(d.FullName())
	if typeURLCount.Add(1) <= maxTypeURLs {
		typeURLs.Store(d, u)
	}
	return u
}

// mergeTags returns the tags to send back. The proxy replaces the actor's
// tags with what it gets, so unchanged tags must be echoed.
func mergeTags(cur map[string]string, v Value) map[string]string {
	switch {
	case v.replace:
		return v.tags
	case len(v.tags) == 0:
		return cur
	}
	out := make(map[string]string, len(cur)+len(v.tags))
	for k, val := range cur {
		out[k] = val
	}
	for k, val := range v.tags {
		out[k] = val
	}
	return out
}

// read answers a built-in get with the current state, as the proxy does.
func read(inv *protocol.ActorInvocation) *protocol.ActorInvocationResponse {
	cur := inv.GetCurrentContext()
	st := cur.GetState()
	if st == nil {
		st = &anypb.Any{}
	}
	return &protocol.ActorInvocationResponse{
		ActorName:      inv.GetActor().GetName(),
		ActorSystem:    inv.GetActor().GetSystem(),
		UpdatedContext: &protocol.Context{Self: inv.GetActor(), Caller: inv.GetCaller(), State: cur.GetState(), Tags: cur.GetTags()},
		Payload:        &protocol.ActorInvocationResponse_Value{Value: st},
	}
}

// statusURL is the type URL of error replies: a RequestStatus as the payload
// passes through every proxy untouched, and is never retried.
var statusURL = protocol.TypeURL((&protocol.RequestStatus{}).ProtoReflect().Descriptor().FullName())

// failed builds the answer to an invocation that did not succeed: the state
// is left as it was, the tags are echoed, there is no workflow, and the
// payload is a RequestStatus carrying the message. The proxy sees a valid
// reply, so it neither retries nor restarts the actor.
func failed(inv *protocol.ActorInvocation, status protocol.Status, msg string) *protocol.ActorInvocationResponse {
	b, _ := proto.Marshal(&protocol.RequestStatus{Status: status, Message: strings.ToValidUTF8(msg, "\uFFFD")})
	return &protocol.ActorInvocationResponse{
		ActorName:      inv.GetActor().GetName(),
		ActorSystem:    inv.GetActor().GetSystem(),
		UpdatedContext: &protocol.Context{Self: inv.GetActor(), Caller: inv.GetCaller(), Tags: inv.GetCurrentContext().GetTags()},
		Payload:        &protocol.ActorInvocationResponse_Value{Value: &anypb.Any{TypeUrl: statusURL, Value: b}},
	}
}

// unnamedCall is the message for a call to the unnamed actor itself
// rather than to one of its instances.
func unnamedCall(actor string) string {
	return fmt.Sprintf("actor %q is unnamed: call an instance with spawn.Instance(\"id\")", actor)
}

// didYouMean names the action closest to a mistyped one, or lists them all.
func didYouMean(action string, names []string) string {
	if n := nearest.Name(action, names); n != "" {
		return fmt.Sprintf("did you mean %q?", n)
	}
	return "its actions are " + quoteList(names)
}

func quoteList(names []string) string {
	if len(names) == 0 {
		return "nothing"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func parentNote(id *protocol.ActorId) string {
	if id.GetParent() == "" {
		return ""
	}
	return fmt.Sprintf(" (spawned from %q)", id.GetParent())
}

func describeURL(u string) string {
	if u == "" {
		return "a payload without a type URL"
	}
	return strings.TrimPrefix(u, protocol.TypeURLPrefix)
}
