package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
	"github.com/spawn-go/spawn/spawntest"
)

// The tests below run the shop, the mailer and the courier with the test
// kit: on the real embedded engine, with a clock that moves only when the
// test says, so the delivery's delay passes in a moment. The kit records
// the side effects each order asks for.

// newShop starts the shop; mails and deliveries return what the mailer and
// the courier told since the last look.
func newShop(t *testing.T) (k *spawntest.Kit, mails, deliveries func() []string) {
	m, d := make(chan string, 100), make(chan string, 100)
	k = spawntest.NewKit(t, &Shop{}, &Mailer{Events: m}, &Courier{Events: d})
	drain := func(ch chan string) func() []string {
		return func() []string {
			k.Settle()
			var lines []string
			for {
				select {
				case line := <-ch:
					lines = append(lines, line)
				default:
					return lines
				}
			}
		}
	}
	return k, drain(m), drain(d)
}

func TestAnOrderIsConfirmedAtOnceAndDeliveredLater(t *testing.T) {
	k, mails, deliveries := newShop(t)
	ordered := k.Now()
	receipt, err := spawn.CallValue[*domain.Receipt](context.Background(), k, (*Shop).Place, &domain.Order{Item: "teapot"})
	if err != nil || receipt.Number != 1 || receipt.Item != "teapot" {
		t.Fatalf("Place(teapot) = %v, %v; want order 1", receipt, err)
	}

	// Place asked for two side effects: the confirmation at once, the
	// delivery deliveryDelay later; both carry the receipt.
	fx := k.Effects()
	want := []struct {
		to, action string
		due        time.Time
	}{
		{"mailer", "Confirm", time.Time{}},
		{"courier", "Deliver", ordered.Add(deliveryDelay)},
	}
	if len(fx) != len(want) {
		t.Fatalf("effects = %+v, want %d", fx, len(want))
	}
	for i, w := range want {
		var r domain.Receipt
		if err := fx[i].Payload.UnmarshalTo(&r); err != nil || fx[i].From.Name != "shop" || fx[i].To.Name != w.to ||
			fx[i].Action != w.action || !fx[i].Due.Equal(w.due) || r.Number != 1 || r.Item != "teapot" {
			t.Errorf("effect %d = %+v carrying %v (%v); want %s.%s due %v with the receipt", i+1, fx[i], &r, err, w.to, w.action, w.due)
		}
	}

	// guide:start origins
	// The confirmation has run, as a side effect from the shop, with the
	// metadata Place gave it.
	if got := mails(); !slices.Equal(got, []string{"mailer.Confirm: order 1 (teapot), asked by shop, metadata order=1"}) {
		t.Errorf("the mailer told %q", got)
	}
	if c := k.CallsTo("mailer", "Confirm"); len(c) != 1 || c[0].Origin != "effect" || c[0].Caller.Name != "shop" {
		t.Errorf("mailer.Confirm calls = %+v, want one side effect from the shop", c)
	}

	// The delivery waits for its delay, and not a millisecond more.
	k.Advance(deliveryDelay - time.Millisecond)
	if got := deliveries(); len(got) != 0 {
		t.Fatalf("delivered before the delay: %q", got)
	}
	k.Advance(time.Millisecond)
	if got := deliveries(); !slices.Equal(got, []string{"courier.Deliver: order 1 (teapot), asked by shop"}) {
		t.Errorf("the courier told %q", got)
	}
	// A delayed side effect is stored, and runs as a scheduled call.
	if c := k.CallsTo("courier", "Deliver"); len(c) != 1 || c[0].Origin != "scheduled" || c[0].Caller.Name != "shop" ||
		!c[0].At.Equal(ordered.Add(deliveryDelay)) {
		t.Errorf("courier.Deliver calls = %+v, want one scheduled by the shop, at %v", c, ordered.Add(deliveryDelay))
	}
	// guide:end origins
}

func TestOrdersAreNumberedAndAFailedOneAsksForNothing(t *testing.T) {
	k, mails, _ := newShop(t)
	ctx := context.Background()
	for _, o := range []struct {
		item   string
		number int64  // the receipt's number
		err    string // what the error says, when the order fails
	}{
		{item: "teapot", number: 1},
		{item: "", err: "an order needs an item"},
		{item: "kettle", number: 2},
	} {
		k.Clear()
		receipt, err := spawn.CallValue[*domain.Receipt](ctx, k, (*Shop).Place, &domain.Order{Item: o.item})
		if o.err != "" {
			if spawn.CodeOf(err) != spawn.CodeAction || !strings.Contains(err.Error(), o.err) {
				t.Errorf("Place(%q) = %v, %v; want the action's error %q", o.item, receipt, err, o.err)
			}
			// A failed action changes nothing and emits no side effects.
			if fx := k.Effects(); len(fx) != 0 {
				t.Errorf("Place(%q) failed, yet asked for %+v", o.item, fx)
			}
			continue
		}
		if err != nil || receipt.Number != o.number {
			t.Errorf("Place(%q) = %v, %v; want order %d", o.item, receipt, err, o.number)
		}
		if fx := k.Effects(); len(fx) != 2 {
			t.Errorf("Place(%q) asked for %d side effects, want 2", o.item, len(fx))
		}
	}
	var st domain.CounterState
	if err := k.State(ctx, "shop", &st); err != nil || st.Value != 2 {
		t.Errorf("the shop counted %d orders (%v), want 2", st.Value, err)
	}
	if got := mails(); len(got) != 2 || !strings.HasSuffix(got[1], "metadata order=2") {
		t.Errorf("the mailer told %q, want two confirmations, the second for order 2", got)
	}

	// Two deliveries were due at the same instant: Advance runs both.
	k.Advance(deliveryDelay)
	if n := len(k.CallsTo("courier", "Deliver")); n != 2 {
		t.Errorf("%d deliveries after the delay, want 2", n)
	}
}

func TestOrderNumbersGoOnFromAStoredCount(t *testing.T) {
	k, _, _ := newShop(t)
	k.SetState("shop", &domain.CounterState{Value: 41})
	receipt, err := spawn.CallValue[*domain.Receipt](context.Background(), k, (*Shop).Place, &domain.Order{Item: "mug"})
	if err != nil || receipt.Number != 42 {
		t.Errorf("Place(mug) after 41 orders = %v, %v; want order 42", receipt, err)
	}
}
