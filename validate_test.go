package spawn_test

import (
	"errors"
	"testing"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/testpb"
)

// Each type below is wrong in one way; TestValidateErrors pins the message.

type noActor struct{ N int }

type ptrActor struct {
	*spawn.Actor
}

type namedActorField struct {
	A spawn.Actor `spawn:"name=x"`
}

type unknownKey struct {
	spawn.Actor `spawn:"nmae=x"`
}

func (*unknownKey) Do(*spawn.Context) error { return nil }

type unknownKeyFar struct {
	spawn.Actor `spawn:"color=blue"`
}

func (*unknownKeyFar) Do(*spawn.Context) error { return nil }

type badKind struct {
	spawn.Actor `spawn:"kind=singleton"`
}

func (*badKind) Do(*spawn.Context) error { return nil }

type zeroTimer struct {
	spawn.Actor `spawn:"timer=0"`
}

func (*zeroTimer) Tick(*spawn.Context, spawn.Tick) error { return nil }

type badDuration struct {
	spawn.Actor `spawn:"deactivate=soon"`
}

func (*badDuration) Do(*spawn.Context) error { return nil }

type statefulNoState struct {
	spawn.Actor `spawn:"stateful"`
}

func (*statefulNoState) Do(*spawn.Context) error { return nil }

type badStateType struct {
	spawn.Actor
	State string `spawn:"state"`
}

func (*badStateType) Do(*spawn.Context) error { return nil }

type twoStates struct {
	spawn.Actor
	A *testpb.CounterState `spawn:"state"`
	B *testpb.CounterState `spawn:"state"`
}

func (*twoStates) Do(*spawn.Context) error { return nil }

type unknownFieldTag struct {
	spawn.Actor
	Dep *int `spawn:"inject"`
}

func (*unknownFieldTag) Do(*spawn.Context) error { return nil }

type noActions struct {
	spawn.Actor
}

type ctxByValue struct{ spawn.Actor }

func (*ctxByValue) Do(spawn.Context) error { return nil }

type ctxNotFirst struct{ spawn.Actor }

func (*ctxNotFirst) Do(in *testpb.Add, ctx *spawn.Context) error { return nil }

type missingCtx struct{ spawn.Actor }

func (*missingCtx) Add(in *testpb.Add) (*testpb.Total, error) { return nil, nil }

type stringInput struct{ spawn.Actor }

func (*stringInput) Do(ctx *spawn.Context, s string) error { return nil }

type twoInputs struct{ spawn.Actor }

func (*twoInputs) Do(ctx *spawn.Context, a, b *testpb.Add) error { return nil }

type tickPointer struct {
	spawn.Actor `spawn:"timer=1s"`
}

func (*tickPointer) Hi(ctx *spawn.Context, t *spawn.Tick) error { return nil }

type valuePointer struct{ spawn.Actor }

func (*valuePointer) Do(ctx *spawn.Context) (*spawn.Value, error) { return nil, nil }

type noErrorResult struct{ spawn.Actor }

func (*noErrorResult) Do(ctx *spawn.Context) *testpb.Total { return nil }

type wrongFirstResult struct{ spawn.Actor }

func (*wrongFirstResult) Do(ctx *spawn.Context) (string, error) { return "", nil }

type timerWithoutPeriod struct{ spawn.Actor }

func (*timerWithoutPeriod) Hi(*spawn.Context, spawn.Tick) error { return nil }

type actionTagNoMethod struct {
	spawn.Actor
	_ spawn.Action `spawn:"name=x"`
}

func (*actionTagNoMethod) Do(*spawn.Context) error { return nil }

type actionTagTypo struct {
	spawn.Actor
	_ spawn.Action `spawn:"method=Hello,name=hi"`
}

func (*actionTagTypo) Hallo(*spawn.Context) error { return nil }

type timerOnPlainAction struct {
	spawn.Actor
	_ spawn.Action `spawn:"method=Do,timer=1s"`
}

func (*timerOnPlainAction) Do(*spawn.Context) error { return nil }

type duplicateWireName struct {
	spawn.Actor
	_ spawn.Action `spawn:"method=B,name=A"`
}

func (*duplicateWireName) A(*spawn.Context) error { return nil }
func (*duplicateWireName) B(*spawn.Context) error { return nil }

type hookWithInput struct{ spawn.Actor }

func (*hookWithInput) Init(*spawn.Context, *testpb.Add) error { return nil }

type twoHooks struct{ spawn.Actor }

func (*twoHooks) Init(*spawn.Context) error  { return nil }
func (*twoHooks) Setup(*spawn.Context) error { return nil }

type channelToNowhere struct {
	spawn.Actor `spawn:"channel=news:Recieve"`
}

func (*channelToNowhere) Receive(*spawn.Context, *testpb.Text) error { return nil }

type pooledStateful struct {
	spawn.Actor `spawn:"kind=pooled,stateful"`
	State       *testpb.CounterState `spawn:"state"`
}

func (*pooledStateful) Do(*spawn.Context) error { return nil }

type poolOnNamed struct {
	spawn.Actor `spawn:"max_pool=3"`
}

func (*poolOnNamed) Do(*spawn.Context) error { return nil }

type poolOnUnnamed struct {
	spawn.Actor `spawn:"kind=unnamed,min_pool=2,max_pool=3"`
}

func (*poolOnUnnamed) Do(*spawn.Context) error { return nil }

type pooledStateField struct {
	spawn.Actor `spawn:"kind=pooled"`
	State       *testpb.CounterState `spawn:"state"`
}

func (*pooledStateField) Do(*spawn.Context) error { return nil }

type maxPoolZero struct {
	spawn.Actor `spawn:"kind=pooled,max_pool=0"`
}

func (*maxPoolZero) Do(*spawn.Context) error { return nil }

type minOverMax struct {
	spawn.Actor `spawn:"kind=pooled,min_pool=8,max_pool=4"`
}

func (*minOverMax) Do(*spawn.Context) error { return nil }

type badPoolSize struct {
	spawn.Actor `spawn:"kind=pooled,max_pool=many"`
}

func (*badPoolSize) Do(*spawn.Context) error { return nil }

type badTag struct {
	spawn.Actor `spawn:"tag=novalue"`
}

func (*badTag) Do(*spawn.Context) error { return nil }

type malformedTag struct {
	spawn.Actor `spawn:"name='joe"`
}

func (*malformedTag) Do(*spawn.Context) error { return nil }

type badName struct {
	spawn.Actor `spawn:"name=a b"`
}

func (*badName) Do(*spawn.Context) error { return nil }

type setTwice struct {
	spawn.Actor `spawn:"name=a,name=b"`
}

func (*setTwice) Do(*spawn.Context) error { return nil }

type variadicAction struct{ spawn.Actor }

func (*variadicAction) Do(ctx *spawn.Context, in ...*testpb.Add) error { return nil }

type dupA struct {
	spawn.Actor `spawn:"name=dup"`
}

func (*dupA) Do(*spawn.Context) error { return nil }

type dupB struct {
	spawn.Actor `spawn:"name=dup"`
}

func (*dupB) Do(*spawn.Context) error { return nil }

// wrappedState embeds a message: it implements proto.Message through the
// promoted ProtoReflect, but it is not a generated message.
type wrappedState struct {
	testpb.CounterState
	Extra int64
}

type stateEmbedsMessage struct {
	spawn.Actor
	State *wrappedState `spawn:"state"`
}

func (*stateEmbedsMessage) Do(*spawn.Context) error { return nil }

type wrappedInput struct{ *testpb.Add }

type inputEmbedsMessage struct{ spawn.Actor }

func (*inputEmbedsMessage) Do(*spawn.Context, *wrappedInput) error { return nil }

type anonImpl struct{}

func (*anonImpl) Do(*spawn.Context) error { return nil }

func TestValidateErrors(t *testing.T) {
	const p = "spawn_test."
	tests := []struct {
		name   string
		actors []any
		want   []spawn.Problem
	}{
		{"nil", []any{nil}, []spawn.Problem{{"argument 1", "nil actor; pass a pointer to your actor struct, like &Joe{}"}}},
		{"nil pointer", []any{(*noActions)(nil)}, []spawn.Problem{{"argument 1", "nil *spawn_test.noActions; pass a pointer to a value, like &noActions{}"}}},
		{"not a struct", []any{42}, []spawn.Problem{{"argument 1 (int)", "an actor is a struct that embeds spawn.Actor"}}},
		{"no Actor", []any{&noActor{}}, []spawn.Problem{{p + "noActor", "does not embed spawn.Actor; add the field spawn.Actor `spawn:\"name=noActor\"`"}}},
		{"pointer Actor", []any{&ptrActor{}}, []spawn.Problem{
			{p + "ptrActor.Actor", "embeds *spawn.Actor; embed spawn.Actor by value"},
			{p + "ptrActor", "does not embed spawn.Actor; add the field spawn.Actor `spawn:\"name=ptrActor\"`"},
		}},
		{"named Actor field", []any{&namedActorField{}}, []spawn.Problem{
			{p + "namedActorField.A", "spawn.Actor must be embedded; write spawn.Actor without a field name"},
			{p + "namedActorField", "does not embed spawn.Actor; add the field spawn.Actor `spawn:\"name=namedActorField\"`"},
		}},
		{"unknown key, near", []any{&unknownKey{}}, []spawn.Problem{{p + "unknownKey.Actor", `unknown setting "nmae"; did you mean "name"?`}}},
		{"unknown key, far", []any{&unknownKeyFar{}}, []spawn.Problem{{p + "unknownKeyFar.Actor",
			`unknown setting "color"; the settings are name, kind, stateful, channel, timer, snapshot, deactivate, min_pool, max_pool, tag, action_names`}}},
		{"bad kind", []any{&badKind{}}, []spawn.Problem{{p + "badKind.Actor", `unknown kind "singleton"; use one of named, unnamed, pooled, task`}}},
		{"zero timer", []any{&zeroTimer{}}, []spawn.Problem{
			{p + "zeroTimer.Actor", `timer=0 must be positive; Spawn treats zero as "at once, forever"`},
			{p + "zeroTimer.Tick", "timer action without a period; set timer=… on the spawn.Actor tag or on a spawn.Action field with method=Tick"},
		}},
		{"bad duration", []any{&badDuration{}}, []spawn.Problem{{p + "badDuration.Actor", "deactivate=soon is not a duration; write milliseconds (1500) or a Go duration (1.5s)"}}},
		{"stateful without state", []any{&statefulNoState{}}, []spawn.Problem{{p + "statefulNoState",
			"is stateful but has no state field; add a field like State *yourpb.State `spawn:\"state\"`, or drop stateful"}}},
		{"state not a message", []any{&badStateType{}}, []spawn.Problem{{p + "badStateType.State",
			"the state field has type string; it must be a pointer to a generated protobuf message, like *yourpb.State"}}},
		{"two states", []any{&twoStates{}}, []spawn.Problem{{p + "twoStates.B", "a second state field (the first is A); an actor has one state message"}}},
		{"unknown field tag", []any{&unknownFieldTag{}}, []spawn.Problem{{p + "unknownFieldTag.Dep",
			"unknown field tag `spawn:\"inject\"`; the only field tag is `spawn:\"state\"`, and actor settings go in the tag of the embedded spawn.Actor"}}},
		{"no actions", []any{&noActions{}}, []spawn.Problem{{p + "noActions",
			"has no actions; add an exported method like func (x *noActions) Do(ctx *spawn.Context, in *yourpb.Request) (*yourpb.Reply, error)"}}},
		{"ctx by value", []any{&ctxByValue{}}, []spawn.Problem{
			{p + "ctxByValue.Do", "takes spawn.Context by value; take ctx *spawn.Context"},
			{p + "ctxByValue", "has no actions; add an exported method like func (x *ctxByValue) Do(ctx *spawn.Context, in *yourpb.Request) (*yourpb.Reply, error)"},
		}},
		{"ctx not first", []any{&ctxNotFirst{}}, []spawn.Problem{
			{p + "ctxNotFirst.Do", "an action takes ctx *spawn.Context first; write func (x *ctxNotFirst) Do(ctx *spawn.Context, in *yourpb.Request) (*yourpb.Reply, error)"},
			{p + "ctxNotFirst", "has no actions; add an exported method like func (x *ctxNotFirst) Do(ctx *spawn.Context, in *yourpb.Request) (*yourpb.Reply, error)"},
		}},
		{"missing ctx", []any{&missingCtx{}}, []spawn.Problem{
			{p + "missingCtx.Add", "looks like an action but does not take ctx *spawn.Context first; write func (x *missingCtx) Add(ctx *spawn.Context, in *yourpb.Request) (*yourpb.Reply, error), or unexport the method if it is not an action"},
			{p + "missingCtx", "has no actions; add an exported method like func (x *missingCtx) Do(ctx *spawn.Context, in *yourpb.Request) (*yourpb.Reply, error)"},
		}},
		{"string input", []any{&stringInput{}}, []spawn.Problem{
			{p + "stringInput.Do", "the input must be a pointer to a protobuf message (like *yourpb.Request) or spawn.Tick, not string"},
			{p + "stringInput", "has no actions; add an exported method like func (x *stringInput) Do(ctx *spawn.Context, in *yourpb.Request) (*yourpb.Reply, error)"},
		}},
		{"two inputs", []any{&twoInputs{}}, []spawn.Problem{
			{p + "twoInputs.Do", "an action takes at most one input after ctx; put the inputs in one protobuf message: func (x *twoInputs) Do(ctx *spawn.Context, in *yourpb.Request) (*yourpb.Reply, error)"},
			{p + "twoInputs", "has no actions; add an exported method like func (x *twoInputs) Do(ctx *spawn.Context, in *yourpb.Request) (*yourpb.Reply, error)"},
		}},
		{"tick pointer", []any{&tickPointer{}}, []spawn.Problem{
			{p + "tickPointer.Hi", "takes *spawn.Tick; take spawn.Tick by value: func (x *tickPointer) Hi(ctx *spawn.Context, _ spawn.Tick) error"},
			{p + "tickPointer", "has no actions; add an exported method like func (x *tickPointer) Do(ctx *spawn.Context, in *yourpb.Request) (*yourpb.Reply, error)"},
		}},
		{"value pointer", []any{&valuePointer{}}, []spawn.Problem{
			{p + "valuePointer.Do", "returns *spawn.Value; return spawn.Value by value"},
			{p + "valuePointer", "has no actions; add an exported method like func (x *valuePointer) Do(ctx *spawn.Context, in *yourpb.Request) (*yourpb.Reply, error)"},
		}},
		{"no error result", []any{&noErrorResult{}}, []spawn.Problem{
			{p + "noErrorResult.Do", "an action returns (spawn.Value, error), (*yourpb.Reply, error) or error, not *testpb.Total"},
			{p + "noErrorResult", "has no actions; add an exported method like func (x *noErrorResult) Do(ctx *spawn.Context, in *yourpb.Request) (*yourpb.Reply, error)"},
		}},
		{"wrong first result", []any{&wrongFirstResult{}}, []spawn.Problem{
			{p + "wrongFirstResult.Do", "the first result must be spawn.Value or a pointer to a protobuf message, not string"},
			{p + "wrongFirstResult", "has no actions; add an exported method like func (x *wrongFirstResult) Do(ctx *spawn.Context, in *yourpb.Request) (*yourpb.Reply, error)"},
		}},
		{"variadic", []any{&variadicAction{}}, []spawn.Problem{
			{p + "variadicAction.Do", "an action cannot be variadic; write func (x *variadicAction) Do(ctx *spawn.Context, in *yourpb.Request) (*yourpb.Reply, error)"},
			{p + "variadicAction", "has no actions; add an exported method like func (x *variadicAction) Do(ctx *spawn.Context, in *yourpb.Request) (*yourpb.Reply, error)"},
		}},
		{"timer without period", []any{&timerWithoutPeriod{}}, []spawn.Problem{{p + "timerWithoutPeriod.Hi",
			"timer action without a period; set timer=… on the spawn.Actor tag or on a spawn.Action field with method=Hi"}}},
		{"action tag without method", []any{&actionTagNoMethod{}}, []spawn.Problem{{p + "actionTagNoMethod._",
			"spawn.Action needs the method it configures; write `spawn:\"method=Hi,…\"`"}}},
		{"action tag typo", []any{&actionTagTypo{}}, []spawn.Problem{{p + "actionTagTypo._",
			`method=Hello: actionTagTypo has no action method Hello; did you mean "Hallo"?`}}},
		{"timer on a plain action", []any{&timerOnPlainAction{}}, []spawn.Problem{{p + "timerOnPlainAction._",
			"timer= needs Do to take spawn.Tick; write func (x *timerOnPlainAction) Do(ctx *spawn.Context, _ spawn.Tick) error"}}},
		{"duplicate wire name", []any{&duplicateWireName{}}, []spawn.Problem{{p + "duplicateWireName.B",
			`action name "A" is also used by method A; rename one with a spawn.Action field`}}},
		{"hook with input", []any{&hookWithInput{}}, []spawn.Problem{{p + "hookWithInput.Init",
			"the activation hook Init takes no input; write func (x *hookWithInput) Init(ctx *spawn.Context) error"}}},
		{"two hooks", []any{&twoHooks{}}, []spawn.Problem{{p + "twoHooks", "has 2 activation hooks (Init, Setup); the proxy calls only one, so keep one"}}},
		{"channel to a missing action", []any{&channelToNowhere{}}, []spawn.Problem{{p + "channelToNowhere.Actor",
			`channel news: no action "Recieve"; did you mean "Receive"?`}}},
		{"pooled stateful", []any{&pooledStateful{}}, []spawn.Problem{{p + "pooledStateful",
			"a pooled actor cannot be stateful: its instances share no state; drop stateful, or make it a named actor (drop kind=pooled)"}}},
		{"pooled with a state field", []any{&pooledStateField{}}, []spawn.Problem{{p + "pooledStateField",
			"a pooled actor cannot be stateful: its instances share no state, and the state field State makes it stateful; write stateful=false on the spawn.Actor tag, or make it a named actor (drop kind=pooled)"}}},
		{"pool settings on a named actor", []any{&poolOnNamed{}}, []spawn.Problem{{p + "poolOnNamed.Actor",
			"max_pool only sizes the pool of a pooled actor, and poolOnNamed is named; add kind=pooled, or drop max_pool"}}},
		{"pool settings on an unnamed actor", []any{&poolOnUnnamed{}}, []spawn.Problem{{p + "poolOnUnnamed.Actor",
			"min_pool and max_pool only size the pool of a pooled actor, and poolOnUnnamed is unnamed; add kind=pooled, or drop min_pool and max_pool"}}},
		{"max_pool=0", []any{&maxPoolZero{}}, []spawn.Problem{{p + "maxPoolZero.Actor",
			"max_pool=0 would allow no instance; write max_pool=1 or more, or drop it for the default (16)"}}},
		{"min_pool above max_pool", []any{&minOverMax{}}, []spawn.Problem{{p + "minOverMax.Actor",
			"min_pool=8 is larger than max_pool=4; raise max_pool to 8 or more, or lower min_pool"}}},
		{"pool size not a number", []any{&badPoolSize{}}, []spawn.Problem{{p + "badPoolSize.Actor",
			"max_pool=many is not a whole number of instances; write a number like max_pool=4"}}},
		{"tag without colon", []any{&badTag{}}, []spawn.Problem{{p + "badTag.Actor", "tag=novalue is not key:value; write tag=env:prod"}}},
		{"malformed tag", []any{&malformedTag{}}, []spawn.Problem{{p + "malformedTag.Actor", `malformed tag "name='joe" at offset 5: unterminated quote`}}},
		{"bad name", []any{&badName{}}, []spawn.Problem{{p + "badName.Actor", `actor name "a b" may not hold spaces, slashes or control characters`}}},
		{"set twice", []any{&setTwice{}}, []spawn.Problem{{p + "setTwice.Actor", "name is set twice"}}},
		{"duplicate actor names", []any{&dupA{}, &dupB{}}, []spawn.Problem{{p + "dupB",
			`actor name "dup" is already used by spawn_test.dupA; give one of them another name with name=…`}}},
		{"state embeds a message", []any{&stateEmbedsMessage{}}, []spawn.Problem{{p + "stateEmbedsMessage.State",
			"the state field has type *spawn_test.wrappedState; it must be a pointer to a generated protobuf message, like *yourpb.State"}}},
		{"input embeds a message", []any{&inputEmbedsMessage{}}, []spawn.Problem{
			{p + "inputEmbedsMessage.Do", "the input must be a pointer to a protobuf message (like *yourpb.Request) or spawn.Tick, not *spawn_test.wrappedInput"},
			{p + "inputEmbedsMessage", "has no actions; add an exported method like func (x *inputEmbedsMessage) Do(ctx *spawn.Context, in *yourpb.Request) (*yourpb.Reply, error)"},
		}},
		{"anonymous struct without a name", []any{&struct {
			spawn.Actor
			*anonImpl
		}{}}, []spawn.Problem{{"struct { spawn.Actor; *spawn_test.anonImpl }.Actor",
			`the type's name "" cannot name the actor: it is empty; set the actor's name with name=…`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := spawn.Validate(tt.actors...)
			var ve *spawn.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate() = %v, want a *spawn.ValidationError", err)
			}
			if len(ve.Problems) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(ve.Problems), len(tt.want), err)
			}
			for i := range tt.want {
				if ve.Problems[i] != tt.want[i] {
					t.Errorf("problem %d\n got %s\nwant %s", i, ve.Problems[i], tt.want[i])
				}
			}
		})
	}
}

func TestValidateReportsEveryActor(t *testing.T) {
	err := spawn.Validate(&unknownKey{}, &badKind{}, &twoHooks{})
	var ve *spawn.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 3 {
		t.Fatalf("want 3 problems from 3 actors, got %v", err)
	}
	want := "spawn: 3 problems in actor definitions:\n\tspawn_test.unknownKey.Actor: unknown setting \"nmae\"; did you mean \"name\"?\n" +
		"\tspawn_test.badKind.Actor: unknown kind \"singleton\"; use one of named, unnamed, pooled, task\n" +
		"\tspawn_test.twoHooks: has 2 activation hooks (Init, Setup); the proxy calls only one, so keep one"
	if err.Error() != want {
		t.Fatalf("message\n got %q\nwant %q", err.Error(), want)
	}
}
