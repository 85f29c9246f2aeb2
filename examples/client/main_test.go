package main

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
	"github.com/spawn-go/spawn/examples/internal/exampletest"
	"github.com/spawn-go/spawn/spawntest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Joe stands in for the actor of examples/joe, which the client calls.
type Joe struct {
	spawn.Actor `spawn:"name=joe"`
	State       *domain.JoeState `spawn:"state"`
}

func (j *Joe) SetLanguage(ctx *spawn.Context, req *domain.Request) (*domain.Reply, error) {
	if slices.Contains(j.State.Languages, req.Language) {
		return &domain.Reply{Response: "I already know " + req.Language}, nil
	}
	j.State.Languages = append(j.State.Languages, req.Language)
	return &domain.Reply{Response: "I learned " + req.Language}, nil
}

// TestThroughAProxy runs a proxy, a host serving Joe registered with it,
// and the client, all in the test, as the three terminals of the usage
// would.
func TestThroughAProxy(t *testing.T) {
	exampletest.Embedded(t) // quiet logs; no proxy from the environment
	p := spawntest.NewProxy(t)
	spawntest.Start(t, append(p.Options(), &Joe{})...)
	exampletest.Check(t, func(ctx context.Context, out io.Writer) error {
		for _, language := range []string{"go", "rust", "go"} {
			io.WriteString(out, "$ go run ./examples/client "+language+"\n")
			if err := run(ctx, out, []string{"-proxy", p.Addr, language}); err != nil {
				return err
			}
		}
		return nil
	})
}

func TestNoProxy(t *testing.T) {
	exampletest.Embedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out strings.Builder
	err := run(ctx, &out, []string{"-proxy", spawntest.FreeAddr(t)})
	if spawn.CodeOf(err) != spawn.CodeUnavailable || !strings.Contains(err.Error(), "start one with: go run ./cmd/spawn proxy") {
		t.Fatalf("with no proxy: %v; want CodeUnavailable and how to start one", err)
	}
}

func TestNoJoe(t *testing.T) {
	exampletest.Embedded(t)
	p := spawntest.NewProxy(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out strings.Builder
	err := run(ctx, &out, []string{"-proxy", p.Addr})
	if spawn.CodeOf(err) != spawn.CodeNotFound || !strings.Contains(err.Error(), "go run ./examples/joe -serve") {
		t.Fatalf("with no joe: %v; want CodeNotFound and how to serve joe", err)
	}
}
