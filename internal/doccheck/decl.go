package doccheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"regexp"
	"strings"
)

// A snippet of a Go file may name its declarations instead of a marked
// region, for code in files that carry no markers:
//
//	<!-- snippet example_test.go go:Tally -->
//	<!-- snippet example_test.go go:imports:ExampleStart,Tally -->
//
// go:NAME is the top-level declaration NAME with its doc comment: a
// function, a type with its methods (in the file's order), or the const or
// var declaration that declares NAME. go:imports:NAMES is the file's import
// declaration cut down to the packages that the declarations NAMES (comma
// separated) use, in the file's groups. Marker lines never show, and the
// regions that start inside a declaration shown count as shown.
const declPrefix = "go:"

// declSnippet returns the lines of the go: region of a Go file's content,
// and the 1-based line ranges of the file it shows.
func declSnippet(name string, content []byte, region string) ([]string, [][2]int, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, content, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, nil, err
	}
	spec := strings.TrimPrefix(region, declPrefix)
	if names, ok := strings.CutPrefix(spec, "imports:"); ok {
		lines, err := usedImports(fset, f, content, strings.Split(names, ","))
		return lines, nil, err
	}
	decls := declsNamed(f, spec)
	if len(decls) == 0 {
		return nil, nil, fmt.Errorf("%s has no top-level declaration %s", name, spec)
	}
	src := splitLines(content)
	var out []string
	var spans [][2]int
	for i, d := range decls {
		from, to := fset.Position(declStart(d)).Line, fset.Position(d.End()).Line
		spans = append(spans, [2]int{from, to})
		if i > 0 {
			out = append(out, "")
		}
		for _, l := range src[from-1 : to] {
			if !regionRe.MatchString(l) {
				out = append(out, l)
			}
		}
	}
	return dedent(out), spans, nil
}

// declsNamed returns the top-level declarations of name: a function, a
// type and its methods, or a const or var declaration.
func declsNamed(f *ast.File, name string) []ast.Decl {
	var out []ast.Decl
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if (d.Recv == nil && d.Name.Name == name) || (d.Recv != nil && receiverName(d.Recv) == name) {
				out = append(out, d)
			}
		case *ast.GenDecl:
			if d.Tok == token.IMPORT {
				continue
			}
			for _, s := range d.Specs {
				if declares(s, name) {
					out = append(out, d)
					break
				}
			}
		}
	}
	return out
}

func declares(s ast.Spec, name string) bool {
	switch s := s.(type) {
	case *ast.TypeSpec:
		return s.Name.Name == name
	case *ast.ValueSpec:
		for _, n := range s.Names {
			if n.Name == name {
				return true
			}
		}
	}
	return false
}

// receiverName is the base type of a method's receiver: T for *T, T and
// T[P].
func receiverName(recv *ast.FieldList) string {
	if len(recv.List) == 0 {
		return ""
	}
	t := recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.IndexExpr:
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.ParenExpr:
			t = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

// declStart is where a declaration begins, its doc comment included.
func declStart(d ast.Decl) token.Pos {
	switch d := d.(type) {
	case *ast.FuncDecl:
		if d.Doc != nil {
			return d.Doc.Pos()
		}
	case *ast.GenDecl:
		if d.Doc != nil {
			return d.Doc.Pos()
		}
	}
	return d.Pos()
}

var majorVersion = regexp.MustCompile(`^v[0-9]+$`)

// importName is the name an import is used by: its own, or the one its
// path suggests (the last element, without a major version).
func importName(s *ast.ImportSpec) string {
	if s.Name != nil {
		return s.Name.Name
	}
	p := strings.Trim(s.Path.Value, "`\"")
	base := path.Base(p)
	if majorVersion.MatchString(base) && path.Dir(p) != "." {
		base = path.Base(path.Dir(p))
	}
	if i := strings.Index(base, ".v"); i > 0 && majorVersion.MatchString(base[i+1:]) {
		base = base[:i] // gopkg.in/yaml.v3
	}
	return strings.ReplaceAll(strings.TrimPrefix(base, "go-"), "-", "_")
}

// usedImports renders the import declaration of f cut down to the
// packages the declarations names use.
func usedImports(fset *token.FileSet, f *ast.File, content []byte, names []string) ([]string, error) {
	used := map[string]bool{}
	for _, n := range names {
		decls := declsNamed(f, n)
		if len(decls) == 0 {
			return nil, fmt.Errorf("%s has no top-level declaration %s", fset.File(f.Pos()).Name(), n)
		}
		for _, d := range decls {
			ast.Inspect(d, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok {
						used[id.Name] = true
					}
				}
				return true
			})
		}
	}
	var specs []string
	group, last, prevLine := 0, -1, 0
	for _, s := range f.Imports {
		line := fset.Position(s.Pos()).Line
		if prevLine != 0 && line > prevLine+1 {
			group++ // a blank line (or a comment) separates the groups
		}
		prevLine = fset.Position(s.End()).Line
		if !used[importName(s)] {
			continue
		}
		if last >= 0 && group != last {
			specs = append(specs, "")
		}
		last = group
		start, end := fset.Position(s.Pos()).Offset, fset.Position(s.End()).Offset
		specs = append(specs, string(content[start:end]))
	}
	switch len(specs) {
	case 0:
		return nil, fmt.Errorf("the declarations %s use no imported package", strings.Join(names, ", "))
	case 1:
		return []string{"import " + specs[0]}, nil
	}
	out := []string{"import ("}
	for _, s := range specs {
		if s == "" {
			out = append(out, "")
		} else {
			out = append(out, "\t"+s)
		}
	}
	return append(out, ")"), nil
}
