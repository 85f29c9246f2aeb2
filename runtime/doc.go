// Package runtime is the engine of spawn-go's embedded proxy: it plays the
// Spawn proxy's part on one machine. It keeps the actor registry, activates
// and deactivates actors, runs one message at a time per actor, loads and
// snapshots state, fires timer actions and scheduled invocations, and
// carries out workflows (side effects, broadcasts, pipes and forwards).
//
// It is machinery behind the spawn package, which runs it in-process when no
// proxy is configured, and behind the standalone `spawn proxy` binary, which
// puts the proxy's HTTP API in front of it. Most programs never import it;
// tests of code built on it use the fake clock in runtime/clocktest, and
// users' tests the kit in spawntest, which drives this engine.
//
// The engine has no HTTP inside: it reaches actor code through a Host and
// keeps state in a state.Store. Its behaviour follows the real proxy's,
// except where that proxy is broken or surprising; every such difference is
// listed in docs/runtime-differences.md.
//
// # Revisions
//
// Every save of a stateful actor's state is a revision: the first is
// revision 1, each later one is one more, and the store keeps them as
// history (state.WithKeepRevisions bounds how many). CurrentState returns
// an actor's state with the latest revision saved and whether it changed
// since; a host reads the revision of the state it is given with
// InvocationRevision. Revisions lists the revisions kept, with when each
// was written; StateAt reads one. Restore makes an earlier revision the
// state again, at once, whether the actor is active or not: the state it
// held is saved first, the restored one is saved as a new revision, and the
// actor is activated again from it. SetState does the same with a state
// given, for tests and tools. None of these has a route in the real
// proxy's HTTP API.
//
// # Snapshots, deactivation and sync calls
//
// Snapshots and deactivations of every active actor run from one timer on
// the engine's Clock, armed for the earliest duty due (upkeep.go): an
// actor has a snapshot duty only once its state changed since the last
// snapshot, so idle actors cost no CPU and an unchanged state is never
// saved again. The saves of one round, and of Close, go to the store in one
// write when it is the memory or the disk store (state.SaveAll).
//
// A sync call whose context cannot end runs on its caller's goroutine when
// the actor is idle, taking the actor's turn as a worker would; messages
// queued meanwhile go to a worker. Other calls are served by the workers,
// so that a caller whose context ends can leave at once.
//
// # Observing
//
// Options.Observer receives an event for every invocation (where it came
// from, its outcome, how long it waited and ran, and the workflow its reply
// asked for), activation, deactivation, write of state, registration and
// delayed invocation stored. It is the one hook for tests, dashboards and
// metrics; its events carry plain values. A nil Observer function costs a
// comparison.
//
// Actors, Topics and Activations describe what the engine holds: the
// registered actors and their settings, the subscribers of each topic, the
// active actors with their mailbox depth and last activity. They wait for
// no actor, so a dashboard may call them at any time, from an Observer
// function too. WaitIdle waits until no work is in flight, for tests on a
// fake clock.
package runtime
