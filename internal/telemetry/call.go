package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/protocol"
)

// Call is one invocation made by this program, being measured. The zero
// Call measures nothing; End does nothing then.
type Call struct {
	t             *T
	span          trace.Span
	start         time.Time
	actor, action string
	async         bool
}

// StartCall starts measuring the invocation req: a CLIENT span named
// "actor/action", child of the span in ctx, whose context it writes into
// req's metadata, and the start of its duration. It returns ctx with the
// span. When nothing is recorded, it returns ctx and req untouched.
func (t *T) StartCall(ctx context.Context, req *protocol.InvocationRequest) (context.Context, Call) {
	tr := t.tracing()
	measure := t.client.Enabled(ctx)
	if !tr.on && !measure {
		return ctx, Call{}
	}
	c := Call{t: t, action: req.GetActionName(), async: req.GetAsync() || req.GetScheduledTo() != 0}
	name := req.GetActor().GetId().GetName()
	c.actor = name
	if ref := req.GetRegisterRef(); ref != "" {
		c.actor = ref // an unnamed actor's instance: measured as the unnamed actor
	}
	if tr.on {
		ctx, c.span = tr.tracer.Start(ctx, method(c.actor, c.action), trace.WithSpanKind(trace.SpanKindClient))
		if c.span.IsRecording() {
			c.span.SetAttributes(
				KeySystemName.String(SystemName),
				KeyMethod.String(method(c.actor, c.action)),
				KeyActor.String(c.actor),
				KeyAction.String(c.action),
				KeyActorSystem.String(req.GetSystem().GetName()),
			)
			if name != c.actor {
				c.span.SetAttributes(KeyInstance.String(name))
			}
			if caller := req.GetCaller().GetName(); caller != "" {
				c.span.SetAttributes(KeyCaller.String(caller))
			}
			if c.async {
				c.span.SetAttributes(KeyAsync.Bool(true))
			}
		}
		if c.span.SpanContext().IsValid() {
			if req.Metadata == nil {
				req.Metadata = map[string]string{}
			}
			t.prop.Inject(ctx, propagation.MapCarrier(req.Metadata))
		}
	}
	if measure {
		c.start = time.Now()
	}
	return ctx, c
}

// End ends the call with its status code (OK, or one of the error codes)
// and, for a failure, its message.
func (c *Call) End(ctx context.Context, code, msg string) {
	if c.t == nil {
		return
	}
	end(c.span, code, msg)
	if !c.start.IsZero() {
		actor, action := c.actor, c.action
		if code == NotFound {
			// Names nobody serves are not worth a series each.
			actor, action = Other, Other
		}
		c.t.client.Record(ctx, time.Since(c.start).Seconds(), c.t.sets.get(setKey{actor, action, code, c.async})...)
	}
}

func end(span trace.Span, code, msg string) {
	if span == nil {
		return
	}
	if span.IsRecording() {
		span.SetAttributes(KeyStatusCode.String(code))
		if code != OK {
			span.SetAttributes(KeyErrorType.String(code))
			span.SetStatus(codes.Error, msg)
		}
	}
	span.End()
}

// Action is one action run by this host, being measured. The zero Action
// measures nothing.
type Action struct {
	t             *T
	span          trace.Span
	start         time.Time
	actor, action string
	// parent is the span the invocation's metadata named, if any.
	parent trace.SpanID
}

// StartAction starts measuring the action that inv asks for: a SERVER span
// whose parent is the span context in inv's metadata (or, for a broadcast's
// delivery, forward or pipe, the span of the action that made it, when that
// action ran in this process), and the start of its duration. actor and
// action are the names to measure it under: the host's own names for them,
// or Other for those it does not serve.
func (t *T) StartAction(ctx context.Context, inv *protocol.ActorInvocation, actor, action string) (context.Context, Action) {
	tr := t.tracing()
	measure := t.server.Enabled(ctx)
	if !tr.on && !measure {
		return ctx, Action{}
	}
	a := Action{t: t, actor: actor, action: action}
	if tr.on {
		if md := inv.GetCurrentContext().GetMetadata(); len(md) > 0 {
			ctx = t.prop.Extract(ctx, propagation.MapCarrier(md))
		}
		if sc := trace.SpanContextFromContext(ctx); sc.IsRemote() {
			a.parent = sc.SpanID()
		}
		if origin, ok := origins.find(inv, a.parent); ok {
			ctx = trace.ContextWithRemoteSpanContext(ctx, origin)
		}
		ctx, a.span = tr.tracer.Start(ctx, method(actor, action), trace.WithSpanKind(trace.SpanKindServer))
		if a.span.IsRecording() {
			id := inv.GetActor()
			a.span.SetAttributes(
				KeySystemName.String(SystemName),
				KeyMethod.String(method(actor, action)),
				KeyActor.String(actor),
				KeyAction.String(action),
				KeyActorSystem.String(id.GetSystem()),
			)
			if action == Other {
				a.span.SetAttributes(KeyMethodOriginal.String(id.GetName() + "/" + inv.GetActionName()))
			}
			if id.GetParent() != "" {
				a.span.SetAttributes(KeyInstance.String(id.GetName()))
			}
			if caller := inv.GetCaller().GetName(); caller != "" {
				a.span.SetAttributes(KeyCaller.String(caller))
			}
		}
	}
	if measure {
		a.start = time.Now()
	}
	return ctx, a
}

// Carrier returns metadata holding the action's span context, for the side
// effects it emits; nil when there is no span to carry.
func (a *Action) Carrier(ctx context.Context) map[string]string {
	if a.span == nil || !a.span.SpanContext().IsValid() {
		return nil
	}
	md := map[string]string{}
	a.t.prop.Inject(trace.ContextWithSpan(ctx, a.span), propagation.MapCarrier(md))
	return md
}

// Routed notes that the action forwards or pipes payload from self: the
// invocation that results carries the metadata the action received, and
// is made a child of the action's span when it runs in this process.
func (a *Action) Routed(self *protocol.ActorId, payload *anypb.Any) {
	if a.span != nil && a.span.SpanContext().IsValid() {
		origins.put(self, a.parent, payload, a.span.SpanContext())
	}
}

// Broadcast notes that the action broadcasts payload from self: the
// deliveries carry no metadata, and each is made a child of the action's
// span when its subscriber runs in this process.
func (a *Action) Broadcast(self *protocol.ActorId, payload *anypb.Any) {
	if a.span != nil && a.span.SpanContext().IsValid() {
		origins.put(self, trace.SpanID{}, payload, a.span.SpanContext())
	}
}

// End ends the action with its status code and, for a failure, its
// message.
func (a *Action) End(ctx context.Context, code, msg string) {
	if a.t == nil {
		return
	}
	end(a.span, code, msg)
	if !a.start.IsZero() {
		a.t.server.Record(ctx, time.Since(a.start).Seconds(), a.t.sets.get(setKey{a.actor, a.action, code, false})...)
	}
}
