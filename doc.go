// Package spawn defines Spawn actors as plain Go structs and serves them,
// to a Spawn proxy or to the embedded runtime.
//
// # Actors
//
// An actor is a struct that embeds Actor, with its settings in the tag:
//
//	type Joe struct {
//		spawn.Actor `spawn:"name=joe,stateful,channel=test,timer=1000"`
//		State       *domain.JoeState `spawn:"state"`
//
//		Greeter *Greeter // any other field is a dependency
//	}
//
//	func (j *Joe) SetLanguage(ctx *spawn.Context, req *domain.Request) (*domain.Reply, error) {
//		j.State.Languages = append(j.State.Languages, req.Language)
//		return &domain.Reply{Response: "ok"}, nil
//	}
//
//	func main() {
//		if err := spawn.Run(&Joe{Greeter: NewGreeter()}); err != nil {
//			log.Fatal(err)
//		}
//	}
//
// Every invocation runs on its own copy of the value given to Run, so
// calls served in parallel (by different actors, or by a pool) never share
// fields. The copy is shallow: what fields point to (dependencies, and
// maps, slices and channels) is shared as it is.
//
// # Settings of the Actor tag
//
// Periods are milliseconds when bare (1500) or Go durations (1.5s); they
// must be positive.
//
//	name=joe          the actor's name (default: the type's name)
//	kind=named        named (default), unnamed, pooled or task
//	stateful          keep the state durably (default: true when there is
//	                  a state field); stateful=false keeps it in memory only
//	channel=topic     receive broadcasts to topic in the action "receive",
//	                  or in the method Receive when there is one;
//	channel=topic:Act receive them in action Act instead; repeatable
//	timer=5s          the period of timer actions that set none of their own
//	snapshot=2s       how often changed state is saved (default 2s)
//	deactivate=30s    how long an idle actor stays active (default 30s)
//	min_pool=1        pooled actors: instances kept ready (default 1)
//	max_pool=16       pooled actors: instances at most (default 16)
//	tag=key:value     an initial tag of the actor; repeatable
//	action_names=lowerCamel
//	                  name actions after their methods in lowerCamel case
//	                  (SetLanguage is called setLanguage, and a leading
//	                  initialism is lowered whole: HTTPGet is httpGet), as
//	                  callers in other languages expect; the default, go,
//	                  keeps the method's name
//
// A value holding a comma is single-quoted: tag='k:a,b'. An unknown
// setting is an error, with the nearest known one suggested.
//
// An actor hears broadcasts once it is active. Stateful named actors are
// activated when they are registered; the others at their first call.
//
// # Fields
//
// A field tagged `spawn:"state"` holds the typed state: a pointer to a
// generated protobuf message. Before each action it is filled with the
// current state (an empty message when there is none yet, never nil);
// after a successful action, what it holds is the new state.
//
// A blank field of type Action configures one action in its tag:
//
//	_ spawn.Action `spawn:"method=Hi,name=hi,timer=5s"`
//
//	method=Hi   the Go method it configures (required)
//	name=hi     the action's name on the wire, for callers in other languages
//	timer=5s    the period, for a timer action
//
// Other fields are dependencies, copied from the value given to Run.
//
// # Actions
//
// An exported method is an action when it has one of these shapes, with
// In and Out pointers to generated protobuf messages:
//
//	func (a *A) Name(ctx *spawn.Context) (R, error)
//	func (a *A) Name(ctx *spawn.Context, in In) (R, error)
//	func (a *A) Name(ctx *spawn.Context, _ spawn.Tick) (R, error)   // a timer action
//
// where (R, error) is (spawn.Value, error), (Out, error), or just error.
// A method that mentions a spawn type but has another shape, or that
// takes and returns messages but no Context, is an error, not silently
// skipped. Other exported methods are ignored.
//
// The action's name is the method's name (or its lowerCamel form, with
// action_names=lowerCamel) unless an Action field renames it.
// An action that takes *anypb.Any receives the payload undecoded. An input
// of another type than the action takes is refused with an error naming both.
//
// Init or Setup (or an action renamed init or setup) is the activation hook:
// the runtime calls it, with no input, each time the actor is activated. An
// actor has at most one.
//
// The reads get, Get, get_state, getState and GetState are built in: they
// answer with the current state, unless the actor defines one of them.
//
// # Results and errors
//
// Return a Value to do more than reply: change tags, broadcast, emit side
// effects, forward or pipe, or checkpoint. An action that returns an error or
// panics changes nothing: its state and tags stay as they were, no workflow
// runs, and the caller gets an *Error with Code CodeAction and the original
// message. The failure travels as a reply the proxy passes through, so the
// proxy never retries the action.
//
// # Running
//
// Run and Start register the actors with the Spawn proxy whose address is in
// PROXY_HTTP_HOST/PROXY_HTTP_PORT (or SPAWN_PROXY_INTERFACE/SPAWN_PROXY_PORT,
// which the Spawn operator sets), listening for it on
// USER_FUNCTION_HOST:USER_FUNCTION_PORT, or on a server of your own with
// WithMount. The port defaults to 8090; without USER_FUNCTION_HOST, the
// host listens on loopback (127.0.0.1) when the proxy's address is
// loopback or, in the environment, unspecified (no host, 0.0.0.0 or ::),
// and on every interface (0.0.0.0) otherwise: see Exposure. With no proxy
// address set they run
// the actors on the embedded runtime, in-process, with state on local disk
// (SPAWN_DATA_DIR). PROXY_ACTOR_SYSTEM_NAME names the system (default
// spawn-system). SPAWN_LOG sets the log level and format (SPAWN_LOG=debug,
// SPAWN_LOG=json, SPAWN_LOG=off). Options passed among the actors override
// the environment.
//
// # Invoking
//
// System.Invoke and Context.Invoke call an action by name; Call calls it by
// method expression, checked by the compiler (CallValue, for an action
// that returns a Value, names the reply type). Options make a call async
// (Async), delayed (Delay, At), target an unnamed actor's instance
// (Instance) or another actor system (InSystem), or add metadata
// (WithMetadata). Each option's type says where it applies: an
// InvokeOption to calls, an EffectOption also to Value.Effect, a
// RouteOption also to Value.Forward and Value.Pipe.
//
// A deadline on the context becomes the proxy's time limit for the call.
// A call whose context ends returns an *Error with CodeCanceled that wraps
// the context's error; if it had been sent, the action may have run.
//
// # Errors and retries
//
// Every failed call returns an *Error; CodeOf gives any error's Code, and
// Code.Retryable says whether the same call may simply be sent again.
// Retryable codes are those where nothing was applied: CodeUnavailable,
// CodeTimeout, CodeOverloaded (back off first) and CodeNotReady.
// CodeOutcomeUnknown, CodeCanceled unless its message says the call was
// not applied, and CodeProxy (the real proxy's timeouts among them) mean
// the change may have been applied: read the actor's
// state first, or make the action idempotent. CodeAction, CodeNotFound and
// CodeInvalid fail the same way again. An action's error reaches the caller
// as its message: errors.Is with the action's own sentinel errors does not
// match across the call.
//
// # Durability
//
// An action's new state is kept in memory and saved every snapshot= period
// (write-behind): a crash loses the changes since the last save. A Value
// with Checkpoint is saved durably before the caller gets the reply. An
// unnamed actor's instance is forgotten when it deactivates, its state
// staying in the store: call it again with Instance, which brings it back.
// docs/reliability.md says what is guaranteed and how it is tested.
//
// # Revisions
//
// Every save of a stateful actor's state is a revision: the first save is
// revision 1, each later one is one more. On the embedded runtime,
// System.StateRevision reads the state with the number of its latest
// revision, Context.Revision tells an action the same, System.Revisions
// lists the revisions kept (the last 100, by default) with when each was
// saved, and System.StateAt reads one. System.Restore makes an earlier
// revision the state again, at once, for named actors and instances of
// unnamed ones, active or not: the restored state is saved as a new
// revision, so the history loses nothing. The Spawn proxy has no API for
// these: with a proxy they fail with CodeInvalid (errors.ErrUnsupported),
// and only Spawn with the option Revision starts an instance from a
// revision, when it activates.
//
// # Exposure
//
// A host listens on loopback when its proxy's address is loopback or
// unspecified (0.0.0.0, as the Spawn operator sets it in a pod, where the
// proxy calls the host on loopback), and on every interface otherwise. WithToken
// (or SPAWN_TOKEN) makes the host and spawn-go's own proxy require a shared
// token on every call; the real Spawn proxy has none, so leave it unset
// with the real proxy.
package spawn
