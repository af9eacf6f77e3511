package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/contact"
	"kehu/internal/store"
	"kehu/internal/tag"
	"kehu/internal/testkit"
)

// c360Uncovered are the documented responses of the 360 routes the walk
// cannot provoke.
var c360Uncovered = map[string]string{
	"GET /api/v1/customers/{id}/360 403":              "every role holds customer.read",
	"GET /api/v1/customers/{id}/transactions 403":     "every role holds customer.read",
	"GET /api/v1/customers/{id}/interactions 403":     "every role holds customer.read",
	"POST /api/v1/customers/{id}/interactions 403":    "every role holds customer.read",
	"POST /api/v1/customers/{id}/tags 403":            "every role holds customer.read",
	"DELETE /api/v1/customers/{id}/tags/{tag_id} 403": "every role holds customer.read",
	"GET /api/v1/customers/{id}/360 500":              "",
	"GET /api/v1/customers/{id}/transactions 500":     "",
	"GET /api/v1/customers/{id}/interactions 500":     "",
	"POST /api/v1/customers/{id}/interactions 500":    "",
	"POST /api/v1/customers/{id}/tags 500":            "",
	"DELETE /api/v1/customers/{id}/tags/{tag_id} 500": "",
	"GET /api/v1/tags 500":                            "",
	"POST /api/v1/tags 500":                           "",
	"PATCH /api/v1/tags/{id} 500":                     "",
	"DELETE /api/v1/tags/{id} 500":                    "",
	"PUT /api/v1/customers/{id}/preferences 500":      "",
}

// c360Tags makes sure the built-in catalogue exists and returns the ids of
// the built-in tags by code.
func c360Tags(t *testing.T, e *env) map[string]int64 {
	t.Helper()
	svc := e.bank.TagService()
	if _, err := svc.EnsureDefaults(context.Background()); err != nil {
		t.Fatal(err)
	}
	all, err := svc.Catalogue(e.bank.As("admin"), true)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, x := range all {
		if x.Code != "" {
			ids[x.Code] = x.ID
		}
	}
	return ids
}

// c360Calls exercise every documented status of the 360 routes for the
// conformance walk.
func c360Calls(t *testing.T, e *env) []call {
	ids := c360Tags(t, e)
	rm, admin, mkt := e.login("rm_a"), e.login("admin"), e.login("hq_marketing")
	a1 := "/api/v1/customers/" + id(e.bank.Customers["a1"].ID)
	b1 := "/api/v1/customers/" + id(e.bank.Customers["b1"].ID)
	unhappy := id(ids["dissatisfied"])
	big := `{"note":"` + strings.Repeat("x", 1<<20) + `"}`
	text := map[string]string{"Content-Type": "text/plain"}
	good := map[string]any{"channel": "phone", "purpose": "marketing", "products": []any{"FD-X", 1}, "response": "declined"}
	return []call{
		{method: "GET", path: a1 + "/360", token: rm.token},
		{method: "GET", path: a1 + "/360?from=2026-01-01&to=2026-03-02&kind=salary&min_amount=1&max_amount=9&limit=5", token: rm.token},
		{method: "GET", path: a1 + "/360?from=2026-13-01", token: rm.token},
		{method: "GET", path: a1 + "/360?from=2026-03-02&to=2026-03-01", token: rm.token},
		{method: "GET", path: b1 + "/360", token: rm.token},
		{method: "GET", path: a1 + "/360"},
		{method: "GET", path: a1 + "/transactions?limit=2", token: rm.token},
		{method: "GET", path: a1 + "/transactions?account=x", token: rm.token},
		{method: "GET", path: a1 + "/transactions?min_amount=5&max_amount=1", token: rm.token},
		{method: "GET", path: b1 + "/transactions", token: rm.token},
		{method: "GET", path: a1 + "/transactions"},

		{method: "POST", path: a1 + "/interactions", token: rm.token, body: map[string]any{"channel": "branch", "purpose": "service", "note": "开户咨询"}},
		{method: "POST", path: a1 + "/interactions", token: rm.token, body: good},
		{method: "POST", path: a1 + "/interactions", token: rm.token, body: map[string]any{"channel": "pigeon", "purpose": "marketing"}},
		{method: "POST", path: a1 + "/interactions", token: rm.token, body: map[string]any{"channel": "phone", "purpose": "x", "products": []any{true}}},
		{method: "POST", path: a1 + "/interactions", token: rm.token, body: big},
		{method: "POST", path: a1 + "/interactions", token: rm.token, body: "{}", header: text},
		{method: "POST", path: b1 + "/interactions", token: rm.token, body: good},
		{method: "POST", path: a1 + "/interactions", body: good},
		{method: "GET", path: a1 + "/interactions?limit=1", token: rm.token},
		{method: "GET", path: a1 + "/interactions?cursor=nope", token: rm.token},
		{method: "GET", path: b1 + "/interactions", token: rm.token},
		{method: "GET", path: a1 + "/interactions"},

		{method: "POST", path: a1 + "/tags", token: rm.token, body: map[string]any{"tag_id": ids["dissatisfied"], "reason": "投诉排队时间长"}},
		{method: "POST", path: a1 + "/tags", token: rm.token, body: map[string]any{"tag_id": ids["dissatisfied"]}},
		{method: "POST", path: a1 + "/tags", token: rm.token, body: map[string]any{"tag_id": ids["dissatisfied"], "expires_on": "soon"}},
		{method: "POST", path: a1 + "/tags", token: rm.token, body: "{}", header: text},
		{method: "POST", path: b1 + "/tags", token: rm.token, body: map[string]any{"tag_id": ids["dissatisfied"], "reason": "不满"}},
		{method: "POST", path: a1 + "/tags", body: map[string]any{"tag_id": ids["dissatisfied"], "reason": "不满"}},
		{method: "DELETE", path: a1 + "/tags/" + unhappy, token: rm.token},
		{method: "DELETE", path: a1 + "/tags/" + unhappy, token: rm.token},
		{method: "DELETE", path: a1 + "/tags/" + id(ids["high_net_worth"]), token: rm.token},
		{method: "DELETE", path: a1 + "/tags/" + unhappy},

		{method: "PUT", path: a1 + "/preferences", token: rm.token, body: map[string]any{"preferred_channel": "wechat",
			"contact_from": "18:30", "contact_to": "21:00", "contact_days": "weekdays", "language": "yue", "do_not_call": true,
			"note": "白天上班不便接听"}},
		{method: "PUT", path: a1 + "/preferences", token: rm.token, body: map[string]any{"contact_from": "25:00", "language": "tlh"}},
		{method: "PUT", path: a1 + "/preferences", token: rm.token, body: map[string]any{"do_not_call": "yes"}},
		{method: "PUT", path: a1 + "/preferences", token: rm.token, body: big},
		{method: "PUT", path: a1 + "/preferences", token: rm.token, body: "{}", header: text},
		{method: "PUT", path: b1 + "/preferences", token: rm.token, body: map[string]any{}},
		{method: "PUT", path: a1 + "/preferences", token: mkt.token, body: map[string]any{}},
		{method: "PUT", path: a1 + "/preferences", body: map[string]any{}},

		{method: "GET", path: "/api/v1/tags", token: rm.token},
		{method: "GET", path: "/api/v1/tags?inactive=maybe", token: rm.token},
		{method: "GET", path: "/api/v1/tags"},
		{method: "POST", path: "/api/v1/tags", token: mkt.token, body: map[string]any{"name": "房贷客户", "label_en": "Mortgage", "kind": "manual", "color": "blue"}},
		{method: "POST", path: "/api/v1/tags", token: admin.token, body: map[string]any{"name": "房贷客户", "kind": "manual"}},
		{method: "POST", path: "/api/v1/tags", token: admin.token, body: map[string]any{"name": "x", "kind": "computed", "rule": map[string]any{"rule": "astrology"}}},
		{method: "POST", path: "/api/v1/tags", token: admin.token, body: map[string]any{"name": "x", "kind": "manual", "owner": 1}},
		{method: "POST", path: "/api/v1/tags", token: admin.token, body: "{}", header: text},
		{method: "POST", path: "/api/v1/tags", token: rm.token, body: map[string]any{"name": "x", "kind": "manual"}},
		{method: "POST", path: "/api/v1/tags", body: map[string]any{"name": "x", "kind": "manual"}},
		{method: "PATCH", path: "/api/v1/tags/" + id(ids["satisfied"]), token: admin.token, body: map[string]any{"default_expiry_days": 60}},
		{method: "PATCH", path: "/api/v1/tags/" + id(ids["satisfied"]), token: admin.token, body: map[string]any{"name": "不满意"}},
		{method: "PATCH", path: "/api/v1/tags/" + id(ids["satisfied"]), token: admin.token, body: map[string]any{"polarity": "meh"}},
		{method: "PATCH", path: "/api/v1/tags/" + id(ids["satisfied"]), token: admin.token, body: map[string]any{"kind": "manual"}},
		{method: "PATCH", path: "/api/v1/tags/" + id(ids["satisfied"]), token: admin.token, body: "{}", header: text},
		{method: "PATCH", path: "/api/v1/tags/999999", token: admin.token, body: map[string]any{}},
		{method: "PATCH", path: "/api/v1/tags/" + id(ids["satisfied"]), token: rm.token, body: map[string]any{}},
		{method: "PATCH", path: "/api/v1/tags/" + id(ids["satisfied"]), body: map[string]any{}},
		{method: "POST", path: a1 + "/tags", token: rm.token, body: map[string]any{"tag_id": ids["satisfied"], "reason": "感谢理财经理"}},
		{method: "DELETE", path: "/api/v1/tags/" + id(ids["satisfied"]), token: admin.token},
		{method: "DELETE", path: "/api/v1/tags/" + id(ids["card_active"]), token: admin.token},
		{method: "DELETE", path: "/api/v1/tags/999999", token: admin.token},
		{method: "DELETE", path: "/api/v1/tags/" + id(ids["satisfied"]), token: rm.token},
		{method: "DELETE", path: "/api/v1/tags/" + id(ids["satisfied"])},
	}
}

// c360AuditRequests are the audit meta-test's requests for the 360 routes:
// each must leave exactly one record.
func c360AuditRequests(t *testing.T, e *env, token string) map[string]call {
	ids := c360Tags(t, e)
	a1 := "/api/v1/customers/" + id(e.bank.Customers["a1"].ID)
	return map[string]call{
		"GET /api/v1/customers/{id}/360":          {method: "GET", path: a1 + "/360", token: token},
		"GET /api/v1/customers/{id}/transactions": {method: "GET", path: a1 + "/transactions", token: token},
		"GET /api/v1/customers/{id}/interactions": {method: "GET", path: a1 + "/interactions", token: token},
		"POST /api/v1/customers/{id}/interactions": {method: "POST", path: a1 + "/interactions", token: token,
			body: map[string]any{"channel": "phone", "purpose": "care"}},
		// The route table lists POST before DELETE, so the tag is there to remove.
		"POST /api/v1/customers/{id}/tags": {method: "POST", path: a1 + "/tags", token: token,
			body: map[string]any{"tag_id": ids["satisfied"], "reason": "表扬"}},
		"DELETE /api/v1/customers/{id}/tags/{tag_id}": {method: "DELETE", path: a1 + "/tags/" + id(ids["satisfied"]), token: token},
		// The auditor may not change customers: the branch manager may (a1
		// may have been handed to another RM by then).
		"PUT /api/v1/customers/{id}/preferences": {method: "PUT", path: a1 + "/preferences", token: e.login("branch_manager").token,
			body: map[string]any{"preferred_channel": "phone", "contact_from": "09:00", "contact_to": "12:00"}},
	}
}

// c360Probes are the scope-matrix probes of the 360's customer routes.
func c360Probes(t *testing.T, e *env) map[string]probe {
	ids := c360Tags(t, e)
	path := func(cid int64, rest string) string { return "/api/v1/customers/" + id(cid) + rest }
	get := func(rest string) probe {
		return probe{access.CustomerRead, func(e *env, s session, cid int64) call {
			return call{method: "GET", path: path(cid, rest), token: s.token}
		}}
	}
	return map[string]probe{
		"GET /api/v1/customers/{id}/360":          get("/360"),
		"GET /api/v1/customers/{id}/transactions": get("/transactions"),
		"GET /api/v1/customers/{id}/interactions": get("/interactions"),
		"POST /api/v1/customers/{id}/interactions": {access.CustomerRead, func(e *env, s session, cid int64) call {
			return call{method: "POST", path: path(cid, "/interactions"), token: s.token,
				body: map[string]any{"channel": "branch", "purpose": "service"}}
		}},
		"POST /api/v1/customers/{id}/tags": {access.CustomerRead, func(e *env, s session, cid int64) call {
			return call{method: "POST", path: path(cid, "/tags"), token: s.token,
				body: map[string]any{"tag_id": ids["dissatisfied"], "reason": "矩阵"}}
		}},
		"DELETE /api/v1/customers/{id}/tags/{tag_id}": {access.CustomerRead, func(e *env, s session, cid int64) call {
			// Make sure there is one to remove, whatever order the probes run in.
			_, _ = e.bank.TagService().Add(e.bank.As("admin"), cid, tag.Assign{TagID: ids["satisfied"], Reason: "矩阵"})
			return call{method: "DELETE", path: path(cid, "/tags/"+id(ids["satisfied"])), token: s.token}
		}},
		"PUT /api/v1/customers/{id}/preferences": {access.CustomerWrite, func(e *env, s session, cid int64) call {
			return call{method: "PUT", path: path(cid, "/preferences"), token: s.token,
				body: map[string]any{"preferred_channel": "branch", "language": "zh"}}
		}},
	}
}

// TestCustomer360API reads a1's 360 as rm_a: every top-level key, the
// profile exactly as GET /customers/{id} shows it, one audit record, and
// the transaction filter.
func TestCustomer360API(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.bank.AddPortfolio(t)
		c360Tags(t, e)
		for _, user := range []string{"rm_a", "teller_a", "hq_marketing"} {
			s := e.login(user)
			a1 := "/api/v1/customers/" + id(e.bank.Customers["a1"].ID)
			before := auditCount(t, db)
			r := e.do(call{method: "GET", path: a1 + "/360", token: s.token})
			if r.Code != http.StatusOK {
				t.Fatalf("%s: %d %s", user, r.Code, r.Body)
			}
			if n := auditCount(t, db) - before; n != 1 {
				t.Errorf("%s: the 360 wrote %d audit records", user, n)
			}
			var body map[string]json.RawMessage
			r.decode(t, &body)
			for _, k := range []string{"profile", "level", "aum", "accounts", "holdings", "transactions", "relationships",
				"events", "interactions", "tags", "preferences", "risk", "quiet_products", "owners"} {
				if _, ok := body[k]; !ok {
					t.Errorf("%s: no %q in the 360", user, k)
				}
			}
			one := e.do(call{method: "GET", path: a1, token: s.token})
			var p1, p2 map[string]any
			one.decode(t, &p1)
			if err := json.Unmarshal(body["profile"], &p2); err != nil {
				t.Fatal(err)
			}
			delete(p1, "updated_at")
			delete(p2, "updated_at")
			if a, b := mustJSON(t, p1), mustJSON(t, p2); a != b {
				t.Errorf("%s: profile differs from GET /customers/{id}:\n%s\n%s", user, a, b)
			}
		}
		rm := e.login("rm_a")
		a1 := "/api/v1/customers/" + id(e.bank.Customers["a1"].ID)
		var page struct {
			Items []struct {
				Amount int64 `json:"amount"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		seen := 0
		path := a1 + "/transactions?min_amount=200000&limit=4"
		for range 3 {
			r := e.do(call{method: "GET", path: path, token: rm.token})
			page.Items, page.NextCursor = nil, nil
			r.decode(t, &page)
			seen += len(page.Items)
			if page.NextCursor == nil {
				break
			}
			path = a1 + "/transactions?min_amount=200000&limit=4&cursor=" + url.QueryEscape(*page.NextCursor)
		}
		if seen != 6 {
			t.Errorf("paged %d transactions of at least ¥2,000, want 6", seen)
		}
		r := e.do(call{method: "GET", path: a1 + "/360?from=2026-03-02&to=2026-03-01", token: rm.token})
		if p := r.problem(t); r.Code != http.StatusUnprocessableEntity || issues(p) != "to" {
			t.Errorf("to before from: %d %+v", r.Code, p)
		}
		r = e.do(call{method: "GET", path: a1 + "/360?from=yesterday&min_amount=lots", token: rm.token})
		if p := r.problem(t); r.Code != http.StatusBadRequest || issues(p) != "from,min_amount" {
			t.Errorf("bad params: %d %+v", r.Code, p)
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestInteractionsAPI records contacts, lists them newest first with the
// quiet products, and names the bad field of a refused record.
func TestInteractionsAPI(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.bank.AddPortfolio(t)
		teller := e.login("teller_a")
		a1 := "/api/v1/customers/" + id(e.bank.Customers["a1"].ID)
		r := e.do(call{method: "POST", path: a1 + "/interactions", token: teller.token, body: map[string]any{
			"channel": "branch", "purpose": "marketing", "products": []any{"WM-R2-180", 4}, "response": "declined",
			"note": "客户表示近期不考虑"}})
		if r.Code != http.StatusCreated {
			t.Fatalf("record: %d %s", r.Code, r.Body)
		}
		var list struct {
			Items []struct {
				UserName string `json:"user_name"`
				Products []struct {
					Code string `json:"code"`
				} `json:"products"`
			} `json:"items"`
			QuietProducts []struct {
				Product struct {
					Code string `json:"code"`
				} `json:"product"`
				Until string `json:"until"`
			} `json:"quiet_products"`
			QuietDays int `json:"quiet_days"`
		}
		rm := e.login("rm_a")
		r = e.do(call{method: "GET", path: a1 + "/interactions", token: rm.token})
		r.decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].UserName != "teller_a" || len(list.Items[0].Products) != 2 ||
			len(list.QuietProducts) != 2 || list.QuietProducts[0].Until != "2026-04-01" || list.QuietDays != 30 {
			t.Errorf("list %+v", list)
		}
		for _, tt := range []struct {
			body   any
			status int
			fields string
		}{
			{map[string]any{"channel": "phone", "purpose": "marketing", "response": "declined"}, 422, "products"},
			{map[string]any{"channel": "phone", "purpose": "marketing", "products": []any{"NOPE"}, "response": "bought"}, 422, "products[0]"},
			{map[string]any{"channel": "fax", "purpose": "chat", "response": "maybe"}, 422, "channel,purpose,response"},
			{map[string]any{"channel": "phone", "purpose": "marketing", "products": []any{1.5}}, 400, "products[0]"},
			{map[string]any{"channel": "phone", "purpose": "care", "note": strings.Repeat("长", 1001)}, 422, "note"},
		} {
			r := e.do(call{method: "POST", path: a1 + "/interactions", token: rm.token, body: tt.body})
			if p := r.problem(t); r.Code != tt.status || issues(p) != tt.fields {
				t.Errorf("%v: %d %s, want %d %s", tt.body, r.Code, issues(p), tt.status, tt.fields)
			}
		}
	})
}

// TestTagsAPI covers the catalogue by role, tagging a customer and the
// customer list filtered by tag, paged.
func TestTagsAPI(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ids := c360Tags(t, e)
		rm, mkt := e.login("rm_a"), e.login("hq_marketing")
		r := e.do(call{method: "POST", path: "/api/v1/tags", token: mkt.token, body: map[string]any{
			"name": "小微企业主", "label_en": "Small business owner", "kind": "manual", "color": "teal"}})
		if r.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Code, r.Body)
		}
		var created struct {
			ID int64 `json:"id"`
		}
		r.decode(t, &created)
		if r := e.do(call{method: "POST", path: "/api/v1/tags", token: rm.token, body: map[string]any{"name": "x", "kind": "manual"}}); r.Code != http.StatusForbidden {
			t.Errorf("rm creates a tag: %d", r.Code)
		}
		r = e.do(call{method: "POST", path: "/api/v1/tags", token: mkt.token, body: map[string]any{"name": "懊恼", "kind": "emotion"}})
		if p := r.problem(t); r.Code != 422 || issues(p) != "polarity" {
			t.Errorf("emotion without polarity: %d %s", r.Code, issues(p))
		}
		// rm_a tags a1 and a2 with the new tag, a1 also 不满意.
		for _, c := range []string{"a1", "a2"} {
			p := "/api/v1/customers/" + id(e.bank.Customers[c].ID) + "/tags"
			if r := e.do(call{method: "POST", path: p, token: rm.token, body: map[string]any{"tag_id": created.ID}}); r.Code != 201 {
				t.Fatalf("tag %s: %d %s", c, r.Code, r.Body)
			}
		}
		a1 := "/api/v1/customers/" + id(e.bank.Customers["a1"].ID)
		r = e.do(call{method: "POST", path: a1 + "/tags", token: rm.token, body: map[string]any{"tag_id": ids["dissatisfied"], "reason": " "}})
		if p := r.problem(t); r.Code != 422 || issues(p) != "reason" {
			t.Errorf("emotion without reason: %d %s", r.Code, issues(p))
		}
		r = e.do(call{method: "POST", path: a1 + "/tags", token: rm.token, body: map[string]any{"tag_id": ids["dissatisfied"],
			"reason": "转账限额不满", "expires_on": "2026-04-30"}})
		var ct struct {
			ExpiresAt string `json:"expires_at"`
			Tag       struct {
				Polarity string `json:"polarity"`
			} `json:"tag"`
		}
		r.decode(t, &ct)
		if r.Code != 201 || ct.ExpiresAt != "2026-04-30T16:00:00Z" || ct.Tag.Polarity != "negative" {
			t.Errorf("emotion tag: %d %+v", r.Code, ct)
		}
		// The list filtered by tag: by id, by name, by code; pages of one.
		var page struct {
			Items []struct {
				ID int64 `json:"id"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
			Total      *int64  `json:"total"`
		}
		r = e.do(call{method: "GET", path: "/api/v1/customers?limit=1&count=true&tag=" + id(created.ID), token: rm.token})
		r.decode(t, &page)
		if len(page.Items) != 1 || page.Items[0].ID != e.bank.Customers["a1"].ID || page.NextCursor == nil || *page.Total != 2 {
			t.Fatalf("first page: %s", r.Body)
		}
		r = e.do(call{method: "GET", path: "/api/v1/customers?limit=1&tag=" + id(created.ID) + "&cursor=" + *page.NextCursor, token: rm.token})
		page.Items, page.NextCursor = nil, nil
		r.decode(t, &page)
		if len(page.Items) != 1 || page.Items[0].ID != e.bank.Customers["a2"].ID || page.NextCursor != nil {
			t.Errorf("second page: %s", r.Body)
		}
		for _, q := range []string{url.QueryEscape("不满意"), "dissatisfied"} {
			page.Items = nil
			e.do(call{method: "GET", path: "/api/v1/customers?tag=" + q, token: rm.token}).decode(t, &page)
			if len(page.Items) != 1 || page.Items[0].ID != e.bank.Customers["a1"].ID {
				t.Errorf("tag=%s: %+v", q, page.Items)
			}
		}
		// Scope still applies: rm_b sees none of rm_a's tagged customers.
		page.Items = nil
		e.do(call{method: "GET", path: "/api/v1/customers?tag=" + id(created.ID), token: e.login("rm_b").token}).decode(t, &page)
		if len(page.Items) != 0 {
			t.Errorf("rm_b sees %+v", page.Items)
		}
		if r := e.do(call{method: "DELETE", path: "/api/v1/tags/" + id(created.ID), token: mkt.token}); r.Code != http.StatusConflict {
			t.Errorf("delete a tag in use: %d", r.Code)
		}
	})
}

// TestContactPreferencesAPI replaces a customer's contact preferences: the
// answer and the 360 show them, one customer.preferences record holds old →
// new per field without the note's words, bad fields are named, and roles
// without customer.write are refused.
func TestContactPreferencesAPI(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		rm := e.login("rm_a")
		a1 := "/api/v1/customers/" + id(e.bank.Customers["a1"].ID)
		put := func(token string, body any) response {
			return e.do(call{method: "PUT", path: a1 + "/preferences", token: token, body: body})
		}
		first := map[string]any{"preferred_channel": "phone", "contact_from": "09:00", "contact_to": "12:00",
			"contact_days": "weekdays", "language": "zh", "note": "上午方便"}
		if r := put(rm.token, first); r.Code != http.StatusOK {
			t.Fatalf("first: %d %s", r.Code, r.Body)
		}
		before := auditCount(t, db)
		r := put(rm.token, map[string]any{"preferred_channel": "wechat", "contact_from": "19:00", "contact_to": "08:00",
			"contact_days": "weekdays", "language": "zh", "do_not_call": true, "note": "客户说白天在手术室，不要打电话"})
		if r.Code != http.StatusOK {
			t.Fatalf("second: %d %s", r.Code, r.Body)
		}
		var got struct {
			PreferredChannel string `json:"preferred_channel"`
			ContactFrom      string `json:"contact_from"`
			ContactTo        string `json:"contact_to"`
			DoNotCall        bool   `json:"do_not_call"`
			UpdatedBy        int64  `json:"updated_by"`
			Consents         []any  `json:"consents"`
		}
		r.decode(t, &got)
		if got.PreferredChannel != "wechat" || got.ContactFrom != "19:00" || got.ContactTo != "08:00" || !got.DoNotCall ||
			got.UpdatedBy != e.bank.Users["rm_a"].ID || len(got.Consents) != 6 {
			t.Errorf("answer %+v", got)
		}
		if n := auditCount(t, db) - before; n != 1 {
			t.Fatalf("%d audit records, want 1", n)
		}
		recs, err := db.Audit().SearchRecords(context.Background(), audit.Filter{Action: contact.ActionUpdate}, 1)
		if err != nil || len(recs) != 1 {
			t.Fatalf("record: %v %v", recs, err)
		}
		changes := map[string]string{}
		for _, c := range recs[0].Changes {
			changes[c.Field] = c.Old + "→" + c.New
		}
		want := map[string]string{"preferred_channel": "phone→wechat", "contact_from": "09:00→19:00",
			"contact_to": "12:00→08:00", "do_not_call": "false→true", "note": "(4 characters)→(15 characters)"}
		if mustJSON(t, changes) != mustJSON(t, want) {
			t.Errorf("changes %v, want %v", changes, want)
		}
		if strings.Contains(mustJSON(t, recs[0]), "手术室") {
			t.Error("the note's words are in the audit trail")
		}
		var view struct {
			Preferences struct {
				ContactDays string `json:"contact_days"`
				DoNotCall   bool   `json:"do_not_call"`
				Note        string `json:"note"`
			} `json:"preferences"`
		}
		e.do(call{method: "GET", path: a1 + "/360", token: rm.token}).decode(t, &view)
		if view.Preferences.ContactDays != "weekdays" || !view.Preferences.DoNotCall || !strings.Contains(view.Preferences.Note, "手术室") {
			t.Errorf("360 preferences %+v", view.Preferences)
		}
		for _, tt := range []struct {
			body   any
			status int
			fields string
		}{
			{map[string]any{"preferred_channel": "pigeon", "contact_days": "holidays", "language": "tlh"}, 422,
				"preferred_channel,contact_days,language"},
			{map[string]any{"contact_from": "9:00", "contact_to": "12:00"}, 422, "contact_from"},
			{map[string]any{"contact_from": "09:00"}, 422, "contact_to"},
			{map[string]any{"contact_from": "09:00", "contact_to": "09:00"}, 422, "contact_to"},
			{map[string]any{"note": strings.Repeat("长", 501)}, 422, "note"},
			{map[string]any{"do_not_call": "yes"}, 400, "do_not_call"},
		} {
			r := put(rm.token, tt.body)
			if p := r.problem(t); r.Code != tt.status || issues(p) != tt.fields {
				t.Errorf("%v: %d %s, want %d %s", tt.body, r.Code, issues(p), tt.status, tt.fields)
			}
		}
		for _, user := range []string{"lobby_a", "hq_marketing", "hq_compliance"} {
			if r := put(e.login(user).token, first); r.Code != http.StatusForbidden {
				t.Errorf("%s: %d, want 403", user, r.Code)
			}
		}
	})
}
