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
