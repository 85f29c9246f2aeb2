package spawn_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"go.uber.org/zap"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/testpb"
)

// Tally keeps a running total.
type Tally struct {
	spawn.Actor `spawn:"name=tally"`
	State       *testpb.CounterState `spawn:"state"`
}

// Add adds to the total and replies with the new one.
func (t *Tally) Add(ctx *spawn.Context, in *testpb.Add) (*testpb.Total, error) {
	t.State.Value += in.Delta
	return &testpb.Total{Value: t.State.Value}, nil
}

func ExampleStart() {
	ctx := context.Background()
	// Options go among the actors. These run them on the embedded runtime,
	// whatever the environment says, with state in memory and no logs.
	sys, err := spawn.Start(ctx, &Tally{},
		spawn.WithEmbedded(), spawn.WithMemoryStore(), spawn.WithLogger(zap.NewNop()))
	if err != nil {
		log.Fatal(err)
	}
	defer sys.Stop(ctx)

	var total testpb.Total
	for _, delta := range []int64{2, 3} {
		if err := sys.Invoke(ctx, "tally", "Add", &testpb.Add{Delta: delta}, &total); err != nil {
			log.Fatal(err)
		}
		fmt.Println("total:", total.Value)
	}
	var st testpb.CounterState
	if err := sys.State(ctx, "tally", &st); err != nil {
		log.Fatal(err)
	}
	fmt.Println("state:", st.Value)
	// Output:
	// total: 2
	// total: 5
	// state: 5
}

func ExampleCall() {
	ctx := context.Background()
	sys, err := spawn.Start(ctx, &Tally{},
		spawn.WithEmbedded(), spawn.WithMemoryStore(), spawn.WithLogger(zap.NewNop()))
	if err != nil {
		log.Fatal(err)
	}
	defer sys.Stop(ctx)

	// The method expression names the actor and the action, and the
	// compiler checks the input and reply types: total is a *testpb.Total.
	total, err := spawn.Call(ctx, sys, (*Tally).Add, &testpb.Add{Delta: 7})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("total:", total.Value)
	// Output:
	// total: 7
}

// Lamp answers with a Value, and listens on the channel "lamps".
type Lamp struct {
	spawn.Actor `spawn:"name=lamp,channel=lamps:Notice"`

	Notices chan<- string
}

// Switch turns the lamp on or off. Both outcomes derive from one base
// Value; deriving never changes the base, nor the other outcome.
func (l *Lamp) Switch(ctx *spawn.Context, in *testpb.Text) (spawn.Value, error) {
	base := spawn.Reply(&testpb.Text{Text: "switched " + in.Text}).Tag("room", "hall")
	on := base.Tag("power", "on").Broadcast("lamps", &testpb.Text{Text: "the hall is lit"})
	off := base.Tag("power", "off")
	if in.Text == "on" {
		return on, nil
	}
	return off, nil
}

// Tags replies with the lamp's tags.
func (l *Lamp) Tags(ctx *spawn.Context) (*testpb.Text, error) {
	return &testpb.Text{Text: fmt.Sprint(ctx.Tags())}, nil
}

// Notice receives what is broadcast on "lamps".
func (l *Lamp) Notice(ctx *spawn.Context, in *testpb.Text) error {
	l.Notices <- in.Text
	return nil
}

func ExampleValue() {
	ctx := context.Background()
	notices := make(chan string, 1)
	sys, err := spawn.Start(ctx, &Lamp{Notices: notices},
		spawn.WithEmbedded(), spawn.WithMemoryStore(), spawn.WithLogger(zap.NewNop()))
	if err != nil {
		log.Fatal(err)
	}
	defer sys.Stop(ctx)

	var reply, tags testpb.Text
	for _, power := range []string{"on", "off"} {
		if err := sys.Invoke(ctx, "lamp", "Switch", &testpb.Text{Text: power}, &reply); err != nil {
			log.Fatal(err)
		}
		if err := sys.Invoke(ctx, "lamp", "Tags", nil, &tags); err != nil {
			log.Fatal(err)
		}
		fmt.Println(reply.Text, tags.Text)
		if power == "on" {
			fmt.Println("heard on lamps:", <-notices) // only "on" broadcasts
		}
	}
	// Output:
	// switched on map[power:on room:hall]
	// heard on lamps: the hall is lit
	// switched off map[power:off room:hall]
}

// Broken has mistakes, which Validate reports all at once.
type Broken struct {
	spawn.Actor `spawn:"name=broken,tmer=5s"`
}

// Greet takes the Context by value.
func (b *Broken) Greet(ctx spawn.Context, in *testpb.Text) error { return nil }

// Hi is a timer action, but the typo in the tag leaves it without a period.
func (b *Broken) Hi(ctx *spawn.Context, _ spawn.Tick) error { return nil }

func ExampleValidate() {
	err := spawn.Validate(&Broken{})
	// The error prints as a list; each problem names the type and the
	// method or field, and says what to write instead.
	var verr *spawn.ValidationError
	if errors.As(err, &verr) {
		for _, p := range verr.Problems {
			fmt.Printf("%s: %s\n", p.Where, p.Msg)
		}
	}
	// Output:
	// spawn_test.Broken.Actor: unknown setting "tmer"; did you mean "timer"?
	// spawn_test.Broken.Greet: takes spawn.Context by value; take ctx *spawn.Context
	// spawn_test.Broken.Hi: timer action without a period; set timer=… on the spawn.Actor tag or on a spawn.Action field with method=Hi
}

// Cart is an unnamed actor: each instance spawned from it has a state of its own.
type Cart struct {
	spawn.Actor `spawn:"name=cart,kind=unnamed"`
	State       *testpb.CounterState `spawn:"state"`
}

// Add puts items in the cart.
func (c *Cart) Add(ctx *spawn.Context, in *testpb.Add) (*testpb.Total, error) {
	c.State.Value += in.Delta
	return &testpb.Total{Value: c.State.Value}, nil
}

func ExampleSystem_Spawn() {
	ctx := context.Background()
	sys, err := spawn.Start(ctx, &Cart{},
		spawn.WithEmbedded(), spawn.WithMemoryStore(), spawn.WithLogger(zap.NewNop()))
	if err != nil {
		log.Fatal(err)
	}
	defer sys.Stop(ctx)

	// Spawn creates the instance "ann" of the unnamed actor "cart".
	if err := sys.Spawn(ctx, "cart", "ann"); err != nil {
		log.Fatal(err)
	}
	var total testpb.Total
	if err := sys.Invoke(ctx, "cart", "Add", &testpb.Add{Delta: 2}, &total, spawn.Instance("ann")); err != nil {
		log.Fatal(err)
	}
	fmt.Println("ann:", total.Value)

	// Without Spawn, the first call to an instance spawns it.
	if err := sys.Invoke(ctx, "cart", "Add", &testpb.Add{Delta: 5}, &total, spawn.Instance("bob")); err != nil {
		log.Fatal(err)
	}
	fmt.Println("bob:", total.Value)

	if err := sys.Invoke(ctx, "cart", "Add", &testpb.Add{Delta: 1}, &total, spawn.Instance("ann")); err != nil {
		log.Fatal(err)
	}
	fmt.Println("ann:", total.Value)
	// Output:
	// ann: 2
	// bob: 5
	// ann: 3
}
