// guide:start head

// Hello is the program that the getting-started page of the guide builds:
// one actor, Joe, who learns programming languages and remembers them.
package main

// guide:start generate
//go:generate go run github.com/bufbuild/buf/cmd/buf@v1.62.0 generate
// guide:end generate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"slices"

	"github.com/spawn-go/spawn"

	"example.com/hello/joepb"
)

// guide:end head

// guide:start actor
// Joe learns programming languages and remembers them.
type Joe struct {
	// Embedding spawn.Actor makes Joe an actor; the tag holds its settings.
	spawn.Actor `spawn:"name=joe"`
	// State is what Joe remembers. The runtime fills it before each
	// action and saves what it holds after.
	State *joepb.JoeState `spawn:"state"`
}

// SetLanguage is an action: it takes a message and replies with one.
func (j *Joe) SetLanguage(ctx *spawn.Context, req *joepb.Request) (*joepb.Reply, error) {
	if slices.Contains(j.State.Languages, req.Language) {
		return &joepb.Reply{Response: "I already know " + req.Language}, nil
	}
	j.State.Languages = append(j.State.Languages, req.Language)
	return &joepb.Reply{Response: "I learned " + req.Language}, nil
}

// guide:end actor

// guide:start main
func main() {
	language := "go"
	if len(os.Args) > 1 {
		language = os.Args[1]
	}
	if err := run(context.Background(), os.Stdout, language); err != nil {
		log.Fatal(err)
	}
}

// run starts Joe, teaches it one language and stops.
func run(ctx context.Context, out io.Writer, language string) (err error) {
	sys, err := spawn.Start(ctx, &Joe{})
	if err != nil {
		return err
	}
	// Stop saves Joe's state, so its error counts too.
	defer func() { err = errors.Join(err, sys.Stop(ctx)) }()

	reply, err := spawn.Call(ctx, sys, (*Joe).SetLanguage, &joepb.Request{Language: language})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "joe:", reply.Response)
	return nil
}

// guide:end main
