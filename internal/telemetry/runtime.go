package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// What the runtime reports: activations, mailboxes, saves and
// registrations. The runtime (the embedded one, and spawn proxy) reports
// these events to an observer; an adapter of a few lines turns each into
// the call below. Actors are named as the metrics name them: an unnamed
// actor's instances under the unnamed actor's name.

// Activated counts one more active instance of actor.
func (t *T) Activated(ctx context.Context, actor string) {
	if t.active.Enabled(ctx) {
		t.active.Add(ctx, 1, metric.WithAttributes(KeyActor.String(actor)))
	}
}

// Deactivated counts one active instance of actor less.
func (t *T) Deactivated(ctx context.Context, actor string) {
	if t.active.Enabled(ctx) {
		t.active.Add(ctx, -1, metric.WithAttributes(KeyActor.String(actor)))
	}
}

// Queued records the depth of actor's mailbox as a message joins it,
// counting that message.
func (t *T) Queued(ctx context.Context, actor string, depth int) {
	if t.mailbox.Enabled(ctx) {
		t.mailbox.Record(ctx, int64(depth), metric.WithAttributes(KeyActor.String(actor)))
	}
}

// Snapshot records a periodic save of actor's state that took d and failed
// with code (OK for a success).
func (t *T) Snapshot(ctx context.Context, actor string, d time.Duration, code string) {
	if t.snapshot.Enabled(ctx) {
		t.snapshot.Record(ctx, d.Seconds(), metric.WithAttributes(saveAttrs(actor, code)...))
	}
}

// Checkpoint records a durable save an action asked for, as Snapshot does.
func (t *T) Checkpoint(ctx context.Context, actor string, d time.Duration, code string) {
	if t.checkpoint.Enabled(ctx) {
		t.checkpoint.Record(ctx, d.Seconds(), metric.WithAttributes(saveAttrs(actor, code)...))
	}
}

// Registered counts a registration of a host's actors, with its outcome.
func (t *T) Registered(ctx context.Context, code string) {
	if t.registrations.Enabled(ctx) {
		t.registrations.Add(ctx, 1, metric.WithAttributes(outcome(code)...))
	}
}

func saveAttrs(actor, code string) []attribute.KeyValue {
	return append([]attribute.KeyValue{KeyActor.String(actor)}, outcome(code)...)
}

func outcome(code string) []attribute.KeyValue {
	if code == OK || code == "" {
		return nil
	}
	return []attribute.KeyValue{KeyErrorType.String(code)}
}
