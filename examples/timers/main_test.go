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

func TestKettleBoilsAndWhistles(t *testing.T) {
	exampletest.Run(t, run)
}

func TestKettleIsValid(t *testing.T) {
	if err := spawn.Validate(&Kettle{}); err != nil {
		t.Fatal(err)
	}
}
