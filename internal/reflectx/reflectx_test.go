package reflectx

import (
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

type payload struct{ n int }

type counter struct {
	base  int
	Label *string
	deps  *payload
}

func (c *counter) Add(p *payload, delta int) (*payload, error) {
	if p == nil {
		return nil, errors.New("nil payload")
	}
	return &payload{n: c.base + p.n + delta}, nil
}

func (c counter) Value() int { return c.base }

type erasedAdd func(recv unsafe.Pointer, p unsafe.Pointer, delta int) (unsafe.Pointer, error)

func method(t reflect.Type, name string) reflect.Value {
	m, ok := t.MethodByName(name)
	if !ok {
		panic(name)
	}
	return m.Func
}

func TestEraseCallsTheMethod(t *testing.T) {
	add, err := Erase[erasedAdd](method(reflect.TypeFor[*counter](), "Add"))
	if err != nil {
		t.Fatal(err)
	}
	c := &counter{base: 10}
	for i := range 1000 {
		out, err := add(unsafe.Pointer(c), unsafe.Pointer(&payload{n: i}), 5)
		if err != nil {
			t.Fatal(err)
		}
		if got := (*payload)(out).n; got != 15+i {
			t.Fatalf("call %d: got %d, want %d", i, got, 15+i)
		}
		if i%100 == 0 {
			runtime.GC() // results must stay valid pointers the collector knows
		}
	}
	if _, err := add(unsafe.Pointer(c), nil, 0); err == nil || err.Error() != "nil payload" {
		t.Fatalf("error result lost: %v", err)
	}
}

func TestEraseValueReceiverThroughPointerMethodSet(t *testing.T) {
	value, err := Erase[func(unsafe.Pointer) int](method(reflect.TypeFor[*counter](), "Value"))
	if err != nil {
		t.Fatal(err)
	}
	if got := value(unsafe.Pointer(&counter{base: 7})); got != 7 {
		t.Fatalf("got %d, want 7", got)
	}
}

func TestEraseRejectsOtherShapes(t *testing.T) {
	m := method(reflect.TypeFor[*counter](), "Add")
	tests := []struct {
		name string
		try  func() error
		want string
	}{
		{"int for pointer", func() error {
			_, err := Erase[func(unsafe.Pointer, int, int) (unsafe.Pointer, error)](m)
			return err
		}, "parameter 1"},
		{"result count", func() error { _, err := Erase[func(unsafe.Pointer, unsafe.Pointer, int) error](m); return err }, "shape"},
		{"result type", func() error {
			_, err := Erase[func(unsafe.Pointer, unsafe.Pointer, int) (unsafe.Pointer, string)](m)
			return err
		}, "result 1"},
		{"not a func", func() error { _, err := Erase[func()](reflect.ValueOf(3)); return err }, "needs funcs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.try(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error about %q", err, tt.want)
			}
		})
	}
}

func TestBoxer(t *testing.T) {
	b, err := NewBoxer(reflect.TypeFor[*payload]())
	if err != nil {
		t.Fatal(err)
	}
	p := &payload{n: 3}
	v := b.Box(unsafe.Pointer(p))
	if got, ok := v.(*payload); !ok || got != p {
		t.Fatalf("Box gave %#v", v)
	}
	if b.Box(nil) != nil {
		t.Fatal("Box(nil) must be a nil interface")
	}
	if Unbox(v) != unsafe.Pointer(p) {
		t.Fatal("Unbox lost the pointer")
	}
	if _, err := NewBoxer(reflect.TypeFor[payload]()); err == nil {
		t.Fatal("NewBoxer accepted a non-pointer type")
	}
}

func TestClonerCopiesAreIndependent(t *testing.T) {
	label := "shared"
	deps := &payload{n: 1}
	orig := &counter{base: 4, Label: &label, deps: deps}
	c, err := NewCloner(orig)
	if err != nil {
		t.Fatal(err)
	}
	orig.base = 99 // later changes to the original do not reach the copies
	a, b := (*counter)(c.New()), (*counter)(c.New())
	if a == b || a.base != 4 || b.base != 4 || a.deps != deps || *a.Label != "shared" {
		t.Fatalf("bad copies: %+v %+v", a, b)
	}
	a.base = 5
	if b.base != 4 {
		t.Fatal("copies share memory")
	}
	if _, err := NewCloner((*counter)(nil)); err == nil {
		t.Fatal("NewCloner accepted a nil pointer")
	}
	if _, err := NewCloner(3); err == nil {
		t.Fatal("NewCloner accepted a non-struct")
	}
}

func TestPointerField(t *testing.T) {
	typ := reflect.TypeFor[counter]()
	f, err := NewPointerField(typ, 1)
	if err != nil {
		t.Fatal(err)
	}
	var c counter
	s := "x"
	f.Set(unsafe.Pointer(&c), unsafe.Pointer(&s))
	if c.Label != &s || f.Get(unsafe.Pointer(&c)) != unsafe.Pointer(&s) {
		t.Fatal("field not set")
	}
	if _, err := NewPointerField(typ, 0); err == nil {
		t.Fatal("accepted an int field")
	}
}
