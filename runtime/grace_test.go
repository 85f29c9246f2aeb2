package runtime

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/state"
)

// Right after a restart, a call to an actor whose host has not registered
// again yet waits for the registration instead of answering
// ACTOR_NOT_FOUND; one that cannot wait is told "not ready", never "not
// found".
func TestRegistrationGrace(t *testing.T) {
	v := newEnvOptions(t, newHost(nil), state.NewMemory(), Options{RegistrationGrace: time.Hour})
	done := make(chan error, 1)
	go func() {
		_, err := v.e.Invoke(context.Background(), req("a", "hi", nil))
		done <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := v.e.Invoke(ctx, req("b", "hi", nil))
	if reasonOf(err) != NotReady || isNotFound(err) {
		t.Fatalf("before any registration: %v, want not ready", err)
	}
	v.register(newActor("a", actions("hi")))
	if err := <-done; err != nil {
		t.Fatalf("the waiting call: %v", err)
	}
	r := req("b", "hi", nil)
	r.Metadata = map[string]string{protocol.RequestTimeoutKey: "20"}
	_, err = v.e.Invoke(context.Background(), r)
	if reasonOf(err) != NotReady || !containsFold(err.Error(), "registering again") {
		t.Fatalf("during the grace, after a registration: %v, want not ready", err)
	}

	// After the grace, an unknown actor is not found at once.
	w := newEnvOptions(t, newHost(nil), state.NewMemory(), Options{RegistrationGrace: time.Nanosecond})
	w.register(newActor("a", actions("hi")))
	_, err = w.e.Invoke(context.Background(), req("b", "hi", nil))
	wantStatus(t, err, protocol.Status_ACTOR_NOT_FOUND, "b")
}

// A request-timeout too large for a time.Duration means no limit; it
// neither fails at once nor wraps into a negative value.
func TestHugeRequestTimeout(t *testing.T) {
	v := newEnv(t, newHost(nil))
	v.register(newActor("a", actions("hi")))
	for _, ms := range []string{"9223372036854775807", "9223372036854776", "99999999999999999999", strconv.FormatInt(maxTimeoutMS, 10)} {
		r := req("a", "hi", nil)
		r.Metadata = map[string]string{protocol.RequestTimeoutKey: ms}
		if _, err := v.e.Invoke(context.Background(), r); err != nil {
			t.Errorf("request-timeout %s: %v", ms, err)
		}
	}
	for _, ms := range []string{"0", "-1", "-99999999999999999999", "1.5", "soon"} {
		r := req("a", "hi", nil)
		r.Metadata = map[string]string{protocol.RequestTimeoutKey: ms}
		_, err := v.e.Invoke(context.Background(), r)
		wantStatus(t, err, protocol.Status_ERROR, protocol.RequestTimeoutKey)
	}
}
