package main

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/golden"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// embedded makes the program use the embedded runtime, whatever proxy
// the environment of the test names.
func embedded(t *testing.T) {
	for _, v := range []string{"PROXY_HTTP_HOST", "PROXY_HTTP_PORT", "SPAWN_PROXY_INTERFACE", "SPAWN_PROXY_PORT"} {
		t.Setenv(v, "")
	}
}

// runJoe runs the program once and returns what it printed.
func runJoe(t *testing.T, args ...string) string {
	t.Helper()
	var out strings.Builder
	if err := run(testContext(t), &out, args); err != nil {
		t.Fatalf("joe %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

func TestStateSurvivesRestarts(t *testing.T) {
	embedded(t)
	dir := t.TempDir()
	runs := []struct {
		args []string
		want []string
	}{
		{[]string{"-data", dir}, []string{
			"joe runs on the embedded runtime, with its state in " + dir,
			"joe: I learned go",
			"joe knows: go",
			"Joe's state outlives the program: run again with another language (go run ./examples/joe rust) and the list grows.",
		}},
		{[]string{"-data", dir, "rust"}, []string{
			"joe runs on the embedded runtime, with its state in " + dir,
			"joe: I learned rust",
			"joe knows: go, rust",
			"Joe's state outlives the program: run again with another language (go run ./examples/joe elixir) and the list grows.",
		}},
		{[]string{"-data", dir, "go"}, []string{
			"joe runs on the embedded runtime, with its state in " + dir,
			"joe: I already know go",
			"joe knows: go, rust",
			"Joe's state outlives the program: run again with another language (go run ./examples/joe elixir) and the list grows.",
		}},
	}
	for _, r := range runs {
		got := runJoe(t, r.args...)
		if want := strings.Join(r.want, "\n") + "\n"; got != want {
			t.Fatalf("joe %s printed\n%s\nwant\n%s", strings.Join(r.args, " "), got, want)
		}
	}
}

func TestServeUntilCanceled(t *testing.T) {
	embedded(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, pw, []string{"-serve", "-data", dir, "elixir"})
		pw.Close()
		done <- err
	}()
	var lines []string
	for sc := bufio.NewScanner(pr); sc.Scan(); {
		lines = append(lines, sc.Text())
		if strings.HasPrefix(sc.Text(), "serving joe") {
			cancel() // as Ctrl-C would
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(lines, "\n"), "joe knows: elixir\nserving joe until interrupted") {
		t.Fatalf("-serve printed\n%s", strings.Join(lines, "\n"))
	}
	// Stopping saved the state.
	if got := runJoe(t, "-data", dir, "go"); !strings.Contains(got, "joe knows: elixir, go\n") {
		t.Fatalf("after -serve, joe printed\n%s", got)
	}
}

func TestBadArguments(t *testing.T) {
	var out strings.Builder
	if err := run(testContext(t), &out, []string{"-data", t.TempDir(), "go", "rust"}); err == nil || !strings.Contains(err.Error(), "one language at a time") {
		t.Fatalf("two languages: %v", err)
	}
}

func TestJoeIsValid(t *testing.T) {
	if err := spawn.Validate(&Joe{}); err != nil {
		t.Fatal(err)
	}
}

func TestRegistrationGolden(t *testing.T) {
	golden.CheckRegistration(t, spawn.DefaultSystem, &Joe{})
}
