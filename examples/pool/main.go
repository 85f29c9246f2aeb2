// Pool shows a pooled actor: the runtime keeps several instances of it
// and serves calls on them in parallel, where a named actor takes its
// calls one at a time.
//
// Usage:
//
//	go run ./examples/pool [-data dir] [-v]
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
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
)

// calls is how many calls the program makes at once: as many as the pool
// has instances at most.
const calls = 4

// guide:start squarer
// Squarer squares numbers, on up to four instances at a time.
type Squarer struct {
	spawn.Actor `spawn:"name=squarer,kind=pooled,max_pool=4"`

	// Gate is shared by every instance: a dependency, copied as a pointer.
	Gate *gate
}

// Square waits at the gate, then replies with the square of its input.
func (s *Squarer) Square(ctx *spawn.Context, in *domain.Count) (*domain.Count, error) {
	if err := s.Gate.wait(ctx); err != nil {
		return nil, err
	}
	return &domain.Count{Value: in.Value * in.Value}, nil
}

// guide:end squarer

// gate opens once n callers wait at it. Calls served one at a time would
// never all get there, so getting through proves they ran in parallel.
type gate struct {
	mu      sync.Mutex
	waiting int
	n       int
	open    chan struct{}
}

// newGate returns a gate that opens for n callers.
func newGate(n int) *gate { return &gate{n: n, open: make(chan struct{})} }

// wait blocks until the gate opens or ctx ends.
func (g *gate) wait(ctx context.Context) error {
	g.mu.Lock()
	if g.waiting++; g.waiting == g.n {
		close(g.open)
	}
	g.mu.Unlock()
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pool:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its output and arguments passed in so
// that a test can run it.
func run(ctx context.Context, out io.Writer, args []string) (err error) {
	fs := flag.NewFlagSet("pool", flag.ContinueOnError)
	dataDir := fs.String("data", "", "where the embedded runtime keeps state (default $SPAWN_DATA_DIR, or ~/.local/state/spawn)")
	verbose := fs.Bool("v", false, "log what spawn does, to stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	logger := zap.NewNop()
	if *verbose {
		if logger, err = zap.NewDevelopment(); err != nil {
			return err
		}
	}
	opts := []any{&Squarer{Gate: newGate(calls)}, spawn.WithLogger(logger)}
	if *dataDir != "" {
		opts = append(opts, spawn.WithDataDir(*dataDir))
	}
	sys, err := spawn.Start(ctx, opts...)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err = errors.Join(err, sys.Stop(sctx))
	}()
	// Calls that do not run in parallel wait at the gate until this ends.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()

	squares := make([]int64, calls)
	errs := make([]error, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			sq, err := spawn.Call(ctx, sys, (*Squarer).Square, &domain.Count{Value: int64(i + 1)})
			squares[i], errs[i] = sq.GetValue(), err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("the calls did not all get through the gate, so they did not run in parallel: %w", err)
	}
	fmt.Fprintf(out, "%d calls to the pooled actor squarer were in progress at once\n", calls)
	results := make([]string, calls)
	for i, sq := range squares {
		results[i] = fmt.Sprintf("%d² = %d", i+1, sq)
	}
	fmt.Fprintln(out, strings.Join(results, ", "))
	return nil
}
