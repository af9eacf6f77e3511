package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"kehu/internal/access"
	"kehu/internal/auth"
	"kehu/internal/httpapi"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// addUser adds a user to the test bank (the bank's own call-centre agent and
// manager sit high enough to see every customer, so scope tests need
// narrower ones).
func addUser(t *testing.T, e *env, name, role string, orgID int64) {
	t.Helper()
	u, err := e.bank.Auth.AddUser(context.Background(), auth.NewUser{Username: name, Password: testkit.Password,
		Role: role, OrgID: orgID})
	if err != nil {
		t.Fatal(err)
	}
	e.bank.Users[name] = u
}

// accessCalls drives every documented status of the ownership and access
// operations for the conformance walk. The requests they decide are filed
// here first, so their ids are known.
func accessCalls(t *testing.T, e *env) []call {
	rm, mgr, cc, auditor := e.login("rm_a"), e.login("branch_manager"), e.login("hq_callcenter"), e.login("hq_compliance")
	a1 := "/api/v1/customers/" + id(e.bank.Customers["a1"].ID)
	a2 := "/api/v1/customers/" + id(e.bank.Customers["a2"].ID)
	b1 := e.bank.Customers["b1"].ID
	rmA2, rmA := e.bank.Users["rm_a2"].ID, e.bank.Users["rm_a"].ID
	file := func() string {
		r := e.do(call{method: "POST", path: "/api/v1/access-requests", token: rm.token,
			body: map[string]any{"customer_id": b1, "scope": "customer", "reason": "客户来访", "hours": 4}})
		if r.Code != http.StatusCreated {
			t.Fatalf("file request: %d %s", r.Code, r.Body)
		}
		var out struct{ ID int64 }
		r.decode(t, &out)
		return "/api/v1/access-requests/" + id(out.ID)
	}
	approved, denied, pending := file(), file(), file()
	bg := e.do(call{method: "POST", path: "/api/v1/break-glass", token: cc.token,
		body: map[string]any{"customer_id": b1, "reason": "来电挂失", "ticket": "CALL-7"}})
	var glass struct{ ID int64 }
	bg.decode(t, &glass)
	review := "/api/v1/break-glass/" + id(glass.ID) + "/review"
	json := map[string]string{"Content-Type": "text/plain"}
	return []call{
		{method: "GET", path: a1 + "/owners", token: rm.token},
		{method: "GET", path: a1 + "/owners"},
		{method: "GET", path: "/api/v1/customers/" + id(b1) + "/owners", token: rm.token},

		{method: "POST", path: a2 + "/transfer", token: mgr.token, body: map[string]any{"owner_id": rmA2, "reason": "调岗"}},
		{method: "POST", path: a2 + "/transfer", token: mgr.token, body: `{"owner_id":`},
		{method: "POST", path: a2 + "/transfer", body: map[string]any{"owner_id": rmA2, "reason": "x"}},
		{method: "POST", path: a2 + "/transfer", token: rm.token, body: map[string]any{"owner_id": rmA2, "reason": "x"}},
		{method: "POST", path: a2 + "/transfer", token: mgr.token, body: "{}", header: json},
		{method: "POST", path: a2 + "/transfer", token: mgr.token, body: map[string]any{"owner_id": rmA2}},
		{method: "POST", path: "/api/v1/customers/999999/transfer", token: mgr.token, body: map[string]any{"owner_id": rmA2, "reason": "x"}},

		{method: "POST", path: "/api/v1/customer-transfers", token: mgr.token,
			body: map[string]any{"customer_ids": []int64{e.bank.Customers["a2"].ID}, "owner_id": rmA, "reason": "回调"}},
		{method: "POST", path: "/api/v1/customer-transfers", token: mgr.token, body: `[]`},
		{method: "POST", path: "/api/v1/customer-transfers", body: map[string]any{"customer_ids": []int64{1}, "owner_id": rmA, "reason": "x"}},
		{method: "POST", path: "/api/v1/customer-transfers", token: rm.token, body: map[string]any{"customer_ids": []int64{1}, "owner_id": rmA, "reason": "x"}},
		{method: "POST", path: "/api/v1/customer-transfers", token: mgr.token, body: "{}", header: json},
		{method: "POST", path: "/api/v1/customer-transfers", token: mgr.token, body: map[string]any{"customer_ids": []int64{}, "owner_id": rmA, "reason": "x"}},
		{method: "POST", path: "/api/v1/customer-transfers", token: mgr.token, body: map[string]any{"customer_ids": []int64{999999}, "owner_id": rmA, "reason": "x"}},

		{method: "POST", path: a1 + "/secondary-rms", token: mgr.token, body: map[string]any{"user_id": rmA2}},
		{method: "POST", path: a1 + "/secondary-rms", token: mgr.token, body: map[string]any{"user_id": rmA2}},
		{method: "POST", path: a1 + "/secondary-rms", token: mgr.token, body: `{"user_id":"x"}`},
		{method: "POST", path: a1 + "/secondary-rms", body: map[string]any{"user_id": rmA2}},
		{method: "POST", path: a1 + "/secondary-rms", token: rm.token, body: map[string]any{"user_id": rmA2}},
		{method: "POST", path: a1 + "/secondary-rms", token: mgr.token, body: "{}", header: json},
		{method: "POST", path: a1 + "/secondary-rms", token: mgr.token, body: map[string]any{"user_id": e.bank.Users["teller_a"].ID}},
		{method: "POST", path: "/api/v1/customers/999999/secondary-rms", token: mgr.token, body: map[string]any{"user_id": rmA2}},
		{method: "DELETE", path: a1 + "/secondary-rms/" + id(rmA2), token: mgr.token},
		{method: "DELETE", path: a1 + "/secondary-rms/" + id(rmA2), token: mgr.token},
		{method: "DELETE", path: a1 + "/secondary-rms/" + id(rmA2)},
		{method: "DELETE", path: a1 + "/secondary-rms/" + id(rmA2), token: rm.token},

		{method: "POST", path: "/api/v1/access-requests", token: rm.token, body: `{"customer_id":1,"status":"approved"}`},
		{method: "POST", path: "/api/v1/access-requests", body: map[string]any{"customer_id": b1}},
		{method: "POST", path: "/api/v1/access-requests", token: rm.token, body: "{}", header: json},
		{method: "POST", path: "/api/v1/access-requests", token: rm.token, body: map[string]any{"customer_id": b1, "scope": "all", "hours": 0}},
		{method: "GET", path: "/api/v1/access-requests?mine=true", token: rm.token},
		{method: "GET", path: "/api/v1/access-requests?status=pending", token: mgr.token},
		{method: "GET", path: "/api/v1/access-requests?status=granted", token: mgr.token},
		{method: "GET", path: "/api/v1/access-requests"},

		{method: "POST", path: approved + "/approve", token: mgr.token, body: map[string]any{"comment": "同意"}},
		{method: "POST", path: approved + "/approve", token: auditor.token, body: map[string]any{}},
		{method: "POST", path: approved + "/approve", token: mgr.token, body: `{`},
		{method: "POST", path: approved + "/approve", body: map[string]any{}},
		{method: "POST", path: approved + "/approve", token: rm.token, body: map[string]any{}},
		{method: "POST", path: "/api/v1/access-requests/999999/approve", token: mgr.token, body: map[string]any{}},
		{method: "POST", path: pending + "/approve", token: mgr.token, body: "{}", header: json},
		{method: "POST", path: pending + "/approve", token: mgr.token, body: map[string]any{"comment": strings.Repeat("长", 501)}},

		{method: "POST", path: denied + "/deny", token: mgr.token, body: map[string]any{"comment": "理由不足"}},
		{method: "POST", path: denied + "/deny", token: mgr.token, body: map[string]any{"comment": "again"}},
		{method: "POST", path: denied + "/deny", token: mgr.token, body: `{"comment":1}`},
		{method: "POST", path: denied + "/deny", body: map[string]any{"comment": "x"}},
		{method: "POST", path: denied + "/deny", token: rm.token, body: map[string]any{"comment": "x"}},
		{method: "POST", path: "/api/v1/access-requests/999999/deny", token: mgr.token, body: map[string]any{"comment": "x"}},
		{method: "POST", path: pending + "/deny", token: mgr.token, body: "{}", header: json},
		{method: "POST", path: pending + "/deny", token: mgr.token, body: map[string]any{}},

		{method: "POST", path: approved + "/revoke", token: rm.token, body: map[string]any{"comment": "办结"}},
		{method: "POST", path: approved + "/revoke", token: rm.token, body: map[string]any{}},
		{method: "POST", path: approved + "/revoke", token: rm.token, body: `x`},
		{method: "POST", path: approved + "/revoke", body: map[string]any{}},
		{method: "POST", path: "/api/v1/access-requests/999999/revoke", token: rm.token, body: map[string]any{}},
		{method: "POST", path: pending + "/revoke", token: rm.token, body: "{}", header: json},

		{method: "POST", path: "/api/v1/break-glass", token: cc.token, body: map[string]any{"customer_id": b1, "reason": "来电", "ticket": "CALL-8"}},
		{method: "POST", path: "/api/v1/break-glass", token: cc.token, body: `{"customer_id":1,"expires_at":"2099-01-01T00:00:00Z"}`},
		{method: "POST", path: "/api/v1/break-glass", body: map[string]any{"customer_id": b1}},
		{method: "POST", path: "/api/v1/break-glass", token: rm.token, body: map[string]any{"customer_id": b1, "reason": "x", "ticket": "y"}},
		{method: "POST", path: "/api/v1/break-glass", token: cc.token, body: "{}", header: json},
		{method: "POST", path: "/api/v1/break-glass", token: cc.token, body: map[string]any{"customer_id": b1}},
		{method: "POST", path: "/api/v1/break-glass", token: cc.token, body: map[string]any{"customer_id": 999999, "reason": "x", "ticket": "y"}},
		{method: "GET", path: "/api/v1/break-glass?reviewed=false", token: auditor.token},
		{method: "GET", path: "/api/v1/break-glass?reviewed=maybe", token: auditor.token},
		{method: "GET", path: "/api/v1/break-glass"},
		{method: "GET", path: "/api/v1/break-glass", token: rm.token},

		{method: "POST", path: review, token: auditor.token, body: map[string]any{"comment": "与来电记录一致"}},
		{method: "POST", path: review, token: auditor.token, body: map[string]any{"comment": "again"}},
		{method: "POST", path: review, token: auditor.token, body: `{"comment":`},
		{method: "POST", path: review, body: map[string]any{"comment": "x"}},
		{method: "POST", path: review, token: rm.token, body: map[string]any{"comment": "x"}},
		{method: "POST", path: "/api/v1/break-glass/999999/review", token: auditor.token, body: map[string]any{"comment": "x"}},
		{method: "POST", path: review, token: auditor.token, body: "{}", header: json},
		{method: "POST", path: review, token: auditor.token, body: map[string]any{}},
	}
}

// probe is one customer-bearing route of the scope matrix: how to call it
// for a customer id, and which roles hold its permission.
type probe struct {
	perm access.Permission
	call func(e *env, s session, customerID int64) call
}

// customerProbes covers every customer-bearing API route. A route added to
// the table without a probe here fails TestScopeMatrix.
func customerProbes(t *testing.T, e *env) map[string]probe {
	path := func(cid int64, rest string) string { return "/api/v1/customers/" + id(cid) + rest }
	m := map[string]probe{
		"GET /api/v1/customers": {access.CustomerRead, func(e *env, s session, cid int64) call {
			return call{method: "GET", path: "/api/v1/customers?q=" + id(cid), token: s.token}
		}},
		"POST /api/v1/customers": {access.CustomerWrite, nil}, // placement: TestMassAssignment
		"GET /api/v1/customers/{id}": {access.CustomerRead, func(e *env, s session, cid int64) call {
			return call{method: "GET", path: path(cid, ""), token: s.token}
		}},
		"PATCH /api/v1/customers/{id}": {access.CustomerWrite, func(e *env, s session, cid int64) call {
			return call{method: "PATCH", path: path(cid, ""), token: s.token, body: map[string]any{"email": "scope@example.cn"}}
		}},
		"POST /api/v1/customers/{id}/unmask": {access.CustomerUnmask, func(e *env, s session, cid int64) call {
			return call{method: "POST", path: path(cid, "/unmask"), token: s.token,
				body: map[string]any{"fields": []string{"mobile"}, "reason": "核实"}}
		}},
		"GET /api/v1/customers/{id}/owners": {access.CustomerRead, func(e *env, s session, cid int64) call {
			return call{method: "GET", path: path(cid, "/owners"), token: s.token}
		}},
		"POST /api/v1/customers/{id}/transfer": {access.CustomerTransfer, func(e *env, s session, cid int64) call {
			return call{method: "POST", path: path(cid, "/transfer"), token: s.token,
				body: map[string]any{"owner_id": e.bank.Users[ownerFor(e, s)].ID, "reason": "矩阵"}}
		}},
		"POST /api/v1/customer-transfers": {access.CustomerTransfer, func(e *env, s session, cid int64) call {
			return call{method: "POST", path: "/api/v1/customer-transfers", token: s.token,
				body: map[string]any{"customer_ids": []int64{cid}, "owner_id": e.bank.Users[ownerFor(e, s)].ID, "reason": "矩阵"}}
		}},
		"POST /api/v1/customers/{id}/secondary-rms": {access.CustomerTransfer, func(e *env, s session, cid int64) call {
			return call{method: "POST", path: path(cid, "/secondary-rms"), token: s.token,
				body: map[string]any{"user_id": e.bank.Users["rm_b2"].ID}}
		}},
		"DELETE /api/v1/customers/{id}/secondary-rms/{user_id}": {access.CustomerTransfer, func(e *env, s session, cid int64) call {
			// Make sure there is one to remove, whatever order the probes run in.
			_ = e.bank.EntitlementService().AddSecondary(e.bank.As("admin"), cid, e.bank.Users["rm_b3"].ID)
			return call{method: "DELETE", path: path(cid, "/secondary-rms/"+id(e.bank.Users["rm_b3"].ID)), token: s.token}
		}},
		// Privacy (privacy_test.go). The bulk CSV is a search, not one
		// customer: an out-of-scope id simply matches nothing there.
		"GET /api/v1/customers/{id}/export": {access.PrivacyManage, func(e *env, s session, cid int64) call {
			return call{method: "GET", path: path(cid, "/export"), token: s.token}
		}},
		"GET /api/v1/customers/{id}/consents": {access.CustomerRead, func(e *env, s session, cid int64) call {
			return call{method: "GET", path: path(cid, "/consents"), token: s.token}
		}},
		"PUT /api/v1/customers/{id}/consents": {access.CustomerRead, func(e *env, s session, cid int64) call {
			return call{method: "PUT", path: path(cid, "/consents"), token: s.token,
				body: map[string]any{"consents": []map[string]any{{"channel": "phone", "granted": false}}, "source": "phone"}}
		}},
		"GET /api/v1/customers/export": {access.CustomerRead, nil},
		// Field provenance and source records (provenance_test.go).
		"GET /api/v1/customers/{id}/provenance": {access.CustomerRead, func(e *env, s session, cid int64) call {
			return call{method: "GET", path: path(cid, "/provenance"), token: s.token}
		}},
	}
	for k, v := range c360Probes(t, e) {
		m[k] = v
	}
	for k, v := range governanceProbes(t, e) {
		m[k] = v
	}
	for k, v := range policyProbes() {
		m[k] = v
	}
	return m
}

// ownerFor is the current owner of the manager's in-scope customer, so a
// transfer changes nothing and fails only for scope reasons.
func ownerFor(e *env, s session) string { return "rm_b" }

// customerRoute reports whether a route pattern bears customer data.
func customerRoute(pattern string) bool {
	return strings.Contains(pattern, "/customers") || strings.Contains(pattern, "/customer-transfers")
}

// TestScopeMatrix is the role × scope × endpoint table of issue 3: for every
// customer-bearing route and each actor, a customer in scope answers
// success, one outside scope and an unknown id answer 404 with the same body
// and without the customer's name (a role without the route's permission
// gets 403 whatever the id, which reveals nothing either).
func TestScopeMatrix(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		addUser(t, e, "mgr_b", access.BranchManager, e.bank.OutletB.ID)
		addUser(t, e, "rm_b2", access.RelationshipMgr, e.bank.OutletB.ID)
		addUser(t, e, "rm_b3", access.RelationshipMgr, e.bank.OutletB.ID)
		probes := customerProbes(t, e)
		for _, pattern := range httpapi.RoutePatterns() {
			if customerRoute(pattern) {
				if _, ok := probes[pattern]; !ok {
					t.Errorf("%s bears customer data but the scope matrix has no probe for it", pattern)
				}
			}
		}
		c := e.bank.Customers
		actors := []struct {
			user      string
			in, out   string // customer keys
			scopeName string
		}{
			{"rm_a", "a1", "b1", "own"},
			{"rm_a2", "a3", "a1", "own"},
			{"teller_a", "a2", "b1", "outlet"},
			{"lobby_a", "a1", "b1", "outlet"},
			{"mgr_b", "b1", "a1", "subtree"},
			{"teller_b", "b1", "a3", "outlet"},
			{"rm_b", "b1", "corp_a", "own"},
			// A source system's account holds no customer.read: 403 on
			// every customer route, whatever the id.
			{"hq_integration", "a1", "b1", "bank, no customer.read"},
		}
		for _, a := range actors {
			s := e.login(a.user)
			role := e.bank.Users[a.user].Role
			for pattern, p := range probes {
				if p.call == nil {
					continue
				}
				name := fmt.Sprintf("%s(%s) %s", a.user, a.scopeName, pattern)
				in := e.do(p.call(e, s, c[a.in].ID))
				out := e.do(p.call(e, s, c[a.out].ID))
				unknown := e.do(p.call(e, s, 999999))
				if !access.Can(role, p.perm) {
					for _, r := range []response{in, out, unknown} {
						if r.Code != http.StatusForbidden {
							t.Errorf("%s: %d without the permission, want 403", name, r.Code)
						}
					}
					continue
				}
				if strings.HasPrefix(pattern, "GET /api/v1/customers") && !strings.Contains(pattern, "{id}") {
					checkListScope(t, name, in, out, c[a.in].ID, c[a.out].ID)
					continue
				}
				if in.Code >= 300 {
					t.Errorf("%s in scope: %d %s", name, in.Code, in.Body)
				}
				for label, r := range map[string]response{"out of scope": out, "unknown": unknown} {
					if r.Code != http.StatusNotFound {
						t.Errorf("%s %s: %d %s, want 404", name, label, r.Code, r.Body)
					}
					if strings.Contains(r.Body.String(), c[a.out].Name) {
						t.Errorf("%s %s: body names the customer", name, label)
					}
				}
				if pb, pu := out.problem(t), unknown.problem(t); pb.Type != pu.Type || pb.Detail != pu.Detail {
					t.Errorf("%s: out-of-scope %q and unknown %q answer differently", name, pb.Detail, pu.Detail)
				}
			}
		}
	})
}

func checkListScope(t *testing.T, name string, in, out response, inID, outID int64) {
	t.Helper()
	var page struct{ Items []struct{ ID int64 } }
	in.decode(t, &page)
	if in.Code != 200 || len(page.Items) != 1 || page.Items[0].ID != inID {
		t.Errorf("%s: in-scope search %d %s", name, in.Code, in.Body)
	}
	page.Items = nil
	out.decode(t, &page)
	if out.Code != 200 || len(page.Items) != 0 {
		t.Errorf("%s: out-of-scope search %d %s", name, out.Code, out.Body)
	}
}

// TestGrantWindow: after approval every read route answers 200 until the
// grant expires (the clock moves), then 404 again; writes stay 404; break
// glass opens a customer for 15 minutes.
func TestGrantWindow(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		addUser(t, e, "cc_b", access.CallCenterAgent, e.bank.OutletB.ID)
		rm, mgr := e.login("rm_a"), e.login("branch_manager")
		b1, a1 := e.bank.Customers["b1"], e.bank.Customers["a1"]
		reads := func(s session, cid int64) []call {
			p := "/api/v1/customers/" + id(cid)
			return []call{{method: "GET", path: p, token: s.token}, {method: "GET", path: p + "/owners", token: s.token},
				{method: "GET", path: "/api/v1/customers?q=" + id(cid), token: s.token}}
		}
		// Each check signs in afresh: hours pass between them, longer than a
		// session's idle timeout.
		expect := func(when string, user string, cid int64, want int) {
			t.Helper()
			for _, c := range reads(e.login(user), cid) {
				r := e.do(c)
				got := r.Code
				if strings.Contains(c.path, "?q=") {
					var page struct{ Items []any }
					r.decode(t, &page)
					if got = http.StatusNotFound; len(page.Items) == 1 {
						got = http.StatusOK
					}
				}
				if got != want {
					t.Errorf("%s: %s %s → %d, want %d", when, c.method, c.path, got, want)
				}
			}
		}
		expect("before request", "rm_a", b1.ID, 404)
		r := e.do(call{method: "POST", path: "/api/v1/access-requests", token: rm.token,
			body: map[string]any{"customer_id": b1.ID, "scope": "customer", "reason": "联合拜访", "hours": 8}})
		if r.Code != 201 || strings.Contains(r.Body.String(), b1.Name) {
			t.Fatalf("request: %d %s (must not name the customer)", r.Code, r.Body)
		}
		var req struct{ ID int64 }
		r.decode(t, &req)
		expect("pending", "rm_a", b1.ID, 404)
		if r := e.do(call{method: "POST", path: "/api/v1/access-requests/" + id(req.ID) + "/approve", token: rm.token,
			body: map[string]any{}}); r.Code != 403 {
			t.Fatalf("self-approval: %d", r.Code)
		}
		if r := e.do(call{method: "POST", path: "/api/v1/access-requests/" + id(req.ID) + "/approve", token: mgr.token,
			body: map[string]any{"comment": "ok"}}); r.Code != 200 {
			t.Fatalf("approve: %d %s", r.Code, r.Body)
		}
		expect("approved", "rm_a", b1.ID, 200)
		if r := e.do(call{method: "PATCH", path: "/api/v1/customers/" + id(b1.ID), token: rm.token,
			body: map[string]any{"email": "x@example.cn"}}); r.Code != 404 {
			t.Errorf("write with a read grant: %d", r.Code)
		}
		e.bank.Clock.Advance(8*time.Hour - time.Minute)
		expect("just before expiry", "rm_a", b1.ID, 200)
		e.bank.Clock.Advance(time.Minute)
		expect("expired", "rm_a", b1.ID, 404)

		expect("before break glass", "cc_b", a1.ID, 404)
		if r := e.do(call{method: "POST", path: "/api/v1/break-glass", token: e.login("cc_b").token,
			body: map[string]any{"customer_id": a1.ID, "reason": "来电挂失", "ticket": "CALL-1"}}); r.Code != 201 {
			t.Fatalf("break glass: %d %s", r.Code, r.Body)
		}
		expect("break glass", "cc_b", a1.ID, 200)
		e.bank.Clock.Advance(15 * time.Minute)
		expect("break glass over", "cc_b", a1.ID, 404)
	})
}

// TestIDORGuessing walks every id around the bank's customers as an RM: only
// their own answer 200, every other id the same 404.
func TestIDORGuessing(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		rm := e.login("rm_a")
		own := map[int64]bool{}
		for _, k := range []string{"a1", "a2", "corp_a"} {
			own[e.bank.Customers[k].ID] = true
		}
		for cid := int64(-1); cid <= 20; cid++ {
			for _, suffix := range []string{"", "/owners"} {
				r := e.do(call{method: "GET", path: fmt.Sprintf("/api/v1/customers/%d%s", cid, suffix), token: rm.token})
				want := http.StatusNotFound
				if own[cid] {
					want = http.StatusOK
				}
				if r.Code != want {
					t.Errorf("GET customer %d%s: %d, want %d", cid, suffix, r.Code, want)
				}
			}
		}
		// Request ids of others: a foreign approver cannot act on them.
		addUser(t, e, "mgr_b", access.BranchManager, e.bank.OutletB.ID)
		r := e.do(call{method: "POST", path: "/api/v1/access-requests", token: rm.token,
			body: map[string]any{"customer_id": e.bank.Customers["a3"].ID, "scope": "customer", "reason": "x", "hours": 1}})
		var req struct{ ID int64 }
		r.decode(t, &req)
		other := e.login("mgr_b")
		for _, verb := range []string{"approve", "deny", "revoke"} {
			r := e.do(call{method: "POST", path: "/api/v1/access-requests/" + id(req.ID) + "/" + verb, token: other.token,
				body: map[string]any{"comment": "x"}})
			if r.Code != http.StatusNotFound {
				t.Errorf("%s another branch's request: %d", verb, r.Code)
			}
		}
	})
}

// TestMassAssignment: owner, organisation, role, scope and grant fields
// cannot be pushed through bodies.
func TestMassAssignment(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		rm := e.login("rm_a")
		a1 := "/api/v1/customers/" + id(e.bank.Customers["a1"].ID)
		outside := e.newIndividual()
		outside["org_id"] = e.bank.OutletB.ID
		foreignOwner := e.newIndividual()
		foreignOwner["owner_id"] = e.bank.Users["rm_b"].ID
		cases := []struct {
			name string
			c    call
			want int
		}{
			{"create at another outlet", call{method: "POST", path: "/api/v1/customers", token: rm.token, body: outside}, 403},
			{"create owned by another RM", call{method: "POST", path: "/api/v1/customers", token: rm.token, body: foreignOwner}, 403},
			{"move to another outlet", call{method: "PATCH", path: a1, token: rm.token, body: map[string]any{"org_id": e.bank.OutletB.ID}}, 403},
			{"give to another RM", call{method: "PATCH", path: a1, token: rm.token, body: map[string]any{"owner_id": e.bank.Users["rm_b"].ID}}, 403},
			{"role in a customer", call{method: "PATCH", path: a1, token: rm.token, body: map[string]any{"role": "admin"}}, 400},
			{"scope in a customer", call{method: "PATCH", path: a1, token: rm.token, body: map[string]any{"scope": "bank"}}, 400},
			{"status in a request", call{method: "POST", path: "/api/v1/access-requests", token: rm.token,
				body: map[string]any{"customer_id": 1, "scope": "customer", "reason": "x", "hours": 1, "status": "approved"}}, 400},
			{"grantee in a request", call{method: "POST", path: "/api/v1/access-requests", token: rm.token,
				body: map[string]any{"customer_id": 1, "scope": "customer", "reason": "x", "hours": 1, "requester_id": 1}}, 400},
			{"hours beyond the limit", call{method: "POST", path: "/api/v1/access-requests", token: rm.token,
				body: map[string]any{"customer_id": 1, "scope": "customer", "reason": "x", "hours": 10000}}, 422},
			{"expiry in break glass", call{method: "POST", path: "/api/v1/break-glass", token: e.login("hq_callcenter").token,
				body: map[string]any{"customer_id": 1, "reason": "x", "ticket": "y", "expires_at": "2099-01-01T00:00:00Z"}}, 400},
			{"org in a transfer", call{method: "POST", path: a1 + "/transfer", token: e.login("branch_manager").token,
				body: map[string]any{"owner_id": e.bank.Users["rm_a2"].ID, "reason": "x", "org_id": e.bank.OutletB.ID}}, 400},
		}
		for _, tc := range cases {
			if r := e.do(tc.c); r.Code != tc.want {
				t.Errorf("%s: %d %s, want %d", tc.name, r.Code, r.Body, tc.want)
			}
		}
	})
}

// hostile are injection strings for every searchable or free-text field.
var hostile = []string{`' OR '1'='1`, `'; DROP TABLE customers; --`, `<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`, `%' OR 1=1 --`, "\\x00\\u202e", `{{.}}`}

// TestInjectionStrings sends the hostile strings through q, reason, comment
// and ticket: never a 500, and free text comes back exactly as sent.
func TestInjectionStrings(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		rm, mgr, cc, auditor := e.login("rm_a"), e.login("branch_manager"), e.login("hq_callcenter"), e.login("hq_compliance")
		for _, h := range hostile {
			for _, path := range []string{"/api/v1/customers?q=", "/api/v1/access-requests?status="} {
				if r := e.do(call{method: "GET", path: path + urlQuery(h), token: rm.token}); r.Code >= 500 {
					t.Errorf("%s%q: %d", path, h, r.Code)
				}
			}
			r := e.do(call{method: "POST", path: "/api/v1/access-requests", token: rm.token,
				body: map[string]any{"customer_id": e.bank.Customers["b1"].ID, "scope": "customer", "reason": h, "hours": 1}})
			var req struct {
				ID     int64
				Reason string
			}
			r.decode(t, &req)
			if r.Code != 201 || req.Reason != strings.TrimSpace(h) {
				t.Errorf("reason %q: %d %s", h, r.Code, r.Body)
			}
			if r := e.do(call{method: "POST", path: "/api/v1/access-requests/" + id(req.ID) + "/deny", token: mgr.token,
				body: map[string]any{"comment": h}}); r.Code != 200 {
				t.Errorf("comment %q: %d %s", h, r.Code, r.Body)
			}
			r = e.do(call{method: "POST", path: "/api/v1/break-glass", token: cc.token,
				body: map[string]any{"customer_id": e.bank.Customers["b1"].ID, "reason": h, "ticket": h}})
			var g struct{ ID int64 }
			r.decode(t, &g)
			if r.Code != 201 {
				t.Errorf("break glass %q: %d", h, r.Code)
			}
			if r := e.do(call{method: "POST", path: "/api/v1/break-glass/" + id(g.ID) + "/review", token: auditor.token,
				body: map[string]any{"comment": h}}); r.Code != 200 {
				t.Errorf("review %q: %d", h, r.Code)
			}
		}
		if n, err := db.CountRows(context.Background(), "customers"); err != nil || n != int64(len(e.bank.Customers)) {
			t.Fatalf("customers after injection: %d %v", n, err)
		}
	})
}

func urlQuery(s string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", "#", "%23", " ", "%20", "+", "%2B", "\\", "%5C", "\"", "%22", "<", "%3C", ">", "%3E", "{", "%7B", "}", "%7D", "'", "%27", ";", "%3B").Replace(s)
}
