package registry

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/internal/testpb"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/reflectx"
)

// Stand-ins for the spawn package's types: the registry only compares them.
type (
	actor   struct{}
	action  struct{}
	context struct{}
	tick    struct{}
	value   struct{}
)

var testTypes = reflectx.Types{
	Actor:   reflect.TypeFor[actor](),
	Action:  reflect.TypeFor[action](),
	Context: reflect.TypeFor[context](),
	Tick:    reflect.TypeFor[tick](),
	Value:   reflect.TypeFor[value](),
}

// build is Build for the tests' stand-in types, returning the definitions.
func build(t *testing.T, actors ...any) []*Definition {
	t.Helper()
	table, err := Build(testTypes, actors)
	if err != nil {
		t.Fatal(err)
	}
	return table.Definitions()
}

type joe struct {
	actor `spawn:"name=joe,stateful,channel=test,channel=orders:Take,timer=1000,tag=team:core,snapshot=5s,deactivate=1m"`
	State *testpb.CounterState `spawn:"state"`
	_     action               `spawn:"method=Slow,timer=2s"`
	_     action               `spawn:"method=Take,name=take"`

	Dep *int
}

func (*joe) Init(*context) error                               { return nil }
func (*joe) Hi(*context, tick) (value, error)                  { return value{}, nil }
func (*joe) Slow(*context, tick) error                         { return nil }
func (*joe) Take(*context, *testpb.Add) (*testpb.Total, error) { return nil, nil }
func (*joe) Helper() int                                       { return 0 } // not an action: ignored

type pool struct {
	actor `spawn:"kind=pooled,max_pool=8"`
}

func (pool) Work(*context) error { return nil } // value receiver

func TestBuild(t *testing.T) {
	defs := build(t, &joe{}, pool{})
	j := defs[0]
	if j.Name != "joe" || j.Kind != Named || !j.Stateful || j.Snapshot != 5*time.Second || j.Deactivate != time.Minute {
		t.Fatalf("settings: %+v", j)
	}
	if j.State == nil || j.State.Name != "State" || j.State.Message.Descriptor().FullName() != "spawn.test.CounterState" {
		t.Fatalf("state: %+v", j.State)
	}
	want := map[string]struct {
		goName string
		timer  time.Duration
		in     reflectx.Input
		out    reflectx.Output
	}{
		"Init": {"Init", 0, reflectx.NoInput, reflectx.ErrorOutput},
		"Hi":   {"Hi", time.Second, reflectx.TickInput, reflectx.ValueOutput},
		"Slow": {"Slow", 2 * time.Second, reflectx.TickInput, reflectx.ErrorOutput},
		"take": {"Take", 0, reflectx.MessageInput, reflectx.MessageOutput},
	}
	if len(j.Handlers) != len(want) {
		t.Fatalf("actions: %d, want %d", len(j.Handlers), len(want))
	}
	for _, h := range j.Handlers {
		w, ok := want[h.Name]
		sig := h.Signature()
		if !ok || h.GoName != w.goName || h.Timer != w.timer || sig.In != w.in || sig.Out != w.out {
			t.Errorf("action %q: %+v, want %+v", h.Name, h, w)
		}
	}
	if got := j.Channels; len(got) != 2 || got[0] != (Channel{"test", ""}) || got[1] != (Channel{"orders", "take"}) {
		t.Errorf("channels %v", got)
	}
	p := defs[1]
	if p.Name != "pool" || p.Kind != Pooled || p.Stateful || p.MinPool != 1 || p.MaxPool != 8 {
		t.Fatalf("pool: %+v", p)
	}
}

// TestRegistration checks what the real proxy needs to accept an actor.
func TestRegistration(t *testing.T) {
	table, err := Build(testTypes, []any{&joe{}, &pool{}})
	if err != nil {
		t.Fatal(err)
	}
	info := &protocol.ServiceInfo{ServiceName: "x"}
	req := table.Registration("sys", info)
	if req.GetActorSystem().GetName() != "sys" || !proto.Equal(req.GetServiceInfo(), info) {
		t.Fatalf("envelope: %v", req)
	}
	a := req.GetActorSystem().GetRegistry().GetActors()["joe"]
	if a == nil {
		t.Fatal("actors are keyed by name")
	}
	if a.GetId().GetSystem() != "sys" || a.GetId().GetName() != "joe" {
		t.Errorf("the id needs the system: %v", a.GetId())
	}
	if a.GetState() == nil || a.GetState().GetTags()["team"] != "core" || a.GetMetadata() == nil {
		t.Errorf("state and metadata must be present: %v %v", a.GetState(), a.GetMetadata())
	}
	s := a.GetSettings()
	if s.GetKind() != protocol.Kind_NAMED || !s.GetStateful() ||
		s.GetSnapshotStrategy().GetTimeout().GetTimeout() != 5000 || s.GetDeactivationStrategy().GetTimeout().GetTimeout() != 60000 {
		t.Errorf("settings: %v", s)
	}
	var timers []string
	for _, ta := range a.GetTimerActions() {
		timers = append(timers, ta.GetAction().GetName()+"@"+(time.Duration(ta.GetSeconds())*time.Millisecond).String())
	}
	if len(timers) != 2 || timers[0] != "Hi@1s" || timers[1] != "Slow@2s" {
		t.Errorf("timer periods go out in ms: %v", timers)
	}
	var actions []string
	for _, ac := range a.GetActions() {
		actions = append(actions, ac.GetName())
	}
	if len(actions) != 2 || actions[0] != "Init" || actions[1] != "take" {
		t.Errorf("actions %v: timers are listed only as timers", actions)
	}
	if ch := a.GetMetadata().GetChannelGroup(); len(ch) != 2 || ch[1].GetAction() != "take" || ch[0].GetAction() != "" {
		t.Errorf("channels %v", ch)
	}
	p := req.GetActorSystem().GetRegistry().GetActors()["pool"]
	if p.GetSettings().GetKind() != protocol.Kind_POOLED || p.GetSettings().GetMaxPoolSize() != 8 || p.GetSettings().GetDeactivationStrategy().GetTimeout().GetTimeout() <= 0 {
		t.Errorf("pool settings: %v", p.GetSettings())
	}
	// The registration must not alias the caller's ServiceInfo.
	info.ServiceName = "changed"
	if req.GetServiceInfo().GetServiceName() != "x" {
		t.Error("registration shares the ServiceInfo")
	}
}

type listener struct {
	actor `spawn:"channel=news"`
}

func (*listener) Receive(*context, *testpb.Text) error { return nil }

type deaf struct {
	actor `spawn:"channel=news"`
}

func (*deaf) Other(*context) error { return nil }

func TestChannelDefaultAction(t *testing.T) {
	defs := build(t, &listener{}, &deaf{})
	if got := defs[0].Channels[0].Action; got != "Receive" || len(defs[0].Warnings) != 0 {
		t.Errorf("a Receive method takes the channel's broadcasts: action %q, warnings %v", got, defs[0].Warnings)
	}
	if got := defs[1].Channels[0].Action; got != "" || len(defs[1].Warnings) != 1 {
		t.Errorf("no receiver: action %q, warnings %v", got, defs[1].Warnings)
	}
}

type idleTimer struct {
	actor `spawn:"timer=1s"`
}

func (*idleTimer) Do(*context) error { return nil }

func TestUnusedTimerIsWarnedAbout(t *testing.T) {
	defs := build(t, &idleTimer{}, &joe{})
	if w := defs[0].Warnings; len(w) != 1 || w[0] != "timer=1s on the spawn.Actor tag applies to no action: it is the period of methods that take spawn.Tick and set no timer of their own" {
		t.Errorf("an actor timer with no timer action: warnings %q, want one about timer=1s", w)
	}
	for _, w := range defs[1].Warnings {
		if strings.Contains(w, "timer") {
			t.Errorf("joe's Hi uses the actor's timer, but: %q", w)
		}
	}
}

func TestLowerFirst(t *testing.T) {
	for in, want := range map[string]string{
		"SetLanguage": "setLanguage",
		"Get":         "get",
		"HTTPGet":     "httpGet",
		"ID":          "id",
		"X":           "x",
		"already":     "already",
		"":            "",
	} {
		if got := lowerFirst(in); got != want {
			t.Errorf("lowerFirst(%q) = %q, want %q", in, got, want)
		}
	}
}

type camel struct {
	actor `spawn:"action_names=lowerCamel,channel=news:Hear"`
	_     action `spawn:"method=Init,name=Setup"`
}

func (*camel) SetLanguage(*context) error        { return nil }
func (*camel) Init(*context) error               { return nil }
func (*camel) Hear(*context, *testpb.Text) error { return nil }

func TestLowerCamelNames(t *testing.T) {
	d := build(t, &camel{})[0]
	for goName, wire := range map[string]string{"SetLanguage": "setLanguage", "Init": "Setup", "Hear": "hear"} {
		if h := d.HandlerFor(goName); h == nil || h.Name != wire {
			t.Errorf("%s is called %v, want %q", goName, h, wire)
		}
	}
	if d.Channels[0].Action != "hear" {
		t.Errorf("a channel naming the Go method gets its wire name: %v", d.Channels)
	}
	if _, err := Build(testTypes, []any{&struct {
		actor `spawn:"name=x,action_names=snake"`
	}{}}); err == nil || !strings.Contains(err.Error(), "action_names=snake: write action_names=lowerCamel") {
		t.Errorf("an unknown naming must be refused with the fix: %v", err)
	}
}

type baseActor struct {
	actor `spawn:"name=base"`
	State *testpb.CounterState `spawn:"state"`
}

func (b *baseActor) Add(*context, *testpb.Add) (*testpb.Total, error) { return nil, nil }

type derivedActor struct {
	actor `spawn:"name=derived"`
	baseActor
}

func TestAnActorCannotEmbedAnother(t *testing.T) {
	_, err := Build(testTypes, []any{&derivedActor{}})
	if err == nil || !strings.Contains(err.Error(), "embeds the actor registry.baseActor") {
		t.Fatalf("an actor embedding another: %v", err)
	}
}
