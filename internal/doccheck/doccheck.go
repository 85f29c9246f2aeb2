// Package doccheck keeps the code shown in the README and the guide true.
// Every fenced block in them, except shell commands, is a copy of a marked
// region of a file in the repository, and a test fails when the copy and
// the region differ. Go regions come from files the build compiles, so
// the code a reader copies is code that CI has compiled and, in the
// examples and their tests, run.
//
// In a source file, comments mark a region (# instead of // in YAML):
//
//	// guide:start name
//	…
//	// guide:end name
//
// Regions may nest; marker lines never show in a snippet, and the common
// indentation of a region is removed. In Markdown, an HTML comment names
// the file, from the repository's root, and the region (none for the whole
// file), and the fenced block follows on the next line:
//
//	<!-- snippet examples/joe/main.go teach -->
//	```go
//	…
//	```
//
// In a file that carries no markers, a Go snippet may name a declaration
// instead, go:Name, or the imports some declarations use,
// go:imports:Name,Other (see declSnippet).
//
// Run the check with go test ./internal/doccheck; with -update it rewrites
// the blocks from the regions (writing the fence too when a marker has
// none yet).
package doccheck

import (
	"bufio"
	"bytes"
	"fmt"
	"go/build"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Free are the fence languages that need no marker: shell commands, which
// the reader types rather than compiles.
var Free = []string{"sh", "shell", "bash"}

// Problem is one thing wrong in a document or a marked source file.
type Problem struct {
	File string // relative to the root
	Line int    // 1-based; 0 when it concerns the whole file
	Msg  string
}

func (p Problem) String() string {
	if p.Line == 0 {
		return p.File + ": " + p.Msg
	}
	return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
}

var (
	regionRe = regexp.MustCompile(`^\s*(?://|#)\s*guide:(start|end)\s+(\S+)\s*$`)
	markerRe = regexp.MustCompile(`^<!--\s*snippet\s+(\S+)(?:\s+(\S+))?\s*-->\s*$`)
	fenceRe  = regexp.MustCompile("^( {0,3})(`{3,}|~{3,})\\s*([^`\\s]*)")
)

// Source is a file with marked regions.
type Source struct {
	// Regions maps each region's name to its lines, dedented.
	Regions map[string][]string
	// Whole is the file without its marker lines.
	Whole []string
	// Lines maps each region's name to the line of its start marker.
	Lines map[string]int
}

// ParseSource reads the regions of a file's content. name is used in
// problems only.
func ParseSource(name string, content []byte) (*Source, []Problem) {
	lines := splitLines(content)
	src := &Source{Regions: map[string][]string{}, Lines: map[string]int{}}
	var probs []Problem
	open := map[string]int{} // region name → index of its first line
	dup := map[string]int{}  // repeated starts, whose ends are not reported again
	var order []string
	for i, l := range lines {
		m := regionRe.FindStringSubmatch(l)
		if m == nil {
			src.Whole = append(src.Whole, l)
			continue
		}
		kind, reg := m[1], m[2]
		switch {
		case kind == "start" && src.Lines[reg] != 0:
			probs = append(probs, Problem{name, i + 1, fmt.Sprintf("region %q starts twice (first at line %d)", reg, src.Lines[reg])})
			dup[reg]++
		case kind == "start":
			src.Lines[reg] = i + 1
			open[reg] = i + 1
			order = append(order, reg)
		case kind == "end":
			first, ok := open[reg]
			if !ok && dup[reg] > 0 {
				dup[reg]--
				continue
			}
			if !ok {
				probs = append(probs, Problem{name, i + 1, fmt.Sprintf("guide:end %s without a guide:start %s before it", reg, reg)})
				continue
			}
			delete(open, reg)
			var body []string
			for _, bl := range lines[first:i] {
				if !regionRe.MatchString(bl) {
					body = append(body, bl)
				}
			}
			src.Regions[reg] = dedent(body)
		}
	}
	for _, reg := range order {
		if _, ok := open[reg]; ok {
			probs = append(probs, Problem{name, src.Lines[reg], fmt.Sprintf("region %q has no guide:end %s", reg, reg)})
		}
	}
	return src, probs
}

// Snippet returns the lines of region, or of the whole file when region
// is empty.
func (s *Source) Snippet(region string) ([]string, bool) {
	if region == "" {
		return trimBlank(s.Whole), true
	}
	r, ok := s.Regions[region]
	return r, ok
}

// dedent removes the leading whitespace all non-blank lines share, and
// blank lines' whitespace.
func dedent(lines []string) []string {
	prefix := ""
	first := true
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		ws := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if first {
			prefix, first = ws, false
			continue
		}
		for !strings.HasPrefix(ws, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		out[i] = strings.TrimPrefix(l, prefix)
	}
	return trimBlank(out)
}

// trimBlank drops blank lines at both ends.
func trimBlank(lines []string) []string {
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func splitLines(b []byte) []string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	return lines
}

// Block is a fenced block of a Markdown file, with the snippet marker
// before it, if any.
type Block struct {
	// Marker is the line of the snippet marker (1-based), or 0.
	Marker       int
	Path, Region string
	// Fence is the line of the opening fence (1-based), or 0 when the
	// marker is not followed by a fence.
	Fence  int
	Lang   string
	Indent string
	Ticks  string
	// Body is the content between the fences, with the fence's
	// indentation removed.
	Body []string
	// End is the line of the closing fence (1-based).
	End int
}

// ParseMarkdown returns the fenced blocks and snippet markers of a
// Markdown file, and the text outside fences, line by line (fenced lines
// are blank in it). A marker that no fence follows is a Block with Fence 0.
func ParseMarkdown(name string, content []byte) ([]Block, []string, []Problem) {
	lines := splitLines(content)
	var blocks []Block
	var probs []Problem
	prose := make([]string, len(lines))
	pending := -1 // index into blocks of a marker waiting for its fence
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if m := markerRe.FindStringSubmatch(l); m != nil {
			blocks = append(blocks, Block{Marker: i + 1, Path: m[1], Region: m[2]})
			pending = len(blocks) - 1
			continue
		}
		m := fenceRe.FindStringSubmatch(l)
		if m == nil {
			if strings.TrimSpace(l) != "" {
				pending = -1 // the marker's block is missing: Check reports it
			}
			prose[i] = l
			continue
		}
		b := Block{Indent: m[1], Ticks: m[2], Lang: m[3], Fence: i + 1}
		if pending >= 0 {
			b.Marker, b.Path, b.Region = blocks[pending].Marker, blocks[pending].Path, blocks[pending].Region
			blocks = blocks[:pending]
			pending = -1
		}
		j := i + 1
		for ; j < len(lines); j++ {
			c := strings.TrimLeft(lines[j], " ")
			if strings.HasPrefix(c, b.Ticks) && strings.TrimSpace(strings.TrimLeft(c, b.Ticks[:1])) == "" && len(lines[j])-len(c) <= 3 {
				break
			}
			b.Body = append(b.Body, strings.TrimPrefix(lines[j], b.Indent))
		}
		if j == len(lines) {
			probs = append(probs, Problem{name, i + 1, "fenced block is never closed"})
		}
		b.End = j + 1
		blocks = append(blocks, b)
		i = j
	}
	return blocks, prose, probs
}

// Lang returns the fence language for a file: go for Go, and so on.
func Lang(path string) string {
	base := filepath.Base(path)
	switch {
	case strings.HasPrefix(base, "Dockerfile") || filepath.Ext(base) == ".dockerfile":
		return "dockerfile"
	case base == "Makefile":
		return "make"
	}
	switch filepath.Ext(base) {
	case ".go":
		return "go"
	case ".proto":
		return "proto"
	case ".yaml", ".yml":
		return "yaml"
	case ".json":
		return "json"
	case ".toml":
		return "toml"
	case ".sh", ".bash":
		return "sh"
	case ".mod":
		return "go.mod"
	}
	return "text"
}

// marked reports whether a file may hold marked regions: source and
// configuration files whose comments start with // or #.
func marked(name string) bool {
	switch Lang(name) {
	case "go", "proto", "yaml", "toml", "sh", "dockerfile", "make":
		return true
	}
	return false
}

// Checker checks and updates documents against the sources under Root.
type Checker struct {
	// Root is the repository's root; snippet paths are relative to it.
	Root string
	// Pending lists pages, relative to Root, that documents may link to
	// before they are written.
	Pending []string

	sources map[string]*Source
	used    map[string]map[string]bool // path → regions shown
}

func (c *Checker) source(rel string) (*Source, []Problem, error) {
	if s, ok := c.sources[rel]; ok {
		return s, nil, nil
	}
	b, err := os.ReadFile(filepath.Join(c.Root, filepath.FromSlash(rel)))
	if err != nil {
		return nil, nil, err
	}
	s, probs := ParseSource(rel, b)
	if c.sources == nil {
		c.sources = map[string]*Source{}
	}
	c.sources[rel] = s
	return s, probs, nil
}

// compiled reports why a Go file is not compiled by the go command, or "".
func compiled(root, rel string) string {
	for _, part := range strings.Split(filepath.ToSlash(filepath.Dir(rel)), "/") {
		if part == "testdata" || strings.HasPrefix(part, "_") || (strings.HasPrefix(part, ".") && part != ".") {
			return "it is in a folder the go command ignores (" + part + ")"
		}
	}
	abs := filepath.Join(root, filepath.FromSlash(rel))
	ok, err := build.Default.MatchFile(filepath.Dir(abs), filepath.Base(abs))
	if err != nil {
		return err.Error()
	}
	if !ok {
		return "its build constraints exclude it"
	}
	return ""
}

// want returns what block b should hold, or a problem.
func (c *Checker) want(doc string, b Block) ([]string, []Problem) {
	rel := filepath.ToSlash(filepath.Clean(b.Path))
	if filepath.IsAbs(b.Path) || strings.HasPrefix(rel, "../") {
		return nil, []Problem{{doc, b.Marker, fmt.Sprintf("snippet path %s must be relative to the repository's root", b.Path)}}
	}
	src, probs, err := c.source(rel)
	if err != nil {
		return nil, append(probs, Problem{doc, b.Marker, fmt.Sprintf("snippet source: %v", err)})
	}
	if Lang(rel) == "go" {
		if why := compiled(c.Root, rel); why != "" {
			probs = append(probs, Problem{doc, b.Marker, fmt.Sprintf("%s is not compiled: %s; show code from a compiled file", rel, why)})
		}
	}
	if c.used == nil {
		c.used = map[string]map[string]bool{}
	}
	if c.used[rel] == nil {
		c.used[rel] = map[string]bool{}
	}
	if strings.HasPrefix(b.Region, declPrefix) {
		if Lang(rel) != "go" {
			return nil, append(probs, Problem{doc, b.Marker, fmt.Sprintf("%s is not a Go file: it has no declarations to show (%s)", rel, b.Region)})
		}
		content, err := os.ReadFile(filepath.Join(c.Root, filepath.FromSlash(rel)))
		if err != nil {
			return nil, append(probs, Problem{doc, b.Marker, fmt.Sprintf("snippet source: %v", err)})
		}
		lines, spans, err := declSnippet(rel, content, b.Region)
		if err != nil {
			return nil, append(probs, Problem{doc, b.Marker, err.Error()})
		}
		// The regions inside the declarations shown are shown too.
		for reg, line := range src.Lines {
			for _, sp := range spans {
				if line >= sp[0] && line <= sp[1] {
					c.used[rel][reg] = true
				}
			}
		}
		return lines, probs
	}
	lines, ok := src.Snippet(b.Region)
	if !ok {
		return nil, append(probs, Problem{doc, b.Marker, fmt.Sprintf("%s has no region %q; mark it with guide:start %s and guide:end %s", rel, b.Region, b.Region, b.Region)})
	}
	c.used[rel][b.Region] = true
	return lines, probs
}

// Check checks the Markdown documents docs (relative to Root) and returns
// what is wrong: fenced blocks without a marker, blocks that differ from
// their region, markers that name no region, and broken relative links.
func (c *Checker) Check(docs []string) []Problem {
	var probs []Problem
	for _, doc := range docs {
		probs = append(probs, c.check(doc, false)...)
	}
	return probs
}

// Update rewrites the blocks of docs from their regions and returns the
// problems it could not fix.
func (c *Checker) Update(docs []string) []Problem {
	var probs []Problem
	for _, doc := range docs {
		probs = append(probs, c.check(doc, true)...)
	}
	return probs
}

func (c *Checker) check(doc string, update bool) []Problem {
	path := filepath.Join(c.Root, filepath.FromSlash(doc))
	content, err := os.ReadFile(path)
	if err != nil {
		return []Problem{{doc, 0, err.Error()}}
	}
	blocks, prose, probs := ParseMarkdown(doc, content)
	probs = append(probs, c.links(doc, prose)...)
	lines := splitLines(content)
	type edit struct {
		from, to int // replace lines[from:to]
		with     []string
	}
	var edits []edit
	for _, b := range blocks {
		if b.Marker == 0 {
			if !slices.Contains(Free, b.Lang) {
				probs = append(probs, Problem{doc, b.Fence, fmt.Sprintf("a %q block without a snippet marker; put <!-- snippet path region --> before it, or use a fence for shell commands (%s)", b.Lang, strings.Join(Free, ", "))})
			}
			continue
		}
		want, wprobs := c.want(doc, b)
		probs = append(probs, wprobs...)
		if want == nil && len(wprobs) > 0 {
			continue
		}
		lang := Lang(b.Path)
		if b.Fence != 0 && b.Lang == lang && slices.Equal(b.Body, want) {
			continue
		}
		if !update {
			switch {
			case b.Fence == 0:
				probs = append(probs, Problem{doc, b.Marker, "snippet marker not followed by a fenced block"})
			case b.Lang != lang:
				probs = append(probs, Problem{doc, b.Fence, fmt.Sprintf("the block of %s is marked %q; mark it %q", b.Path, b.Lang, lang)})
			default:
				probs = append(probs, Problem{doc, b.Fence, fmt.Sprintf("the block differs from %s %s%s; run go test ./internal/doccheck -update",
					b.Path, regionName(b.Region), firstDiff(b.Body, want))})
			}
			continue
		}
		ticks := "```"
		for _, l := range want {
			if strings.Contains(l, ticks) {
				ticks += "`"
			}
		}
		fenced := []string{ticks + lang}
		fenced = append(fenced, want...)
		fenced = append(fenced, ticks)
		if b.Fence == 0 {
			edits = append(edits, edit{b.Marker, b.Marker, fenced})
		} else {
			if b.Indent != "" {
				for i := range fenced {
					if fenced[i] != "" {
						fenced[i] = b.Indent + fenced[i]
					}
				}
			}
			edits = append(edits, edit{b.Fence - 1, min(b.End, len(lines)), fenced})
		}
	}
	if update && len(edits) > 0 {
		var out []string
		at := 0
		for _, e := range edits {
			out = append(out, lines[at:e.from]...)
			out = append(out, e.with...)
			at = e.to
		}
		out = append(out, lines[at:]...)
		if err := os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
			probs = append(probs, Problem{doc, 0, err.Error()})
		}
	}
	return probs
}

func regionName(r string) string {
	if r == "" {
		return "(the whole file)"
	}
	return "region " + r
}

// firstDiff describes the first line where got and want differ.
func firstDiff(got, want []string) string {
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w || i >= len(got) || i >= len(want) {
			return fmt.Sprintf(":\n\tline %d of the block: %q\n\tline %d of the region: %q", i+1, g, i+1, w)
		}
	}
	return ""
}

var linkRe = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// links checks the relative links in a document's prose.
func (c *Checker) links(doc string, prose []string) []Problem {
	var probs []Problem
	dir := filepath.Dir(doc)
	for i, l := range prose {
		for _, m := range linkRe.FindAllStringSubmatch(stripCode(l), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			rel := filepath.ToSlash(filepath.Join(dir, filepath.FromSlash(target)))
			if slices.Contains(c.Pending, rel) {
				continue
			}
			if _, err := os.Stat(filepath.Join(c.Root, filepath.FromSlash(rel))); err != nil {
				probs = append(probs, Problem{doc, i + 1, fmt.Sprintf("link to %s, which does not exist", m[1])})
			}
		}
	}
	return probs
}

var codeSpanRe = regexp.MustCompile("`[^`]*`")

// stripCode blanks a line's inline code spans.
func stripCode(l string) string {
	return codeSpanRe.ReplaceAllStringFunc(l, func(s string) string { return strings.Repeat(" ", len(s)) })
}

// Unused returns the regions marked in files under Root (source and
// configuration files outside testdata) that no document checked so far
// shows.
func (c *Checker) Unused() ([]Problem, error) {
	var probs []Problem
	err := filepath.WalkDir(c.Root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != c.Root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !marked(name) {
			return nil
		}
		rel, err := filepath.Rel(c.Root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		src, sprobs, err := c.source(rel)
		if err != nil {
			return err
		}
		probs = append(probs, sprobs...)
		for reg, line := range src.Lines {
			if !c.used[rel][reg] {
				probs = append(probs, Problem{rel, line, fmt.Sprintf("region %q is shown by no page; show it or remove its markers", reg)})
			}
		}
		return nil
	})
	slices.SortFunc(probs, func(a, b Problem) int { return strings.Compare(a.String(), b.String()) })
	return probs, err
}
