package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/internal/exampletest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestFailures(t *testing.T) {
	exampletest.Run(t, run)
}

func TestVaultIsValid(t *testing.T) {
	if err := spawn.Validate(&Vault{}); err != nil {
		t.Fatal(err)
	}
}
