// Command spawn is the spawn-go command-line tool.
//
// Usage:
//
//	spawn proxy [flags]   run the standalone Spawn runtime
//	spawn store encrypt   encrypt a plaintext state store with SPAWN_STATESTORE_KEY
//	spawn store compact   give the space of deleted revisions back to the disk
//	spawn help [command]  show help
//
// "spawn proxy" runs the same runtime that spawn-go programs embed, as a
// process speaking the Spawn proxy's HTTP API on PROXY_HTTP_PORT (9001), so
// that a host written with any Spawn SDK can register with it and have its
// actors run, with their state kept on local disk. Run "spawn help proxy"
// for its flags and environment variables, and "spawn help store" for the
// store commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	switch {
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "spawn:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "spawn:", err)
		os.Exit(1)
	}
}
