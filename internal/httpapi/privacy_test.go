package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"kehu/internal/httpapi"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// privacyThreshold is the bulk threshold of the test server: the test bank
// has five customers, so the admin's export crosses it and a teller's does not.
const privacyThreshold = 3

// privacyCalls drives every privacy route through its documented responses
// for the conformance walk. Later calls depend on ids the earlier ones
// return, so it makes its calls itself and returns none.
func privacyCalls(e *env) []call {
	t := e.t
	admin, comp, teller, tellerB, rm, cc := e.login("admin"), e.login("hq_compliance"), e.login("teller_a"),
		e.login("teller_b"), e.login("rm_a"), e.login("hq_callcenter")
	a1, b1 := e.bank.Customers["a1"].ID, e.bank.Customers["b1"].ID
	pr := "/api/v1/privacy-requests"
	must := func(c call, want int) response {
		t.Helper()
		r := e.do(c)
		if r.Code != want {
			t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, r.Code, want, r.Body)
		}
		return r
	}
	newID := func(r response) string {
		var v struct {
			ID int64 `json:"id"`
		}
		r.decode(t, &v)
		return id(v.ID)
	}
	access := newID(must(call{method: "POST", path: pr, token: teller.token,
		body: map[string]any{"kind": "access", "customer_id": a1, "notes": "柜台收到"}}, 201))
	rectify := newID(must(call{method: "POST", path: pr, token: teller.token,
		body: map[string]any{"kind": "rectify", "customer_id": a1}}, 201))
	must(call{method: "POST", path: pr, token: teller.token, body: `{"kind":`}, 400)
	must(call{method: "POST", path: pr, body: map[string]any{"kind": "access", "customer_id": a1}}, 401)
	must(call{method: "POST", path: pr, token: teller.token, body: map[string]any{"kind": "access", "customer_id": b1}}, 404)
	must(call{method: "POST", path: pr, token: teller.token, body: map[string]any{"kind": "forget", "customer_id": a1}}, 422)

	must(call{method: "GET", path: pr + "?status=received&limit=1", token: comp.token}, 200)
	must(call{method: "GET", path: pr + "?cursor=nope", token: comp.token}, 400)
	must(call{method: "GET", path: pr}, 401)
	must(call{method: "GET", path: pr, token: teller.token}, 403)
	must(call{method: "GET", path: pr + "/" + access, token: comp.token}, 200)
	must(call{method: "GET", path: pr + "/" + access}, 401)
	must(call{method: "GET", path: pr + "/" + access, token: teller.token}, 403)
	must(call{method: "GET", path: pr + "/x", token: comp.token}, 404)

	must(call{method: "POST", path: pr + "/" + access + "/start", token: comp.token}, 200)
	must(call{method: "POST", path: pr + "/" + access + "/start", token: comp.token}, 409)
	must(call{method: "POST", path: pr + "/" + access + "/start"}, 401)
	must(call{method: "POST", path: pr + "/" + access + "/start", token: teller.token}, 403)
	must(call{method: "POST", path: pr + "/999999/start", token: comp.token}, 404)

	done := pr + "/" + rectify + "/complete"
	must(call{method: "POST", path: done, token: admin.token, body: map[string]any{}}, 422)
	must(call{method: "POST", path: done, token: admin.token, body: `{"corrections":`}, 400)
	must(call{method: "POST", path: done, token: admin.token,
		body: map[string]any{"corrections": map[string]any{"email": "zhang.wei@example.cn"}, "notes": "核实后更正"}}, 200)
	must(call{method: "POST", path: done, token: admin.token, body: map[string]any{}}, 409)
	must(call{method: "POST", path: done, body: map[string]any{}}, 401)
	must(call{method: "POST", path: done, token: teller.token, body: map[string]any{}}, 403)
	must(call{method: "POST", path: pr + "/999999/complete", token: admin.token, body: map[string]any{}}, 404)

	reject := pr + "/" + access + "/reject"
	must(call{method: "POST", path: reject, token: comp.token, body: map[string]any{"reason": ""}}, 422)
	must(call{method: "POST", path: reject, token: comp.token, body: map[string]any{"reason": "身份未核实"}}, 200)
	must(call{method: "POST", path: reject, body: map[string]any{"reason": "x"}}, 401)
	must(call{method: "POST", path: reject, token: teller.token, body: map[string]any{"reason": "x"}}, 403)
	must(call{method: "POST", path: pr + "/0/reject", token: comp.token, body: map[string]any{"reason": "x"}}, 404)

	cust := "/api/v1/customers/" + id(a1)
	must(call{method: "GET", path: cust + "/export", token: comp.token}, 200)
	must(call{method: "GET", path: cust + "/export"}, 401)
	must(call{method: "GET", path: cust + "/export", token: teller.token}, 403)
	must(call{method: "GET", path: "/api/v1/customers/999999/export", token: comp.token}, 404)

	sms := map[string]any{"consents": []map[string]any{{"channel": "sms", "granted": true}}, "source": "counter"}
	must(call{method: "PUT", path: cust + "/consents", token: rm.token, body: sms}, 200)
	must(call{method: "PUT", path: cust + "/consents", token: rm.token, body: `{"consents":[`}, 400)
	must(call{method: "PUT", path: cust + "/consents", body: sms}, 401)
	must(call{method: "PUT", path: cust + "/consents", token: cc.token, body: sms}, 403)
	must(call{method: "PUT", path: "/api/v1/customers/" + id(b1) + "/consents", token: rm.token, body: sms}, 404)
	must(call{method: "PUT", path: cust + "/consents", token: rm.token,
		body: map[string]any{"consents": []map[string]any{{"channel": "fax", "granted": false}}, "source": "counter"}}, 422)
	must(call{method: "GET", path: cust + "/consents", token: rm.token}, 200)
	must(call{method: "GET", path: cust + "/consents"}, 401)
	must(call{method: "GET", path: "/api/v1/customers/" + id(b1) + "/consents", token: rm.token}, 404)

	exp := "/api/v1/customers/export"
	must(call{method: "GET", path: exp + "?type=individual", token: tellerB.token}, 200)
	must(call{method: "GET", path: exp + "?cursor=nope", token: tellerB.token}, 400)
	must(call{method: "GET", path: exp}, 401)
	must(call{method: "GET", path: exp, token: admin.token}, 403)

	ap := "/api/v1/bulk-export-approvals"
	approval := newID(must(call{method: "POST", path: ap, token: admin.token,
		body: map[string]any{"reason": "年度客户资料核查", "max_customers": 100}}, 201))
	must(call{method: "POST", path: ap, token: admin.token, body: `[]`}, 400)
	must(call{method: "POST", path: ap, body: map[string]any{"reason": "x", "max_customers": 1}}, 401)
	must(call{method: "POST", path: ap, token: admin.token, body: map[string]any{"reason": "", "max_customers": 0}}, 422)
	must(call{method: "GET", path: ap + "?status=pending", token: comp.token}, 200)
	must(call{method: "GET", path: ap + "?status=bogus", token: comp.token}, 400)
	must(call{method: "GET", path: ap}, 401)
	must(call{method: "GET", path: ap, token: rm.token}, 403)
	decide := ap + "/" + approval + "/decision"
	must(call{method: "POST", path: decide, token: admin.token, body: map[string]any{"approve": true}}, 403)
	must(call{method: "POST", path: decide, token: comp.token, body: map[string]any{"approve": true, "comment": "同意"}}, 200)
	must(call{method: "POST", path: decide, token: comp.token, body: map[string]any{"approve": true}}, 409)
	must(call{method: "POST", path: decide, body: map[string]any{"approve": true}}, 401)
	must(call{method: "POST", path: ap + "/999999/decision", token: comp.token, body: map[string]any{"approve": true}}, 404)

	al := "/api/v1/compliance/alerts"
	must(call{method: "GET", path: al + "?limit=10", token: comp.token}, 200)
	must(call{method: "GET", path: al + "?cursor=nope", token: comp.token}, 400)
	must(call{method: "GET", path: al}, 401)
	must(call{method: "GET", path: al, token: rm.token}, 403)
	return nil
}

func TestBulkExportApprovalAndAlert(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin, comp, teller := e.login("admin"), e.login("hq_compliance"), e.login("teller_a")
		r := e.do(call{method: "GET", path: "/api/v1/customers/export", token: admin.token})
		if p := r.problem(t); r.Code != http.StatusForbidden || p.Type != httpapi.ProblemApprovalRequired {
			t.Fatalf("over threshold: %d %+v", r.Code, p)
		}
		r = e.do(call{method: "GET", path: "/api/v1/compliance/alerts", token: comp.token})
		if !strings.Contains(r.Body.String(), `"bulk_export_refused"`) || !strings.Contains(r.Body.String(), `"admin"`) {
			t.Fatalf("no alert for compliance: %s", r.Body)
		}
		var ap struct {
			ID int64 `json:"id"`
		}
		e.do(call{method: "POST", path: "/api/v1/bulk-export-approvals", token: admin.token,
			body: map[string]any{"reason": "核查", "max_customers": 10}}).decode(t, &ap)
		e.do(call{method: "POST", path: "/api/v1/bulk-export-approvals/" + id(ap.ID) + "/decision", token: comp.token,
			body: map[string]any{"approve": true}})
		r = e.do(call{method: "GET", path: "/api/v1/customers/export", token: admin.token})
		if r.Code != http.StatusOK || strings.Count(r.Body.String(), "\n") != 6 {
			t.Fatalf("approved export: %d %s", r.Code, r.Body)
		}
		if strings.Contains(r.Body.String(), e.bank.Customers["a1"].IDNumber) || strings.Contains(r.Body.String(), "13800000001") {
			t.Error("the CSV is not masked for the admin")
		}
		// A teller's outlet is under the threshold; the CSV is masked for them.
		r = e.do(call{method: "GET", path: "/api/v1/customers/export?type=individual", token: teller.token})
		if r.Code != http.StatusOK || strings.Contains(r.Body.String(), "13800000001") {
			t.Fatalf("teller export: %d %s", r.Code, r.Body)
		}
		// Hostile notes come back as data, never as markup or SQL.
		hostile := `<script>alert(1)</script>'; DROP TABLE customers; --`
		r = e.do(call{method: "POST", path: "/api/v1/privacy-requests", token: teller.token,
			body: map[string]any{"kind": "erase", "customer_id": e.bank.Customers["a1"].ID, "notes": hostile}})
		var got struct {
			Notes string `json:"notes"`
		}
		r.decode(t, &got)
		if got.Notes != hostile || strings.Contains(r.Body.String(), "<script>") {
			t.Errorf("notes %q / body %s", got.Notes, r.Body)
		}
	})
}
