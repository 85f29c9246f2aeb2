// Package registry turns user structs into actor definitions: it reads the
// `spawn:"…"` tags, classifies exported methods into actions by their
// signatures, checks everything once, and builds the actor table and the
// proxy's RegistrationRequest. After Compile nothing here runs again.
package registry

import (
	"reflect"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/spawn-go/spawn/protocol"
)

// Markers are the spawn package's own types. The registry takes them as
// values so that it never imports the package it serves.
type Markers struct {
	Actor   reflect.Type // spawn.Actor, embedded to mark an actor
	Action  reflect.Type // spawn.Action, a blank field whose tag configures one action
	Context reflect.Type // spawn.Context; actions take a pointer to it first
	Tick    reflect.Type // spawn.Tick, the input of timer actions
	Value   reflect.Type // spawn.Value, the full result type
	// Package is how the spawn package is written in messages: "spawn".
	Package string
}

// Kind of actor, as the user writes it.
type Kind string

// Actor kinds.
const (
	Named   Kind = "named"
	Unnamed Kind = "unnamed"
	Pooled  Kind = "pooled"
	Task    Kind = "task"
)

// Defaults applied when a tag does not say otherwise.
const (
	DefaultSnapshot   = 2 * time.Second
	DefaultDeactivate = 30 * time.Second
	DefaultMaxPool    = 16
)

// Definition is one validated actor.
type Definition struct {
	// Type is the user's struct type.
	Type reflect.Type
	// Value is the value given to Run: every call runs on a copy of it.
	Value any

	Name       string
	Kind       Kind
	Stateful   bool
	Channels   []Channel
	Tags       map[string]string
	Snapshot   time.Duration
	Deactivate time.Duration
	MinPool    int
	MaxPool    int

	// State is the typed state field, or nil when the actor keeps none.
	State *StateField

	// Actions in method order. Timer actions are among them.
	Actions []*Action

	// Warnings are legal but probably unintended settings, logged at start.
	Warnings []string
}

// StateField describes the field tagged `spawn:"state"`.
type StateField struct {
	Name  string
	Index int
	// Type is the field's Go type, a pointer to a generated message struct.
	Type reflect.Type
	// Message builds empty messages of the state type.
	Message protoreflect.MessageType
}

// Channel is one subscription: broadcasts to Topic arrive as Action.
type Channel struct {
	Topic  string
	Action string // wire name; empty means the proxy's default, "receive"
}

// InputKind is what an action takes after its *Context.
type InputKind int

// Input kinds.
const (
	InNone    InputKind = iota // func(ctx)
	InMessage                  // func(ctx, *pb.Msg)
	InTick                     // func(ctx, spawn.Tick)
)

// OutputKind is what an action returns.
type OutputKind int

// Output kinds.
const (
	OutValue   OutputKind = iota // (spawn.Value, error)
	OutMessage                   // (*pb.Msg, error)
	OutError                     // error
)

// Action is one validated action method.
type Action struct {
	// GoName is the method's name; Name is the action's name on the wire.
	GoName string
	Name   string
	// Method is the method from the pointer method set: its Func takes
	// the *T receiver first.
	Method reflect.Method

	In InputKind
	// Input builds messages of the input type when In is InMessage.
	Input protoreflect.MessageType
	// InputType is the Go pointer type of the input when In is InMessage.
	InputType reflect.Type

	Out OutputKind
	// OutputType is the Go pointer type of the reply when Out is OutMessage.
	OutputType reflect.Type

	// Timer is the period of a timer action, or 0.
	Timer time.Duration
}

// Hook names: the proxy calls the first of these an actor registers on every activation.
var hookNames = []string{"init", "Init", "setup", "Setup"}

// Protocol returns the actor's registration entry for the given system.
func (d *Definition) Protocol(system string) *protocol.Actor {
	kind := protocol.Kind_NAMED
	switch d.Kind {
	case Unnamed:
		kind = protocol.Kind_UNNAMED
	case Pooled:
		kind = protocol.Kind_POOLED
	case Task:
		kind = protocol.Kind_TASK
	}
	a := &protocol.Actor{
		Id: &protocol.ActorId{Name: d.Name, System: system},
		// Always present: the proxy drops state returned by actors
		// registered without one, and crashes loading stateful ones.
		State:    &protocol.ActorState{Tags: cloneMap(d.Tags)},
		Metadata: &protocol.Metadata{},
		Settings: &protocol.ActorSettings{
			Kind:     kind,
			Stateful: d.Stateful,
			// Both timeouts always go out positive: a missing deactivation
			// strategy means "never", a zero one means "at once".
			SnapshotStrategy: &protocol.ActorSnapshotStrategy{Strategy: &protocol.ActorSnapshotStrategy_Timeout{
				Timeout: &protocol.TimeoutStrategy{Timeout: d.Snapshot.Milliseconds()},
			}},
			DeactivationStrategy: &protocol.ActorDeactivationStrategy{Strategy: &protocol.ActorDeactivationStrategy_Timeout{
				Timeout: &protocol.TimeoutStrategy{Timeout: d.Deactivate.Milliseconds()},
			}},
			MinPoolSize: int32(d.MinPool),
			MaxPoolSize: int32(d.MaxPool),
		},
	}
	for _, c := range d.Channels {
		a.Metadata.ChannelGroup = append(a.Metadata.ChannelGroup, &protocol.Channel{Topic: c.Topic, Action: c.Action})
	}
	for _, act := range d.Actions {
		if act.Timer > 0 {
			a.TimerActions = append(a.TimerActions, &protocol.FixedTimerAction{
				Seconds: int32(act.Timer.Milliseconds()), // milliseconds, whatever the name says
				Action:  &protocol.Action{Name: act.Name},
			})
			continue
		}
		a.Actions = append(a.Actions, &protocol.Action{Name: act.Name})
	}
	return a
}

// Registration builds the RegistrationRequest for defs.
func Registration(system string, info *protocol.ServiceInfo, defs []*Definition) *protocol.RegistrationRequest {
	reg := &protocol.Registry{Actors: make(map[string]*protocol.Actor, len(defs))}
	for _, d := range defs {
		reg.Actors[d.Name] = d.Protocol(system)
	}
	return &protocol.RegistrationRequest{
		ServiceInfo: proto.Clone(info).(*protocol.ServiceInfo),
		ActorSystem: &protocol.ActorSystem{Name: system, Registry: reg},
	}
}

// Action returns the action with the given wire name, or nil.
func (d *Definition) Action(name string) *Action {
	for _, a := range d.Actions {
		if a.Name == name {
			return a
		}
	}
	return nil
}

func cloneMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
