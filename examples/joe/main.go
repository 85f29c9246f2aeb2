// Joe is the getting-started example: an actor that learns programming
// languages and keeps them, as durable state, across runs of the program.
//
// Usage:
//
//	go run ./examples/joe [-data dir] [-serve] [-v] [language]
//
// It starts the actor on the embedded runtime (or registers it with the
// Spawn proxy named by PROXY_HTTP_HOST/PROXY_HTTP_PORT), teaches it the
// language (default "go"), prints what it knows and stops. Run it again
// with another language and the list grows: the embedded runtime keeps
// state on disk, in -data, SPAWN_DATA_DIR or ~/.local/state/spawn.
//
// With -serve it keeps serving until interrupted, as spawn.Run does.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
	"github.com/spawn-go/spawn/state"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "joe:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its output and arguments passed in so
// that a test can run it.
func run(ctx context.Context, out io.Writer, args []string) (err error) {
	fs := flag.NewFlagSet("joe", flag.ContinueOnError)
	dataDir := fs.String("data", "", "where the embedded runtime keeps state (default $SPAWN_DATA_DIR, or ~/.local/state/spawn)")
	serve := fs.Bool("serve", false, "keep serving joe until interrupted, as spawn.Run does")
	verbose := fs.Bool("v", false, "log what spawn does, to stderr")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: joe [-data dir] [-serve] [-v] [language]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 1 {
		return fmt.Errorf("one language at a time, not %d", fs.NArg())
	}
	language := "go"
	if fs.NArg() == 1 {
		language = fs.Arg(0)
	}

	say := log.New(out, "", 0)
	logger := zap.NewNop()
	if *verbose {
		if logger, err = zap.NewDevelopment(); err != nil {
			return err
		}
	}
	opts := []any{&Joe{Log: say}, spawn.WithLogger(logger)}
	if *dataDir != "" {
		opts = append(opts, spawn.WithDataDir(*dataDir))
	}
	sys, err := spawn.Start(ctx, opts...)
	if err != nil {
		return err
	}
	defer func() {
		// Stopping saves the state, so it must happen even when ctx is
		// over already, as it is after Ctrl-C.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err = errors.Join(err, sys.Stop(sctx))
	}()

	if sys.Embedded() {
		dir := *dataDir
		if dir == "" {
			dir = state.DefaultDir()
		}
		say.Printf("joe runs on the embedded runtime, with its state in %s", dir)
	} else {
		say.Printf("joe runs with the Spawn proxy")
	}

	// Call checks at compile time that SetLanguage takes a Request and
	// replies with a Reply; sys.Invoke(ctx, "joe", "SetLanguage", …) is
	// the same call by name.
	reply, err := spawn.Call(ctx, sys, (*Joe).SetLanguage, &domain.Request{Language: language})
	if err != nil {
		return err
	}
	say.Printf("joe: %s", reply.Response)

	var st domain.JoeState
	if err := sys.State(ctx, "joe", &st); err != nil {
		return err
	}
	say.Printf("joe knows: %s", known(&st))

	if *serve {
		say.Printf("serving joe until interrupted (Ctrl-C)")
		<-ctx.Done()
		return nil
	}
	say.Printf("Joe's state outlives the program: run again with another language (go run ./examples/joe %s) and the list grows.", unknown(&st))
	return nil
}

// unknown suggests a language Joe does not know yet.
func unknown(st *domain.JoeState) string {
	for _, l := range []string{"rust", "elixir", "python", "java", "zig"} {
		if !slices.Contains(st.Languages, l) {
			return l
		}
	}
	return "cobol"
}
