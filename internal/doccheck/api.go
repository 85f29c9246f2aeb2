package doccheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// API is what packages export, read from their source, so that prose
// naming spawn.Start or Value.Tag can be checked against the code.
type API struct {
	// Names maps a package's name to its exported package-level names.
	Names map[string]map[string]bool
	// Members maps a type's name to its exported methods and fields.
	Members map[string]map[string]bool
	// Results maps a package-level function's name to its result type,
	// as written ("Option", "*System").
	Results map[string]string
	// Consts maps a constant's name to its value, for string constants.
	Consts map[string]string
	// ConstNames holds the names of every exported constant.
	ConstNames map[string]bool
}

// LoadAPI reads the exported names of the packages in dirs, which maps a
// package's name to its folder. Test files are left out.
func LoadAPI(dirs map[string]string) (*API, error) {
	api := &API{Names: map[string]map[string]bool{}, Members: map[string]map[string]bool{}, Results: map[string]string{}, Consts: map[string]string{}, ConstNames: map[string]bool{}}
	fset := token.NewFileSet()
	for pkg, dir := range dirs {
		api.Names[pkg] = map[string]bool{}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
			if err != nil {
				return nil, err
			}
			api.add(pkg, f)
		}
	}
	return api, nil
}

func (api *API) member(typ, name string) {
	if api.Members[typ] == nil {
		api.Members[typ] = map[string]bool{}
	}
	api.Members[typ][name] = true
}

func (api *API) add(pkg string, f *ast.File) {
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() {
				continue
			}
			if d.Recv == nil {
				api.Names[pkg][d.Name.Name] = true
				if res := d.Type.Results; res != nil && len(res.List) == 1 {
					api.Results[d.Name.Name] = exprString(res.List[0].Type)
				}
				continue
			}
			api.member(recvName(d.Recv.List[0].Type), d.Name.Name)
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if !s.Name.IsExported() {
						continue
					}
					api.Names[pkg][s.Name.Name] = true
					if st, ok := s.Type.(*ast.StructType); ok {
						for _, fld := range st.Fields.List {
							for _, n := range fld.Names {
								if n.IsExported() {
									api.member(s.Name.Name, n.Name)
								}
							}
						}
					}
					if it, ok := s.Type.(*ast.InterfaceType); ok {
						for _, m := range it.Methods.List {
							for _, n := range m.Names {
								if n.IsExported() {
									api.member(s.Name.Name, n.Name)
								}
							}
						}
					}
				case *ast.ValueSpec:
					for i, n := range s.Names {
						if !n.IsExported() {
							continue
						}
						api.Names[pkg][n.Name] = true
						if d.Tok == token.CONST {
							api.ConstNames[n.Name] = true
						}
						if d.Tok == token.CONST && i < len(s.Values) {
							if lit, ok := s.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
								api.Consts[n.Name] = strings.Trim(lit.Value, "\"`")
							}
						}
					}
				}
			}
		}
	}
}

func recvName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return recvName(t.X)
	case *ast.IndexExpr:
		return recvName(t.X)
	case *ast.IndexListExpr:
		return recvName(t.X)
	case *ast.Ident:
		return t.Name
	}
	return ""
}

func exprString(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.StarExpr:
		return "*" + exprString(t.X)
	case *ast.SelectorExpr:
		return exprString(t.X) + "." + t.Sel.Name
	}
	return fmt.Sprintf("%T", e)
}

var (
	// spawn.Start, spawn.Value.Tag, spawntest.Start
	qualifiedRe = regexp.MustCompile(`\b(spawn|spawntest)\.([A-Z]\w*)(?:\.([A-Z]\w*))?`)
	// sys.Invoke, ctx.Caller: the names the guide gives a System and a Context
	receiverRe = regexp.MustCompile(`\b(sys|ctx)\.([A-Z]\w*)`)
	// Value.Tag, System.Stop, written without the package
	memberRe = regexp.MustCompile(`(?:^|[^.\w])(Value|System|Context|Error|ActorID|ValidationError|Problem|Code|Proxy)\.([A-Z]\w*)`)
)

var receiverTypes = map[string]string{"sys": "System", "ctx": "Context"}

// CheckProse reports the names in a document's prose (text outside
// fenced blocks, inline code included) that the API does not have.
func (api *API) CheckProse(doc string, prose []string) []Problem {
	var probs []Problem
	bad := func(line int, format string, args ...any) {
		probs = append(probs, Problem{doc, line, fmt.Sprintf(format, args...)})
	}
	for i, l := range prose {
		for _, m := range qualifiedRe.FindAllStringSubmatch(l, -1) {
			pkg, name, member := m[1], m[2], m[3]
			if !api.Names[pkg][name] {
				bad(i+1, "%s.%s: package %s has no exported %s", pkg, name, pkg, name)
				continue
			}
			if member != "" && pkg == "spawn" && !api.Members[name][member] {
				bad(i+1, "%s.%s.%s: %s has no method or field %s", pkg, name, member, name, member)
			}
		}
		for _, m := range receiverRe.FindAllStringSubmatch(l, -1) {
			typ := receiverTypes[m[1]]
			if !api.Members[typ][m[2]] {
				bad(i+1, "%s.%s: %s has no method %s (the guide calls a *spawn.%s %s)", m[1], m[2], typ, m[2], typ, m[1])
			}
		}
		for _, m := range memberRe.FindAllStringSubmatch(l, -1) {
			if !api.Members[m[1]][m[2]] {
				bad(i+1, "%s.%s: %s has no method or field %s", m[1], m[2], m[1], m[2])
			}
		}
	}
	return probs
}
