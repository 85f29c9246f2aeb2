package spawn

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime"
	"github.com/spawn-go/spawn/transport"
)

// Every failure spawn-go's proxy or runtime reports maps to the code that
// tells a caller whether retrying is safe, both in-process (a
// *runtime.Error) and over HTTP (a *transport.StatusError, where only the
// status and the message travel).
func TestCodeOfBackendErrors(t *testing.T) {
	cases := []struct {
		status protocol.Status
		msg    string
		want   Code
	}{
		{protocol.Status_ERROR, protocol.OutcomeUnknownPrefix + "pipe failed", CodeOutcomeUnknown},
		{protocol.Status_ERROR, protocol.NotAppliedPrefix + "request-timeout passed", CodeTimeout},
		{protocol.Status_ERROR, protocol.OverloadedPrefix + "mailbox full", CodeOverloaded},
		{protocol.Status_ERROR, protocol.NotReadyPrefix + "not registered yet", CodeNotReady},
		{protocol.Status_ERROR, protocol.UnavailablePrefix + "stopping", CodeUnavailable},
		{protocol.Status_ACTOR_NOT_FOUND, "actor \"x\" not found", CodeNotFound},
		{protocol.Status_ERROR, "Actor x not found on ActorSystem y", CodeProxy}, // the real proxy's words
		{protocol.Status_ERROR, "host call failed: connection refused", CodeProxy},
	}
	for _, c := range cases {
		for name, err := range map[string]error{
			"in-process": fmt.Errorf("wrapped: %w", &runtime.Error{Status: c.status, Message: c.msg}),
			"http":       &transport.StatusError{HTTPStatus: 500, Status: c.status, Message: c.msg},
		} {
			if got := codeOf(err); got != c.want {
				t.Errorf("%s: %v %q: code %v, want %v", name, c.status, c.msg, got, c.want)
			}
		}
	}
	if got := codeOf(fmt.Errorf("x: %w", transport.ErrNoAnswer)); got != CodeOutcomeUnknown {
		t.Errorf("ErrNoAnswer: code %v, want %v", got, CodeOutcomeUnknown)
	}
	if got := codeOf(fmt.Errorf("x: %w", transport.ErrUnavailable)); got != CodeUnavailable {
		t.Errorf("ErrUnavailable: code %v, want %v", got, CodeUnavailable)
	}
}

func TestCodeRetryable(t *testing.T) {
	retry := map[Code]bool{
		CodeUnknown: false, CodeAction: false, CodeNotFound: false, CodeInvalid: false,
		CodeUnavailable: true, CodeProxy: false, CodeCanceled: false, CodeOutcomeUnknown: false,
		CodeTimeout: true, CodeOverloaded: true, CodeNotReady: true,
	}
	if len(retry) != len(codeNames) {
		t.Fatalf("the table covers %d codes, there are %d", len(retry), len(codeNames))
	}
	for c, want := range retry {
		if c.Retryable() != want {
			t.Errorf("%v.Retryable() = %v, want %v", c, !want, want)
		}
		if strings.HasPrefix(c.String(), "Code(") {
			t.Errorf("code %d has no name", int(c))
		}
	}
}

// A caller whose context ends is told where the call was: which host call
// had not answered, and, in-process, that it was not applied.
func TestCanceledSaysWhereTheCallWas(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	overHTTP := backendError(ctx, "counter", "Add", fmt.Errorf("calling the spawn proxy: %w", context.Canceled))
	if overHTTP.Code != CodeCanceled || !strings.Contains(overHTTP.Message, `actor "counter"'s host call for action "Add"`) ||
		strings.Contains(overHTTP.Message, "calling the spawn proxy") || !strings.Contains(overHTTP.Message, "may have run") {
		t.Errorf("over HTTP: %v", overHTTP)
	}
	if !errors.Is(overHTTP, context.Canceled) {
		t.Errorf("over HTTP: %v does not wrap context.Canceled", overHTTP)
	}
	inProcess := backendError(ctx, "counter", "Add", &runtime.Error{Status: protocol.Status_ERROR, Reason: runtime.NotApplied,
		Message: protocol.NotAppliedPrefix + `actor "counter" action "Add": the host call had not answered when the time limit passed`})
	if inProcess.Code != CodeCanceled || !strings.Contains(inProcess.Message, "the host call had not answered") ||
		!strings.Contains(inProcess.Message, "it was not applied") {
		t.Errorf("in-process: %v", inProcess)
	}
}

// A canceled call's message says the context's error once, and whether
// it was applied once, however the backend phrased it; for an instance of
// an unnamed actor it names the instance.
func TestCanceledSaysItOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name     string
		instance string
		err      error
		want     []string // in the message
		once     []string // in the message exactly once
	}{
		{"in process, not run", "", &runtime.Error{Status: protocol.Status_ERROR, Reason: runtime.NotApplied,
			Message: protocol.NotAppliedPrefix + `actor "counter" action "Add": the time limit passed (context canceled) while the call waited in the actor's mailbox; it did not run`},
			[]string{`actor "counter" action "Add"`, "waited in the actor's mailbox", "it was not applied"},
			[]string{"context canceled", "not applied", "not run"}},
		{"in process, not applied", "", &runtime.Error{Status: protocol.Status_ERROR, Reason: runtime.NotApplied,
			Message: protocol.NotAppliedPrefix + `actor "c1" action "Add": the host call had not answered when the time limit passed (context canceled); nothing was applied`},
			[]string{`actor "c1" action "Add"`, "the host call had not answered", "it was not applied"},
			[]string{"context canceled", "applied"}},
		{"over HTTP", "", fmt.Errorf("calling the spawn proxy: %w", context.Canceled),
			[]string{`actor "counter"'s host call`, "may have run"},
			[]string{"context canceled"}},
		{"over HTTP, an instance", "c1", fmt.Errorf("calling the spawn proxy: %w", context.Canceled),
			[]string{`actor "c1" (an instance of "counter")'s host call`, "may have run"},
			[]string{"context canceled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := callError(ctx, "counter", tt.instance, "Add", tt.err)
			if err.Code != CodeCanceled || !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v (code %v), want CodeCanceled wrapping context.Canceled", err, err.Code)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Message, w) {
					t.Errorf("%q does not say %q", err.Message, w)
				}
			}
			for _, w := range tt.once {
				if n := strings.Count(err.Message, w); n > 1 {
					t.Errorf("%q says %q %d times", err.Message, w, n)
				}
			}
		})
	}
}

// TestBadRequestTimeout checks that a request-timeout that is not a
// positive number of milliseconds is refused before the call is sent.
func TestBadRequestTimeout(t *testing.T) {
	for _, tt := range []struct {
		value string
		ok    bool
	}{
		{"abc", false}, {"1.5s", false}, {"0", false}, {"-5", false}, {"", false}, {"1500", true},
	} {
		t.Run(tt.value, func(t *testing.T) {
			err := checkTimeout(map[string]string{protocol.RequestTimeoutKey: tt.value})
			if (err == nil) != tt.ok {
				t.Fatalf("checkTimeout(%q) = %v, want ok %v", tt.value, err, tt.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "positive whole number of milliseconds") {
				t.Errorf("%v does not say what to write", err)
			}
		})
	}
}
