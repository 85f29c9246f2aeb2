package registry

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spawn-go/spawn/internal/nearest"
)

// setting is one key of a `spawn:"…"` tag and how its value is read.
type setting[T any] struct {
	key string
	// example is shown when the value is missing, as in "name=joe".
	example string
	// bare: the key may stand without a value (stateful).
	bare bool
	// repeat: the key may be given more than once (channel, tag).
	repeat bool
	// apply reads the value into t and returns what is wrong with it, or "".
	apply func(t T, value string) string
}

// actorSettings are the settings of the spawn.Actor tag. The package
// documentation of spawn describes each; keep the two in step.
var actorSettings = []setting[*builder]{
	{key: "name", example: "name=joe", apply: func(b *builder, v string) string {
		if msg := checkName(v); msg != "" {
			return fmt.Sprintf("actor name %q %s", v, msg)
		}
		b.d.Name = v
		return ""
	}},
	{key: "kind", example: "kind=unnamed", apply: func(b *builder, v string) string {
		k := Kind(v)
		if _, ok := protocolKinds[k]; !ok {
			return fmt.Sprintf("unknown kind %q; use one of named, unnamed, pooled, task", v)
		}
		b.d.Kind = k
		return ""
	}},
	{key: "stateful", bare: true, apply: func(b *builder, v string) string {
		on := true
		if v != "" {
			var err error
			if on, err = strconv.ParseBool(v); err != nil {
				return fmt.Sprintf("stateful=%s is not a boolean; write stateful or stateful=false", v)
			}
		}
		b.stateful = &on
		return ""
	}},
	{key: "channel", example: "channel=topic or channel=topic:Action", repeat: true, apply: func(b *builder, v string) string {
		topic, action, _ := strings.Cut(v, ":")
		topic, action = strings.TrimSpace(topic), strings.TrimSpace(action)
		switch {
		case topic == "":
			return fmt.Sprintf("channel %q has no topic; write channel=topic or channel=topic:Action", v)
		case strings.ContainsAny(topic, "*#>"):
			return fmt.Sprintf("channel %q: wildcards are not supported; name each topic", topic)
		}
		b.channels = append(b.channels, Channel{Topic: topic, Action: action})
		return ""
	}},
	{key: "timer", example: "timer=5s", apply: func(b *builder, v string) string {
		return period("timer", v, &b.defaultTimer)
	}},
	{key: "snapshot", example: "snapshot=5s", apply: func(b *builder, v string) string {
		return period("snapshot", v, &b.d.Snapshot)
	}},
	{key: "deactivate", example: "deactivate=5s", apply: func(b *builder, v string) string {
		return period("deactivate", v, &b.d.Deactivate)
	}},
	{key: "min_pool", example: "min_pool=4", apply: func(b *builder, v string) string {
		return poolSize("min_pool", v, &b.d.MinPool)
	}},
	{key: "max_pool", example: "max_pool=4", apply: func(b *builder, v string) string {
		if msg := poolSize("max_pool", v, &b.d.MaxPool); msg != "" {
			return msg
		}
		if b.d.MaxPool == 0 {
			return fmt.Sprintf("max_pool=0 would allow no instance; write max_pool=1 or more, or drop it for the default (%d)", DefaultMaxPool)
		}
		return ""
	}},
	{key: "tag", example: "tag=key:value", repeat: true, apply: func(b *builder, v string) string {
		k, val, found := strings.Cut(v, ":")
		k = strings.TrimSpace(k)
		if !found || k == "" {
			return fmt.Sprintf("tag=%s is not key:value; write tag=env:prod", v)
		}
		if b.d.Tags == nil {
			b.d.Tags = map[string]string{}
		}
		if _, dup := b.d.Tags[k]; dup {
			return fmt.Sprintf("initial tag %q is set twice", k)
		}
		b.d.Tags[k] = val
		return ""
	}},
	{key: "action_names", example: "action_names=lowerCamel", apply: func(b *builder, v string) string {
		switch v {
		case "go", "Go":
			b.d.lowerCC = false
		case "lowerCamel":
			b.d.lowerCC = true
		default:
			return fmt.Sprintf("action_names=%s: write action_names=lowerCamel (setLanguage) or action_names=go (SetLanguage, the default)", v)
		}
		return ""
	}},
}

// actionSpec is what the tag of a spawn.Action field says.
type actionSpec struct {
	method  string
	name    string
	hasName bool
	timer   time.Duration
}

// actionSettings are the settings of a spawn.Action field's tag.
var actionSettings = []setting[*actionSpec]{
	{key: "method", example: "method=Hi", apply: func(s *actionSpec, v string) string {
		s.method = v
		return ""
	}},
	{key: "name", example: "name=hi", apply: func(s *actionSpec, v string) string {
		if msg := checkName(v); msg != "" {
			return fmt.Sprintf("action name %q %s", v, msg)
		}
		s.name, s.hasName = v, true
		return ""
	}},
	{key: "timer", example: "timer=5s", apply: func(s *actionSpec, v string) string {
		return period("timer", v, &s.timer)
	}},
}

// applyTag parses tag and applies each item through its setting in table,
// reporting problems at where. It returns the keys given, and false when
// the tag does not parse at all.
func applyTag[T any](ps *problems, where, what, tag string, table []setting[T], t T) (map[string]bool, bool) {
	seen := map[string]bool{}
	items, err := parseTag(tag)
	if err != nil {
		ps.add(where, "%v", err)
		return seen, false
	}
	for _, it := range items {
		s := lookupSetting(table, it.Key)
		switch {
		case s == nil:
			ps.add(where, "%s", unknownSetting(what, it.Key, table))
			continue
		case seen[it.Key] && !s.repeat:
			ps.add(where, "%s is set twice", it.Key)
			continue
		case !s.bare && (!it.HasValue || it.Value == ""):
			ps.add(where, "%s needs a value, like %s", it.Key, s.example)
			continue
		}
		seen[it.Key] = true
		if msg := s.apply(t, it.Value); msg != "" {
			ps.add(where, "%s", msg)
		}
	}
	return seen, true
}

func lookupSetting[T any](table []setting[T], key string) *setting[T] {
	for i := range table {
		if table[i].key == key {
			return &table[i]
		}
	}
	return nil
}

func unknownSetting[T any](what, key string, table []setting[T]) string {
	keys := make([]string, len(table))
	for i, s := range table {
		keys[i] = s.key
	}
	if s := nearest.Name(key, keys); s != "" {
		return fmt.Sprintf("unknown %s %q; did you mean %q?", what, key, s)
	}
	return fmt.Sprintf("unknown %s %q; the settings are %s", what, key, strings.Join(keys, ", "))
}

// applyActorTag reads the settings of the spawn.Actor tag.
func (b *builder) applyActorTag(tag string) {
	b.seen, _ = applyTag(b.ps, b.awhere, "setting", tag, actorSettings, b)
}

// parseActionTag reads the tag of a spawn.Action field. ok is false when
// the field cannot configure anything.
func (b *builder) parseActionTag(where, tag string) (actionSpec, bool) {
	var s actionSpec
	if _, parsed := applyTag(b.ps, where, "action setting", tag, actionSettings, &s); !parsed {
		return s, false
	}
	if s.method == "" {
		b.ps.add(where, "spawn.Action needs the method it configures; write `spawn:\"method=Hi,…\"`")
		return s, false
	}
	return s, true
}

// period reads a period into d: a bare number is milliseconds, as
// everywhere in Spawn; a Go duration ("2s") is accepted too.
func period(key, s string, d *time.Duration) string {
	var v time.Duration
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > math.MaxInt64/int64(time.Millisecond) {
			return key + "=" + s + " is too long"
		}
		v = time.Duration(n) * time.Millisecond
	} else if pd, err := time.ParseDuration(s); err == nil {
		v = pd
	} else {
		return key + "=" + s + " is not a duration; write milliseconds (1500) or a Go duration (1.5s)"
	}
	switch {
	case v <= 0:
		return key + "=" + s + " must be positive; Spawn treats zero as \"at once, forever\""
	case v%time.Millisecond != 0:
		return key + "=" + s + " has a part below a millisecond, which Spawn cannot express"
	case v.Milliseconds() > math.MaxInt32:
		return key + "=" + s + " is too long; the protocol carries at most 2147483647 ms"
	}
	*d = v
	return ""
}

func poolSize(key, s string, n *int) string {
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 || v > math.MaxInt32 {
		return key + "=" + s + " is not a whole number of instances; write a number like " + key + "=4"
	}
	*n = v
	return ""
}
