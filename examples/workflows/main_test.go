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

const want = `spawn:       apples, spawned from counter by its first call: apples = 1
typed call:  spawn.Call((*Counter).Add) on the instance pears: pears = 1
forward:     clerk.Sell forwarded by=2 to apples: apples = 3
pipe:        clerk.SellPairs turned by=3 into by=6 and piped it to pears: pears = 7
side effect: clerk.Close replied "closing" and scheduled auditor.Audit in 100ms
             auditor.Audit ran for clerk: count the fruit
broadcast:   clerk heard "3 apples, 7 pears" from auditor on channel shop
`

func TestWorkflows(t *testing.T) {
	for _, v := range []string{"PROXY_HTTP_HOST", "PROXY_HTTP_PORT", "SPAWN_PROXY_INTERFACE", "SPAWN_PROXY_PORT"} {
		t.Setenv(v, "") // the embedded runtime, whatever the environment says
	}
	dir := t.TempDir()
	// The second run on the same data starts from zero again: the counters
	// are not stateful, and the delayed audit left nothing behind.
	for i := range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var out strings.Builder
		start := time.Now()
		if err := run(ctx, &out, []string{"-data", dir}); err != nil {
			t.Fatalf("run %d: %v\n%s", i+1, err, out.String())
		}
		if took := time.Since(start); took < auditDelay {
			t.Errorf("run %d took %v, less than the audit's delay", i+1, took)
		}
		if got := out.String(); got != want {
			t.Fatalf("run %d printed\n%s\nwant\n%s", i+1, got, want)
		}
	}
}

func TestRegistrationGolden(t *testing.T) {
	golden.CheckRegistration(t, spawn.DefaultSystem, &Counter{}, &Clerk{}, &Auditor{})
}
