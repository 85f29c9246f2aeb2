package spawn

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/protocol"
)

// InvokeOption changes how an actor is invoked.
type InvokeOption interface {
	applyInvoke(*invokeConfig)
}

type invokeConfig struct {
	parent   string
	instance string
	async    bool
	delay    time.Duration
	at       time.Time
	metadata map[string]string
	err      error
}

type invokeFunc func(*invokeConfig)

func (f invokeFunc) applyInvoke(c *invokeConfig) { f(c) }

func newInvokeConfig(opts []InvokeOption) invokeConfig {
	var c invokeConfig
	for _, o := range opts {
		if o != nil {
			o.applyInvoke(&c)
		}
	}
	if c.err == nil && c.delay != 0 && !c.at.IsZero() {
		c.err = errors.New("Delay and At both set; choose one")
	}
	return c
}

// Parent invokes an instance of the unnamed actor parent, spawning it on
// first use: the actor name given to the call names the instance.
func Parent(parent string) InvokeOption {
	return invokeFunc(func(c *invokeConfig) { c.parent = parent })
}

// Instance, with Call, targets the instance name of the unnamed actor
// that the method's type defines, spawning it on first use.
func Instance(name string) InvokeOption { return instanceOption(name) }

// instanceOption is a type of its own so Call can take it out of the
// options before they reach Invoke.
type instanceOption string

func (o instanceOption) applyInvoke(c *invokeConfig) { c.instance = string(o) }

// Async returns as soon as the proxy has accepted the call, without
// waiting for the action; any reply is dropped.
func Async() InvokeOption {
	return invokeFunc(func(c *invokeConfig) { c.async = true })
}

// Delay runs the call d from now. The call returns once the proxy has
// stored it; the reply is dropped.
func Delay(d time.Duration) InvokeOption {
	return invokeFunc(func(c *invokeConfig) {
		if d <= 0 {
			c.err = fmt.Errorf("Delay(%v) must be positive", d)
		}
		c.delay = d
	})
}

// At runs the call at t. The call returns once the proxy has stored it;
// the reply is dropped.
func At(t time.Time) InvokeOption {
	return invokeFunc(func(c *invokeConfig) {
		if t.IsZero() {
			c.err = errors.New("At needs a time")
		}
		c.at = t
	})
}

// WithMetadata adds key=value to the call's metadata, which the action
// reads with Context.Metadata.
func WithMetadata(key, value string) InvokeOption {
	return invokeFunc(func(c *invokeConfig) { c.metadata = with(c.metadata, key, value) })
}

// timeoutKey is the metadata key the proxy reads a call's time limit from, in ms.
const timeoutKey = "request-timeout"

// newRequest builds an InvocationRequest. The system is filled in by the
// caller when it is not known here.
func newRequest(system, actor, action string, in proto.Message, c invokeConfig) (*protocol.InvocationRequest, error) {
	if actor == "" || action == "" {
		return nil, errors.New("an invocation needs an actor and an action")
	}
	req := &protocol.InvocationRequest{
		System:      &protocol.ActorSystem{Name: system},
		Actor:       &protocol.Actor{Id: &protocol.ActorId{Name: actor, System: system}},
		ActionName:  action,
		Async:       c.async,
		RegisterRef: c.parent,
		Metadata:    maps.Clone(c.metadata),
	}
	if in == nil {
		req.Payload = &protocol.InvocationRequest_Noop{Noop: &protocol.Noop{}}
	} else {
		a, err := anypb.New(in)
		if err != nil {
			return nil, fmt.Errorf("encoding input: %w", err)
		}
		req.Payload = &protocol.InvocationRequest_Value{Value: a}
	}
	switch {
	case c.delay > 0:
		req.ScheduledTo = time.Now().Add(c.delay).UnixMilli()
	case !c.at.IsZero():
		req.ScheduledTo = c.at.UnixMilli()
	}
	return req, nil
}

// deadlineMetadata turns ctx's deadline into the proxy's time limit, so a
// call the caller stopped waiting for does not run on for a minute.
func deadlineMetadata(ctx context.Context, req *protocol.InvocationRequest) {
	dl, ok := ctx.Deadline()
	if !ok {
		return
	}
	if _, set := req.Metadata[timeoutKey]; set {
		return
	}
	ms := max(time.Until(dl).Milliseconds(), 1)
	if req.Metadata == nil {
		req.Metadata = map[string]string{}
	}
	req.Metadata[timeoutKey] = strconv.FormatInt(ms, 10)
}
