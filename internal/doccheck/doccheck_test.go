package doccheck

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The markers are built from pieces, so that this file has no marked
// regions of its own.
const (
	start = "// guide:" + "start "
	end   = "// guide:" + "end "
)

// fixture writes files under a fresh root and returns it.
func fixture(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const mainGo = "package main\n\n" +
	"import \"fmt\"\n\n" +
	start + "main\n" +
	"func main() {\n" +
	"\t" + start + "body\n" +
	"\tfmt.Println(\"hi\")\n" +
	"\t" + end + "body\n" +
	"}\n" +
	end + "main\n"

func TestParseSource(t *testing.T) {
	src, probs := ParseSource("main.go", []byte(mainGo))
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	got, _ := src.Snippet("main")
	if want := []string{"func main() {", "\tfmt.Println(\"hi\")", "}"}; !slices.Equal(got, want) {
		t.Errorf("region main = %q, want %q (nested markers left out)", got, want)
	}
	got, _ = src.Snippet("body")
	if want := []string{`fmt.Println("hi")`}; !slices.Equal(got, want) {
		t.Errorf("region body = %q, want %q (dedented)", got, want)
	}
	got, _ = src.Snippet("")
	if len(got) != 7 || got[0] != "package main" || got[6] != "}" {
		t.Errorf("whole file = %q, want the file without its markers", got)
	}
	if _, ok := src.Snippet("nope"); ok {
		t.Error("a region that is not marked was found")
	}
}

func TestParseSourceProblems(t *testing.T) {
	for _, tt := range []struct {
		name, content, want string
	}{
		{"unterminated", start + "a\nx\n", `region "a" has no guide:end a`},
		{"end without start", "x\n" + end + "a\n", "guide:end a without a guide:start a"},
		{"twice", start + "a\n" + end + "a\n" + start + "a\n" + end + "a\n", `region "a" starts twice`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := ParseSource("f.go", []byte(tt.content))
			if len(probs) != 1 || !strings.Contains(probs[0].Msg, tt.want) {
				t.Fatalf("problems %v, want one saying %q", probs, tt.want)
			}
		})
	}
}

func check(t *testing.T, root string, doc string) []string {
	t.Helper()
	c := &Checker{Root: root}
	var out []string
	for _, p := range c.Check([]string{doc}) {
		out = append(out, p.String())
	}
	return out
}

func TestCheck(t *testing.T) {
	good := "# Doc\n\n<!-- snippet a/main.go body -->\n```go\nfmt.Println(\"hi\")\n```\n\n```sh\ngo run ./a\n```\n"
	tests := []struct {
		name string
		doc  string
		want string // a fragment of the only problem, or "" for none
	}{
		{"matches", good, ""},
		{"whole file", "<!-- snippet a/out.txt -->\n```text\nhi\n```\n", ""},
		{"drifted", strings.Replace(good, `"hi"`, `"hello"`, 1), "the block differs from a/main.go region body"},
		{"no marker", "```go\nfmt.Println(\"hi\")\n```\n", `a "go" block without a snippet marker`},
		{"untagged block", "```\nhi\n```\n", `a "" block without a snippet marker`},
		{"wrong language", strings.Replace(good, "```go", "```text", 1), `marked "text"; mark it "go"`},
		{"no such region", strings.Replace(good, "main.go body", "main.go tail", 1), `has no region "tail"`},
		{"no such file", strings.Replace(good, "a/main.go", "b/main.go", 1), "snippet source"},
		{"not compiled", "<!-- snippet a/testdata/x.go -->\n```go\npackage x\n```\n", "is not compiled"},
		{"marker without block", "<!-- snippet a/main.go body -->\n\ntext\n", "not followed by a fenced block"},
		{"outside the root", strings.Replace(good, "a/main.go", "../main.go", 1), "relative to the repository's root"},
		{"broken link", good + "\nSee [the page](missing.md).\n", "link to missing.md"},
		{"link in code is not a link", good + "\nWrite `[x](y.md)`.\n", ""},
		{"good link", good + "\nSee [main](a/main.go#L1).\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := fixture(t, map[string]string{
				"a/main.go":       mainGo,
				"a/out.txt":       "hi\n",
				"a/testdata/x.go": "package x\n",
				"doc.md":          tt.doc,
			})
			probs := check(t, root, "doc.md")
			switch {
			case tt.want == "" && len(probs) > 0:
				t.Fatalf("unexpected problems:\n%s", strings.Join(probs, "\n"))
			case tt.want != "" && (len(probs) != 1 || !strings.Contains(probs[0], tt.want)):
				t.Fatalf("problems:\n%s\nwant one saying %q", strings.Join(probs, "\n"), tt.want)
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	doc := "# Doc\n\n<!-- snippet a/main.go body -->\n```go\nold\n```\n\nText.\n\n<!-- snippet a/main.go main -->\n\nMore text.\n"
	root := fixture(t, map[string]string{"a/main.go": mainGo, "doc.md": doc})
	c := &Checker{Root: root}
	if probs := c.Update([]string{"doc.md"}); len(probs) > 0 {
		t.Fatal(probs)
	}
	b, err := os.ReadFile(filepath.Join(root, "doc.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := "# Doc\n\n<!-- snippet a/main.go body -->\n```go\nfmt.Println(\"hi\")\n```\n\nText.\n\n" +
		"<!-- snippet a/main.go main -->\n```go\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n```\n\nMore text.\n"
	if string(b) != want {
		t.Fatalf("updated doc:\n%s\nwant:\n%s", b, want)
	}
	if probs := check(t, root, "doc.md"); len(probs) > 0 {
		t.Fatalf("after -update: %v", probs)
	}
}

func TestLang(t *testing.T) {
	for path, want := range map[string]string{
		"a/main.go": "go", "x.proto": "proto", "k8s/app.yaml": "yaml", "deploy/Dockerfile": "dockerfile",
		"run.sh": "sh", "testdata/output.txt": "text", "go.mod": "go.mod",
	} {
		if got := Lang(path); got != want {
			t.Errorf("Lang(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestUnused(t *testing.T) {
	root := fixture(t, map[string]string{
		"a/main.go":          mainGo,
		"a/testdata/skip.go": start + "x\n" + end + "x\n",
		"a/Dockerfile":       "# guide:" + "start image\nFROM scratch\n# guide:" + "end image\n",
		"doc.md":             "<!-- snippet a/main.go body -->\n```go\nfmt.Println(\"hi\")\n```\n",
	})
	c := &Checker{Root: root}
	if probs := c.Check([]string{"doc.md"}); len(probs) > 0 {
		t.Fatal(probs)
	}
	probs, err := c.Unused()
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 2 || !strings.Contains(probs[0].String(), `a/Dockerfile:1: region "image" is shown by no page`) ||
		!strings.Contains(probs[1].String(), `a/main.go:5: region "main" is shown by no page`) {
		t.Fatalf("unused regions: %v, want image and main (testdata skipped)", probs)
	}
}

func TestCheckProse(t *testing.T) {
	root := fixture(t, map[string]string{"p/p.go": `package spawn

type Option interface{ apply() }
type System struct{ Name string }
type Value struct{}
const EnvLog = "SPAWN_LOG"
func Start() *System        { return nil }
func WithSystem(string) Option { return nil }
func (*System) Stop() error  { return nil }
func (Value) Tag() Value     { return Value{} }
`})
	api, err := LoadAPI(map[string]string{"spawn": filepath.Join(root, "p")})
	if err != nil {
		t.Fatal(err)
	}
	if api.Results["WithSystem"] != "Option" || api.Consts["EnvLog"] != "SPAWN_LOG" {
		t.Fatalf("results %v, consts %v", api.Results, api.Consts)
	}
	prose := []string{
		"Call `spawn.Start`, then `sys.Stop` or `System.Stop`; `Value.Tag` and `spawn.Value.Tag` too.",
		"But not `spawn.Begin`, `sys.Halt`, `Value.Untag` or `spawn.System.Halt`.",
	}
	var got []string
	for _, p := range api.CheckProse("doc.md", prose) {
		got = append(got, p.String())
	}
	want := []string{
		"doc.md:2: spawn.Begin: package spawn has no exported Begin",
		"doc.md:2: spawn.System.Halt: System has no method or field Halt",
		"doc.md:2: sys.Halt: System has no method Halt (the guide calls a *spawn.System sys)",
		"doc.md:2: Value.Untag: Value has no method or field Untag",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// declGo is a Go file without regions of its own but one, inner, inside a
// declaration.
const declGo = "package main\n\n" +
	"import (\n\t\"fmt\"\n\t\"strings\"\n\n\tsdk \"example.com/sdk/v2\"\n\t\"example.com/yaml.v3\"\n)\n\n" +
	"// T is a type.\ntype T struct{}\n\n" +
	"func unrelated() { yaml.X() }\n\n" +
	"// Hi says hi.\nfunc (t *T) Hi() { fmt.Println(strings.ToUpper(\"hi\")) }\n\n" +
	"// Run runs.\nfunc Run() {\n\t" + start + "inner\n\tsdk.Do()\n\t" + end + "inner\n}\n"

func TestDeclSnippet(t *testing.T) {
	for _, tt := range []struct {
		region string
		want   []string
		err    string
	}{
		{"go:T", []string{"// T is a type.", "type T struct{}", "", "// Hi says hi.", `func (t *T) Hi() { fmt.Println(strings.ToUpper("hi")) }`}, ""},
		{"go:Run", []string{"// Run runs.", "func Run() {", "\tsdk.Do()", "}"}, ""},
		{"go:imports:T,Run", []string{"import (", "\t\"fmt\"", "\t\"strings\"", "", "\tsdk \"example.com/sdk/v2\"", ")"}, ""},
		{"go:imports:unrelated", []string{`import "example.com/yaml.v3"`}, ""},
		{"go:Missing", nil, "has no top-level declaration Missing"},
		{"go:imports:T,Missing", nil, "has no top-level declaration Missing"},
	} {
		got, _, err := declSnippet("a/decl.go", []byte(declGo), tt.region)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: error %v, want one saying %q", tt.region, err, tt.err)
		case tt.err == "" && (err != nil || !slices.Equal(got, tt.want)):
			t.Errorf("%s = %q, %v; want %q", tt.region, got, err, tt.want)
		}
	}
}

func TestDeclSnippetsInDocs(t *testing.T) {
	doc := "<!-- snippet a/decl.go go:Run -->\n```go\n```\n\n<!-- snippet a/decl.go go:imports:Run -->\n"
	root := fixture(t, map[string]string{"a/decl.go": declGo, "doc.md": doc, "a/out.txt": "x\n"})
	c := &Checker{Root: root}
	if probs := c.Update([]string{"doc.md"}); len(probs) > 0 {
		t.Fatal(probs)
	}
	b, err := os.ReadFile(filepath.Join(root, "doc.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := "<!-- snippet a/decl.go go:Run -->\n```go\n// Run runs.\nfunc Run() {\n\tsdk.Do()\n}\n```\n\n" +
		"<!-- snippet a/decl.go go:imports:Run -->\n```go\nimport sdk \"example.com/sdk/v2\"\n```\n"
	if string(b) != want {
		t.Fatalf("updated doc:\n%s\nwant:\n%s", b, want)
	}
	// The region inside Run is shown with it.
	if probs, err := c.Unused(); err != nil || len(probs) > 0 {
		t.Errorf("unused regions: %v, %v; want none", probs, err)
	}
	if probs := check(t, root, "doc.md"); len(probs) > 0 {
		t.Fatalf("after -update: %v", probs)
	}
	bad := fixture(t, map[string]string{"a/out.txt": "x\n", "doc.md": "<!-- snippet a/out.txt go:X -->\n```text\nx\n```\n"})
	if probs := check(t, bad, "doc.md"); len(probs) != 1 || !strings.Contains(probs[0], "not a Go file") {
		t.Errorf("a go: snippet of a text file: %v", probs)
	}
}
