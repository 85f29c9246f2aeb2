package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// What the runtime reports: activations, saves and registrations, as
// events to its observer, which Observer (observer.go) turns into the
// calls below; and the depth of mailboxes, read from the runtime when the
// metrics are collected (ObserveEngine). Actors are named as the metrics name them: an
// unnamed actor's instances under the unnamed actor's name.

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

// ObserveMailboxes makes depths the source of spawn.mailbox.depth: at each
// collection, it is called with a function to report, for each actor, the
// messages waiting in its active instances' mailboxes (the runtime's
// introspection knows them). It returns the function that stops it.
func (t *T) ObserveMailboxes(depths func(report func(actor string, waiting int))) (stop func() error, err error) {
	reg, err := t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		sums := map[string]int64{}
		depths(func(actor string, waiting int) { sums[actor] += int64(waiting) })
		for actor, n := range sums {
			o.ObserveInt64(t.mailbox, n, metric.WithAttributes(KeyActor.String(actor)))
		}
		return nil
	}, t.mailbox)
	if err != nil {
		return nil, err
	}
	return reg.Unregister, nil
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
