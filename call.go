package spawn

import (
	"context"
	"fmt"
	"reflect"
	goruntime "runtime"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/reflectx"
	"github.com/spawn-go/spawn/registry"
)

// Invoker makes calls to actors: a *System, or the *Context of a running
// action, whose calls come from that actor.
type Invoker interface {
	callActor(ctx context.Context, actor, action string, in, out proto.Message, opts []InvokeOption) error
}

var (
	_ Invoker = (*System)(nil)
	_ Invoker = (*Context)(nil)
)

func (s *System) callActor(ctx context.Context, actor, action string, in, out proto.Message, opts []InvokeOption) error {
	return s.invoke(ctx, nil, actor, action, in, out, opts)
}

// Call invokes an action named by its method expression, so the compiler
// checks the input and reply types and a renamed method cannot be called
// by a stale string:
//
//	reply, err := spawn.Call(ctx, sys, (*Joe).SetLanguage, &domain.Request{Language: "go"})
//
// The actor is the one the method's type defines (its name= setting). For
// an instance of an unnamed actor, pass Instance(name). The type must be
// a valid actor definition, but need not be served by this program. With a
// *Context as via, the call comes from the running actor and ctx bounds it.
//
// An action that sends no reply gives an empty Out. For an action that
// returns only an error, use Invoke with a nil out.
func Call[A any, In, Out proto.Message](ctx context.Context, via Invoker, method func(A, *Context, In) (Out, error), in In, opts ...InvokeOption) (Out, error) {
	return call[A, Out](ctx, via, method, in, opts)
}

// CallNoInput is Call for an action that takes no input:
//
//	status, err := spawn.CallNoInput(ctx, sys, (*Joe).Status)
func CallNoInput[A any, Out proto.Message](ctx context.Context, via Invoker, method func(A, *Context) (Out, error), opts ...InvokeOption) (Out, error) {
	return call[A, Out](ctx, via, method, nil, opts)
}

// CallValue is Call for an action that returns a Value, whose reply type
// the compiler cannot see: name it first.
//
//	reply, err := spawn.CallValue[*domain.Reply](ctx, sys, (*Joe).Publish, in)
//
// A reply of another type is an error with CodeInvalid.
func CallValue[Out proto.Message, A any, In proto.Message](ctx context.Context, via Invoker, method func(A, *Context, In) (Value, error), in In, opts ...InvokeOption) (Out, error) {
	return call[A, Out](ctx, via, method, in, opts)
}

// CallValueNoInput is CallValue for an action that takes no input.
func CallValueNoInput[Out proto.Message, A any](ctx context.Context, via Invoker, method func(A, *Context) (Value, error), opts ...InvokeOption) (Out, error) {
	return call[A, Out](ctx, via, method, nil, opts)
}

func call[A any, Out proto.Message](ctx context.Context, via Invoker, method any, in proto.Message, opts []InvokeOption) (Out, error) {
	var zero Out
	if reflect.ValueOf(method).IsNil() {
		return zero, &Error{Code: CodeInvalid, Message: "Call needs a method expression like (*Joe).SetLanguage"}
	}
	if via == nil || reflect.ValueOf(via).IsNil() {
		return zero, &Error{Code: CodeInvalid, Message: "Call needs an Invoker: a *spawn.System or a *spawn.Context"}
	}
	t, err := target(reflect.TypeFor[A](), reflect.ValueOf(method).Pointer())
	if err != nil {
		return zero, err
	}
	switch instance := newInvokeConfig(opts).instance; {
	case t.kind != registry.Unnamed && instance != "":
		return zero, &Error{Code: CodeInvalid, Actor: t.actor, Action: t.action,
			Message: "Instance applies to unnamed actors, and " + t.actor + " is " + string(t.kind)}
	case t.kind == registry.Unnamed && instance == "":
		return zero, &Error{Code: CodeInvalid, Actor: t.actor, Action: t.action,
			Message: t.actor + " is unnamed: call one of its instances, with spawn.Instance(name)"}
	}
	if in != nil && reflect.ValueOf(in).IsNil() {
		in = nil // a typed nil input means no input
	}
	out := zero.ProtoReflect().Type().New().Interface().(Out)
	if err := via.callActor(ctx, t.actor, t.action, in, out, opts); err != nil {
		return zero, err
	}
	return out, nil
}

type callTarget struct {
	actor, action string
	kind          registry.Kind
}

// targets caches what Call learns from a method expression, keyed by its
// receiver type and code pointer: the reflection happens once per method,
// not per call.
var targets sync.Map // targetKey -> callTarget or error

type targetKey struct {
	recv reflect.Type
	pc   uintptr
}

func target(recv reflect.Type, pc uintptr) (callTarget, error) {
	key := targetKey{recv, pc}
	if v, ok := targets.Load(key); ok {
		if err, bad := v.(error); bad {
			return callTarget{}, err
		}
		return v.(callTarget), nil
	}
	t, err := resolveTarget(recv, pc)
	if err != nil {
		targets.Store(key, err)
		return callTarget{}, err
	}
	targets.Store(key, t)
	return t, nil
}

// resolveTarget finds the actor and action a method expression names. Its
// function is named "pkg.(*Type).Method", or for a generic type
// "pkg.(*Type[...]).Method", whatever the type arguments.
func resolveTarget(recv reflect.Type, pc uintptr) (callTarget, error) {
	fn := goruntime.FuncForPC(pc)
	if fn == nil {
		return callTarget{}, &Error{Code: CodeInvalid, Message: "Call needs a method expression like (*Joe).SetLanguage"}
	}
	full := fn.Name()
	dot := strings.LastIndexByte(full, '.')
	method := strings.TrimSuffix(full[dot+1:], "-fm")
	// "path/pkg.(*Type[...])" -> "Type"
	typ := full[:max(dot, 0)]
	typ = typ[strings.LastIndexByte(typ, '/')+1:]
	_, typ, _ = strings.Cut(typ, ".")
	typ = strings.TrimSuffix(strings.TrimPrefix(typ, "(*"), ")")
	typ, _, _ = strings.Cut(typ, "[")
	st := recv
	if st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	name := reflectx.TypeName(st)
	if base, _, _ := strings.Cut(name, "["); st.Kind() != reflect.Struct || typ != base {
		return callTarget{}, &Error{Code: CodeInvalid, Message: fmt.Sprintf("%s is not a method expression of an actor type; write (*%s).Method", full, name)}
	}
	table, err := registry.Build(spawnTypes, []any{reflect.New(st).Interface()})
	if err != nil {
		ve := validationError(err)
		return callTarget{}, &Error{Code: CodeInvalid, Message: ve.Error(), cause: ve}
	}
	d := table.Definitions()[0]
	if h := d.HandlerFor(method); h != nil {
		return callTarget{actor: d.Name, action: h.Name, kind: d.Kind}, nil
	}
	return callTarget{}, &Error{Code: CodeInvalid, Actor: d.Name, Message: fmt.Sprintf("%s.%s is not an action", name, method)}
}
