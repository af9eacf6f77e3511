package audit_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"kehu/internal/audit"
	"kehu/internal/i18n"
)

// TestActionsComplete reads the source of every package and checks that
// each action recorded anywhere is in audit.Actions, the list the audit
// page's filter offers, and that each entry of the list has a name in every
// catalogue. A new action that is not added to the list fails here, so the
// filter cannot fall behind the code again.
func TestActionsComplete(t *testing.T) {
	recorded := recordedActions(t, "../../internal", "../../cmd")
	// The scanner itself must keep working: actions of the audit package,
	// of a service constant and of a literal are among what it finds.
	for _, a := range []string{audit.CustomerRead, "customer.contact_check", "customer.suitability",
		"customer.provenance", "template.create", "campaign.pause"} {
		if _, ok := recorded[a]; !ok {
			t.Errorf("the source scan did not find %q: the scanner is broken", a)
		}
	}
	for a, where := range recorded {
		if !audit.KnownAction(a) {
			t.Errorf("action %q (%s) is not in audit.Actions: the audit page cannot filter by it", a, where)
		}
	}
	seen := map[string]bool{}
	for _, a := range audit.Actions {
		if seen[a] {
			t.Errorf("%q is twice in audit.Actions", a)
		}
		seen[a] = true
		if _, ok := recorded[a]; !ok {
			t.Errorf("%q is in audit.Actions but nothing records it", a)
		}
	}
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range audit.Actions {
		for _, lang := range []string{"zh-CN", "en"} {
			if _, ok := b.Lookup(lang, "audit.action."+a); !ok {
				t.Errorf("audit.action.%s has no %s name", a, lang)
			}
		}
	}
}

// actionValue is the shape of an action: area.verb.
var actionValue = regexp.MustCompile(`^[a-z_]+\.[a-z_]+$`)

// recordedActions finds, in the non-test Go files under roots, the action
// of every audit.Entry literal and every "x.Action = …" assignment whose
// value is a string literal or constant, and every string constant named
// Action… or Audit… (or declared in package audit) with an action's shape:
// the ones a service passes to a helper that builds the entry. It maps each
// action to where it was seen.
func recordedActions(t *testing.T, roots ...string) map[string]string {
	t.Helper()
	consts := map[string]string{} // package.Name → value
	var uses []ast.Expr
	usePkg := map[ast.Expr]string{}
	fset := token.NewFileSet()
	out := map[string]string{}
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			pkg := f.Name.Name
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.ValueSpec:
					for i, name := range n.Names {
						v, ok := stringLit(n.Values, i)
						if !ok || (n.Type != nil && !isIdent(n.Type, "string")) {
							continue
						}
						consts[pkg+"."+name.Name] = v
						// The audit package's own constants are actions by
						// declaration (audit.UserCreate reaches its Entry through
						// a helper's parameter).
						named := strings.HasPrefix(name.Name, "Action") || strings.HasPrefix(name.Name, "Audit") || pkg == "audit"
						if named && actionValue.MatchString(v) {
							out[v] = fset.Position(name.Pos()).String()
						}
					}
				case *ast.CompositeLit:
					if !isEntry(n.Type, pkg) {
						return true
					}
					for _, el := range n.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok && isIdent(kv.Key, "Action") {
							uses, usePkg[kv.Value] = append(uses, kv.Value), pkg
						}
					}
				case *ast.AssignStmt:
					for i, lhs := range n.Lhs {
						if sel, ok := lhs.(*ast.SelectorExpr); ok && sel.Sel.Name == "Action" && i < len(n.Rhs) {
							uses, usePkg[n.Rhs[i]] = append(uses, n.Rhs[i]), pkg
						}
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range uses {
		var v string
		var ok bool
		switch e := e.(type) {
		case *ast.BasicLit:
			v, ok = stringLit([]ast.Expr{e}, 0)
		case *ast.Ident: // a constant of the same package, or a variable
			v, ok = consts[usePkg[e]+"."+e.Name]
		case *ast.SelectorExpr:
			if x, isID := e.X.(*ast.Ident); isID {
				v, ok = consts[x.Name+"."+e.Sel.Name]
			}
		}
		if ok {
			out[v] = fset.Position(e.Pos()).String()
		}
	}
	return out
}

func stringLit(values []ast.Expr, i int) (string, bool) {
	if i >= len(values) {
		return "", false
	}
	lit, ok := values[i].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	v, err := strconv.Unquote(lit.Value)
	return v, err == nil
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// isEntry reports whether a composite literal's type is audit.Entry (or
// Entry inside package audit).
func isEntry(typ ast.Expr, pkg string) bool {
	switch typ := typ.(type) {
	case *ast.SelectorExpr:
		return isIdent(typ.X, "audit") && typ.Sel.Name == "Entry"
	case *ast.Ident:
		return pkg == "audit" && typ.Name == "Entry"
	}
	return false
}
