// Package dispatch is the host's hot path: it takes one ActorInvocation,
// runs the action it names on a fresh copy of the actor, and builds the
// ActorInvocationResponse. Everything it needs was prepared at start-up;
// no reflection lookups happen here.
package dispatch

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"unsafe"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/internal/reflectx"
	"github.com/spawn-go/spawn/protocol"
)

// Actor is one actor as the dispatcher runs it.
type Actor struct {
	Name string
	// New returns a pointer to a fresh copy of the user's struct.
	New func() unsafe.Pointer
	// State is the typed state field, or nil.
	State *StateSlot
	// Actions by wire name.
	Actions map[string]*Action
	// ReadsOverridden is true when the actor registers one of the built-in
	// read names, so those reads go to the actor instead of being answered here.
	ReadsOverridden bool
}

// StateSlot reads and writes the actor's typed state field.
type StateSlot struct {
	Field   reflectx.PointerField
	Message protoreflect.MessageType
	Box     reflectx.Boxer
	// URL is the state's Any type URL.
	URL string
}

// Action is one compiled action.
type Action struct {
	Name string
	// Input builds the input message; nil when the action takes none (or a Tick).
	Input protoreflect.MessageType
	// InputURL is the Any type URL Input expects.
	InputURL string
	// RawAny passes the payload Any through unchanged.
	RawAny bool
	// Run calls the user's method. It takes the Call by value so that the
	// Call stays on the dispatcher's stack.
	Run func(c Call) (Result, error)
}

// Call is what Run gets.
type Call struct {
	Ctx context.Context
	Inv *protocol.ActorInvocation
	// Receiver points at this call's copy of the actor struct.
	Receiver unsafe.Pointer
	// Input is the decoded input, or nil.
	Input proto.Message
}

// Result is an action's outcome in protocol terms.
type Result struct {
	// Reply is the payload; nil sends noop.
	Reply proto.Message
	// State, when set, replaces whatever the state field holds.
	State proto.Message
	// Tags to set; ReplaceTags drops the current tags first.
	Tags        map[string]string
	ReplaceTags bool
	Workflow    *protocol.Workflow
	Checkpoint  bool
}

// ReadNames are the built-in reads answered with the current state.
var ReadNames = []string{"get", "Get", "get_state", "getState", "GetState"}

// StatusURL is the type URL of the error replies: a RequestStatus carrying
// the failure passes through every proxy untouched and is never retried.
var StatusURL = "type.googleapis.com/" + string((&protocol.RequestStatus{}).ProtoReflect().Descriptor().FullName())

// Dispatcher runs invocations against a fixed set of actors.
type Dispatcher struct {
	actors map[string]*Actor
	log    *zap.Logger
}

// New returns a Dispatcher for actors; log may be nil.
func New(actors []*Actor, log *zap.Logger) *Dispatcher {
	if log == nil {
		log = zap.NewNop()
	}
	m := make(map[string]*Actor, len(actors))
	for _, a := range actors {
		m[a.Name] = a
	}
	return &Dispatcher{actors: m, log: log}
}

// Failure is an error that has already been shaped for the caller: the
// response carries Status and Message.
type Failure struct {
	Status  protocol.Status
	Message string
}

// Error returns the message.
func (f *Failure) Error() string { return f.Message }

// Call runs one invocation. Every outcome, failures included, is a
// response; the error is only for a nil invocation.
func (d *Dispatcher) Call(ctx context.Context, inv *protocol.ActorInvocation) (*protocol.ActorInvocationResponse, error) {
	if inv == nil {
		return nil, fmt.Errorf("dispatch: nil invocation")
	}
	return d.call(ctx, inv), nil
}

func (d *Dispatcher) call(ctx context.Context, inv *protocol.ActorInvocation) *protocol.ActorInvocationResponse {
	id := inv.GetActor()
	// Instances of unnamed actors carry their template's name as parent.
	a := d.actors[id.GetParent()]
	if a == nil {
		a = d.actors[id.GetName()]
	}
	if a == nil {
		return failed(inv, protocol.Status_ACTOR_NOT_FOUND, fmt.Sprintf("this host has no actor %q%s; it serves %s",
			id.GetName(), parentNote(id), d.names()))
	}
	act := a.Actions[inv.GetActionName()]
	if act == nil {
		if !a.ReadsOverridden && slices.Contains(ReadNames, inv.GetActionName()) {
			return read(inv)
		}
		return failed(inv, protocol.Status_ACTOR_NOT_FOUND, fmt.Sprintf("actor %q has no action %q; its actions are %s",
			a.Name, inv.GetActionName(), actionNames(a)))
	}

	c := Call{Ctx: ctx, Inv: inv}
	if act.Input != nil {
		in, msg := decodeInput(act, inv)
		if msg != "" {
			return failed(inv, protocol.Status_ERROR, fmt.Sprintf("actor %q action %q: %s", a.Name, act.Name, msg))
		}
		c.Input = in
	}
	c.Receiver = a.New()
	if a.State != nil {
		st := a.State.Message.New().Interface()
		if cur := inv.GetCurrentContext().GetState(); cur.GetTypeUrl() != "" {
			if cur.GetTypeUrl() != a.State.URL {
				return failed(inv, protocol.Status_ERROR, fmt.Sprintf("actor %q holds state of type %s, but declares %s; migrate the stored state or change the state field",
					a.Name, strings.TrimPrefix(cur.GetTypeUrl(), "type.googleapis.com/"), strings.TrimPrefix(a.State.URL, "type.googleapis.com/")))
			}
			if err := proto.Unmarshal(cur.GetValue(), st); err != nil {
				return failed(inv, protocol.Status_ERROR, fmt.Sprintf("actor %q: stored state does not decode as %s: %v", a.Name, a.State.Message.Descriptor().FullName(), err))
			}
		}
		a.State.Field.Set(c.Receiver, reflectx.Unbox(st))
	}

	res, err := d.run(act, c, a.Name)
	if err != nil {
		return failed(inv, protocol.Status_ERROR, err.Error())
	}
	resp, err := respond(a, c.Receiver, inv, &res)
	if err != nil {
		return failed(inv, protocol.Status_ERROR, fmt.Sprintf("actor %q action %q: %v", a.Name, act.Name, err))
	}
	return resp
}

// run calls the action and turns a panic into an error, so one bad action
// never takes the host down.
func (d *Dispatcher) run(act *Action, c Call, actor string) (res Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			d.log.Error("action panicked", zap.String("actor", actor), zap.String("action", act.Name),
				zap.Any("panic", r), zap.ByteString("stack", debug.Stack()))
			res, err = Result{}, fmt.Errorf("panic in %s.%s: %v", actor, act.Name, r)
		}
	}()
	return act.Run(c)
}

func decodeInput(act *Action, inv *protocol.ActorInvocation) (proto.Message, string) {
	v, ok := inv.GetPayload().(*protocol.ActorInvocation_Value)
	if act.RawAny {
		if !ok || v.Value == nil {
			return &anypb.Any{}, ""
		}
		return v.Value, ""
	}
	in := act.Input.New().Interface()
	if !ok || v.Value == nil {
		// No payload: the action sees an empty message, never nil.
		return in, ""
	}
	if v.Value.GetTypeUrl() != act.InputURL {
		return nil, fmt.Sprintf("takes %s, got %s", act.Input.Descriptor().FullName(), describeURL(v.Value.GetTypeUrl()))
	}
	if err := proto.Unmarshal(v.Value.GetValue(), in); err != nil {
		return nil, fmt.Sprintf("payload does not decode as %s: %v", act.Input.Descriptor().FullName(), err)
	}
	return in, ""
}

func respond(a *Actor, recv unsafe.Pointer, inv *protocol.ActorInvocation, res *Result) (*protocol.ActorInvocationResponse, error) {
	cur := inv.GetCurrentContext()
	uc := &protocol.Context{
		Self:   inv.GetActor(),
		Caller: inv.GetCaller(),
		Tags:   mergeTags(cur.GetTags(), res),
	}
	st := res.State
	switch {
	case st != nil && a.State != nil && st.ProtoReflect().Descriptor().FullName() != a.State.Message.Descriptor().FullName():
		// Stored, it would make every later call fail to decode the state.
		return nil, fmt.Errorf("the new state is a %s, but the state field holds %s",
			st.ProtoReflect().Descriptor().FullName(), a.State.Message.Descriptor().FullName())
	case st == nil && a.State != nil:
		if p := a.State.Field.Get(recv); p != nil {
			st, _ = a.State.Box.Box(p).(proto.Message)
		}
	}
	if st != nil {
		anyState, err := anypb.New(st)
		if err != nil {
			return nil, fmt.Errorf("encoding state: %w", err)
		}
		uc.State = anyState
	}
	// Without a state field, leaving State unset keeps the proxy's copy.

	resp := &protocol.ActorInvocationResponse{
		ActorName:      inv.GetActor().GetName(),
		ActorSystem:    inv.GetActor().GetSystem(),
		UpdatedContext: uc,
		Workflow:       res.Workflow,
		Checkpoint:     res.Checkpoint,
	}
	if res.Reply == nil {
		resp.Payload = &protocol.ActorInvocationResponse_Noop{Noop: &protocol.Noop{}}
	} else {
		v, err := anypb.New(res.Reply)
		if err != nil {
			return nil, fmt.Errorf("encoding reply: %w", err)
		}
		resp.Payload = &protocol.ActorInvocationResponse_Value{Value: v}
	}
	return resp, nil
}

// mergeTags returns the tags to send back. The proxy replaces the actor's
// tags with what it gets, so unchanged tags must be echoed.
func mergeTags(cur map[string]string, res *Result) map[string]string {
	switch {
	case res.ReplaceTags:
		return res.Tags
	case len(res.Tags) == 0:
		return cur
	}
	out := make(map[string]string, len(cur)+len(res.Tags))
	maps.Copy(out, cur)
	maps.Copy(out, res.Tags)
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

// failed builds the answer to an invocation that did not succeed: the state
// is left as it was, the tags are echoed, there is no workflow, and the
// payload is a RequestStatus carrying the message. The proxy sees a valid
// reply, so it neither retries nor restarts the actor.
func failed(inv *protocol.ActorInvocation, status protocol.Status, msg string) *protocol.ActorInvocationResponse {
	b, _ := proto.Marshal(&protocol.RequestStatus{Status: status, Message: msg})
	return &protocol.ActorInvocationResponse{
		ActorName:      inv.GetActor().GetName(),
		ActorSystem:    inv.GetActor().GetSystem(),
		UpdatedContext: &protocol.Context{Self: inv.GetActor(), Caller: inv.GetCaller(), Tags: inv.GetCurrentContext().GetTags()},
		Payload:        &protocol.ActorInvocationResponse_Value{Value: &anypb.Any{TypeUrl: StatusURL, Value: b}},
	}
}

// AsFailure reads an error reply built by a host: ok is false when payload
// is an ordinary reply.
func AsFailure(payload *anypb.Any) (*Failure, bool) {
	if payload.GetTypeUrl() != StatusURL {
		return nil, false
	}
	var st protocol.RequestStatus
	if err := proto.Unmarshal(payload.GetValue(), &st); err != nil {
		return &Failure{Status: protocol.Status_ERROR, Message: "undecodable error reply: " + err.Error()}, true
	}
	return &Failure{Status: st.GetStatus(), Message: st.GetMessage()}, true
}

// ServeBytes answers one encoded ActorInvocation with an encoded
// ActorInvocationResponse and the HTTP status to send. Malformed input gets
// a 400 with an error reply; nothing here can panic on bad bytes.
func (d *Dispatcher) ServeBytes(ctx context.Context, body []byte) (int, []byte) {
	var inv protocol.ActorInvocation
	if err := proto.Unmarshal(body, &inv); err != nil {
		out, _ := proto.Marshal(failed(&inv, protocol.Status_ERROR, "malformed ActorInvocation: "+err.Error()))
		return http.StatusBadRequest, out
	}
	resp := d.call(ctx, &inv)
	out, err := proto.Marshal(resp)
	if err != nil {
		d.log.Error("encoding response", zap.Error(err))
		out, _ = proto.Marshal(failed(&inv, protocol.Status_ERROR, "encoding response: "+err.Error()))
	}
	return http.StatusOK, out
}

func (d *Dispatcher) names() string {
	names := make([]string, 0, len(d.actors))
	for n := range d.actors {
		names = append(names, n)
	}
	sort.Strings(names)
	return quoteList(names)
}

func actionNames(a *Actor) string {
	names := make([]string, 0, len(a.Actions))
	for n := range a.Actions {
		names = append(names, n)
	}
	sort.Strings(names)
	return quoteList(names)
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
	return strings.TrimPrefix(u, "type.googleapis.com/")
}
