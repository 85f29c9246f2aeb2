// Package reflectx holds the few unsafe-but-checked tricks that keep
// reflection off the dispatch hot path: calling a method found by
// reflection through a statically typed func value, and moving pointers in
// and out of struct fields and interfaces without reflect.Value.
//
// Every function here checks its preconditions once, at start-up, and
// refuses what it cannot do safely.
package reflectx

import (
	"fmt"
	"reflect"
	"unsafe"
)

// Erase returns the func fn as a value of the func type F. F may differ
// from fn's type only where fn has a pointer type and F has unsafe.Pointer
// (or another pointer type) at the same position: Go passes all pointers
// the same way, so the call is the same machine call, minus the reflection.
func Erase[F any](fn reflect.Value) (F, error) {
	var zero F
	want := reflect.TypeFor[F]()
	if fn.Kind() != reflect.Func || want.Kind() != reflect.Func {
		return zero, fmt.Errorf("reflectx: Erase needs funcs, got %s and %s", fn.Type(), want)
	}
	got := fn.Type()
	if got.NumIn() != want.NumIn() || got.NumOut() != want.NumOut() || got.IsVariadic() || want.IsVariadic() {
		return zero, fmt.Errorf("reflectx: %s does not have the shape of %s", got, want)
	}
	for i := range got.NumIn() {
		if !sameShape(got.In(i), want.In(i)) {
			return zero, fmt.Errorf("reflectx: parameter %d of %s is %s, which cannot stand for %s", i, got, got.In(i), want.In(i))
		}
	}
	for i := range got.NumOut() {
		if !sameShape(got.Out(i), want.Out(i)) {
			return zero, fmt.Errorf("reflectx: result %d of %s is %s, which cannot stand for %s", i, got, got.Out(i), want.Out(i))
		}
	}
	f := fn.Interface()
	// A func is pointer-shaped, so the interface's data word is the func value itself.
	*(*unsafe.Pointer)(unsafe.Pointer(&zero)) = (*eface)(unsafe.Pointer(&f)).data
	return zero, nil
}

func sameShape(a, b reflect.Type) bool {
	return a == b || (isPointer(a) && isPointer(b))
}

func isPointer(t reflect.Type) bool {
	return t.Kind() == reflect.Pointer || t.Kind() == reflect.UnsafePointer
}

type eface struct {
	typ, data unsafe.Pointer
}

// Boxer rebuilds an interface value of a fixed pointer type from a bare
// pointer, so a result that came back as unsafe.Pointer becomes, say, a
// proto.Message again without reflect.NewAt.
type Boxer struct {
	typ unsafe.Pointer
}

// NewBoxer returns a Boxer for the pointer type t.
func NewBoxer(t reflect.Type) (Boxer, error) {
	if t.Kind() != reflect.Pointer {
		return Boxer{}, fmt.Errorf("reflectx: %s is not a pointer type", t)
	}
	v := reflect.Zero(t).Interface()
	return Boxer{typ: (*eface)(unsafe.Pointer(&v)).typ}, nil
}

// Box returns p as an interface holding the Boxer's pointer type. A nil p
// gives a nil interface, not a typed nil.
func (b Boxer) Box(p unsafe.Pointer) any {
	if p == nil {
		return nil
	}
	var v any
	*(*eface)(unsafe.Pointer(&v)) = eface{typ: b.typ, data: p}
	return v
}

// Unbox returns the pointer held in v, which must hold a pointer type.
func Unbox(v any) unsafe.Pointer {
	return (*eface)(unsafe.Pointer(&v)).data
}

// Cloner makes fresh copies of one struct value, for a per-call copy of an
// actor that shares nothing writable with other calls but its dependencies.
type Cloner struct {
	typ   reflect.Type
	proto reflect.Value
}

// NewCloner returns a Cloner for copies of v, which must be a struct or a
// non-nil pointer to one; it takes its own copy of the value now.
func NewCloner(v any) (*Cloner, error) {
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
	return &Cloner{typ: rv.Type(), proto: cp}, nil
}

// New returns a pointer to a new copy of the struct.
func (c *Cloner) New() unsafe.Pointer {
	v := reflect.New(c.typ)
	v.Elem().Set(c.proto)
	return v.UnsafePointer()
}

// PointerField reads and writes one pointer-typed field of a struct
// through its offset.
type PointerField struct {
	offset uintptr
}

// NewPointerField returns accessors for the field at index i of struct
// type t; the field must be a pointer.
func NewPointerField(t reflect.Type, i int) (PointerField, error) {
	f := t.Field(i)
	if f.Type.Kind() != reflect.Pointer {
		return PointerField{}, fmt.Errorf("reflectx: field %s.%s is not a pointer", t, f.Name)
	}
	return PointerField{offset: f.Offset}, nil
}

// Get returns the field's pointer in the struct at base.
func (f PointerField) Get(base unsafe.Pointer) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Add(base, f.offset))
}

// Set stores p in the field of the struct at base.
func (f PointerField) Set(base, p unsafe.Pointer) {
	*(*unsafe.Pointer)(unsafe.Add(base, f.offset)) = p
}
