package spawn

import (
	"errors"
	"fmt"
	"maps"
	"time"
)

// Options of a call, and where each applies. The compiler checks the
// places: every RouteOption is an EffectOption, and every EffectOption an
// InvokeOption, but not the other way round.
//
//	option        Invoke, Call   Value.Effect   Value.Forward, Value.Pipe
//	Instance          yes            yes              yes
//	InSystem          yes            yes              (the protocol routes within the system)
//	Delay, At         yes            yes
//	WithMetadata      yes            yes
//	Async             yes            (effects are always async)

// InvokeOption changes how System.Invoke, Context.Invoke or Call invoke an
// actor.
type InvokeOption interface {
	applyInvoke(*invokeConfig)
}

// EffectOption changes a side effect (Value.Effect). Each is also an
// InvokeOption.
type EffectOption interface {
	InvokeOption
	effectOption()
}

// RouteOption changes a forward or a pipe (Value.Forward, Value.Pipe). Each
// is also an EffectOption.
type RouteOption interface {
	EffectOption
	routeOption()
}

type invokeConfig struct {
	instance string
	system   string
	async    bool
	delay    time.Duration
	at       time.Time
	metadata map[string]string
	err      error
}

type (
	invokeOpt func(*invokeConfig)
	effectOpt func(*invokeConfig)
	routeOpt  func(*invokeConfig)
)

func (f invokeOpt) applyInvoke(c *invokeConfig) { f(c) }
func (f effectOpt) applyInvoke(c *invokeConfig) { f(c) }
func (effectOpt) effectOption()                 {}
func (f routeOpt) applyInvoke(c *invokeConfig)  { f(c) }
func (routeOpt) effectOption()                  {}
func (routeOpt) routeOption()                   {}

func newInvokeConfig[O InvokeOption](opts []O) invokeConfig {
	var c invokeConfig
	for _, o := range opts {
		if InvokeOption(o) != nil {
			o.applyInvoke(&c)
		}
	}
	if c.err == nil && c.delay != 0 && !c.at.IsZero() {
		c.err = errors.New("Delay and At both set; choose one")
	}
	return c
}

// scheduledTo is when the call runs, in Unix milliseconds, or 0 for now;
// a Delay counts from now. The protocol counts whole milliseconds;
// rounding up means a call never runs before its time.
func (c *invokeConfig) scheduledTo(now time.Time) int64 {
	switch {
	case c.delay > 0:
		return ceilMilli(now.Add(c.delay))
	case !c.at.IsZero():
		return ceilMilli(c.at)
	}
	return 0
}

func ceilMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if time.UnixMilli(ms).Before(t) {
		ms++
	}
	return ms
}

// Instance addresses the instance name of the unnamed actor that the call
// names, spawning it on first use:
//
//	sys.Invoke(ctx, "session", "Add", in, &out, spawn.Instance("s-42"))
//	spawn.Call(ctx, sys, (*Session).Add, in, spawn.Instance("s-42"))
func Instance(name string) RouteOption {
	return routeOpt(func(c *invokeConfig) {
		if name == "" {
			c.err = errors.New("Instance needs a name")
		}
		c.instance = name
	})
}

// InSystem invokes an actor of another actor system than the caller's. The
// real Spawn proxy routes the call to the proxies of that system; the
// embedded runtime serves one system and refuses others.
func InSystem(system string) EffectOption {
	return effectOpt(func(c *invokeConfig) {
		if system == "" {
			c.err = errors.New("InSystem needs a system name")
		}
		c.system = system
	})
}

// Async returns as soon as the proxy has accepted the call, without
// waiting for the action; any reply is dropped.
func Async() InvokeOption {
	return invokeOpt(func(c *invokeConfig) { c.async = true })
}

// Delay runs the call d from now. The call returns once the proxy has
// stored it; the reply is dropped.
func Delay(d time.Duration) EffectOption {
	return effectOpt(func(c *invokeConfig) {
		if d <= 0 {
			c.err = fmt.Errorf("Delay(%v) must be positive", d)
		}
		c.delay = d
	})
}

// At runs the call at t. The call returns once the proxy has stored it;
// the reply is dropped.
func At(t time.Time) EffectOption {
	return effectOpt(func(c *invokeConfig) {
		if t.IsZero() {
			c.err = errors.New("At needs a time")
		}
		c.at = t
	})
}

// WithMetadata adds key=value to the call's metadata, which the action
// reads with Context.Metadata.
func WithMetadata(key, value string) EffectOption {
	return effectOpt(func(c *invokeConfig) {
		c.metadata = maps.Clone(c.metadata)
		if c.metadata == nil {
			c.metadata = map[string]string{}
		}
		c.metadata[key] = value
	})
}

// SpawnOption changes how System.Spawn creates an instance.
type SpawnOption interface {
	applySpawn(*spawnConfig)
}

type spawnConfig struct {
	revision int64
}

type spawnOption func(*spawnConfig)

func (f spawnOption) applySpawn(c *spawnConfig) { f(c) }

// Revision starts the instance from its state as it was at revision n.
// The instance loads it when it activates; on the embedded runtime, an
// instance already active is restored at once (see System.Restore), and a
// revision that is not kept fails the spawn with CodeNotFound. The Spawn
// proxy loads it only at activation, ignores it for an instance already
// active, and keeps revisions only with some state stores.
func Revision(n int64) SpawnOption {
	return spawnOption(func(c *spawnConfig) { c.revision = n })
}
