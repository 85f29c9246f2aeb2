package protocol

// Facts of the Spawn protocol that hosts and proxies agree on. They are
// written here once; docs/protocol.md explains each.

// Protocol version spoken by spawn-go, as hosts and proxies announce it in
// ServiceInfo and ProxyInfo. It is the version the real proxy announces.
const (
	MajorVersion = 1
	MinorVersion = 2
)

// DefaultSystem is the actor system a proxy serves when
// PROXY_ACTOR_SYSTEM_NAME is not set.
const DefaultSystem = "spawn-system"

// RequestTimeoutKey is the invocation metadata key that bounds a sync call,
// in milliseconds. The real proxy defaults it to 60000.
const RequestTimeoutKey = "request-timeout"

// ReceiveAction is the action a broadcast invokes on a subscriber whose
// channel names none.
const ReceiveAction = "receive"

// GetActions are the built-in reads: the proxy answers them with the
// actor's current state, unless the actor registers one of them itself, in
// which case all of them go to the host.
var GetActions = []string{"get", "Get", "get_state", "getState", "GetState"}

// InitActions are the activation hooks: the proxy invokes the first of
// these that an actor registers, with no payload, on every activation.
var InitActions = []string{"init", "Init", "setup", "Setup"}

// HostPath is the host endpoint the proxy calls to run an action.
const HostPath = "/api/v1/actors/actions"

// Environment variables. The Spawn SDKs and the Spawn operator use the
// first six; the last three are spawn-go's own.
const (
	// EnvSystem names the actor system.
	EnvSystem = "PROXY_ACTOR_SYSTEM_NAME"
	// EnvProxyHost and EnvProxyPort locate the proxy, as the Node and
	// Python SDKs read them.
	EnvProxyHost = "PROXY_HTTP_HOST"
	EnvProxyPort = "PROXY_HTTP_PORT"
	// EnvOperatorProxyHost and EnvOperatorProxyPort locate the proxy, as
	// the Spawn operator sets them in the host's container.
	EnvOperatorProxyHost = "SPAWN_PROXY_INTERFACE"
	EnvOperatorProxyPort = "SPAWN_PROXY_PORT"
	// EnvHostHost and EnvHostPort are where the host listens for the proxy.
	EnvHostHost = "USER_FUNCTION_HOST"
	EnvHostPort = "USER_FUNCTION_PORT"
	// EnvStateKey holds the base64 AES-256 key for state at rest.
	EnvStateKey = "SPAWN_STATESTORE_KEY"
	// EnvDataDir is where spawn-go's embedded runtime and `spawn proxy`
	// keep state.
	EnvDataDir = "SPAWN_DATA_DIR"
	// EnvLog sets spawn-go's log level and format.
	EnvLog = "SPAWN_LOG"
	// EnvProxyBind is the address `spawn proxy` serves its API on
	// (default 127.0.0.1).
	EnvProxyBind = "SPAWN_PROXY_BIND"
	// EnvToken is the optional token shared by a spawn-go host and
	// spawn-go's proxy; each refuses requests without it. The real proxy
	// has none.
	EnvToken = "SPAWN_TOKEN"
	// EnvKeepRevisions is how many revisions of each actor's state the
	// on-disk store keeps (default 100; -1 keeps all).
	EnvKeepRevisions = "SPAWN_KEEP_REVISIONS"
	// EnvMaxMailbox bounds the invocations waiting in one actor's mailbox.
	EnvMaxMailbox = "SPAWN_MAX_MAILBOX"
	// EnvMaxAsyncBytes bounds the payload bytes of async invocations
	// waiting to run.
	EnvMaxAsyncBytes = "SPAWN_MAX_ASYNC_BYTES"
	// EnvMaxInflightBytes bounds the request bodies an HTTP server (host
	// endpoint, proxy API) holds at once.
	EnvMaxInflightBytes = "SPAWN_MAX_INFLIGHT_BYTES"
	// EnvRegistrationGrace is how long after `spawn proxy` starts a call to
	// an unregistered actor waits for its host to register (a Go duration).
	EnvRegistrationGrace = "SPAWN_REGISTRATION_GRACE"
)

// Default ports: the proxy's HTTP API and the host endpoint.
const (
	DefaultProxyPort = 9001
	DefaultHostPort  = 8090
)

// Message prefixes of spawn-go's proxy. The real proxy answers every
// failure with Status ERROR and a message; spawn-go's proxy does the same,
// so that any client can read its answers, and starts the message with one
// of these prefixes when the failure is of a kind a caller should treat
// differently. The spawn package maps each to its own error code.
const (
	// OutcomeUnknownPrefix: the call reached the actor, and whether its
	// change was applied is not known. Retrying may apply it twice.
	OutcomeUnknownPrefix = "outcome unknown: "
	// NotAppliedPrefix: the call's time limit passed before its change was
	// applied; nothing changed, and retrying is safe.
	NotAppliedPrefix = "not applied: "
	// OverloadedPrefix: a limit was reached (a full mailbox, too many bytes
	// in flight); the call was refused before it ran, and nothing changed.
	OverloadedPrefix = "overloaded: "
	// NotReadyPrefix: the actor is not registered yet, typically because the
	// proxy has just started and its host has not registered again; nothing
	// changed.
	NotReadyPrefix = "not ready: "
	// UnavailablePrefix: the proxy is stopping; the call did not run.
	UnavailablePrefix = "unavailable: "
)
