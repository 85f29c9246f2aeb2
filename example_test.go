package spawn_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
)

// Tally keeps a running total.
type Tally struct {
	spawn.Actor `spawn:"name=tally"`
	State       *domain.CounterState `spawn:"state"`
}

// Add adds to the total and replies with the new one.
func (t *Tally) Add(ctx *spawn.Context, in *domain.Increment) (*domain.Count, error) {
	t.State.Value += in.By
	return &domain.Count{Value: t.State.Value}, nil
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

	var total domain.Count
	for _, by := range []int64{2, 3} {
		if err := sys.Invoke(ctx, "tally", "Add", &domain.Increment{By: by}, &total); err != nil {
			log.Fatal(err)
		}
		fmt.Println("total:", total.Value)
	}
	var st domain.CounterState
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
	// compiler checks the input and reply types: total is a *domain.Count.
	total, err := spawn.Call(ctx, sys, (*Tally).Add, &domain.Increment{By: 7})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("total:", total.Value)
	// Output:
	// total: 7
}

// guide:start lamp
// Lamp answers with a Value, and listens on the channel "lamps".
type Lamp struct {
	spawn.Actor `spawn:"name=lamp,channel=lamps:Notice"`

	Notices chan<- string
}

// Switch turns the lamp on or off. Both outcomes derive from one base
// Value; deriving never changes the base, nor the other outcome.
func (l *Lamp) Switch(ctx *spawn.Context, in *domain.Note) (spawn.Value, error) {
	base := spawn.Reply(&domain.Note{Text: "switched " + in.Text}).Tag("room", "hall")
	on := base.Tag("power", "on").Broadcast("lamps", &domain.Note{Text: "the hall is lit"})
	off := base.Tag("power", "off")
	if in.Text == "on" {
		return on, nil
	}
	return off, nil
}

// Tags replies with the lamp's tags.
func (l *Lamp) Tags(ctx *spawn.Context) (*domain.Note, error) {
	return &domain.Note{Text: fmt.Sprint(ctx.Tags())}, nil
}

// Notice receives what is broadcast on "lamps".
func (l *Lamp) Notice(ctx *spawn.Context, in *domain.Note) error {
	l.Notices <- in.Text
	return nil
}

// guide:end lamp

// guide:start lamp-example
func ExampleValue() {
	ctx := context.Background()
	notices := make(chan string, 1)
	sys, err := spawn.Start(ctx, &Lamp{Notices: notices},
		spawn.WithEmbedded(), spawn.WithMemoryStore(), spawn.WithLogger(zap.NewNop()))
	if err != nil {
		log.Fatal(err)
	}
	defer sys.Stop(ctx)

	var reply, tags domain.Note
	for _, power := range []string{"on", "off"} {
		if err := sys.Invoke(ctx, "lamp", "Switch", &domain.Note{Text: power}, &reply); err != nil {
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

// guide:end lamp-example

// Broken has mistakes, which Validate reports all at once.
type Broken struct {
	spawn.Actor `spawn:"name=broken,tmer=5s"`
}

// Greet takes the Context by value.
func (b *Broken) Greet(ctx spawn.Context, in *domain.Note) error { return nil }

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

// guide:start mistakes
// Each of these types has one mistake that is easy to make.
type (
	NoEmbed      struct{ State *domain.CounterState }
	NoContext    struct{ spawn.Actor }
	StringInput  struct{ spawn.Actor }
	StateByValue struct {
		spawn.Actor
		State domain.CounterState `spawn:"state"`
	}
	StatefulNoState struct {
		spawn.Actor `spawn:"stateful"`
	}
	ChannelTypo struct {
		spawn.Actor `spawn:"channel=news:Recieve"`
	}
	PooledWithState struct {
		spawn.Actor `spawn:"kind=pooled"`
		State       *domain.CounterState `spawn:"state"`
	}
)

func (*NoEmbed) Add(ctx *spawn.Context, in *domain.Increment) error         { return nil }
func (*NoContext) Add(in *domain.Increment) (*domain.Count, error)          { return nil, nil }
func (*StringInput) Say(ctx *spawn.Context, text string) error              { return nil }
func (*StateByValue) Add(ctx *spawn.Context, in *domain.Increment) error    { return nil }
func (*StatefulNoState) Add(ctx *spawn.Context, in *domain.Increment) error { return nil }
func (*ChannelTypo) Receive(ctx *spawn.Context, in *domain.Note) error      { return nil }
func (*PooledWithState) Add(ctx *spawn.Context, in *domain.Increment) error { return nil }

func ExampleValidate_mistakes() {
	err := spawn.Validate(&NoEmbed{}, &NoContext{}, &StringInput{}, &StateByValue{},
		&StatefulNoState{}, &ChannelTypo{}, &PooledWithState{})
	var verr *spawn.ValidationError
	if errors.As(err, &verr) {
		for _, p := range verr.Problems {
			fmt.Printf("%s:\n\t%s\n", p.Where, p.Msg)
		}
	}
	// Output:
	// spawn_test.NoEmbed:
	// 	does not embed spawn.Actor; add the field spawn.Actor `spawn:"name=noEmbed"`
	// spawn_test.NoContext.Add:
	// 	looks like an action but does not take ctx *spawn.Context first; write func (x *NoContext) Add(ctx *spawn.Context, in *yourpb.Request) (*yourpb.Reply, error), or unexport the method if it is not an action
	// spawn_test.NoContext:
	// 	has no actions; add an exported method like func (x *NoContext) Do(ctx *spawn.Context, in *yourpb.Request) (*yourpb.Reply, error)
	// spawn_test.StringInput.Say:
	// 	the input must be a pointer to a protobuf message (like *yourpb.Request) or spawn.Tick, not string
	// spawn_test.StringInput:
	// 	has no actions; add an exported method like func (x *StringInput) Do(ctx *spawn.Context, in *yourpb.Request) (*yourpb.Reply, error)
	// spawn_test.StateByValue.State:
	// 	the state field has type domain.CounterState; it must be a pointer to a generated protobuf message, like *yourpb.State
	// spawn_test.StatefulNoState:
	// 	is stateful but has no state field; add a field like State *yourpb.State `spawn:"state"`, or drop stateful
	// spawn_test.ChannelTypo.Actor:
	// 	channel news: no action "Recieve"; did you mean "Receive"?
	// spawn_test.PooledWithState:
	// 	a pooled actor cannot be stateful: its instances share no state, and the state field State makes it stateful; write stateful=false on the spawn.Actor tag, or make it a named actor (drop kind=pooled)
}

// guide:end mistakes

// guide:start thermostat
// Thermostat uses most settings. Its tag: the name, a channel and the
// action that receives it, the period of timer actions that set none,
// how often changed state is saved, how long it stays active when idle,
// an initial tag, and action names in lowerCamel case for callers in
// other languages.
type Thermostat struct {
	spawn.Actor `spawn:"name=thermostat,channel=weather:Forecast,timer=1m,snapshot=5s,deactivate=10m,tag=floor:2,action_names=lowerCamel"`

	// The state field: a pointer to a generated protobuf message.
	State *domain.CounterState `spawn:"state"`

	// Blank spawn.Action fields configure one action each: Sample gets a
	// period of its own; SetTarget gets a name of its own on the wire.
	_ spawn.Action `spawn:"method=Sample,timer=10s"`
	_ spawn.Action `spawn:"method=SetTarget,name=set_target"`

	// Any other field is a dependency, copied from the value given to
	// Start or Run into the copy each call runs on.
	Log *log.Logger
}

// guide:end thermostat

// guide:start shapes
// Init is the activation hook: it runs each time the actor is activated.
func (t *Thermostat) Init(ctx *spawn.Context) error { return nil }

// SetTarget takes an input and replies with a message.
func (t *Thermostat) SetTarget(ctx *spawn.Context, in *domain.Increment) (*domain.Count, error) {
	t.State.Value = in.By
	return &domain.Count{Value: t.State.Value}, nil
}

// Reset takes no input and replies with nothing.
func (t *Thermostat) Reset(ctx *spawn.Context) error {
	t.State.Value = 0
	return nil
}

// Sample is a timer action: it takes a spawn.Tick.
func (t *Thermostat) Sample(ctx *spawn.Context, _ spawn.Tick) error { return nil }

// Report is a timer action too. It sets no period of its own, so it runs
// every minute, the tag's timer=. It returns a Value, to broadcast.
func (t *Thermostat) Report(ctx *spawn.Context, _ spawn.Tick) (spawn.Value, error) {
	return spawn.NoReply().Broadcast("readings", &domain.Count{Value: t.State.Value}), nil
}

// Forecast receives what is broadcast on "weather".
func (t *Thermostat) Forecast(ctx *spawn.Context, in *domain.Note) error { return nil }

// String is exported, but it takes no *spawn.Context: it is no action.
func (t *Thermostat) String() string { return "thermostat" }

// guide:end shapes

// guide:start registration
func ExampleRegistration() {
	// Registration is what Start sends the proxy: here, the names the
	// actions have on the wire and the timers' periods.
	reg, err := spawn.Registration("", &Thermostat{})
	if err != nil {
		log.Fatal(err)
	}
	actor := reg.GetActorSystem().GetRegistry().GetActors()["thermostat"]
	var actions []string
	for _, a := range actor.GetActions() {
		actions = append(actions, a.GetName())
	}
	for _, ta := range actor.GetTimerActions() {
		period := time.Duration(ta.GetSeconds()) * time.Millisecond // the protocol counts milliseconds
		actions = append(actions, fmt.Sprintf("%s (every %v)", ta.GetAction().GetName(), period))
	}
	slices.Sort(actions)
	fmt.Println("actions:", strings.Join(actions, ", "))
	for _, c := range actor.GetMetadata().GetChannelGroup() {
		fmt.Printf("channel %s: action %s\n", c.GetTopic(), c.GetAction())
	}
	fmt.Println("tags:", actor.GetState().GetTags())
	// Output:
	// actions: forecast, init, report (every 1m0s), reset, sample (every 10s), set_target
	// channel weather: action forecast
	// tags: map[floor:2]
}

// guide:end registration

// Cart is an unnamed actor: each instance spawned from it has a state of its own.
type Cart struct {
	spawn.Actor `spawn:"name=cart,kind=unnamed"`
	State       *domain.CounterState `spawn:"state"`
}

// Add puts items in the cart.
func (c *Cart) Add(ctx *spawn.Context, in *domain.Increment) (*domain.Count, error) {
	c.State.Value += in.By
	return &domain.Count{Value: c.State.Value}, nil
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
	var total domain.Count
	if err := sys.Invoke(ctx, "cart", "Add", &domain.Increment{By: 2}, &total, spawn.Instance("ann")); err != nil {
		log.Fatal(err)
	}
	fmt.Println("ann:", total.Value)

	// Without Spawn, the first call to an instance spawns it.
	if err := sys.Invoke(ctx, "cart", "Add", &domain.Increment{By: 5}, &total, spawn.Instance("bob")); err != nil {
		log.Fatal(err)
	}
	fmt.Println("bob:", total.Value)

	if err := sys.Invoke(ctx, "cart", "Add", &domain.Increment{By: 1}, &total, spawn.Instance("ann")); err != nil {
		log.Fatal(err)
	}
	fmt.Println("ann:", total.Value)
	// Output:
	// ann: 2
	// bob: 5
	// ann: 3
}
