package registry

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/internal/tags"
)

var (
	protoMessageType = reflect.TypeFor[proto.Message]()
	errorType        = reflect.TypeFor[error]()
)

var actorKeys = []string{"name", "kind", "stateful", "channel", "timer", "snapshot", "deactivate", "min_pool", "max_pool", "tag"}

var actionKeys = []string{"method", "name", "timer"}

// Compile checks the actors given to Run and returns their definitions in
// the same order. It reports every problem it finds in one *Error.
func Compile(m Markers, actors []any) ([]*Definition, error) {
	var ps problems
	defs := make([]*Definition, 0, len(actors))
	byName := map[string]*Definition{}
	for i, v := range actors {
		d := m.compileOne(&ps, i, v)
		if d == nil {
			continue
		}
		if prev, ok := byName[d.Name]; ok {
			ps.add(d.Type.String(), "actor name %q is already used by %s; give one of them another name with name=…", d.Name, prev.Type)
			continue
		}
		byName[d.Name] = d
		defs = append(defs, d)
	}
	if len(ps.list) > 0 {
		return nil, &Error{Problems: ps.list}
	}
	return defs, nil
}

func (m Markers) compileOne(ps *problems, i int, v any) *Definition {
	if v == nil {
		ps.add(fmt.Sprintf("argument %d", i+1), "nil actor; pass a pointer to your actor struct, like &Joe{}")
		return nil
	}
	rv := reflect.ValueOf(v)
	t := rv.Type()
	if t.Kind() == reflect.Pointer {
		if rv.IsNil() {
			ps.add(fmt.Sprintf("argument %d", i+1), "nil %s; pass a pointer to a value, like &%s{}", t, t.Elem().Name())
			return nil
		}
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		ps.add(fmt.Sprintf("argument %d (%s)", i+1, rv.Type()), "an actor is a struct that embeds %s.Actor", m.Package)
		return nil
	}
	before := len(ps.list)
	d := &Definition{Type: t, Value: v, Name: t.Name(), Kind: Named, Snapshot: DefaultSnapshot, Deactivate: DefaultDeactivate}
	where := t.String()

	actorField := -1
	var actionTags []fieldTag
	for fi := range t.NumField() {
		f := t.Field(fi)
		fwhere := where + "." + f.Name
		tag, hasTag := f.Tag.Lookup("spawn")
		switch {
		case f.Type == m.Actor && f.Anonymous:
			actorField = fi
		case f.Type == m.Actor:
			ps.add(fwhere, "%s.Actor must be embedded; write %s.Actor without a field name", m.Package, m.Package)
		case f.Type == reflect.PointerTo(m.Actor):
			ps.add(fwhere, "embeds *%s.Actor; embed %s.Actor by value", m.Package, m.Package)
		case f.Type == m.Action:
			actionTags = append(actionTags, fieldTag{field: f.Name, tag: tag})
		case hasTag && strings.TrimSpace(tag) == "state":
			m.stateField(ps, d, fwhere, fi, f)
		case hasTag:
			ps.add(fwhere, "unknown field tag `spawn:%q`; the only field tag is `spawn:\"state\"`, and actor settings go in the tag of the embedded %s.Actor", tag, m.Package)
		}
	}
	if actorField < 0 {
		ps.add(where, "does not embed %s.Actor; add the field %s.Actor `spawn:\"name=%s\"`", m.Package, m.Package, lowerFirst(t.Name()))
		return nil
	}

	explicitStateful, stateful := false, false
	var defaultTimer time.Duration
	var channelSpecs []channelSpec
	awhere := where + "." + t.Field(actorField).Name
	items, err := tags.Parse(t.Field(actorField).Tag.Get("spawn"))
	if err != nil {
		ps.add(awhere, "%v", err)
	}
	seen := map[string]bool{}
	for _, it := range items {
		if seen[it.Key] && it.Key != "channel" && it.Key != "tag" {
			ps.add(awhere, "%s is set twice", it.Key)
			continue
		}
		seen[it.Key] = true
		switch it.Key {
		case "name":
			if n, ok := needValue(ps, awhere, it, "name=joe"); ok {
				if msg := checkName(n); msg != "" {
					ps.add(awhere, "actor name %q %s", n, msg)
				} else {
					d.Name = n
				}
			}
		case "kind":
			if k, ok := needValue(ps, awhere, it, "kind=unnamed"); ok {
				switch Kind(k) {
				case Named, Unnamed, Pooled, Task:
					d.Kind = Kind(k)
				default:
					ps.add(awhere, "unknown kind %q; use one of named, unnamed, pooled, task", k)
				}
			}
		case "stateful":
			explicitStateful = true
			stateful = true
			if it.HasValue {
				b, err := strconv.ParseBool(it.Value)
				if err != nil {
					ps.add(awhere, "stateful=%s is not a boolean; write stateful or stateful=false", it.Value)
				}
				stateful = b
			}
		case "channel":
			if c, ok := needValue(ps, awhere, it, "channel=topic or channel=topic:Action"); ok {
				topic, action, _ := strings.Cut(c, ":")
				topic, action = strings.TrimSpace(topic), strings.TrimSpace(action)
				if topic == "" {
					ps.add(awhere, "channel %q has no topic; write channel=topic or channel=topic:Action", c)
					continue
				}
				if strings.ContainsAny(topic, "*#>") {
					ps.add(awhere, "channel %q: wildcards are not supported; name each topic", topic)
					continue
				}
				channelSpecs = append(channelSpecs, channelSpec{topic, action})
			}
		case "timer", "snapshot", "deactivate":
			if s, ok := needValue(ps, awhere, it, it.Key+"=5s"); ok {
				dur, msg := parseDuration(s)
				if msg != "" {
					ps.add(awhere, "%s=%s %s", it.Key, s, msg)
					continue
				}
				switch it.Key {
				case "timer":
					defaultTimer = dur
				case "snapshot":
					d.Snapshot = dur
				case "deactivate":
					d.Deactivate = dur
				}
			}
		case "min_pool", "max_pool":
			if s, ok := needValue(ps, awhere, it, it.Key+"=4"); ok {
				n, err := strconv.Atoi(s)
				if err != nil || n < 0 || n > math.MaxInt32 {
					ps.add(awhere, "%s=%s is not a whole number of instances", it.Key, s)
					continue
				}
				if it.Key == "min_pool" {
					d.MinPool = n
				} else {
					d.MaxPool = n
				}
			}
		case "tag":
			if s, ok := needValue(ps, awhere, it, "tag=key:value"); ok {
				k, val, found := strings.Cut(s, ":")
				if !found || strings.TrimSpace(k) == "" {
					ps.add(awhere, "tag=%s is not key:value; write tag=env:prod", s)
					continue
				}
				if d.Tags == nil {
					d.Tags = map[string]string{}
				}
				k = strings.TrimSpace(k)
				if _, dup := d.Tags[k]; dup {
					ps.add(awhere, "initial tag %q is set twice", k)
				}
				d.Tags[k] = val
			}
		default:
			if s := tags.Suggest(it.Key, actorKeys); s != "" {
				ps.add(awhere, "unknown setting %q; did you mean %q?", it.Key, s)
			} else {
				ps.add(awhere, "unknown setting %q; the settings are %s", it.Key, strings.Join(actorKeys, ", "))
			}
		}
	}

	if !seen["name"] {
		if msg := checkName(d.Name); msg != "" {
			ps.add(awhere, "the type's name %q cannot name the actor: it %s; set the actor's name with name=…", d.Name, msg)
		}
	}

	// Stateful by default when the actor has a state field: keeping the
	// state is the point of declaring one.
	d.Stateful = d.State != nil
	if explicitStateful {
		d.Stateful = stateful
	}
	if d.Stateful && d.State == nil {
		ps.add(where, "is stateful but has no state field; add a field like State *yourpb.State `spawn:\"state\"`, or drop stateful")
	}
	if d.Kind == Pooled {
		if d.Stateful {
			ps.add(where, "a pooled actor cannot be stateful: its instances share no state; drop stateful (and set stateful=false if it has a state field)")
		}
		if d.MaxPool == 0 {
			d.MaxPool = max(DefaultMaxPool, d.MinPool)
		}
		if d.MinPool > d.MaxPool {
			ps.add(awhere, "min_pool=%d is larger than max_pool=%d", d.MinPool, d.MaxPool)
		}
		if d.MinPool == 0 {
			d.MinPool = 1
		}
	} else if seen["min_pool"] || seen["max_pool"] {
		ps.add(awhere, "min_pool and max_pool apply to pooled actors only; add kind=pooled or drop them")
	}

	m.methods(ps, d, where)
	m.applyActionTags(ps, d, where, actionTags, defaultTimer)
	m.checkActions(ps, d, where)
	m.resolveChannels(ps, d, awhere, channelSpecs)

	if len(ps.list) > before {
		return nil
	}
	return d
}

type fieldTag struct{ field, tag string }

type channelSpec struct{ topic, action string }

func (m Markers) stateField(ps *problems, d *Definition, where string, i int, f reflect.StructField) {
	if d.State != nil {
		ps.add(where, "a second state field (the first is %s); an actor has one state message", d.State.Name)
		return
	}
	mt, ok := messagePointer(f.Type)
	if !ok {
		ps.add(where, "the state field has type %s; it must be a pointer to a generated protobuf message, like *yourpb.State", f.Type)
		return
	}
	d.State = &StateField{Name: f.Name, Index: i, Type: f.Type, Message: mt}
}

func (m Markers) applyActionTags(ps *problems, d *Definition, where string, fields []fieldTag, defaultTimer time.Duration) {
	configured := map[string]string{}
	for _, ft := range fields {
		fwhere := where + "." + ft.field
		items, err := tags.Parse(ft.tag)
		if err != nil {
			ps.add(fwhere, "%v", err)
			continue
		}
		var method, name, timer string
		var hasName bool
		for _, it := range items {
			switch it.Key {
			case "method":
				method, _ = needValue(ps, fwhere, it, "method=Hi")
			case "name":
				name, hasName = needValue(ps, fwhere, it, "name=hi")
			case "timer":
				timer, _ = needValue(ps, fwhere, it, "timer=5s")
			default:
				if s := tags.Suggest(it.Key, actionKeys); s != "" {
					ps.add(fwhere, "unknown action setting %q; did you mean %q?", it.Key, s)
				} else {
					ps.add(fwhere, "unknown action setting %q; the settings are %s", it.Key, strings.Join(actionKeys, ", "))
				}
			}
		}
		if method == "" {
			ps.add(fwhere, "%s.Action needs the method it configures; write `spawn:\"method=Hi,…\"`", m.Package)
			continue
		}
		var act *Action
		for _, a := range d.Actions {
			if a.GoName == method {
				act = a
			}
		}
		if act == nil {
			names := make([]string, len(d.Actions))
			for i, a := range d.Actions {
				names[i] = a.GoName
			}
			if s := tags.Suggest(method, names); s != "" {
				ps.add(fwhere, "method=%s: %s has no action method %s; did you mean %q?", method, d.Type.Name(), method, s)
			} else {
				ps.add(fwhere, "method=%s: %s has no action method %s", method, d.Type.Name(), method)
			}
			continue
		}
		if prev, ok := configured[method]; ok {
			ps.add(fwhere, "method %s is already configured by field %s; merge the two tags", method, prev)
			continue
		}
		configured[method] = ft.field
		if hasName {
			if msg := checkName(name); msg != "" {
				ps.add(fwhere, "action name %q %s", name, msg)
			} else {
				act.Name = name
			}
		}
		if timer != "" {
			dur, msg := parseDuration(timer)
			switch {
			case msg != "":
				ps.add(fwhere, "timer=%s %s", timer, msg)
			case act.In != InTick:
				ps.add(fwhere, "timer= needs %s to take %s.Tick; write func (x *%s) %s(ctx *%s.Context, _ %s.Tick) error",
					method, m.Package, d.Type.Name(), method, m.Package, m.Package)
			default:
				act.Timer = dur
			}
		}
	}
	usedDefault := false
	for _, a := range d.Actions {
		if a.In == InTick && a.Timer == 0 {
			if defaultTimer == 0 {
				ps.add(where+"."+a.GoName, "timer action without a period; set timer=… on the %s.Actor tag or on a %s.Action field with method=%s",
					m.Package, m.Package, a.GoName)
				continue
			}
			a.Timer, usedDefault = defaultTimer, true
		}
	}
	if defaultTimer > 0 && !usedDefault {
		d.Warnings = append(d.Warnings, fmt.Sprintf("timer=%v on the %s.Actor tag applies to no action: it is the period of methods that take %s.Tick and set no timer of their own",
			defaultTimer, m.Package, m.Package))
	}
}

func (m Markers) checkActions(ps *problems, d *Definition, where string) {
	if len(d.Actions) == 0 {
		ps.add(where, "has no actions; add an exported method like func (x *%s) Do(ctx *%s.Context, in *yourpb.Request) (*yourpb.Reply, error)",
			d.Type.Name(), m.Package)
		return
	}
	byName := map[string]string{}
	var hooks []string
	for _, a := range d.Actions {
		if prev, ok := byName[a.Name]; ok {
			ps.add(where+"."+a.GoName, "action name %q is also used by method %s; rename one with a %s.Action field", a.Name, prev, m.Package)
			continue
		}
		byName[a.Name] = a.GoName
		if slices.Contains(hookNames, a.Name) {
			hooks = append(hooks, a.Name)
			if a.In != InNone {
				ps.add(where+"."+a.GoName, "the activation hook %s takes no input; write func (x *%s) %s(ctx *%s.Context) error",
					a.Name, d.Type.Name(), a.GoName, m.Package)
			}
			if a.Timer > 0 {
				ps.add(where+"."+a.GoName, "the activation hook %s cannot be a timer action", a.Name)
			}
		}
	}
	if len(hooks) > 1 {
		ps.add(where, "has %d activation hooks (%s); the proxy calls only one, so keep one", len(hooks), strings.Join(hooks, ", "))
	}
}

func (m Markers) resolveChannels(ps *problems, d *Definition, where string, specs []channelSpec) {
	seen := map[channelSpec]bool{}
	for _, c := range specs {
		if seen[c] {
			ps.add(where, "channel %s is listed twice", c.topic)
			continue
		}
		seen[c] = true
		action := c.action
		if action == "" && d.Action("receive") == nil {
			// The proxy delivers to "receive"; a Go method named Receive
			// is what a Go user means by that.
			if d.Action("Receive") != nil {
				action = "Receive"
			} else {
				d.Warnings = append(d.Warnings, fmt.Sprintf("channel %s: broadcasts arrive as action \"receive\", which %s does not have; add a method Receive, or write channel=%s:Action",
					c.topic, d.Type.Name(), c.topic))
			}
		}
		if action != "" {
			if a := d.Action(action); a == nil {
				// Accept the Go name of a renamed action too.
				found := false
				for _, a := range d.Actions {
					if a.GoName == action {
						action, found = a.Name, true
					}
				}
				if !found {
					names := make([]string, 0, len(d.Actions))
					for _, a := range d.Actions {
						names = append(names, a.Name)
					}
					if s := tags.Suggest(action, names); s != "" {
						ps.add(where, "channel %s: no action %q; did you mean %q?", c.topic, action, s)
					} else {
						ps.add(where, "channel %s: no action %q; the actions are %s", c.topic, action, strings.Join(names, ", "))
					}
					continue
				}
			}
		}
		d.Channels = append(d.Channels, Channel{Topic: c.topic, Action: action})
	}
}

func needValue(ps *problems, where string, it tags.Item, example string) (string, bool) {
	if !it.HasValue || it.Value == "" {
		ps.add(where, "%s needs a value, like %s", it.Key, example)
		return "", false
	}
	return it.Value, true
}

// parseDuration reads a period: a bare number is milliseconds, as
// everywhere in Spawn; a Go duration ("2s") is accepted too.
func parseDuration(s string) (time.Duration, string) {
	var d time.Duration
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > math.MaxInt64/int64(time.Millisecond) {
			return 0, "is too long"
		}
		d = time.Duration(n) * time.Millisecond
	} else if pd, err := time.ParseDuration(s); err == nil {
		d = pd
	} else {
		return 0, "is not a duration; write milliseconds (1500) or a Go duration (1.5s)"
	}
	switch {
	case d <= 0:
		return 0, "must be positive; Spawn treats zero as \"at once, forever\""
	case d%time.Millisecond != 0:
		return 0, "has a part below a millisecond, which Spawn cannot express"
	case d.Milliseconds() > math.MaxInt32:
		return 0, "is too long; the protocol carries at most 2147483647 ms"
	}
	return d, ""
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

func lowerFirst(s string) string {
	if s == "" {
		return "actor"
	}
	return strings.ToLower(s[:1]) + s[1:]
}
