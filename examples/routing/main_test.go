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

func TestForwardAndPipe(t *testing.T) {
	exampletest.Run(t, run)
}

func TestActorsAreValid(t *testing.T) {
	if err := spawn.Validate(&Desk{}, &Expert{}, &Cashier{}, &Tax{}, &Printer{}); err != nil {
		t.Fatal(err)
	}
}
