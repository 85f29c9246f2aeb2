// Package golden pins the RegistrationRequest of a set of actors, so
// that a change to what spawn sends the proxy shows up in review as a diff.
package golden

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// CheckRegistration compares the RegistrationRequest spawn would send for
// actors with testdata/registration.golden, a hex dump of its
// deterministic encoding, and with testdata/registration.golden.txt, its
// text form for human review. With -update it rewrites both instead.
func CheckRegistration(t *testing.T, system string, actors ...any) {
	t.Helper()
	req, err := spawn.Registration(system, actors...)
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
	compare(t, path, []byte(hex.Dump(b)))
	compare(t, path+".txt", text)
}

// compare compares got with the file at path, or with -update writes got
// to it.
func compare(t *testing.T, path string, got []byte) {
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
