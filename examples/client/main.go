// Client is a program that serves no actors: it calls actors that another
// program serves, through a Spawn proxy. Here it teaches Joe, of
// examples/joe, a language.
//
// Usage:
//
//	go run ./examples/client [-proxy host:port] [language]
//
// It needs a proxy, and a program serving joe registered with it. On one
// machine, in three terminals:
//
//	go run ./cmd/spawn proxy -memory
//	PROXY_HTTP_PORT=9001 go run ./examples/joe -serve
//	go run ./examples/client rust
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
)

func main() {
	// spawn logs at info level by default; the examples keep to warnings,
	// so that their own output reads clearly. SPAWN_LOG=info shows it all.
	if os.Getenv("SPAWN_LOG") == "" {
		os.Setenv("SPAWN_LOG", "warn")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its output and arguments passed in so
// that a test can run it.
func run(ctx context.Context, out io.Writer, args []string) (err error) {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	proxy := fs.String("proxy", "127.0.0.1:9001", "the Spawn proxy's address")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	language := "go"
	if fs.NArg() > 0 {
		language = fs.Arg(0)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	// guide:start client
	// No actors, only options: this System calls actors served elsewhere.
	sys, err := spawn.Start(ctx, spawn.WithProxy(*proxy))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, sys.Stop(context.WithoutCancel(ctx))) }()

	// Joe's type lives in another program, so the call names it.
	var reply domain.Reply
	err = sys.Invoke(ctx, "joe", "SetLanguage", &domain.Request{Language: language}, &reply)
	// guide:end client
	switch spawn.CodeOf(err) {
	case spawn.CodeUnknown:
		if err != nil {
			return err
		}
	case spawn.CodeUnavailable:
		return fmt.Errorf("no Spawn proxy answers at %s; start one with: go run ./cmd/spawn proxy -memory\n(%w)", *proxy, err)
	case spawn.CodeNotFound:
		return fmt.Errorf("the proxy at %s knows no actor joe; serve it with: PROXY_HTTP_PORT=9001 go run ./examples/joe -serve\n(%w)", *proxy, err)
	default:
		return err
	}
	fmt.Fprintf(out, "joe, through the proxy: %s\n", reply.Response)

	var st domain.JoeState
	if err := sys.State(ctx, "joe", &st); err != nil {
		return err
	}
	fmt.Fprintf(out, "joe knows: %s\n", strings.Join(st.Languages, ", "))
	return nil
}
