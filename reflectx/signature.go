package reflectx

import (
	"reflect"
	"strings"
)

// Classify reads the signature of meth, a method of the pointer method set
// of the struct type recv. It returns the signature and true for an action;
// false and a message saying what is wrong and what to write instead for a
// method that is almost an action; and false with no message for any other
// method. A near miss is reported rather than skipped, because a method
// silently not becoming an action is the mistake users lose an afternoon to.
func (t Types) Classify(recv reflect.Type, meth reflect.Method) (Signature, bool, string) {
	ft := meth.Type // receiver first
	c := classifier{t: t, recv: recv.Name(), name: meth.Name, ft: ft}
	if ft.NumIn() < 2 || ft.In(1) != reflect.PointerTo(t.Context) {
		return Signature{}, false, c.missingContext()
	}
	if ft.IsVariadic() {
		return Signature{}, false, "an action cannot be variadic; write " + c.want()
	}
	var sig Signature
	if msg := c.input(&sig); msg != "" {
		return Signature{}, false, msg
	}
	if msg := c.output(&sig); msg != "" {
		return Signature{}, false, msg
	}
	return sig, true, ""
}

type classifier struct {
	t          Types
	recv, name string
	ft         reflect.Type
}

func (c classifier) want() string {
	return "func (x *" + c.recv + ") " + c.name + "(ctx *spawn.Context, in *yourpb.Request) (*yourpb.Reply, error)"
}

func (c classifier) missingContext() string {
	ft := c.ft
	switch {
	case ft.NumIn() >= 2 && ft.In(1) == c.t.Context:
		return "takes spawn.Context by value; take ctx *spawn.Context"
	case c.mentionsSpawn():
		return "an action takes ctx *spawn.Context first; write " + c.want()
	case looksLikeAction(ft):
		return "looks like an action but does not take ctx *spawn.Context first; write " + c.want() + ", or unexport the method if it is not an action"
	}
	return ""
}

// mentionsSpawn reports whether the method's parameters or results use a
// type of the spawn package: such a method is meant to be an action.
func (c classifier) mentionsSpawn() bool {
	ours := func(x reflect.Type) bool {
		for _, s := range []reflect.Type{c.t.Context, c.t.Tick, c.t.Value, c.t.Actor, c.t.Action} {
			if x == s || x == reflect.PointerTo(s) {
				return true
			}
		}
		return false
	}
	for i := 1; i < c.ft.NumIn(); i++ {
		if ours(c.ft.In(i)) {
			return true
		}
	}
	for i := range c.ft.NumOut() {
		if ours(c.ft.Out(i)) {
			return true
		}
	}
	return false
}

func (c classifier) input(sig *Signature) string {
	switch c.ft.NumIn() {
	case 2:
		sig.In = NoInput
		return ""
	case 3:
	default:
		return "an action takes at most one input after ctx; put the inputs in one protobuf message: " + c.want()
	}
	in := c.ft.In(2)
	switch {
	case in == c.t.Tick:
		sig.In = TickInput
	case in == reflect.PointerTo(c.t.Tick):
		return "takes *spawn.Tick; take spawn.Tick by value: func (x *" + c.recv + ") " + c.name + "(ctx *spawn.Context, _ spawn.Tick) error"
	default:
		mt, ok := MessagePointer(in)
		if !ok {
			if _, ok := MessagePointer(reflect.PointerTo(in)); ok {
				return "takes " + in.String() + " by value; take *" + in.String()
			}
			return "the input must be a pointer to a protobuf message (like *yourpb.Request) or spawn.Tick, not " + in.String()
		}
		sig.In, sig.InType, sig.InMessage = MessageInput, in, mt
	}
	return ""
}

func (c classifier) output(sig *Signature) string {
	ft := c.ft
	switch ft.NumOut() {
	case 1:
		if ft.Out(0) != errorType {
			return "an action returns (spawn.Value, error), (*yourpb.Reply, error) or error, not " + ft.Out(0).String()
		}
		sig.Out = ErrorOutput
		return ""
	case 2:
	default:
		return "an action returns (spawn.Value, error), (*yourpb.Reply, error) or error"
	}
	out, last := ft.Out(0), ft.Out(1)
	if last != errorType {
		return "the last result must be error, not " + last.String()
	}
	switch {
	case out == c.t.Value:
		sig.Out = ValueOutput
	case out == reflect.PointerTo(c.t.Value):
		return "returns *spawn.Value; return spawn.Value by value"
	default:
		if _, ok := MessagePointer(out); !ok {
			if _, ok := MessagePointer(reflect.PointerTo(out)); ok {
				return "returns " + out.String() + " by value; return *" + out.String()
			}
			return "the first result must be spawn.Value or a pointer to a protobuf message, not " + out.String()
		}
		sig.Out, sig.OutType = MessageOutput, out
	}
	return ""
}

// looksLikeAction is true for a method that takes and returns protobuf
// messages and an error: almost surely an action missing its ctx.
func looksLikeAction(ft reflect.Type) bool {
	if ft.NumOut() == 0 || ft.Out(ft.NumOut()-1) != errorType {
		return false
	}
	for i := 1; i < ft.NumIn(); i++ {
		if _, ok := MessagePointer(ft.In(i)); ok {
			return true
		}
	}
	return false
}

// TypeName is t's name as a user wrote it, without its package path and
// with the arguments of a generic type kept: "Gen[int]".
func TypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	s := t.String() // "main.Gen[int]"
	if i := strings.IndexByte(s, '['); i >= 0 {
		head, args := s[:i], s[i:]
		return head[strings.LastIndexByte(head, '.')+1:] + args
	}
	return s[strings.LastIndexByte(s, '.')+1:]
}
