// Package protocol holds the Spawn wire messages: the host <-> proxy
// envelopes (package spawn), the actor definitions (package spawn.actors)
// and the stored snapshot shapes (package spawn.state).
//
// The .proto files under spawn/actors are written for this project from the
// protocol's field numbers and types, so that every byte matches what the
// Spawn proxy sends and expects. The Go code is generated and committed;
// run `go generate ./protocol` after editing a .proto file.
//
// Most programs never touch this package: the spawn package builds and reads
// these messages for them.
package protocol
