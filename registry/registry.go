// Package registry turns actor structs into the actor table: it reads the
// `spawn:"…"` tags, finds the action methods, checks everything once, and
// builds the table the host dispatches on and the RegistrationRequest the
// proxy is sent. After Build nothing here changes.
//
// It is machinery for the spawn package, which documents the rules users
// follow; programs never import it. Build reports every problem of every
// actor at once, each naming the type, field or method and what to write
// instead.
package registry

import (
	"reflect"
	"slices"
	"sort"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/reflectx"
)

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

// Table is a validated set of actors, looked up by name.
type Table struct {
	defs   []*Definition
	byName map[string]*Definition
}

// Definitions returns the actors in the order they were given to Build.
func (t *Table) Definitions() []*Definition { return t.defs }

// Lookup returns the actor that serves id: for an instance of an unnamed
// actor, which carries its template's name as parent, the template;
// otherwise the actor registered under id's name. It returns nil when there
// is none.
func (t *Table) Lookup(id *protocol.ActorId) *Definition {
	if d := t.byName[id.GetParent()]; d != nil {
		return d
	}
	return t.byName[id.GetName()]
}

// Names returns the actors' names, sorted.
func (t *Table) Names() []string {
	names := make([]string, 0, len(t.defs))
	for _, d := range t.defs {
		names = append(names, d.Name)
	}
	sort.Strings(names)
	return names
}

// Registration builds the RegistrationRequest for the table's actors in
// the actor system named system.
func (t *Table) Registration(system string, info *protocol.ServiceInfo) *protocol.RegistrationRequest {
	reg := &protocol.Registry{Actors: make(map[string]*protocol.Actor, len(t.defs))}
	for _, d := range t.defs {
		reg.Actors[d.Name] = d.Protocol(system)
	}
	return &protocol.RegistrationRequest{
		ServiceInfo: proto.CloneOf(info),
		ActorSystem: &protocol.ActorSystem{Name: system, Registry: reg},
	}
}

// Definition is one validated actor.
type Definition struct {
	// Type is the user's struct type.
	Type reflect.Type

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
	State *State

	// Handlers are the actions, timer actions among them, in method order.
	Handlers []*Handler

	// ReadsOverridden is true when the actor defines one of the built-in
	// reads (protocol.GetActions) itself: they then go to its handlers.
	ReadsOverridden bool

	// Warnings are legal but probably unintended settings, logged at start.
	Warnings []string

	copier  *reflectx.Copier
	byName  map[string]*Handler
	byGo    map[string]*Handler
	lowerCC bool // action_names=lowerCamel
}

// New returns a pointer to a fresh copy of the value given to Build: each
// invocation runs on its own.
func (d *Definition) New() reflect.Value { return d.copier.New() }

// Handler returns the action with the given wire name, or nil.
func (d *Definition) Handler(name string) *Handler { return d.byName[name] }

// HandlerFor returns the action implemented by the Go method goName, or nil.
func (d *Definition) HandlerFor(goName string) *Handler { return d.byGo[goName] }

// HandlerNames returns the actions' wire names, sorted.
func (d *Definition) HandlerNames() []string {
	names := make([]string, 0, len(d.Handlers))
	for _, h := range d.Handlers {
		names = append(names, h.Name)
	}
	sort.Strings(names)
	return names
}

// State describes the field tagged `spawn:"state"`.
type State struct {
	// Name is the field's name.
	Name string
	// Field reads and writes it.
	Field reflectx.Field
	// Message builds empty messages of the state type.
	Message protoreflect.MessageType
	// URL is the state's Any type URL.
	URL string
}

// Channel is one subscription: broadcasts to Topic arrive as Action.
type Channel struct {
	Topic string
	// Action is the wire name of the receiving action; empty means the
	// proxy's default, protocol.ReceiveAction.
	Action string
}

// Handler is one action: the method that runs it and how callers name it.
type Handler struct {
	// GoName is the method's name; Name is the action's name on the wire.
	GoName string
	Name   string
	// Method calls the method.
	Method *reflectx.Method
	// InputURL is the Any type URL the action takes, for MessageInput.
	InputURL string
	// RawAny is true when the action takes *anypb.Any: it gets the
	// payload as it came, undecoded.
	RawAny bool
	// Timer is the period of a timer action, or 0.
	Timer time.Duration

	sig reflectx.Signature
}

// Signature returns the method's signature.
func (h *Handler) Signature() reflectx.Signature { return h.sig }

// Protocol returns the actor's entry in a RegistrationRequest for system.
func (d *Definition) Protocol(system string) *protocol.Actor {
	a := &protocol.Actor{
		Id: &protocol.ActorId{Name: d.Name, System: system},
		// Always present: the proxy drops state returned by actors
		// registered without one, and crashes loading stateful ones.
		State:    &protocol.ActorState{Tags: cloneTags(d.Tags)},
		Metadata: &protocol.Metadata{},
		Settings: &protocol.ActorSettings{
			Kind:     protocolKinds[d.Kind],
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
	for _, h := range d.Handlers {
		if h.Timer > 0 {
			a.TimerActions = append(a.TimerActions, &protocol.FixedTimerAction{
				Seconds: int32(h.Timer.Milliseconds()), // milliseconds, whatever the name says
				Action:  &protocol.Action{Name: h.Name},
			})
			continue
		}
		a.Actions = append(a.Actions, &protocol.Action{Name: h.Name})
	}
	return a
}

var protocolKinds = map[Kind]protocol.Kind{
	Named:   protocol.Kind_NAMED,
	Unnamed: protocol.Kind_UNNAMED,
	Pooled:  protocol.Kind_POOLED,
	Task:    protocol.Kind_TASK,
}

func cloneTags(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// isHook reports whether an action name is one of the activation hooks.
func isHook(name string) bool { return slices.Contains(protocol.InitActions, name) }
