// Package exampletest runs an example program in its test: once on the
// embedded runtime and once registered over HTTP with a Spawn proxy on
// loopback, each time comparing what it printed with the example's
// testdata/output.txt, the output the guide shows.
package exampletest

import (
	"context"
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/golden"
	"github.com/spawn-go/spawn/spawntest"
)

// update reports whether the test runs with -update, which rewrites
// testdata/output.txt with what the example prints. internal/golden
// defines the flag, for its registration files; importing golden makes its
// init run first, so that the two share one flag.
func update() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// CheckRegistration compares the RegistrationRequest of actors with the
// example's testdata/registration.golden, as golden.CheckRegistration does.
func CheckRegistration(t *testing.T, actors ...any) {
	t.Helper()
	golden.CheckRegistration(t, spawn.DefaultSystem, actors...)
}

// updated is set once -update has written testdata/output.txt: later runs
// in the same test binary compare with what the first one wrote.
var updated bool

// Program is an example's whole program, printing to out; main calls it
// with os.Stdout.
type Program func(ctx context.Context, out io.Writer) error

// Run runs p on the embedded runtime, then through a proxy, and checks
// both printed testdata/output.txt.
func Run(t *testing.T, p Program) {
	t.Run("embedded", func(t *testing.T) {
		Embedded(t)
		Check(t, p)
	})
	t.Run("proxy", func(t *testing.T) {
		Proxied(t)
		Check(t, p)
	})
}

// proxyVars are the variables that make spawn.Start register with a proxy.
var proxyVars = []string{"PROXY_HTTP_HOST", "PROXY_HTTP_PORT", "SPAWN_PROXY_INTERFACE", "SPAWN_PROXY_PORT"}

// Embedded sets the environment so that spawn.Start runs the embedded
// runtime, whatever the environment of the test says, with state in a
// fresh folder and only warnings logged.
func Embedded(t *testing.T) {
	for _, v := range proxyVars {
		t.Setenv(v, "")
	}
	t.Setenv("PROXY_ACTOR_SYSTEM_NAME", "")
	t.Setenv("SPAWN_DATA_DIR", t.TempDir())
	t.Setenv("SPAWN_LOG", "warn")
}

// Proxied starts a proxy on loopback and sets the environment so that
// spawn.Start registers with it, as it would with `spawn proxy`.
func Proxied(t *testing.T) *spawntest.Proxy {
	Embedded(t)
	p := spawntest.NewProxy(t)
	setAddr(t, p.Addr, "PROXY_HTTP_HOST", "PROXY_HTTP_PORT")
	setAddr(t, p.HostAddr, "USER_FUNCTION_HOST", "USER_FUNCTION_PORT")
	return p
}

func setAddr(t *testing.T, addr, hostVar, portVar string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(hostVar, host)
	t.Setenv(portVar, port)
}

// Check runs p once and compares what it printed with
// testdata/output.txt; with -update, its first call writes the file
// instead.
func Check(t *testing.T, p Program) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out strings.Builder
	if err := p(ctx, &out); err != nil {
		t.Fatalf("the program failed: %v\nafter printing:\n%s", err, out.String())
	}
	path := filepath.Join("testdata", "output.txt")
	if update() && !updated {
		updated = true
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; run go test -update to create it", err)
	}
	if out.String() != string(want) {
		t.Fatalf("the program printed\n%s\nwant (%s)\n%s", out.String(), path, want)
	}
}
