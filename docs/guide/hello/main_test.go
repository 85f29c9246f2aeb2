package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/spawntest"

	"example.com/hello/joepb"
)

// guide:start test
func TestJoeLearnsEachLanguageOnce(t *testing.T) {
	// spawntest.Start runs Joe on the embedded runtime, with its state in
	// memory, and stops it when the test ends.
	sys := spawntest.Start(t, &Joe{})

	for _, want := range []string{"I learned go", "I already know go"} {
		reply, err := spawn.Call(t.Context(), sys, (*Joe).SetLanguage, &joepb.Request{Language: "go"})
		if err != nil {
			t.Fatal(err)
		}
		if reply.Response != want {
			t.Errorf("joe said %q, want %q", reply.Response, want)
		}
	}
}

// guide:end test

// guide:start validate
func TestJoeIsValid(t *testing.T) {
	if err := spawn.Validate(&Joe{}); err != nil {
		t.Fatal(err)
	}
}

// guide:end validate

// TestRunTwice runs the program as the guide does, twice on the same
// state directory, and compares what it printed with
// testdata/output.txt, which the guide shows.
func TestRunTwice(t *testing.T) {
	t.Setenv("SPAWN_DATA_DIR", t.TempDir())
	t.Setenv("SPAWN_LOG", "warn")
	for _, v := range []string{"PROXY_HTTP_HOST", "PROXY_HTTP_PORT", "SPAWN_PROXY_INTERFACE", "SPAWN_PROXY_PORT"} {
		t.Setenv(v, "") // the embedded runtime, whatever the environment says
	}
	var out strings.Builder
	for _, language := range []string{"go", "go", "rust"} {
		out.WriteString("$ go run . " + language + "\n")
		if err := run(t.Context(), &out, language); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(filepath.Join("testdata", "output.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Fatalf("printed\n%s\nwant (testdata/output.txt)\n%s", out.String(), want)
	}
}
