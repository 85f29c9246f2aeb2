package doccheck

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spawn-go/spawn"
)

var update = flag.Bool("update", false, "rewrite the code blocks of the README and the guide from the regions they show")

// root is the repository's root, from this package's folder.
const root = "../.."

// pending are the guide's pages that other work writes; the index and the
// pages may link to them before they exist.
var pending = []string{"docs/guide/04-state.md", "docs/guide/07-testing.md"}

// documents are the files whose code blocks are checked: the README and
// every page of the guide.
func documents(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(root, "docs", "guide", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs := []string{"README.md"}
	for _, p := range pages {
		rel, err := filepath.Rel(root, p)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, filepath.ToSlash(rel))
	}
	return docs
}

func loadAPI(t *testing.T) *API {
	t.Helper()
	api, err := LoadAPI(map[string]string{
		"spawn":     root,
		"spawntest": filepath.Join(root, "spawntest"),
		"protocol":  filepath.Join(root, "protocol"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return api
}

func report(t *testing.T, probs []Problem) {
	t.Helper()
	for _, p := range probs {
		t.Error(p)
	}
}

// TestDocs checks that every code block of the README and the guide is
// the region it names, that every marked region is shown somewhere, that
// relative links lead somewhere, and that the API names in the prose
// exist. With -update it rewrites the blocks first.
func TestDocs(t *testing.T) {
	docs := documents(t)
	c := &Checker{Root: root, Pending: pending}
	if *update {
		report(t, c.Update(docs))
	} else {
		report(t, c.Check(docs))
	}
	unused, err := c.Unused()
	if err != nil {
		t.Fatal(err)
	}
	report(t, unused)

	api := loadAPI(t)
	for _, doc := range docs {
		b, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil {
			t.Fatal(err)
		}
		_, prose, _ := ParseMarkdown(doc, b)
		report(t, api.CheckProse(doc, prose))
	}
}

// TestGuideIndex checks that the guide's index lists its ten pages in
// reading order, and that the README links to the index.
func TestGuideIndex(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "docs", "guide", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, m := range regexp.MustCompile(`\]\((\d\d-[a-z-]+\.md)\)`).FindAllStringSubmatch(string(b), -1) {
		listed = append(listed, m[1])
	}
	pages, err := filepath.Glob(filepath.Join(root, "docs", "guide", "[0-9][0-9]-*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pending {
		pages = append(pages, filepath.Join(root, filepath.FromSlash(p)))
	}
	var want []string
	for _, p := range pages {
		if !slices.Contains(want, filepath.Base(p)) {
			want = append(want, filepath.Base(p))
		}
	}
	slices.Sort(want)
	if !slices.Equal(listed, want) {
		t.Errorf("docs/guide/README.md lists %v; want every page, in order: %v", listed, want)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, []byte("](docs/guide/README.md)")) {
		t.Error("README.md does not link to the guide, docs/guide/README.md")
	}
}

// TestRunningPageListsAllConfiguration checks that the configuration table
// of the running page names every environment variable spawn-go reads and
// every option of Start and Run.
func TestRunningPageListsAllConfiguration(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "docs", "guide", "08-running.md"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	api := loadAPI(t)
	var envs, opts []string
	for name, value := range api.Consts {
		if strings.HasPrefix(name, "Env") && api.Names["protocol"][name] {
			envs = append(envs, value)
		}
	}
	for name, result := range api.Results {
		if result == "Option" && api.Names["spawn"][name] {
			opts = append(opts, "spawn."+name)
		}
	}
	if len(envs) < 5 || len(opts) < 5 {
		t.Fatalf("found %d variables and %d options; the API reading is broken", len(envs), len(opts))
	}
	for _, want := range append(envs, opts...) {
		if !strings.Contains(page, "`"+want) {
			t.Errorf("docs/guide/08-running.md does not mention `%s`; add it to the configuration table", want)
		}
	}
}

// TestInvokingPageListsAllCodes checks that the invoking page's table of
// error codes has a row for every spawn.Code.
func TestInvokingPageListsAllCodes(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "docs", "guide", "06-invoking.md"))
	if err != nil {
		t.Fatal(err)
	}
	api := loadAPI(t)
	n := 0
	for name := range api.ConstNames {
		if !strings.HasPrefix(name, "Code") || !api.Names["spawn"][name] {
			continue
		}
		n++
		if !strings.Contains(string(b), "| `spawn."+name+"` |") {
			t.Errorf("docs/guide/06-invoking.md has no row for spawn.%s in its table of codes; add one, and update retryable in examples/errors", name)
		}
	}
	if n < 5 {
		t.Fatalf("found %d codes; the API reading is broken", n)
	}
}

// TestDefiningPageListsAllSettings checks that the page on defining
// actors describes every setting of the spawn.Actor and spawn.Action
// tags, as spawn itself lists them when a setting is unknown.
func TestDefiningPageListsAllSettings(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "docs", "guide", "02-defining-actors.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{&unknownActorSetting{}, &unknownActionSetting{}} {
		err := spawn.Validate(v)
		var verr *spawn.ValidationError
		if !errors.As(err, &verr) || len(verr.Problems) == 0 {
			t.Fatalf("Validate(%T) = %v, want an unknown setting", v, err)
		}
		_, list, ok := strings.Cut(verr.Problems[0].Msg, "the settings are ")
		if !ok {
			t.Fatalf("spawn no longer lists the settings: %q", verr.Problems[0].Msg)
		}
		for _, key := range strings.Split(list, ", ") {
			if !strings.Contains(string(b), "`"+key+"=") && !strings.Contains(string(b), "`"+key+"`") {
				t.Errorf("docs/guide/02-defining-actors.md does not describe the setting %s (%T)", key, v)
			}
		}
	}
}

type unknownActorSetting struct {
	spawn.Actor `spawn:"zzzzzzzz=1"`
}

func (*unknownActorSetting) Do(*spawn.Context) error { return nil }

type unknownActionSetting struct {
	spawn.Actor
	_ spawn.Action `spawn:"method=Do,zzzzzzzz=1"`
}

func (*unknownActionSetting) Do(*spawn.Context) error { return nil }

// TestGettingStartedProject vets and tests docs/guide/hello, the project
// the getting-started page builds, which is a module of its own.
func TestGettingStartedProject(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module of its own")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	dir := filepath.Join(root, "docs", "guide", "hello")
	for _, args := range [][]string{{"vet", "./..."}, {"test", "./..."}} {
		cmd := exec.Command(goCmd, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("go %s in docs/guide/hello: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestPinnedGenerators checks that the generator versions the guide pins
// are the ones spawn-go generates its own code with.
func TestPinnedGenerators(t *testing.T) {
	tools, err := os.ReadFile(filepath.Join(root, "internal", "tools", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	hello, err := os.ReadFile(filepath.Join(root, "docs", "guide", "hello", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	helloMod, err := os.ReadFile(filepath.Join(root, "docs", "guide", "hello", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	rootMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	version := func(mod []byte, path string) string {
		m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(path) + `\s+(v\S+)`).FindSubmatch(mod)
		if m == nil {
			t.Fatalf("no version of %s", path)
		}
		return string(m[1])
	}
	buf := version(tools, "github.com/bufbuild/buf")
	if !bytes.Contains(hello, []byte("buf@"+buf+" generate")) {
		t.Errorf("docs/guide/hello/main.go does not run buf %s, the version spawn-go uses", buf)
	}
	if got, want := version(helloMod, "google.golang.org/protobuf"), version(rootMod, "google.golang.org/protobuf"); got != want {
		t.Errorf("docs/guide/hello pins protoc-gen-go %s, spawn-go uses %s", got, want)
	}
}
