// Package reflectx is the reflection the spawn package does once, at
// start-up, so that an invocation only follows what was prepared: it reads
// an action method's signature into a Signature, and builds what a call
// needs — a Method to call, a fresh copy of the actor value, and access to
// its state field.
//
// It is machinery for the spawn package and package registry; programs
// never import it. Everything here is plain, safe reflection.
package reflectx

import (
	"fmt"
	"reflect"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Types are the spawn package's own types, which give action signatures and
// actor structs their meaning. They are passed in, not imported, because
// the spawn package imports this one.
type Types struct {
	Actor   reflect.Type // spawn.Actor, embedded to mark an actor
	Action  reflect.Type // spawn.Action, a blank field whose tag configures one action
	Context reflect.Type // spawn.Context; actions take a pointer to it first
	Tick    reflect.Type // spawn.Tick, the input of timer actions
	Value   reflect.Type // spawn.Value, the full result of an action
}

// Input is what an action takes after its context.
type Input int

// Inputs.
const (
	NoInput      Input = iota // func(ctx)
	MessageInput              // func(ctx, *pb.Msg)
	TickInput                 // func(ctx, spawn.Tick)
)

// Output is what an action returns.
type Output int

// Outputs.
const (
	ValueOutput   Output = iota // (spawn.Value, error)
	MessageOutput               // (*pb.Msg, error)
	ErrorOutput                 // error
)

// Signature is the shape of an action method.
type Signature struct {
	In Input
	// InType and InMessage are the input's Go type and message type, for
	// MessageInput.
	InType    reflect.Type
	InMessage protoreflect.MessageType
	Out       Output
	// OutType is the reply's Go type, for MessageOutput.
	OutType reflect.Type
}

var (
	protoMessageType = reflect.TypeFor[proto.Message]()
	errorType        = reflect.TypeFor[error]()
)

// MessagePointer reports whether t is a pointer to a generated protobuf
// message struct, and returns its message type.
//
// A struct that only embeds a message also implements proto.Message,
// through the promoted ProtoReflect, but its message type builds values of
// the embedded type. Messages built from the message type are stored in
// fields and passed as arguments of type t, so t must be exactly the type
// it builds.
func MessagePointer(t reflect.Type) (protoreflect.MessageType, bool) {
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

// Method calls one action method. It is safe for concurrent use.
type Method struct {
	fn   reflect.Value
	sig  Signature
	tick reflect.Value
}

// NewMethod prepares calls of m, a method from the pointer method set of
// an actor type (its Func takes the pointer receiver first), whose
// signature is sig.
func NewMethod(m reflect.Method, sig Signature, tick reflect.Type) (*Method, error) {
	want := 2
	if sig.In != NoInput {
		want = 3
	}
	if m.Func.Kind() != reflect.Func || m.Type.NumIn() != want {
		return nil, fmt.Errorf("reflectx: %s does not have the signature it was classified with", m.Type)
	}
	mm := &Method{fn: m.Func, sig: sig}
	if sig.In == TickInput {
		mm.tick = reflect.Zero(tick)
	}
	return mm, nil
}

// Signature returns the method's signature.
func (m *Method) Signature() Signature { return m.sig }

// Call calls the method on recv, a pointer to the actor value, with ctx (a
// *spawn.Context) and in (the input message, for MessageInput). It returns
// the method's first result — a spawn.Value, a message, or nil for an
// error-only method or a nil reply — and its error.
func (m *Method) Call(recv reflect.Value, ctx any, in proto.Message) (any, error) {
	var args [3]reflect.Value
	args[0], args[1] = recv, reflect.ValueOf(ctx)
	n := 2
	switch m.sig.In {
	case MessageInput:
		args[2] = reflect.ValueOf(in)
		n = 3
	case TickInput:
		args[2] = m.tick
		n = 3
	}
	out := m.fn.Call(args[:n])
	err, _ := out[len(out)-1].Interface().(error)
	if len(out) == 1 {
		return nil, err
	}
	r := out[0]
	if r.Kind() == reflect.Pointer && r.IsNil() {
		return nil, err
	}
	return r.Interface(), err
}

// Copier makes fresh copies of one struct value: each invocation runs on
// its own copy of the actor value, sharing nothing writable with other
// calls but what the value's fields point to.
type Copier struct {
	proto reflect.Value
}

// NewCopier returns a Copier for copies of v, which must be a struct or a
// non-nil pointer to one; it takes its own copy of the value now.
func NewCopier(v any) (*Copier, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil, fmt.Errorf("reflectx: nil %s", rv.Type())
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return nil, fmt.Errorf("reflectx: %s is not a struct", rv.Type())
	}
	cp := reflect.New(rv.Type()).Elem()
	cp.Set(rv)
	return &Copier{proto: cp}, nil
}

// New returns a pointer to a new copy of the struct.
func (c *Copier) New() reflect.Value {
	v := reflect.New(c.proto.Type())
	v.Elem().Set(c.proto)
	return v
}

// Field reads and writes one pointer field of a struct, such as an actor's
// state field.
type Field struct {
	index int
}

// NewField returns access to field i of struct type t, which must be a
// pointer field.
func NewField(t reflect.Type, i int) (Field, error) {
	if t.Kind() != reflect.Struct || i < 0 || i >= t.NumField() {
		return Field{}, fmt.Errorf("reflectx: %s has no field %d", t, i)
	}
	if f := t.Field(i); f.Type.Kind() != reflect.Pointer {
		return Field{}, fmt.Errorf("reflectx: field %s.%s is not a pointer", t, f.Name)
	}
	return Field{index: i}, nil
}

// Get returns the field of the struct recv points to.
func (f Field) Get(recv reflect.Value) any {
	return recv.Elem().Field(f.index).Interface()
}

// Set stores v, which must have the field's type, in the field of the
// struct recv points to.
func (f Field) Set(recv reflect.Value, v any) {
	recv.Elem().Field(f.index).Set(reflect.ValueOf(v))
}
