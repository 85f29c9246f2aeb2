package main

import (
	"context"
	"flag"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
	"github.com/spawn-go/spawn/examples/internal/exampletest"
	"github.com/spawn-go/spawn/spawntest"
)

func TestMain(m *testing.M) {
	if os.Getenv("JOE_TEST_MAIN") != "" {
		// A child process of TestServe: run the program's main.
		os.Args = append([]string{"joe"}, strings.Fields(os.Getenv("JOE_TEST_MAIN"))...)
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// TestStateSurvivesRestarts runs the program as the README does, several
// times on one state folder, and compares what it printed with
// testdata/output.txt, which the guide shows.
func TestStateSurvivesRestarts(t *testing.T) {
	exampletest.Embedded(t)
	exampletest.Check(t, func(ctx context.Context, out io.Writer) error {
		for _, language := range []string{"go", "rust", "go"} {
			io.WriteString(out, "$ go run ./examples/joe "+language+"\n")
			if err := teach(ctx, out, language); err != nil {
				return err
			}
		}
		return nil
	})
}

func TestNoLanguage(t *testing.T) {
	exampletest.Embedded(t)
	var out strings.Builder
	err := teach(context.Background(), &out, "")
	if spawn.CodeOf(err) != spawn.CodeAction || !strings.Contains(err.Error(), "which language?") {
		t.Fatalf("teach(\"\") = %v, want the action's error", err)
	}
}

// TestServe runs the program with -serve, registered with a proxy, calls
// Joe through the proxy from the test, as examples/client does, then
// stops the program as Ctrl-C would: it must exit cleanly.
func TestServe(t *testing.T) {
	exampletest.Embedded(t)
	p := spawntest.NewProxy(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "JOE_TEST_MAIN=-serve")
	for name, addr := range map[string]string{"PROXY_HTTP": p.Addr, "USER_FUNCTION": p.HostAddr} {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		cmd.Env = append(cmd.Env, name+"_HOST="+host, name+"_PORT="+port)
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := spawn.Start(ctx, spawn.WithProxy(p.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Stop(ctx)
	var reply domain.Reply
	for {
		err = client.Invoke(ctx, "joe", "SetLanguage", &domain.Request{Language: "zig"}, &reply)
		if spawn.CodeOf(err) != spawn.CodeNotFound || ctx.Err() != nil {
			break // joe is registered, or it is too late
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || reply.Response != "I learned zig" {
		t.Fatalf("calling the served joe: %q, %v\nits stderr:\n%s", reply.Response, err, stderr.String())
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("joe -serve exited with %v after SIGINT\nits stderr:\n%s", err, stderr.String())
		}
	case <-ctx.Done():
		t.Fatal("joe -serve did not stop after SIGINT")
	}
	// It printed one line, naming the proxy it served Joe through.
	if want := "joe: serving Joe through the Spawn proxy at " + p.Addr + "; Ctrl-C stops\n"; stdout.String() != want {
		t.Errorf("joe -serve printed %q, want %q", stdout.String(), want)
	}
}

// TestServingLine checks what -serve prints, for each way the
// environment can name a proxy, and the line the guide shows
// (testdata/serve.txt).
func TestServingLine(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{nil, "joe: serving Joe on the embedded runtime, in this process (no proxy is named); Ctrl-C stops"},
		{map[string]string{"SPAWN_DASHBOARD_ADDR": ":9090", "SPAWN_ACTIVATOR_ADDR": "127.0.0.1:8092"}, "joe: serving Joe on the embedded runtime, in this process (no proxy is named); dashboard at http://127.0.0.1:9090/; JSON activator at http://127.0.0.1:8092/v1/actors/; Ctrl-C stops"},
		{map[string]string{"PROXY_HTTP_PORT": "9001"}, "joe: serving Joe through the Spawn proxy at 127.0.0.1:9001; Ctrl-C stops"},
		{map[string]string{"PROXY_HTTP_HOST": "proxy"}, "joe: serving Joe through the Spawn proxy at proxy:9001; Ctrl-C stops"},
		{map[string]string{"SPAWN_PROXY_INTERFACE": "0.0.0.0", "SPAWN_PROXY_PORT": "9002"}, "joe: serving Joe through the Spawn proxy at 127.0.0.1:9002; Ctrl-C stops"},
		{map[string]string{"PROXY_HTTP_HOST": "::1", "PROXY_HTTP_PORT": "9001"}, "joe: serving Joe through the Spawn proxy at [::1]:9001; Ctrl-C stops"},
	} {
		if got := serving(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("with %v, -serve prints %q, want %q", tt.env, got, tt.want)
		}
	}

	got := "$ PROXY_HTTP_PORT=9001 go run ./examples/joe -serve\n" +
		serving(func(k string) string { return map[string]string{"PROXY_HTTP_PORT": "9001"}[k] }) + "\n"
	path := filepath.Join("testdata", "serve.txt")
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; run go test -update to create it", err)
	}
	if got != string(want) {
		t.Errorf("got\n%s\nwant (%s)\n%s", got, path, want)
	}
}

func TestJoeIsValid(t *testing.T) {
	if err := spawn.Validate(&Joe{}); err != nil {
		t.Fatal(err)
	}
}

func TestRegistrationGolden(t *testing.T) {
	exampletest.CheckRegistration(t, &Joe{})
}
