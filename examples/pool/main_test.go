package main

import (
	"context"
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

func TestCallsRunInParallel(t *testing.T) {
	for _, v := range []string{"PROXY_HTTP_HOST", "PROXY_HTTP_PORT", "SPAWN_PROXY_INTERFACE", "SPAWN_PROXY_PORT"} {
		t.Setenv(v, "") // the embedded runtime, whatever the environment says
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out strings.Builder
	if err := run(ctx, &out, []string{"-data", t.TempDir()}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	want := "4 calls to the pooled actor squarer were in progress at once\n" +
		"1² = 1, 2² = 4, 3² = 9, 4² = 16\n"
	if got := out.String(); got != want {
		t.Fatalf("printed\n%s\nwant\n%s", got, want)
	}
}

func TestRegistrationGolden(t *testing.T) {
	golden.CheckRegistration(t, spawn.DefaultSystem, &Squarer{})
}
