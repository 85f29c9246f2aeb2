package groups

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/bench/internal/loopback"
	"github.com/spawn-go/spawn/bench/measure"
	"github.com/spawn-go/spawn/protocol"
)

// OverHTTP is the group of calls through `spawn proxy`: caller to proxy,
// proxy to host, both over loopback HTTP.
const OverHTTP = "overhttp"

// Concurrency is the numbers of concurrent callers compared.
var Concurrency = []int{1, 16, 64}

// RunOverHTTP compares a sync call through spawn-go's proxy and host with
// the bare two-hop chain (an HTTP server that forwards the body to another
// that echoes it), at 1, 16 and 64 concurrent callers: median and 99th
// percentile latency and calls per second. Each caller calls its own actor
// instance, so that callers do not queue behind one actor.
func RunOverHTTP(cfg measure.Config) ([]measure.Measurement, error) {
	spawnCall, spawnStop, err := startSpawnOverHTTP(64)
	if err != nil {
		return nil, fmt.Errorf("spawn-go: %w", err)
	}
	defer spawnStop()
	floorCall, floorStop, err := startTwoHop(64)
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	defer floorStop()
	subjects := []struct {
		name string
		call func(c, i int) error
	}{{"two-hop", floorCall}, {"spawn-go", spawnCall}}

	d := 5 * cfg.Dur
	var out []measure.Measurement
	for _, c := range Concurrency {
		set := measure.NewSet(OverHTTP)
		measure.Logf("overhttp: %d callers, %d rounds of %v", c, cfg.Rounds, d)
		for r := range cfg.Rounds {
			for _, i := range measure.Rotate(len(subjects), r) {
				s := subjects[i]
				lat, perSec, err := measure.Latencies(d, c, s.call)
				if err != nil {
					return out, fmt.Errorf("%s at %d callers: %w", s.name, c, err)
				}
				p := fmt.Sprintf("c%d/", c)
				set.Add(p+"throughput/"+s.name, perSec)
				set.Add(p+"p50/"+s.name, float64(measure.Quantile(lat, 0.50).Microseconds()))
				set.Add(p+"p99/"+s.name, float64(measure.Quantile(lat, 0.99).Microseconds()))
			}
		}
		p := fmt.Sprintf("c%d/", c)
		out = append(out,
			set.M(p+"throughput/two-hop", "calls/s", "", nil, ""),
			set.M(p+"throughput/spawn-go", "calls/s", p+"throughput/two-hop", measure.Min("ratio", 0.8, "≥ 0.8× two-hop"), ""),
			set.M(p+"p50/two-hop", "µs", "", nil, ""),
			set.M(p+"p50/spawn-go", "µs", p+"p50/two-hop", nil, ""),
			set.M(p+"p99/two-hop", "µs", "", nil, ""),
			set.M(p+"p99/spawn-go", "µs", p+"p99/two-hop", measure.Max("ratio", 1.5, "≤ 1.5× two-hop"), ""),
		)
	}
	if cfg.ProfileDir != "" {
		err := measure.ProfileCPUWhile(cfg.ProfileDir, "overhttp-c16-spawn-go", func() error {
			_, _, err := measure.Latencies(3*d, 16, spawnCall)
			return err
		})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// startSpawnOverHTTP starts spawn-go's proxy on loopback and Counter's
// host registered with it, and returns a call of instance c's Add through
// the proxy, made as a user's program makes it (System.Invoke).
func startSpawnOverHTTP(callers int) (func(c, i int) error, func(), error) {
	p, err := loopback.StartProxy()
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sys, err := spawn.Start(ctx, &Counter{}, spawn.WithProxy(p.Addr), spawn.WithHostAddress(p.HostAddr), spawn.WithLogger(zap.NewNop()))
	if err != nil {
		_ = p.Close()
		return nil, nil, err
	}
	_, opts := instances("h", callers)
	one := wrapperspb.Int64(1)
	outs := make([]wrapperspb.Int64Value, callers)
	last := make([]int64, callers)
	call := func(c, i int) error {
		if err := sys.Invoke(context.Background(), "counter", "Add", one, &outs[c], opts[c]); err != nil {
			return err
		}
		if outs[c].Value <= last[c] {
			return fmt.Errorf("instance %d counted %d after %d", c, outs[c].Value, last[c])
		}
		last[c] = outs[c].Value
		return nil
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = sys.Stop(ctx)
		_ = p.Close()
	}
	return call, stop, nil
}

// invocationSize is about what a call of Counter.Add puts on the wire, so
// that the floor moves bodies of the same size.
func invocationSize() int {
	in, _ := anypb.New(wrapperspb.Int64(1))
	return proto.Size(&protocol.InvocationRequest{
		System:      &protocol.ActorSystem{Name: spawn.DefaultSystem},
		Actor:       &protocol.Actor{Id: &protocol.ActorId{Name: "h-12", System: spawn.DefaultSystem}},
		ActionName:  "Add",
		RegisterRef: "counter",
		Payload:     &protocol.InvocationRequest_Value{Value: in},
	})
}

// startTwoHop starts the floor: a front server that forwards each body to
// a back server, which echoes it, both plain net/http on loopback with
// kept-alive connections.
func startTwoHop(callers int) (func(c, i int) error, func(), error) {
	back, stopBack, err := loopback.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(body)
	}))
	if err != nil {
		return nil, nil, err
	}
	hop := loopback.Client(callers)
	front, stopFront, err := loopback.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res, err := hop.Post(back, "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(got)
	}))
	if err != nil {
		stopBack()
		return nil, nil, err
	}
	client := loopback.Client(callers)
	body := bytes.Repeat([]byte{0x2a}, invocationSize())
	bufs := make([]bytes.Buffer, callers)
	call := func(c, i int) error {
		res, err := client.Post(front, "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			return err
		}
		bufs[c].Reset()
		_, err = bufs[c].ReadFrom(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK || bufs[c].Len() != len(body) {
			return fmt.Errorf("two-hop: HTTP %d, %d bytes, %v", res.StatusCode, bufs[c].Len(), err)
		}
		return nil
	}
	stop := func() {
		client.CloseIdleConnections()
		stopFront()
		hop.CloseIdleConnections()
		stopBack()
	}
	return call, stop, nil
}
