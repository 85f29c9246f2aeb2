// Package runtime is the engine of spawn-go's embedded proxy: it plays the
// Spawn proxy's part on one machine. It keeps the actor registry, activates
// and deactivates actors, runs one message at a time per actor, loads and
// snapshots state, fires timer actions and scheduled invocations, and
// carries out workflows (side effects, broadcasts, pipes and forwards).
//
// It is machinery behind the spawn package, which runs it in-process when no
// proxy is configured, and behind the standalone `spawn proxy` binary, which
// puts the proxy's HTTP API in front of it. Most programs never import it;
// tests of code built on it use the fake clock in runtime/clocktest.
//
// The engine has no HTTP inside: it reaches actor code through a Host and
// keeps state in a state.Store. Its behaviour follows the real proxy's,
// except where that proxy is broken or surprising; every such difference is
// listed in docs/runtime-differences.md.
package runtime
