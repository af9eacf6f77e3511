package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"kehu/internal/access"
	"kehu/internal/customer"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// farPair queues a pair whose second customer is homed at the provincial
// branch, outside the city branch manager's subtree.
func (e *env) farPair() int64 {
	e.t.Helper()
	owner := e.bank.Users["rm_a"].ID
	far, err := e.bank.CustomerService().Create(e.bank.As("admin"), customer.New{Type: customer.Individual,
		Name: "王芳", IDType: customer.Passport, IDNumber: "G55550001", Gender: "F", OrgID: e.bank.Province.ID, OwnerID: &owner})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.bank.QueueDuplicate(e.t, e.bank.Customers["a2"].ID, far.ID)
}

// mergeCalls drives the duplicate review through its documented responses
// for the conformance walk. Calls depend on ids the earlier ones return, so
// it makes them itself and returns none.
func mergeCalls(e *env) []call {
	t := e.t
	mgr, rm := e.login("branch_manager"), e.login("rm_a")
	a1 := e.bank.Customers["a1"]
	dup, pair := e.bank.AddDuplicate(t, "a1", "E20000001")
	_, other := e.bank.AddDuplicate(t, "a2", "E20000002")
	far := e.farPair()
	p, d := "/api/v1/duplicates/"+id(pair), "/api/v1/duplicates/"+id(other)
	must := func(c call, want int) response {
		t.Helper()
		r := e.do(c)
		if r.Code != want {
			t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, r.Code, want, r.Body)
		}
		return r
	}
	must(call{method: "GET", path: "/api/v1/duplicates?status=pending&limit=10", token: mgr.token}, 200)
	must(call{method: "GET", path: "/api/v1/duplicates?status=maybe", token: mgr.token}, 400)
	must(call{method: "GET", path: "/api/v1/duplicates"}, 401)
	must(call{method: "GET", path: "/api/v1/duplicates", token: rm.token}, 403)
	must(call{method: "GET", path: p, token: mgr.token}, 200)
	must(call{method: "GET", path: p}, 401)
	must(call{method: "GET", path: p, token: rm.token}, 403)
	must(call{method: "GET", path: "/api/v1/duplicates/" + id(far), token: mgr.token}, 404)

	must(call{method: "POST", path: p + "/merge", token: mgr.token, body: map[string]any{"survivor_id": e.bank.Customers["b1"].ID}}, 422)
	must(call{method: "POST", path: p + "/merge", token: mgr.token, body: `{"survivor_id":1,"why":"x"}`}, 400)
	must(call{method: "POST", path: p + "/merge", token: mgr.token, body: "x", header: map[string]string{"Content-Type": "text/plain"}}, 415)
	must(call{method: "POST", path: p + "/merge", body: map[string]any{"survivor_id": a1.ID}}, 401)
	must(call{method: "POST", path: p + "/merge", token: rm.token, body: map[string]any{"survivor_id": a1.ID}}, 403)
	must(call{method: "POST", path: "/api/v1/duplicates/" + id(far) + "/merge", token: mgr.token, body: map[string]any{"survivor_id": a1.ID}}, 404)
	var merged struct {
		ID int64 `json:"id"`
	}
	must(call{method: "POST", path: p + "/merge", token: mgr.token, body: map[string]any{"survivor_id": a1.ID, "reason": "同一客户"}}, 200).decode(t, &merged)
	must(call{method: "POST", path: p + "/merge", token: mgr.token, body: map[string]any{"survivor_id": dup.ID}}, 409)

	must(call{method: "POST", path: d + "/dismiss", token: mgr.token, body: map[string]any{"reason": " "}}, 422)
	must(call{method: "POST", path: d + "/dismiss", token: mgr.token, body: `{"reason":`}, 400)
	must(call{method: "POST", path: d + "/dismiss", body: map[string]any{"reason": "两个人"}}, 401)
	must(call{method: "POST", path: d + "/dismiss", token: rm.token, body: map[string]any{"reason": "两个人"}}, 403)
	must(call{method: "POST", path: "/api/v1/duplicates/" + id(far) + "/dismiss", token: mgr.token, body: map[string]any{"reason": "两个人"}}, 404)
	must(call{method: "POST", path: d + "/dismiss", token: mgr.token, body: map[string]any{"reason": "两个人"}}, 200)
	must(call{method: "POST", path: d + "/dismiss", token: mgr.token, body: map[string]any{"reason": "两个人"}}, 409)

	m := "/api/v1/merges/" + id(merged.ID)
	must(call{method: "GET", path: "/api/v1/merges?customer_id=" + id(a1.ID), token: mgr.token}, 200)
	must(call{method: "GET", path: "/api/v1/merges?customer_id=x", token: mgr.token}, 400)
	must(call{method: "GET", path: "/api/v1/merges"}, 401)
	must(call{method: "GET", path: "/api/v1/merges", token: rm.token}, 403)
	must(call{method: "GET", path: m, token: mgr.token}, 200)
	must(call{method: "GET", path: m}, 401)
	must(call{method: "GET", path: m, token: rm.token}, 403)
	must(call{method: "GET", path: "/api/v1/merges/999999", token: mgr.token}, 404)
	must(call{method: "POST", path: m + "/undo", token: mgr.token, body: map[string]any{"reason": ""}}, 422)
	must(call{method: "POST", path: m + "/undo", body: map[string]any{"reason": "误合并"}}, 401)
	must(call{method: "POST", path: m + "/undo", token: rm.token, body: map[string]any{"reason": "误合并"}}, 403)
	must(call{method: "POST", path: "/api/v1/merges/999999/undo", token: mgr.token, body: map[string]any{"reason": "误合并"}}, 404)
	must(call{method: "POST", path: m + "/undo", token: mgr.token, body: map[string]any{"reason": "误合并"}}, 200)
	must(call{method: "POST", path: m + "/undo", token: mgr.token, body: map[string]any{"reason": "误合并"}}, 409)
	return nil
}

func TestMergeAndUndoOverHTTP(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.bank.AddPortfolio(t)
		mgr := e.login("branch_manager")
		a1 := e.bank.Customers["a1"]
		dup, pair := e.bank.AddDuplicate(t, "a1", "E30000001")
		var page struct {
			Items []struct {
				ID        int64 `json:"id"`
				Customers []struct {
					Customer struct {
						ID       int64    `json:"id"`
						IDNumber string   `json:"id_number"`
						Masked   []string `json:"masked"`
					} `json:"customer"`
					Records map[string]int `json:"records"`
				} `json:"customers"`
			} `json:"items"`
		}
		e.do(call{method: "GET", path: "/api/v1/duplicates?status=pending", token: mgr.token}).decode(t, &page)
		if len(page.Items) != 1 || page.Items[0].ID != pair || len(page.Items[0].Customers) != 2 {
			t.Fatalf("queue %+v", page)
		}
		left := page.Items[0].Customers[0]
		if left.Customer.ID != a1.ID || left.Customer.IDNumber == a1.IDNumber || len(left.Customer.Masked) == 0 ||
			left.Records["accounts"] != 3 {
			t.Fatalf("a1 side %+v", left)
		}
		var m struct {
			ID     int64          `json:"id"`
			Status string         `json:"status"`
			Moved  map[string]int `json:"moved"`
			Fields []string       `json:"fields"`
		}
		r := e.do(call{method: "POST", path: "/api/v1/duplicates/" + id(pair) + "/merge", token: mgr.token,
			body: map[string]any{"survivor_id": dup.ID, "reason": "以护照记录为准"}})
		if r.Code != http.StatusOK {
			t.Fatalf("merge %d %s", r.Code, r.Body)
		}
		r.decode(t, &m)
		if m.Moved["accounts"] != 3 || m.Moved["transactions"] != 25 || m.Status != "merged" {
			t.Fatalf("merge %+v", m)
		}
		// The tombstone is still readable, marked merged.
		var tomb struct {
			Status string `json:"status"`
		}
		e.do(call{method: "GET", path: "/api/v1/customers/" + id(a1.ID), token: mgr.token}).decode(t, &tomb)
		if tomb.Status != "merged" {
			t.Fatalf("tombstone status %q", tomb.Status)
		}
		r = e.do(call{method: "POST", path: "/api/v1/merges/" + id(m.ID) + "/undo", token: mgr.token,
			body: map[string]any{"reason": "方向选错"}})
		if r.Code != http.StatusOK {
			t.Fatalf("undo %d %s", r.Code, r.Body)
		}
		e.do(call{method: "GET", path: "/api/v1/customers/" + id(a1.ID), token: mgr.token}).decode(t, &tomb)
		if tomb.Status != "active" {
			t.Fatalf("status after undo %q", tomb.Status)
		}
		if p := e.do(call{method: "POST", path: "/api/v1/merges/" + id(m.ID) + "/undo", token: mgr.token,
			body: map[string]any{"reason": "again"}}).problem(t); p.Status != http.StatusConflict {
			t.Fatalf("second undo %+v", p)
		}
	})
}

// mergeAuditRequests are the audit meta-test's requests of the duplicate
// review, in route-table order: the merge creates merge 1, which the later
// requests read and undo.
func mergeAuditRequests(e *env, token string) map[string]call {
	_, pair := e.bank.AddDuplicate(e.t, "a1", "E40000001")
	_, other := e.bank.AddDuplicate(e.t, "a2", "E40000002")
	p, d := "/api/v1/duplicates/"+id(pair), "/api/v1/duplicates/"+id(other)
	return map[string]call{
		"GET /api/v1/duplicates":      {method: "GET", path: "/api/v1/duplicates", token: token},
		"GET /api/v1/duplicates/{id}": {method: "GET", path: p, token: token},
		"POST /api/v1/duplicates/{id}/merge": {method: "POST", path: p + "/merge", token: token,
			body: map[string]any{"survivor_id": e.bank.Customers["a1"].ID}},
		"POST /api/v1/duplicates/{id}/dismiss": {method: "POST", path: d + "/dismiss", token: token,
			body: map[string]any{"reason": "两个人"}},
		"GET /api/v1/merges":            {method: "GET", path: "/api/v1/merges", token: token},
		"GET /api/v1/merges/{id}":       {method: "GET", path: "/api/v1/merges/1", token: token},
		"POST /api/v1/merges/{id}/undo": {method: "POST", path: "/api/v1/merges/1/undo", token: token, body: map[string]any{"reason": "误合并"}},
	}
}

// TestDuplicateReviewScope is the scope matrix of the review: a pair is
// reachable only when both its customers are in the reviewer's scope; an
// out-of-scope pair or merge and an unknown id answer the same 404 on every
// route, and roles without customer.merge get 403.
func TestDuplicateReviewScope(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		addUser(t, e, "mgr_b", access.BranchManager, e.bank.OutletB.ID)
		_, inA := e.bank.AddDuplicate(t, "a1", "E70000001")                                     // both at outlet A
		cross := e.bank.QueueDuplicate(t, e.bank.Customers["a2"].ID, e.bank.Customers["b1"].ID) // A and B
		_, inB := e.bank.AddDuplicate(t, "b1", "E70000002")                                     // both at outlet B
		admin := e.login("admin")
		var m struct {
			ID int64 `json:"id"`
		}
		e.do(call{method: "POST", path: "/api/v1/duplicates/" + id(inA) + "/merge", token: admin.token,
			body: map[string]any{"survivor_id": e.bank.Customers["a1"].ID}}).decode(t, &m)
		routes := func(pair, merge int64) []call {
			p, mg := "/api/v1/duplicates/"+id(pair), "/api/v1/merges/"+id(merge)
			return []call{
				{method: "GET", path: p},
				{method: "POST", path: p + "/merge", body: map[string]any{"survivor_id": e.bank.Customers["b1"].ID}},
				{method: "POST", path: p + "/dismiss", body: map[string]any{"reason": "两个人"}},
				{method: "GET", path: mg},
				{method: "POST", path: mg + "/undo", body: map[string]any{"reason": "误合并"}},
			}
		}
		for _, who := range []string{"mgr_b", "branch_manager", "rm_a", "teller_b"} {
			s := e.login(who)
			may := access.Can(e.bank.Users[who].Role, access.CustomerMerge)
			var list struct {
				Items []struct {
					ID int64 `json:"id"`
				} `json:"items"`
			}
			r := e.do(call{method: "GET", path: "/api/v1/duplicates", token: s.token})
			if !may {
				if r.Code != http.StatusForbidden {
					t.Errorf("%s lists the queue: %d", who, r.Code)
				}
				continue
			}
			r.decode(t, &list)
			listed := map[int64]bool{}
			for _, it := range list.Items {
				listed[it.ID] = true
			}
			// mgr_b sees outlet B only: the pair at A and the cross pair are
			// out of scope; the city manager sees all three.
			wantOut := map[string][]int64{"mgr_b": {inA, cross}, "branch_manager": nil}[who]
			for _, pid := range wantOut {
				if listed[pid] {
					t.Errorf("%s lists pair %d outside their scope", who, pid)
				}
			}
			if !listed[inB] {
				t.Errorf("%s does not list pair %d in scope", who, inB)
			}
			if who != "mgr_b" {
				continue
			}
			unknown := routes(999999, 999999)
			for i, c := range routes(inA, m.ID) {
				c.token, unknown[i].token = s.token, s.token
				out, none := e.do(c), e.do(unknown[i])
				if out.Code != http.StatusNotFound || none.Code != http.StatusNotFound {
					t.Errorf("%s %s %s: %d (unknown %d), want 404", who, c.method, c.path, out.Code, none.Code)
					continue
				}
				if strings.Contains(out.Body.String(), e.bank.Customers["a1"].Name) {
					t.Errorf("%s %s: the 404 names the customer", c.method, c.path)
				}
				if po, pu := out.problem(t), none.problem(t); po.Detail != pu.Detail {
					t.Errorf("%s %s: out of scope %q and unknown %q differ", c.method, c.path, po.Detail, pu.Detail)
				}
			}
			cr := routes(cross, m.ID)[0]
			cr.token = s.token
			if r := e.do(cr); r.Code != http.StatusNotFound {
				t.Errorf("mgr_b reads the pair with one customer outside: %d", r.Code)
			}
		}
	})
}
