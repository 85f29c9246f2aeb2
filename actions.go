package spawn

import (
	"fmt"
	"reflect"
	"slices"
	"unsafe"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/internal/dispatch"
	"github.com/spawn-go/spawn/internal/reflectx"
	"github.com/spawn-go/spawn/internal/registry"
)

// markers tell the registry which types are ours.
var markers = registry.Markers{
	Actor:   reflect.TypeFor[Actor](),
	Action:  reflect.TypeFor[Action](),
	Context: reflect.TypeFor[Context](),
	Tick:    reflect.TypeFor[Tick](),
	Value:   reflect.TypeFor[Value](),
	Package: "spawn",
}

// The shapes an action method can have, with the receiver and any
// message pointers erased to unsafe.Pointer. reflectx.Erase checks that a
// method fits its shape before it is ever called through one.
type (
	noneValue   = func(recv unsafe.Pointer, ctx *Context) (Value, error)
	msgValue    = func(recv unsafe.Pointer, ctx *Context, in unsafe.Pointer) (Value, error)
	tickValue   = func(recv unsafe.Pointer, ctx *Context, t Tick) (Value, error)
	noneMessage = func(recv unsafe.Pointer, ctx *Context) (unsafe.Pointer, error)
	msgMessage  = func(recv unsafe.Pointer, ctx *Context, in unsafe.Pointer) (unsafe.Pointer, error)
	tickMessage = func(recv unsafe.Pointer, ctx *Context, t Tick) (unsafe.Pointer, error)
	noneError   = func(recv unsafe.Pointer, ctx *Context) error
	msgError    = func(recv unsafe.Pointer, ctx *Context, in unsafe.Pointer) error
	tickError   = func(recv unsafe.Pointer, ctx *Context, t Tick) error
)

// invokeFn is every shape brought to one: call the method, get a Value.
type invokeFn func(recv unsafe.Pointer, ctx *Context, in unsafe.Pointer) (Value, error)

// compile turns validated definitions into the dispatcher's actors.
func compile(sys *System, defs []*registry.Definition) ([]*dispatch.Actor, error) {
	out := make([]*dispatch.Actor, 0, len(defs))
	for _, d := range defs {
		a, err := compileActor(sys, d)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func compileActor(sys *System, d *registry.Definition) (*dispatch.Actor, error) {
	cl, err := reflectx.NewCloner(d.Value)
	if err != nil {
		return nil, err
	}
	a := &dispatch.Actor{Name: d.Name, New: cl.New, Actions: make(map[string]*dispatch.Action, len(d.Actions))}
	if d.State != nil {
		field, err := reflectx.NewPointerField(d.Type, d.State.Index)
		if err != nil {
			return nil, err
		}
		box, err := reflectx.NewBoxer(d.State.Type)
		if err != nil {
			return nil, err
		}
		a.State = &dispatch.StateSlot{Field: field, Message: d.State.Message, Box: box, URL: typeURL(d.State.Message.New().Interface())}
	}
	for _, act := range d.Actions {
		fn, err := erase(act)
		if err != nil {
			return nil, fmt.Errorf("spawn: %s.%s: %w", d.Type, act.GoName, err)
		}
		da := &dispatch.Action{Name: act.Name, Run: run(sys, fn)}
		if act.In == registry.InMessage {
			da.Input = act.Input
			da.InputURL = typeURL(act.Input.New().Interface())
			da.RawAny = act.InputType == reflect.TypeFor[*anypb.Any]()
		}
		a.Actions[act.Name] = da
		if slices.Contains(dispatch.ReadNames, act.Name) {
			a.ReadsOverridden = true
		}
	}
	return a, nil
}

// run wraps one method into the dispatcher's calling convention.
func run(sys *System, fn invokeFn) func(dispatch.Call) (dispatch.Result, error) {
	return func(c dispatch.Call) (dispatch.Result, error) {
		ctx := &Context{ctx: c.Ctx, inv: c.Inv, sys: sys}
		var in unsafe.Pointer
		if c.Input != nil {
			in = reflectx.Unbox(c.Input)
		}
		v, err := fn(c.Receiver, ctx, in)
		if err != nil {
			return dispatch.Result{}, err
		}
		return v.result(c.Inv.GetActor())
	}
}

// erase builds the invokeFn for one action from its method.
func erase(act *registry.Action) (invokeFn, error) {
	m := act.Method.Func
	var reply reflectx.Boxer
	if act.Out == registry.OutMessage {
		var err error
		if reply, err = reflectx.NewBoxer(act.OutputType); err != nil {
			return nil, err
		}
	}
	// boxReply turns a returned message pointer back into a Value.
	boxReply := func(p unsafe.Pointer, err error) (Value, error) {
		if err != nil {
			return Value{}, err
		}
		msg, _ := reply.Box(p).(proto.Message)
		return Value{reply: msg}, nil
	}
	switch {
	case act.In == registry.InNone && act.Out == registry.OutValue:
		f, err := reflectx.Erase[noneValue](m)
		return func(r unsafe.Pointer, c *Context, _ unsafe.Pointer) (Value, error) { return f(r, c) }, err
	case act.In == registry.InMessage && act.Out == registry.OutValue:
		f, err := reflectx.Erase[msgValue](m)
		return invokeFn(f), err
	case act.In == registry.InTick && act.Out == registry.OutValue:
		f, err := reflectx.Erase[tickValue](m)
		return func(r unsafe.Pointer, c *Context, _ unsafe.Pointer) (Value, error) { return f(r, c, Tick{}) }, err
	case act.In == registry.InNone && act.Out == registry.OutMessage:
		f, err := reflectx.Erase[noneMessage](m)
		return func(r unsafe.Pointer, c *Context, _ unsafe.Pointer) (Value, error) { return boxReply(f(r, c)) }, err
	case act.In == registry.InMessage && act.Out == registry.OutMessage:
		f, err := reflectx.Erase[msgMessage](m)
		return func(r unsafe.Pointer, c *Context, in unsafe.Pointer) (Value, error) { return boxReply(f(r, c, in)) }, err
	case act.In == registry.InTick && act.Out == registry.OutMessage:
		f, err := reflectx.Erase[tickMessage](m)
		return func(r unsafe.Pointer, c *Context, _ unsafe.Pointer) (Value, error) { return boxReply(f(r, c, Tick{})) }, err
	case act.In == registry.InNone && act.Out == registry.OutError:
		f, err := reflectx.Erase[noneError](m)
		return func(r unsafe.Pointer, c *Context, _ unsafe.Pointer) (Value, error) { return Value{}, f(r, c) }, err
	case act.In == registry.InMessage && act.Out == registry.OutError:
		f, err := reflectx.Erase[msgError](m)
		return func(r unsafe.Pointer, c *Context, in unsafe.Pointer) (Value, error) { return Value{}, f(r, c, in) }, err
	case act.In == registry.InTick && act.Out == registry.OutError:
		f, err := reflectx.Erase[tickError](m)
		return func(r unsafe.Pointer, c *Context, _ unsafe.Pointer) (Value, error) { return Value{}, f(r, c, Tick{}) }, err
	}
	return nil, fmt.Errorf("unsupported action shape %d/%d", act.In, act.Out)
}

func typeURL(m proto.Message) string {
	return "type.googleapis.com/" + string(m.ProtoReflect().Descriptor().FullName())
}
