package web_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"kehu/internal/access"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// webProbe requests one customer-bearing UI route for customer id cid.
// perm is the permission without which the route answers 403 for every id;
// "" when the service decides per customer (unmask: a c2_fields grant).
type webProbe struct {
	perm access.Permission
	call func(c *client, csrf string, cid int64) response
}

// webCustomerProbes covers every UI route whose pattern names a customer.
// A route registered in internal/web without a probe here fails
// TestUIScopeMatrix (the patterns are read from the package's source).
func webCustomerProbes(t testing.TB, b *testkit.Bank) map[string]webProbe {
	page := func(cid int64) string { return "/customers/" + strconv.FormatInt(cid, 10) }
	get := func(rest string, headers ...string) func(c *client, csrf string, cid int64) response {
		return func(c *client, _ string, cid int64) response { return c.get(page(cid)+rest, headers...) }
	}
	post := func(rest string, form url.Values) func(c *client, csrf string, cid int64) response {
		return func(c *client, csrf string, cid int64) response {
			f := url.Values{"csrf": {csrf}}
			for k, v := range form {
				f[k] = v
			}
			return c.post(page(cid)+rest, f)
		}
	}
	m := map[string]webProbe{
		"GET /customers/{id}":                                 {access.CustomerRead, get("")},
		"GET /customers/{id}/owners":                          {access.CustomerRead, get("/owners")},
		"GET /customers/{id}/privacy":                         {access.CustomerRead, get("/privacy")},
		"GET /customers/{id}/unmask":                          {"", get("/unmask?field=mobile")},
		"POST /customers/{id}/unmask":                         {"", post("/unmask", url.Values{"field": {"mobile"}, "reason": {"核实身份"}})},
		"POST /customers/{id}/transfer":                       {access.CustomerTransfer, nil}, // TestOwnersPanel; out of scope below
		"POST /customers/{id}/secondary-rms":                  {access.CustomerTransfer, nil},
		"POST /customers/{id}/secondary-rms/{user_id}/remove": {access.CustomerTransfer, nil},
		"POST /customers/{id}/consents":                       {access.CustomerRead, nil}, // TestConsentForms
		"POST /customers/{id}/privacy-requests":               {access.CustomerRead, nil},
		"GET /customers/{id}/provenance":                      {access.CustomerRead, get("/provenance")},
	}
	maps.Copy(m, c360WebProbes(t, b))
	return m
}

// registeredCustomerRoutes reads the mux patterns registered in the
// package's source (mux.Handle/HandleFunc with a literal pattern) that
// name a customer id.
func registeredCustomerRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle") {
				return true
			}
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				p, _ := strconv.Unquote(lit.Value)
				if strings.Contains(p, "/customers/{id}") {
					out = append(out, p)
				}
			}
			return true
		})
	}
	if len(out) < 5 {
		t.Fatalf("found only %v: the route scan no longer sees the mux", out)
	}
	return out
}

var titleAndHeading = regexp.MustCompile(`(?s)<title>.*?</title>|<h1[^>]*>.*?</h1>`)

// TestUIScopeMatrix is the UI's role × customer × page table: each role
// sees exactly its scope on the customer list and the export, and on every
// page naming a customer an in-scope id answers 200 with the customer's
// name as the role may see it, while an out-of-scope and an unknown id
// answer the same 404 without the name (403 for a role lacking a route's
// permission, whatever the id).
func TestUIScopeMatrix(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		probes := webCustomerProbes(t, a.Bank)
		registered := registeredCustomerRoutes(t)
		for _, p := range registered {
			if _, ok := probes[p]; !ok {
				t.Errorf("UI route %s names a customer but the scope matrix has no probe for it", p)
			}
		}
		for p := range probes {
			if !contains(registered, p) {
				t.Errorf("the scope matrix probes %s, which is not registered", p)
			}
		}
		keys := []string{"a1", "b1", "corp_a"}
		scope := map[string][]string{
			"teller_a": {"a1", "corp_a"}, "lobby_a": {"a1", "corp_a"}, "rm_a": {"a1", "corp_a"}, "rm_a2": {},
			"branch_manager": keys, "hq_marketing": keys, "hq_compliance": keys, "hq_callcenter": {}, "admin": keys,
			// The data steward reads the bank (head office, subtree) to
			// review duplicates; the integration account reads nobody.
			"hq_steward": keys, "hq_integration": {},
		}
		for user, in := range scope {
			c := a.login(t, user)
			role := a.Users[user].Role
			csrf := c.csrf(c.get("/security"))
			shown := func(key string) string {
				cu := a.Customers[key]
				if user == "hq_marketing" && cu.Type == "individual" {
					return string([]rune(cu.Name)[:1]) + "*"
				}
				return cu.Name
			}
			unknown := map[string]response{}
			for pattern, p := range probes {
				if p.call != nil {
					unknown[pattern] = p.call(c, csrf, 999999)
				}
			}
			for _, key := range keys {
				cu := a.Customers[key]
				inScope := contains(in, key)
				name := user + " " + key
				list := c.get("/customers?q=" + strconv.FormatInt(cu.ID, 10))
				export := c.post("/customers/export", url.Values{"csrf": {csrf}, "q": {strconv.FormatInt(cu.ID, 10)}})
				if !access.Can(role, access.CustomerRead) {
					// A role without customers is refused the list and the
					// export outright.
					if list.status != http.StatusForbidden || export.status != http.StatusForbidden ||
						strings.Contains(list.body+export.body, cu.Name) {
						t.Errorf("%s: list %d, export %d without customer.read, want 403 without the name", name,
							list.status, export.status)
					}
				} else {
					if list.status != http.StatusOK || strings.Contains(list.body, shown(key)) != inScope {
						t.Errorf("%s: list %d, shows the customer = %v", name, list.status, !inScope)
					}
					if export.status != http.StatusOK || strings.Contains(export.body, shown(key)) != inScope ||
						(!inScope && strings.Contains(export.body, cu.Name)) {
						t.Errorf("%s: export %d, holds the customer = %v", name, export.status, !inScope)
					}
				}
				for pattern, p := range probes {
					label := name + " " + pattern
					if p.call == nil {
						// A refused write is tried out of scope only: it
						// must be 404 (403 without the permission).
						if inScope {
							continue
						}
					}
					r := callProbe(c, csrf, pattern, p, cu.ID)
					switch {
					case p.perm != "" && !access.Can(role, p.perm):
						if r.status != http.StatusForbidden {
							t.Errorf("%s: %d without the permission, want 403", label, r.status)
						}
					case !inScope:
						// Unmasking is refused (403) before the scope is
						// looked at for a role that could never unmask —
						// the same answer for every id.
						noUnmask := p.perm == "" && !access.Can(role, access.CustomerUnmask)
						if r.status != http.StatusNotFound && !(noUnmask && r.status == http.StatusForbidden) {
							t.Errorf("%s: out of scope %d, want 404", label, r.status)
						}
						if u, ok := unknown[pattern]; ok && (u.status != r.status ||
							strings.Join(titleAndHeading.FindAllString(u.body, -1), "") !=
								strings.Join(titleAndHeading.FindAllString(r.body, -1), "")) {
							t.Errorf("%s: out of scope and unknown answer differently (%d, %d)", label, r.status, u.status)
						}
					case p.perm == "" && !access.Can(role, access.CustomerUnmask):
						if r.status != http.StatusForbidden {
							t.Errorf("%s: %d without customer.unmask or a grant, want 403", label, r.status)
						}
					default:
						if r.status != http.StatusOK {
							t.Errorf("%s: in scope %d, want 200", label, r.status)
						}
						if pattern == "GET /customers/{id}" && !strings.Contains(r.body, shown(key)) {
							t.Errorf("%s: page does not name the customer", label)
						}
					}
					if !inScope && strings.Contains(r.body, cu.Name) {
						t.Errorf("%s: out-of-scope answer names the customer", label)
					}
				}
			}
		}
	})
}

// callProbe runs p, or for a write without a probe function a minimal
// refused form post.
func callProbe(c *client, csrf, pattern string, p webProbe, cid int64) response {
	if p.call != nil {
		return p.call(c, csrf, cid)
	}
	path := strings.TrimPrefix(pattern, "POST ")
	path = strings.ReplaceAll(path, "{id}", strconv.FormatInt(cid, 10))
	path = strings.ReplaceAll(path, "{user_id}", "1")
	return c.post(path, url.Values{"csrf": {csrf}, "owner_id": {"1"}, "user_id": {"1"}, "reason": {"矩阵"},
		"withdraw": {"sms"}, "source": {"phone"}, "kind": {"access"}})
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
