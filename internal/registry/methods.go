package registry

import (
	"reflect"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// methods classifies the exported methods of *T. A method is an action
// when its shape is one of the accepted ones; a method that mentions a
// spawn type, or that has an action's look without one, is reported
// instead of skipped, since a silent skip is the mistake users lose an
// afternoon to.
func (m Markers) methods(ps *problems, d *Definition, where string) {
	pt := reflect.PointerTo(d.Type)
	for i := range pt.NumMethod() {
		meth := pt.Method(i)
		a, msg := m.classify(d.Type, meth)
		switch {
		case msg != "":
			ps.add(where+"."+meth.Name, "%s", msg)
		case a != nil:
			d.Actions = append(d.Actions, a)
		}
	}
}

func (m Markers) mentions(t reflect.Type) bool {
	for _, s := range []reflect.Type{m.Context, m.Tick, m.Value, m.Actor, m.Action} {
		if t == s || t == reflect.PointerTo(s) {
			return true
		}
	}
	return false
}

// classify returns the action for meth, or a message saying what is wrong
// with it, or neither when meth is simply not an action.
func (m Markers) classify(t reflect.Type, meth reflect.Method) (*Action, string) {
	ft := meth.Type // receiver first
	recv, name := t.Name(), meth.Name
	spawnish := false
	for i := 1; i < ft.NumIn(); i++ {
		spawnish = spawnish || m.mentions(ft.In(i))
	}
	for i := range ft.NumOut() {
		spawnish = spawnish || m.mentions(ft.Out(i))
	}
	pkg := m.Package
	want := "func (x *" + recv + ") " + name + "(ctx *" + pkg + ".Context, in *yourpb.Request) (*yourpb.Reply, error)"

	if ft.NumIn() < 2 || ft.In(1) != reflect.PointerTo(m.Context) {
		switch {
		case ft.NumIn() >= 2 && ft.In(1) == m.Context:
			return nil, "takes " + pkg + ".Context by value; take ctx *" + pkg + ".Context"
		case spawnish:
			return nil, "an action takes ctx *" + pkg + ".Context first; write " + want
		case looksLikeAction(ft):
			return nil, "looks like an action but does not take ctx *" + pkg + ".Context first; write " + want + ", or unexport the method if it is not an action"
		}
		return nil, ""
	}
	if ft.IsVariadic() {
		return nil, "an action cannot be variadic; write " + want
	}
	a := &Action{GoName: name, Name: name, Method: meth}
	switch ft.NumIn() {
	case 2:
		a.In = InNone
	case 3:
		in := ft.In(2)
		switch {
		case in == m.Tick:
			a.In = InTick
		case in == reflect.PointerTo(m.Tick):
			return nil, "takes *" + pkg + ".Tick; take " + pkg + ".Tick by value: func (x *" + recv + ") " + name + "(ctx *" + pkg + ".Context, _ " + pkg + ".Tick) error"
		default:
			mt, ok := messagePointer(in)
			if !ok {
				if _, ok := messagePointer(reflect.PointerTo(in)); ok {
					return nil, "takes " + in.String() + " by value; take *" + in.String()
				}
				return nil, "the input must be a pointer to a protobuf message (like *yourpb.Request) or " + pkg + ".Tick, not " + in.String()
			}
			a.In, a.Input, a.InputType = InMessage, mt, in
		}
	default:
		return nil, "an action takes at most one input after ctx; put the inputs in one protobuf message: " + want
	}

	switch ft.NumOut() {
	case 1:
		if ft.Out(0) != errorType {
			return nil, "an action returns (" + pkg + ".Value, error), (*yourpb.Reply, error) or error, not " + ft.Out(0).String()
		}
		a.Out = OutError
	case 2:
		out, last := ft.Out(0), ft.Out(1)
		if last != errorType {
			return nil, "the last result must be error, not " + last.String()
		}
		switch {
		case out == m.Value:
			a.Out = OutValue
		case out == reflect.PointerTo(m.Value):
			return nil, "returns *" + pkg + ".Value; return " + pkg + ".Value by value"
		default:
			if _, ok := messagePointer(out); !ok {
				if _, ok := messagePointer(reflect.PointerTo(out)); ok {
					return nil, "returns " + out.String() + " by value; return *" + out.String()
				}
				return nil, "the first result must be " + pkg + ".Value or a pointer to a protobuf message, not " + out.String()
			}
			a.Out, a.OutputType = OutMessage, out
		}
	default:
		return nil, "an action returns (" + pkg + ".Value, error), (*yourpb.Reply, error) or error"
	}
	return a, ""
}

// looksLikeAction is true for an exported method that takes and returns
// protobuf messages and an error: almost surely an action missing its ctx.
func looksLikeAction(ft reflect.Type) bool {
	if ft.NumOut() == 0 || ft.Out(ft.NumOut()-1) != errorType {
		return false
	}
	for i := 1; i < ft.NumIn(); i++ {
		if _, ok := messagePointer(ft.In(i)); ok {
			return true
		}
	}
	return false
}

// messagePointer reports whether t is a pointer to a generated message
// struct and returns its message type.
//
// A struct that embeds a message also implements proto.Message, through
// the promoted ProtoReflect, but its message type builds values of the
// embedded type. The dispatcher stores what the message type builds in
// fields and parameters of type t, so t must be exactly the type it builds.
func messagePointer(t reflect.Type) (protoreflect.MessageType, bool) {
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct || !t.Implements(protoMessageType) {
		return nil, false
	}
	// A non-nil value: a promoted ProtoReflect panics on a nil receiver.
	m := reflect.New(t.Elem()).Interface().(proto.Message).ProtoReflect()
	if m == nil {
		return nil, false
	}
	mt := m.Type()
	if mt == nil || reflect.TypeOf(mt.Zero().Interface()) != t {
		return nil, false
	}
	return mt, true
}
