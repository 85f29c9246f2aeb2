package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
	"github.com/spawn-go/spawn/spawntest"
)

// The tests below run the desk, the expert, the cashier, the tax office
// and the printer with the test kit, on the real embedded engine. The kit
// records the forwards and the pipes each action asks for, and the calls
// they make.

// newRouting starts the actors; told returns what the cashier and the tax
// office told since the last look.
func newRouting(t *testing.T) (k *spawntest.Kit, told func() []string) {
	events := make(chan string, 100)
	k = spawntest.NewKit(t, &Desk{}, &Expert{}, &Cashier{Events: events}, &Tax{Events: events}, &Printer{})
	return k, func() []string {
		k.Settle()
		var lines []string
		for {
			select {
			case line := <-events:
				lines = append(lines, line)
			default:
				return lines
			}
		}
	}
}

func TestDeskForwardsEachQuestionToTheExpert(t *testing.T) {
	k, _ := newRouting(t)
	answer, err := spawn.CallValue[*domain.Answer](context.Background(), k, (*Desk).Ask, &domain.Question{Text: "is it open?"})
	if want := `the expert got "is it open?" from desk: yes`; err != nil || answer.Text != want {
		t.Fatalf("Ask = %v, %v; want %q", answer, err, want)
	}
	// The forward carries Ask's input, unchanged.
	fwd := k.Forwards()
	var q domain.Question
	if len(fwd) != 1 || fwd[0].From.Name != "desk" || fwd[0].To.Name != "expert" || fwd[0].Action != "Answer" ||
		fwd[0].Payload.UnmarshalTo(&q) != nil || q.Text != "is it open?" {
		t.Errorf("forwards = %+v, want the question to expert.Answer", fwd)
	}
	if c := k.CallsTo("expert", "Answer"); len(c) != 1 || c[0].Origin != "forward" || c[0].Caller.Name != "desk" {
		t.Errorf("expert.Answer calls = %+v, want one forwarded by the desk", c)
	}
	if p := k.Pipes(); len(p) != 0 {
		t.Errorf("a forward made pipes: %+v", p)
	}
}

func TestCashierPipesTheTotalThroughTheTaxOfficeToThePrinter(t *testing.T) {
	for _, b := range []struct {
		name           string
		items          []string
		cents, withTax int64
		printed        string
	}{
		{"tea and cake", []string{"tea", "cake"}, 800, 880, "€8.80, formatted for tax"},
		{"tea", []string{"tea"}, 350, 385, "€3.85, formatted for tax"},
		{"an empty basket", nil, 0, 0, "€0.00, formatted for tax"},
	} {
		t.Run(b.name, func(t *testing.T) {
			k, told := newRouting(t)
			total, err := spawn.CallValue[*domain.Answer](context.Background(), k, (*Cashier).Total,
				&domain.Basket{Items: b.items}, spawn.WithMetadata("customer", "ann"))
			// The caller gets the reply of the chain's last actor.
			if err != nil || total.Text != b.printed {
				t.Fatalf("Total(%v) = %v, %v; want %q", b.items, total, err, b.printed)
			}

			// Each pipe carries the reply of the action that asked for it.
			pipes := k.Pipes()
			want := []struct {
				from, to, action string
				cents            int64
			}{
				{"cashier", "tax", "Add", b.cents},
				{"tax", "printer", "Format", b.withTax},
			}
			if len(pipes) != len(want) {
				t.Fatalf("pipes = %+v, want %d", pipes, len(want))
			}
			for i, w := range want {
				var price domain.Price
				if err := pipes[i].Payload.UnmarshalTo(&price); err != nil || pipes[i].From.Name != w.from ||
					pipes[i].To.Name != w.to || pipes[i].Action != w.action || price.Cents != w.cents {
					t.Errorf("pipe %d = %+v carrying %v (%v); want %s to %s.%s with %d cents", i+1, pipes[i], &price, err, w.from, w.to, w.action, w.cents)
				}
			}
			for _, c := range append(k.CallsTo("tax", "Add"), k.CallsTo("printer", "Format")...) {
				if c.Origin != "pipe" {
					t.Errorf("%s.%s came from %q, want a pipe", c.Actor.Name, c.Action, c.Origin)
				}
			}

			// The metadata of the original call goes down the chain.
			wantTold := []string{
				fmt.Sprintf("cashier.Total: %d cents for %v, piped to tax.Add", b.cents, b.items),
				fmt.Sprintf("tax.Add: got %d cents from cashier (customer=ann), piped %d to printer.Format", b.cents, b.withTax),
			}
			if got := told(); !slices.Equal(got, wantTold) {
				t.Errorf("the actors told\n%q\nwant\n%q", got, wantTold)
			}
		})
	}
}

func TestABasketWithoutAPriceStopsTheChain(t *testing.T) {
	k, told := newRouting(t)
	_, err := spawn.CallValue[*domain.Answer](context.Background(), k, (*Cashier).Total, &domain.Basket{Items: []string{"tea", "caviar"}})
	if spawn.CodeOf(err) != spawn.CodeAction || !strings.Contains(err.Error(), `no price for "caviar"`) {
		t.Fatalf("Total(tea, caviar) = %v, want the action's error", err)
	}
	if p := k.Pipes(); len(p) != 0 {
		t.Errorf("a failed Total piped %+v", p)
	}
	if calls := k.Calls(); len(calls) != 1 || calls[0].Err == nil {
		t.Errorf("calls = %+v, want only the failed Total", calls)
	}
	if got := told(); len(got) != 0 {
		t.Errorf("the actors told %q", got)
	}
}
