package telemetry

import (
	"context"
	"errors"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/protocol"
)

// What a proxy measures (spawn proxy): the invocations it serves and the
// registrations it receives, as the caller sees them.

// Served records an invocation the proxy answered after d: err is its
// failure, resp its answer.
func (t *T) Served(ctx context.Context, req *protocol.InvocationRequest, resp *protocol.InvocationResponse, err error, d time.Duration) {
	if !t.server.Enabled(ctx) {
		return
	}
	code := ProxyCode(resp, err)
	actor, action := req.GetActor().GetId().GetName(), req.GetActionName()
	if ref := req.GetRegisterRef(); ref != "" {
		actor = ref
	}
	if code == NotFound {
		actor, action = Other, Other
	}
	async := req.GetAsync() || req.GetScheduledTo() != 0
	t.server.Record(ctx, d.Seconds(), t.sets.get(setKey{actor, action, code, async})...)
}

// statusURL is the type URL of the error replies of spawn-go hosts.
var statusURL = protocol.TypeURL((&protocol.RequestStatus{}).ProtoReflect().Descriptor().FullName())

// ProxyCode is the status code of a proxy's answer: err's, or for an
// answer that carries a host's error reply, that reply's.
func ProxyCode(resp *protocol.InvocationResponse, err error) string {
	if err == nil {
		v := resp.GetValue()
		if v.GetTypeUrl() != statusURL {
			return OK
		}
		var st protocol.RequestStatus
		if proto.Unmarshal(v.GetValue(), &st) == nil && st.GetStatus() == protocol.Status_ACTOR_NOT_FOUND {
			return NotFound
		}
		return ActionFailed
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Canceled
	}
	msg := err.Error()
	for _, p := range prefixCodes {
		if strings.HasPrefix(msg, p.prefix) {
			return p.code
		}
	}
	var ps interface{ ProtocolStatus() protocol.Status }
	if errors.As(err, &ps) && ps.ProtocolStatus() == protocol.Status_ACTOR_NOT_FOUND {
		return NotFound
	}
	return ProxyError
}

var prefixCodes = []struct{ prefix, code string }{
	{protocol.OutcomeUnknownPrefix, OutcomeUnknown},
	{protocol.NotAppliedPrefix, Timeout},
	{protocol.OverloadedPrefix, Overloaded},
	{protocol.NotReadyPrefix, NotReady},
	{protocol.UnavailablePrefix, Unavailable},
}
