package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/transport"
)

// cartHost is a host whose actor keeps a state of a type spawn proxy does
// not know, checkpointed at every call.
func cartHost(t *testing.T) *httptest.Server {
	t.Helper()
	h := transport.NewHostServer(func(_ context.Context, body []byte) (int, []byte) {
		inv := new(protocol.ActorInvocation)
		if err := proto.Unmarshal(body, inv); err != nil {
			return http.StatusBadRequest, nil
		}
		ctx := proto.CloneOf(inv.GetCurrentContext())
		ctx.State = &anypb.Any{TypeUrl: "type.googleapis.com/shop.Cart", Value: []byte("\x0a\x03tea")}
		reply, _ := anypb.New(wrapperspb.String("added"))
		b, _ := proto.Marshal(&protocol.ActorInvocationResponse{
			UpdatedContext: ctx, Checkpoint: true,
			Payload: &protocol.ActorInvocationResponse_Value{Value: reply},
		})
		return http.StatusOK, b
	}, nil)
	srv := httptest.NewServer(h.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// TestProxyDashboard runs spawn proxy with -dashboard: the page lists the
// registered actor and its calls, and shows a state of a type spawn proxy
// does not know by its type URL, size and bytes.
func TestProxyDashboard(t *testing.T) {
	host := cartHost(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(lineWriter, 10)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"proxy", "-memory", "-registration-grace", "0s", "-port", "0", "-system", "test-system",
			"-host-addr", host.URL, "-dashboard", "127.0.0.1:0"}, envMap(nil), out)
	}()
	var base, dash string
	for base == "" || dash == "" {
		select {
		case line := <-out:
			if u, ok := strings.CutPrefix(strings.TrimSpace(line), "spawn proxy dashboard on "); ok {
				dash = strings.TrimSuffix(u, "/")
			} else {
				base = proxyURL(t, line)
			}
		case err := <-done:
			t.Fatalf("run returned early: %v", err)
		}
	}
	p := transport.NewProxyClient(base, nil, nil)
	reg := registration()
	reg.ActorSystem.Registry.Actors["joe"].Settings.Stateful = true
	if _, err := p.Register(ctx, reg); err != nil {
		t.Fatalf("Register: %v", err)
	}
	if _, err := p.Invoke(ctx, "test-system", "joe", &protocol.InvocationRequest{
		System:     &protocol.ActorSystem{Name: "test-system"},
		Actor:      &protocol.Actor{Id: &protocol.ActorId{Name: "joe", System: "test-system"}},
		ActionName: "Hi",
		Payload:    &protocol.InvocationRequest_Noop{Noop: &protocol.Noop{}},
	}); err != nil {
		t.Fatal(err)
	}
	page := func(path string) string {
		res, err := http.Get(dash + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, res.StatusCode, b)
		}
		return string(b)
	}
	overview := page("/")
	for _, want := range []string{"on spawn proxy", `<a href="/actors/joe">joe</a>`, "google.protobuf.StringValue"} {
		if !strings.Contains(overview, want) {
			t.Errorf("the overview does not show %q", want)
		}
	}
	joe := page("/actors/joe")
	for _, want := range []string{"type.googleapis.com/shop.Cart", "5 B", "is not linked into this program", "0a 03 74 65 61", "|..tea|", `data-revision="1"`} {
		if !strings.Contains(joe, want) {
			t.Errorf("joe's page does not show %q", want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestProxyDashboardLoopbackOnly: spawn proxy refuses to serve the
// dashboard beyond this machine, from the flag or the environment.
func TestProxyDashboardLoopbackOnly(t *testing.T) {
	for name, tt := range map[string]struct {
		args []string
		env  map[string]string
	}{
		"flag":        {args: []string{"-dashboard", "0.0.0.0:0"}},
		"environment": {env: map[string]string{protocol.EnvDashboardAddr: "192.0.2.7:9090"}},
	} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"proxy", "-memory", "-port", "0"}, tt.args...)
			err := run(context.Background(), args, envMap(tt.env), io.Discard)
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "loopback only") {
				t.Errorf("run = %v, want a usage error saying loopback only", err)
			}
		})
	}
}
