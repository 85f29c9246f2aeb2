package reflectx

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Stand-ins for the spawn package's types.
type (
	actor  struct{}
	action struct{}
	ctxT   struct{}
	tick   struct{}
	value  struct{ n int }
)

var types = Types{
	Actor:   reflect.TypeFor[actor](),
	Action:  reflect.TypeFor[action](),
	Context: reflect.TypeFor[ctxT](),
	Tick:    reflect.TypeFor[tick](),
	Value:   reflect.TypeFor[value](),
}

type counter struct {
	base  int
	State *wrapperspb.Int64Value
}

func (c *counter) Add(_ *ctxT, in *wrapperspb.Int64Value) (*wrapperspb.Int64Value, error) {
	if in.Value < 0 {
		return nil, errors.New("negative")
	}
	return wrapperspb.Int64(int64(c.base) + in.Value), nil
}
func (c *counter) Bump(_ *ctxT, _ tick) (value, error)             { c.base++; return value{c.base}, nil }
func (c *counter) Nothing(_ *ctxT) (*wrapperspb.Int64Value, error) { return nil, nil }
func (c counter) Check(_ *ctxT) error                              { return errors.New("checked") }
func (c *counter) Helper() int                                     { return 0 }

// Near misses.
func (c *counter) NoCtx(in *wrapperspb.Int64Value) (*wrapperspb.Int64Value, error) { return in, nil }
func (c *counter) ByValue(_ ctxT) error                                            { return nil }
func (c *counter) TwoIn(_ *ctxT, a, b *wrapperspb.Int64Value) error                { return nil }
func (c *counter) PtrTick(_ *ctxT, _ *tick) error                                  { return nil }
func (c *counter) PtrValue(_ *ctxT) (*value, error)                                { return nil, nil }
func (c *counter) NotMsg(_ *ctxT, _ int) error                                     { return nil }
func (c *counter) LastNotErr(_ *ctxT) (value, int)                                 { return value{}, 0 }

func method(t *testing.T, name string) (reflect.Method, Signature) {
	t.Helper()
	m, ok := reflect.TypeFor[*counter]().MethodByName(name)
	if !ok {
		t.Fatalf("no method %s", name)
	}
	sig, isAction, msg := types.Classify(reflect.TypeFor[counter](), m)
	if !isAction {
		t.Fatalf("%s is not an action: %q", name, msg)
	}
	return m, sig
}

func TestClassify(t *testing.T) {
	tests := []struct {
		method string
		action bool
		msg    string // a part of the message for a near miss
	}{
		{"Add", true, ""},
		{"Bump", true, ""},
		{"Nothing", true, ""},
		{"Check", true, ""},
		{"Helper", false, ""},
		{"NoCtx", false, "does not take ctx *spawn.Context first"},
		{"ByValue", false, "takes spawn.Context by value"},
		{"TwoIn", false, "at most one input"},
		{"PtrTick", false, "take spawn.Tick by value"},
		{"PtrValue", false, "return spawn.Value by value"},
		{"NotMsg", false, "must be a pointer to a protobuf message"},
		{"LastNotErr", false, "the last result must be error"},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			m, _ := reflect.TypeFor[*counter]().MethodByName(tt.method)
			_, ok, msg := types.Classify(reflect.TypeFor[counter](), m)
			if ok != tt.action || !strings.Contains(msg, tt.msg) || (tt.msg == "" && msg != "") {
				t.Fatalf("got %v %q, want %v and a message with %q", ok, msg, tt.action, tt.msg)
			}
		})
	}
}

func TestMethodCall(t *testing.T) {
	recv := reflect.ValueOf(&counter{base: 40})
	tests := []struct {
		method string
		in     proto.Message
		want   any
		err    string
	}{
		{"Add", wrapperspb.Int64(2), int64(42), ""},
		{"Add", wrapperspb.Int64(-1), nil, "negative"},
		{"Bump", nil, value{41}, ""},
		{"Nothing", nil, nil, ""}, // a nil reply is no reply, not a typed nil
		{"Check", nil, nil, "checked"},
	}
	for _, tt := range tests {
		m, sig := method(t, tt.method)
		mm, err := NewMethod(m, sig, types.Tick)
		if err != nil {
			t.Fatal(err)
		}
		got, err := mm.Call(recv, &ctxT{}, tt.in)
		if (err != nil) != (tt.err != "") || (err != nil && err.Error() != tt.err) {
			t.Fatalf("%s: error %v, want %q", tt.method, err, tt.err)
		}
		if v, ok := got.(*wrapperspb.Int64Value); ok {
			got = v.Value
		}
		if got != tt.want {
			t.Fatalf("%s: got %#v, want %#v", tt.method, got, tt.want)
		}
	}
}

func TestMessagePointerRefusesEmbedders(t *testing.T) {
	type embedder struct{ *anypb.Any }
	if _, ok := MessagePointer(reflect.TypeFor[*anypb.Any]()); !ok {
		t.Fatal("a generated message is a message")
	}
	if _, ok := MessagePointer(reflect.TypeFor[*embedder]()); ok {
		t.Fatal("a struct that embeds a message builds values of another type")
	}
	if _, ok := MessagePointer(reflect.TypeFor[anypb.Any]()); ok {
		t.Fatal("a message struct by value is not a message pointer")
	}
}

func TestCopierCopiesAreIndependent(t *testing.T) {
	shared := wrapperspb.Int64(1)
	c, err := NewCopier(&counter{base: 7, State: shared})
	if err != nil {
		t.Fatal(err)
	}
	a, b := c.New(), c.New()
	a.Interface().(*counter).base = 100
	if b.Interface().(*counter).base != 7 {
		t.Fatal("copies share their fields")
	}
	if b.Interface().(*counter).State != shared {
		t.Fatal("pointer fields must point to what the original pointed to")
	}
	if _, err := NewCopier((*counter)(nil)); err == nil {
		t.Fatal("a nil pointer has no value to copy")
	}
	if _, err := NewCopier(3); err == nil {
		t.Fatal("an int is not a struct")
	}
}

func TestField(t *testing.T) {
	typ := reflect.TypeFor[counter]()
	if _, err := NewField(typ, 0); err == nil {
		t.Fatal("base is not a pointer field")
	}
	f, err := NewField(typ, 1)
	if err != nil {
		t.Fatal(err)
	}
	recv := reflect.ValueOf(&counter{})
	f.Set(recv, wrapperspb.Int64(5))
	if got := f.Get(recv).(*wrapperspb.Int64Value); got.Value != 5 {
		t.Fatalf("got %v", got)
	}
}

type Gen[T any] struct{}

func TestTypeName(t *testing.T) {
	for typ, want := range map[reflect.Type]string{
		reflect.TypeFor[counter]():    "counter",
		reflect.TypeFor[*counter]():   "counter",
		reflect.TypeFor[Gen[int]]():   "Gen[int]",
		reflect.TypeFor[*Gen[bool]](): "Gen[bool]",
	} {
		if got := TypeName(typ); got != want {
			t.Errorf("TypeName(%v) = %q, want %q", typ, got, want)
		}
	}
}
