// Package groups holds the suite's groups other than dispatch: in-process
// calls, calls over HTTP through `spawn proxy`, scale, and state.
package groups

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/spawn-go/spawn"
)

// Counter is the stateful actor of the in-process and HTTP groups: an
// unnamed actor, so that a call can address any of many instances.
type Counter struct {
	spawn.Actor `spawn:"name=counter,kind=unnamed"`
	State       *wrapperspb.Int64Value `spawn:"state"`
}

// Add adds in to the state and answers with the total.
func (c *Counter) Add(ctx *spawn.Context, in *wrapperspb.Int64Value) (*wrapperspb.Int64Value, error) {
	c.State.Value += in.Value
	return wrapperspb.Int64(c.State.Value), nil
}

// instances returns n instance names and the options addressing them.
func instances(prefix string, n int) ([]string, []spawn.InvokeOption) {
	names := make([]string, n)
	opts := make([]spawn.InvokeOption, n)
	for i := range n {
		names[i] = fmt.Sprintf("%s-%d", prefix, i)
		opts[i] = spawn.Instance(names[i])
	}
	return names, opts
}

func startEmbedded(args ...any) (*spawn.System, func(), error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args = append([]any{spawn.WithEmbedded(), spawn.WithMemoryStore(), spawn.WithLogger(zap.NewNop())}, args...)
	sys, err := spawn.Start(ctx, args...)
	if err != nil {
		return nil, nil, err
	}
	return sys, func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = sys.Stop(ctx)
	}, nil
}

// sumStates returns the sum of the counters of the named instances.
func sumStates(sys *spawn.System, opts []spawn.InvokeOption) (int64, error) {
	ctx := context.Background()
	var sum int64
	for _, o := range opts {
		var st wrapperspb.Int64Value
		if err := sys.State(ctx, "counter", &st, o.(spawn.RouteOption)); err != nil {
			return 0, err
		}
		sum += st.Value
	}
	return sum, nil
}

// counts keeps one call count per worker, each on its own cache line.
type counts [64]struct {
	n int64
	_ [56]byte
}

func (c *counts) sum() int64 {
	var s int64
	for i := range c {
		s += c[i].n
	}
	return s
}
