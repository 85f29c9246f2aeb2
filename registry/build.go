package registry

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/internal/nearest"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/reflectx"
)

// Build checks the actors given to Run and returns their table, in the
// same order. It reports every problem it finds in one *Error.
func Build(types reflectx.Types, actors []any) (*Table, error) {
	var ps problems
	t := &Table{byName: map[string]*Definition{}}
	for i, v := range actors {
		d := buildOne(types, &ps, i, v)
		if d == nil {
			continue
		}
		if prev, ok := t.byName[d.Name]; ok {
			ps.add(d.Type.String(), "actor name %q is already used by %s; give one of them another name with name=…", d.Name, prev.Type)
			continue
		}
		t.byName[d.Name] = d
		t.defs = append(t.defs, d)
	}
	if len(ps.list) > 0 {
		return nil, &Error{Problems: ps.list}
	}
	return t, nil
}

// builder holds one actor while it is checked.
type builder struct {
	types  reflectx.Types
	ps     *problems
	d      *Definition
	value  any
	where  string // "main.Joe"
	awhere string // "main.Joe.Actor": where actor settings are reported

	actorField   int
	actionFields []fieldTag
	seen         map[string]bool // actor settings given
	stateful     *bool           // stateful as given, if given
	defaultTimer time.Duration
	channels     []Channel // as written; resolved against the actions later
}

type fieldTag struct{ field, tag string }

// buildOne checks one actor and returns its definition, or nil after
// reporting its problems.
func buildOne(types reflectx.Types, ps *problems, i int, v any) *Definition {
	t, ok := structType(ps, i, v)
	if !ok {
		return nil
	}
	before := len(ps.list)
	b := &builder{
		types: types, ps: ps, value: v, where: t.String(), actorField: -1, seen: map[string]bool{},
		d: &Definition{Type: t, Name: t.Name(), Kind: Named, Snapshot: DefaultSnapshot, Deactivate: DefaultDeactivate},
	}
	b.scanFields()
	if b.actorField < 0 {
		name := lowerFirst(t.Name())
		if name == "" {
			name = "joe"
		}
		ps.add(b.where, "does not embed spawn.Actor; add the field spawn.Actor `spawn:\"name=%s\"`", name)
		return nil
	}
	b.awhere = b.where + "." + t.Field(b.actorField).Name
	b.applyActorTag(t.Field(b.actorField).Tag.Get("spawn"))
	b.settleSettings()
	b.scanMethods()
	b.applyActionFields()
	b.applyTimers()
	b.checkHandlers()
	b.resolveChannels()
	if len(ps.list) > before {
		return nil
	}
	b.prepare()
	if len(ps.list) > before {
		return nil
	}
	return b.d
}

// structType returns the struct type of an argument to Build, or reports
// why it is not an actor.
func structType(ps *problems, i int, v any) (reflect.Type, bool) {
	arg := fmt.Sprintf("argument %d", i+1)
	if v == nil {
		ps.add(arg, "nil actor; pass a pointer to your actor struct, like &Joe{}")
		return nil, false
	}
	rv := reflect.ValueOf(v)
	t := rv.Type()
	if t.Kind() == reflect.Pointer {
		if rv.IsNil() {
			ps.add(arg, "nil %s; pass a pointer to a value, like &%s{}", t, t.Elem().Name())
			return nil, false
		}
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		ps.add(fmt.Sprintf("%s (%s)", arg, rv.Type()), "an actor is a struct that embeds spawn.Actor")
		return nil, false
	}
	return t, true
}

// scanFields finds the embedded Actor, the Action fields and the state field.
func (b *builder) scanFields() {
	t := b.d.Type
	for fi := range t.NumField() {
		f := t.Field(fi)
		fwhere := b.where + "." + f.Name
		tag, hasTag := f.Tag.Lookup("spawn")
		switch {
		case f.Type == b.types.Actor && f.Anonymous:
			b.actorField = fi
		case f.Type == b.types.Actor:
			b.ps.add(fwhere, "spawn.Actor must be embedded; write spawn.Actor without a field name")
		case f.Type == reflect.PointerTo(b.types.Actor):
			b.ps.add(fwhere, "embeds *spawn.Actor; embed spawn.Actor by value")
		case f.Type == b.types.Action:
			b.actionFields = append(b.actionFields, fieldTag{field: f.Name, tag: tag})
		case hasTag && strings.TrimSpace(tag) == "state":
			b.stateField(fwhere, fi, f)
		case hasTag:
			b.ps.add(fwhere, "unknown field tag `spawn:%q`; the only field tag is `spawn:\"state\"`, and actor settings go in the tag of the embedded spawn.Actor", tag)
		case f.Anonymous && b.isActorStruct(f.Type):
			// Its methods would be promoted as actions, but its own state
			// field would never be filled: they would see a nil state.
			b.ps.add(fwhere, "embeds the actor %s; an actor cannot be built from another one: keep the shared code in a type that is not an actor, or declare the actions on this type", f.Type)
		}
	}
}

// isActorStruct reports whether t (or what it points to) is a struct that
// embeds spawn.Actor or declares a state field.
func (b *builder) isActorStruct(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return false
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type == b.types.Actor || strings.TrimSpace(f.Tag.Get("spawn")) == "state" {
			return true
		}
	}
	return false
}

func (b *builder) stateField(where string, i int, f reflect.StructField) {
	if b.d.State != nil {
		b.ps.add(where, "a second state field (the first is %s); an actor has one state message", b.d.State.Name)
		return
	}
	mt, ok := reflectx.MessagePointer(f.Type)
	if !ok {
		b.ps.add(where, "the state field has type %s; it must be a pointer to a generated protobuf message, like *yourpb.State", f.Type)
		return
	}
	field, err := reflectx.NewField(b.d.Type, i)
	if err != nil {
		b.ps.add(where, "%v", err)
		return
	}
	b.d.State = &State{Name: f.Name, Field: field, Message: mt, URL: protocol.TypeURL(mt.Descriptor().FullName())}
}

// settleSettings applies the defaults that depend on several settings and
// checks the settings against each other.
func (b *builder) settleSettings() {
	d := b.d
	if !b.seen["name"] {
		if msg := checkName(d.Name); msg != "" {
			b.ps.add(b.awhere, "the type's name %q cannot name the actor: it %s; set the actor's name with name=…", d.Name, msg)
		}
	}
	// Stateful by default when the actor has a state field: keeping the
	// state is the point of declaring one.
	d.Stateful = d.State != nil
	if b.stateful != nil {
		d.Stateful = *b.stateful
	}
	if d.Stateful && d.State == nil {
		b.ps.add(b.where, "is stateful but has no state field; add a field like State *yourpb.State `spawn:\"state\"`, or drop stateful")
	}
	if d.Kind != Pooled {
		if given, verb := b.poolSettings(); given != "" {
			b.ps.add(b.awhere, "%s only %s the pool of a pooled actor, and %s is %s; add kind=pooled, or drop %s",
				given, verb, d.Type.Name(), d.Kind, given)
		}
		return
	}
	switch {
	case d.Stateful && b.stateful != nil:
		b.ps.add(b.where, "a pooled actor cannot be stateful: its instances share no state; drop stateful, or make it a named actor (drop kind=pooled)")
	case d.Stateful:
		b.ps.add(b.where, "a pooled actor cannot be stateful: its instances share no state, and the state field %s makes it stateful; write stateful=false on the spawn.Actor tag, or make it a named actor (drop kind=pooled)",
			d.State.Name)
	}
	if d.MaxPool == 0 {
		d.MaxPool = max(DefaultMaxPool, d.MinPool)
	}
	if d.MinPool > d.MaxPool {
		b.ps.add(b.awhere, "min_pool=%d is larger than max_pool=%d; raise max_pool to %d or more, or lower min_pool", d.MinPool, d.MaxPool, d.MinPool)
	}
	if d.MinPool == 0 {
		d.MinPool = 1
	}
}

// poolSettings names the pool settings given, as "min_pool", "max_pool"
// or "min_pool and max_pool" ("" for none), with the verb "sizes" in
// agreement.
func (b *builder) poolSettings() (given, sizes string) {
	switch minGiven, maxGiven := b.seen["min_pool"], b.seen["max_pool"]; {
	case minGiven && maxGiven:
		return "min_pool and max_pool", "size"
	case minGiven:
		return "min_pool", "sizes"
	case maxGiven:
		return "max_pool", "sizes"
	}
	return "", ""
}

// scanMethods makes a handler of every action method.
func (b *builder) scanMethods() {
	pt := reflect.PointerTo(b.d.Type)
	for i := range pt.NumMethod() {
		m := pt.Method(i)
		sig, ok, msg := b.types.Classify(b.d.Type, m)
		switch {
		case msg != "":
			b.ps.add(b.where+"."+m.Name, "%s", msg)
		case ok:
			h := &Handler{GoName: m.Name, Name: m.Name, sig: sig}
			if b.d.lowerCC {
				h.Name = lowerFirst(m.Name)
			}
			method, err := reflectx.NewMethod(m, sig, b.types.Tick)
			if err != nil {
				b.ps.add(b.where+"."+m.Name, "%v", err)
				continue
			}
			h.Method = method
			b.d.Handlers = append(b.d.Handlers, h)
		}
	}
}

// handlerFor returns the handler of the Go method name, or nil.
func (b *builder) handlerFor(name string) *Handler {
	for _, h := range b.d.Handlers {
		if h.GoName == name {
			return h
		}
	}
	return nil
}

// wireHandler returns the handler with the wire name, or nil.
func (b *builder) wireHandler(name string) *Handler {
	for _, h := range b.d.Handlers {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// applyActionFields applies the tags of the blank spawn.Action fields.
func (b *builder) applyActionFields() {
	configured := map[string]string{}
	for _, ft := range b.actionFields {
		fwhere := b.where + "." + ft.field
		s, ok := b.parseActionTag(fwhere, ft.tag)
		if !ok {
			continue
		}
		h := b.handlerFor(s.method)
		if h == nil {
			b.noMethod(fwhere, s.method)
			continue
		}
		if prev, ok := configured[s.method]; ok {
			b.ps.add(fwhere, "method %s is already configured by field %s; merge the two tags", s.method, prev)
			continue
		}
		configured[s.method] = ft.field
		if s.hasName {
			h.Name = s.name
		}
		if s.timer > 0 {
			if h.sig.In != reflectx.TickInput {
				b.ps.add(fwhere, "timer= needs %s to take spawn.Tick; write func (x *%s) %s(ctx *spawn.Context, _ spawn.Tick) error",
					s.method, b.d.Type.Name(), s.method)
				continue
			}
			h.Timer = s.timer
		}
	}
}

func (b *builder) noMethod(where, method string) {
	names := make([]string, len(b.d.Handlers))
	for i, h := range b.d.Handlers {
		names[i] = h.GoName
	}
	if s := nearest.Name(method, names); s != "" {
		b.ps.add(where, "method=%s: %s has no action method %s; did you mean %q?", method, b.d.Type.Name(), method, s)
		return
	}
	b.ps.add(where, "method=%s: %s has no action method %s", method, b.d.Type.Name(), method)
}

// applyTimers gives the actor's timer period to the timer actions that set
// none of their own.
func (b *builder) applyTimers() {
	used := false
	for _, h := range b.d.Handlers {
		if h.sig.In != reflectx.TickInput || h.Timer > 0 {
			continue
		}
		if b.defaultTimer == 0 {
			b.ps.add(b.where+"."+h.GoName, "timer action without a period; set timer=… on the spawn.Actor tag or on a spawn.Action field with method=%s", h.GoName)
			continue
		}
		h.Timer, used = b.defaultTimer, true
	}
	if b.defaultTimer > 0 && !used {
		b.d.Warnings = append(b.d.Warnings, fmt.Sprintf("timer=%v on the spawn.Actor tag applies to no action: it is the period of methods that take spawn.Tick and set no timer of their own", b.defaultTimer))
	}
}

// checkHandlers checks the actions against each other: unique wire names,
// at most one activation hook, and hooks that take nothing.
func (b *builder) checkHandlers() {
	d := b.d
	if len(d.Handlers) == 0 {
		b.ps.add(b.where, "has no actions; add an exported method like func (x *%s) Do(ctx *spawn.Context, in *yourpb.Request) (*yourpb.Reply, error)", d.Type.Name())
		return
	}
	byName := map[string]string{}
	var hooks []string
	for _, h := range d.Handlers {
		hwhere := b.where + "." + h.GoName
		if prev, ok := byName[h.Name]; ok {
			b.ps.add(hwhere, "action name %q is also used by method %s; rename one with a spawn.Action field", h.Name, prev)
			continue
		}
		byName[h.Name] = h.GoName
		if !isHook(h.Name) {
			continue
		}
		hooks = append(hooks, h.Name)
		if h.sig.In != reflectx.NoInput {
			b.ps.add(hwhere, "the activation hook %s takes no input; write func (x *%s) %s(ctx *spawn.Context) error", h.Name, d.Type.Name(), h.GoName)
		}
		if h.Timer > 0 {
			b.ps.add(hwhere, "the activation hook %s cannot be a timer action", h.Name)
		}
	}
	if len(hooks) > 1 {
		b.ps.add(b.where, "has %d activation hooks (%s); the proxy calls only one, so keep one", len(hooks), strings.Join(hooks, ", "))
	}
}

// resolveChannels checks that each channel's action exists, and routes a
// channel that names none to a Receive method when there is one.
func (b *builder) resolveChannels() {
	d := b.d
	seen := map[Channel]bool{}
	for _, c := range b.channels {
		if seen[c] {
			b.ps.add(b.awhere, "channel %s is listed twice", c.Topic)
			continue
		}
		seen[c] = true
		if c.Action == "" {
			c.Action = b.defaultReceiver(c.Topic)
		} else if h := b.channelHandler(c.Action); h != nil {
			c.Action = h.Name
		} else {
			b.noChannelAction(c)
			continue
		}
		d.Channels = append(d.Channels, c)
	}
}

// defaultReceiver is the action that takes a channel's broadcasts when the
// channel names none: the proxy's "receive", which a Go method Receive
// provides; or "" (the proxy's default) with a warning when nothing does.
func (b *builder) defaultReceiver(topic string) string {
	if b.wireHandler(protocol.ReceiveAction) != nil {
		return ""
	}
	if h := b.handlerFor("Receive"); h != nil {
		return h.Name
	}
	b.d.Warnings = append(b.d.Warnings, fmt.Sprintf("channel %s: broadcasts arrive as action %q, which %s does not have; add a method Receive, or write channel=%s:Action",
		topic, protocol.ReceiveAction, b.d.Type.Name(), topic))
	return ""
}

// channelHandler finds a channel's action by wire name, or by Go name.
func (b *builder) channelHandler(action string) *Handler {
	if h := b.wireHandler(action); h != nil {
		return h
	}
	return b.handlerFor(action)
}

func (b *builder) noChannelAction(c Channel) {
	names := make([]string, 0, len(b.d.Handlers))
	for _, h := range b.d.Handlers {
		names = append(names, h.Name)
	}
	if s := nearest.Name(c.Action, names); s != "" {
		b.ps.add(b.awhere, "channel %s: no action %q; did you mean %q?", c.Topic, c.Action, s)
		return
	}
	b.ps.add(b.awhere, "channel %s: no action %q; the actions are %s", c.Topic, c.Action, strings.Join(names, ", "))
}

// prepare builds what invocations use: the copier, and each handler's
// lookup entries and input type URL.
func (b *builder) prepare() {
	d := b.d
	cp, err := reflectx.NewCopier(b.value)
	if err != nil {
		b.ps.add(b.where, "%v", err)
		return
	}
	d.copier = cp
	d.byName = make(map[string]*Handler, len(d.Handlers))
	d.byGo = make(map[string]*Handler, len(d.Handlers))
	anyType := reflect.TypeFor[*anypb.Any]()
	for _, h := range d.Handlers {
		d.byName[h.Name] = h
		d.byGo[h.GoName] = h
		if h.sig.In == reflectx.MessageInput {
			h.InputURL = protocol.TypeURL(h.sig.InMessage.Descriptor().FullName())
			h.RawAny = h.sig.InType == anyType
		}
		if slices.Contains(protocol.GetActions, h.Name) {
			d.ReadsOverridden = true
		}
	}
}

func checkName(n string) string {
	if n == "" {
		return "is empty"
	}
	for _, r := range n {
		if unicode.IsSpace(r) || r == '/' || !unicode.IsPrint(r) {
			return "may not hold spaces, slashes or control characters"
		}
	}
	return ""
}

// lowerFirst lowers the first letter: "SetLanguage" becomes "setLanguage".
// A leading initialism is lowered whole but for the capital that starts the
// next word: "HTTPGet" becomes "httpGet", "ID" becomes "id".
func lowerFirst(s string) string {
	r := []rune(s)
	n := 0
	for n < len(r) && unicode.IsUpper(r[n]) {
		n++
	}
	if n > 1 && n < len(r) {
		n--
	}
	for i := range n {
		r[i] = unicode.ToLower(r[i])
	}
	return string(r)
}
