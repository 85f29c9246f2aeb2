package spawn_test

import (
	"errors"
	"testing"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/golden"
	"github.com/spawn-go/spawn/internal/testpb"
)

// goldenShop sets every setting of the Actor tag that a named actor takes.
type goldenShop struct {
	spawn.Actor `spawn:"name=shop,stateful,channel=orders,channel=prices:Reprice,timer=5s,snapshot=500,deactivate=1m,tag=team:sales,tag='regions:eu,us'"`
	State       *testpb.CounterState `spawn:"state"`
	_           spawn.Action         `spawn:"method=Receive,name=receive"`
	_           spawn.Action         `spawn:"method=Restock,name=restock,timer=250ms"`
}

func (*goldenShop) Init(*spawn.Context) error                   { return nil }
func (*goldenShop) Receive(*spawn.Context, *testpb.Text) error  { return nil }
func (*goldenShop) Reprice(*spawn.Context, *testpb.Add) error   { return nil }
func (*goldenShop) Restock(*spawn.Context, spawn.Tick) error    { return nil }
func (*goldenShop) Report(*spawn.Context, spawn.Tick) error     { return nil }
func (*goldenShop) Total(*spawn.Context) (*testpb.Total, error) { return nil, nil }
func (*goldenShop) Adjust(*spawn.Context, *testpb.Add) (spawn.Value, error) {
	return spawn.NoReply(), nil
}

// goldenBasket is unnamed, with its state kept in memory only.
type goldenBasket struct {
	spawn.Actor `spawn:"name=basket,kind=unnamed,stateful=false"`
	State       *testpb.CounterState `spawn:"state"`
}

func (*goldenBasket) Add(*spawn.Context, *testpb.Add) (*testpb.Total, error) { return nil, nil }

// goldenPacker is pooled, with both pool sizes set.
type goldenPacker struct {
	spawn.Actor `spawn:"name=packer,kind=pooled,min_pool=2,max_pool=8"`
}

func (*goldenPacker) Pack(*spawn.Context) error { return nil }

// TestRegistrationGolden pins what spawn sends the proxy for every
// setting. Run go test -run Golden -update after an intended change.
func TestRegistrationGolden(t *testing.T) {
	golden.CheckRegistration(t, "golden-system", &goldenShop{}, &goldenBasket{}, &goldenPacker{})
}

func TestRegistrationRefusesInvalidActors(t *testing.T) {
	_, err := spawn.Registration("golden-system", &goldenShop{}, &goldenShop{})
	var verr *spawn.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("two actors named shop: got %v, want a *spawn.ValidationError", err)
	}
}

func TestRegistrationDefaultsTheSystem(t *testing.T) {
	req, err := spawn.Registration("", &goldenPacker{})
	if err != nil {
		t.Fatal(err)
	}
	// The proxy keys actors by (id.name, id.system): an empty system
	// would register actors nobody can invoke.
	if got := req.GetActorSystem().GetName(); got != spawn.DefaultSystem {
		t.Fatalf("actor system %q, want %q", got, spawn.DefaultSystem)
	}
	if got := req.GetActorSystem().GetRegistry().GetActors()["packer"].GetId().GetSystem(); got != spawn.DefaultSystem {
		t.Fatalf("actor id system %q, want %q", got, spawn.DefaultSystem)
	}
}
