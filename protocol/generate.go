package protocol

// The generator is pinned by internal/tools/go.mod, so a plain `go generate`
// needs nothing installed beyond Go itself.
//go:generate go tool -modfile=../internal/tools/go.mod buf generate
