package spawn_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/testpb"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

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
// setting: testdata/registration.golden is a hex dump of the deterministic
// encoding, and registration.golden.txt the same in text, for review.
// Run go test -run Golden -update after an intended change.
func TestRegistrationGolden(t *testing.T) {
	req, err := spawn.Registration("golden-system", &goldenShop{}, &goldenBasket{}, &goldenPacker{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	text, err := stableText(req)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "registration.golden")
	compareGolden(t, path, []byte(hex.Dump(b)))
	compareGolden(t, path+".txt", text)
}

func TestRegistrationRefusesInvalidActors(t *testing.T) {
	_, err := spawn.Registration("golden-system", &goldenShop{}, &goldenShop{})
	var verr *spawn.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("two actors named shop: got %v, want a *spawn.ValidationError", err)
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; run go test -run Golden -update to create it", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what spawn now produces; if the change is intended, run go test -run Golden -update and review the diff\ngot:\n%s", path, got)
	}
}

// extraSpace is the space prototext adds after a field name, or not, at
// random from one build to the next, so that nobody depends on its output
// byte for byte. Multi-line output has one field name per line, first.
var extraSpace = regexp.MustCompile(`(?m)^(\s*[^\s:]+):  `)

// stableText renders m as multi-line prototext, the same in every build.
func stableText(m proto.Message) ([]byte, error) {
	b, err := prototext.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(m)
	if err != nil {
		return nil, err
	}
	return extraSpace.ReplaceAll(b, []byte("$1: ")), nil
}
