package spawn

import (
	"context"
	"fmt"
	"reflect"
	goruntime "runtime"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/internal/registry"
)

// Invoker makes calls to actors: a *System, or the *Context of a running action.
type Invoker interface {
	Invoke(ctx context.Context, actor, action string, in, out proto.Message, opts ...InvokeOption) error
}

var (
	_ Invoker = (*System)(nil)
	_ Invoker = (*Context)(nil)
)

// Call invokes an action named by its method expression, so the compiler
// checks the input and reply types and a renamed method cannot be called
// by a stale string:
//
//	reply, err := spawn.Call(ctx, sys, (*Joe).SetLanguage, &domain.Request{Language: "go"})
//
// The actor is the one the method's type defines (its name= setting). For
// an instance of an unnamed actor, pass Instance(name). The type must be
// a valid actor definition, but need not be served by this program.
func Call[A any, In, Out proto.Message](ctx context.Context, via Invoker, method func(A, *Context, In) (Out, error), in In, opts ...InvokeOption) (Out, error) {
	var zero Out
	if method == nil {
		return zero, &Error{Code: CodeInvalid, Message: "Call needs a method expression like (*Joe).SetLanguage"}
	}
	return call[Out](ctx, via, reflect.TypeFor[A](), reflect.ValueOf(method).Pointer(), in, opts)
}

func call[Out proto.Message](ctx context.Context, via Invoker, recv reflect.Type, pc uintptr, in proto.Message, opts []InvokeOption) (Out, error) {
	var zero Out
	if via == nil {
		return zero, &Error{Code: CodeInvalid, Message: "Call needs an Invoker: a *spawn.System or a *spawn.Context"}
	}
	t, err := target(recv, pc)
	if err != nil {
		return zero, err
	}
	actor := t.actor
	rest := make([]InvokeOption, 0, len(opts)+1)
	for _, o := range opts {
		if inst, ok := o.(instanceOption); ok {
			if t.kind != registry.Unnamed {
				return zero, &Error{Code: CodeInvalid, Actor: t.actor, Action: t.action, Message: "Instance applies to unnamed actors, and " + t.actor + " is " + string(t.kind)}
			}
			actor = string(inst)
			rest = append(rest, Parent(t.actor))
			continue
		}
		rest = append(rest, o)
	}
	out := zero.ProtoReflect().Type().New().Interface().(Out)
	if err := via.Invoke(ctx, actor, t.action, in, out, rest...); err != nil {
		return zero, err
	}
	return out, nil
}

// CallNoInput is Call for an action that takes no input:
//
//	status, err := spawn.CallNoInput(ctx, sys, (*Joe).Status)
func CallNoInput[A any, Out proto.Message](ctx context.Context, via Invoker, method func(A, *Context) (Out, error), opts ...InvokeOption) (Out, error) {
	var zero Out
	if method == nil {
		return zero, &Error{Code: CodeInvalid, Message: "CallNoInput needs a method expression like (*Joe).Status"}
	}
	return call[Out](ctx, via, reflect.TypeFor[A](), reflect.ValueOf(method).Pointer(), nil, opts)
}

type callTarget struct {
	actor, action string
	kind          registry.Kind
}

// targets caches what Call learns from a method expression, keyed by its
// code pointer: the reflection happens once per method, not per call.
var targets sync.Map // uintptr -> callTarget or error

func target(recv reflect.Type, pc uintptr) (callTarget, error) {
	if v, ok := targets.Load(pc); ok {
		if err, bad := v.(error); bad {
			return callTarget{}, err
		}
		return v.(callTarget), nil
	}
	t, err := resolveTarget(recv, pc)
	if err != nil {
		targets.Store(pc, err)
		return callTarget{}, err
	}
	targets.Store(pc, t)
	return t, nil
}

func resolveTarget(recv reflect.Type, pc uintptr) (callTarget, error) {
	fn := goruntime.FuncForPC(pc)
	if fn == nil {
		return callTarget{}, &Error{Code: CodeInvalid, Message: "Call needs a method expression like (*Joe).SetLanguage"}
	}
	full := fn.Name()
	// A method expression is named "pkg.(*Type).Method" or "pkg.Type.Method".
	method := strings.TrimSuffix(full[strings.LastIndexByte(full, '.')+1:], "-fm")
	st := recv
	if st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	if st.Kind() != reflect.Struct || !strings.Contains(full, st.Name()) {
		return callTarget{}, &Error{Code: CodeInvalid, Message: fmt.Sprintf("%s is not a method expression of an actor; write (*%s).Method", full, st.Name())}
	}
	defs, err := registry.Compile(markers, []any{reflect.New(st).Interface()})
	if err != nil {
		return callTarget{}, &Error{Code: CodeInvalid, Message: validationError(err).Error(), cause: validationError(err)}
	}
	d := defs[0]
	for _, a := range d.Actions {
		if a.GoName == method {
			return callTarget{actor: d.Name, action: a.Name, kind: d.Kind}, nil
		}
	}
	return callTarget{}, &Error{Code: CodeInvalid, Actor: d.Name, Message: fmt.Sprintf("%s.%s is not an action", st, method)}
}
