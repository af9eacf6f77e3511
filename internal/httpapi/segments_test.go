package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"kehu/internal/store"
	"kehu/internal/testkit"
)

// segmentAuditRequests is the audit meta-test's request for the segment
// route that shows customers: one page of members, one record.
func segmentAuditRequests(t *testing.T, e *env, token string) map[string]call {
	t.Helper()
	mk := e.login("hq_marketing")
	r := e.do(call{method: "POST", path: "/api/v1/segments", token: mk.token, body: map[string]any{
		"name": "审计用客群", "kind": "dynamic", "rule": map[string]any{"field": "customer_type", "op": "=", "value": "individual"}}})
	if r.Code != http.StatusCreated {
		t.Fatalf("create segment: %d %s", r.Code, r.Body)
	}
	var g struct{ ID int64 }
	r.decode(t, &g)
	return map[string]call{
		"GET /api/v1/segments/{id}/members": {method: "GET", path: "/api/v1/segments/" + id(g.ID) + "/members", token: token},
	}
}

func TestSegmentsAPI(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mk, rm := e.login("hq_marketing"), e.login("rm_a")

		// The catalogue, with the dictionary's definitions.
		r := e.do(call{method: "GET", path: "/api/v1/segments/fields", token: rm.token})
		var fields struct {
			Fields []struct {
				Name         string
				DefinitionZH string `json:"definition_zh"`
				Window       bool
			}
		}
		r.decode(t, &fields)
		byName := map[string]int{}
		for i, f := range fields.Fields {
			byName[f.Name] = i
		}
		if i, ok := byName["inflow_sum"]; !ok || !fields.Fields[i].Window {
			t.Errorf("fields: inflow_sum missing or without a window: %s", r.Body)
		}
		if i := byName["risk_level"]; !strings.Contains(fields.Fields[i].DefinitionZH, "风险承受能力") {
			t.Errorf("risk_level has no dictionary definition: %+v", fields.Fields[i])
		}

		// The live count, in the caller's scope: the bank has four
		// individuals; rm_a looks after two of them.
		individuals := map[string]any{"all": []any{map[string]any{"field": "customer_type", "op": "=", "value": "individual"}}}
		for _, c := range []struct {
			s    session
			want float64
		}{{mk, 4}, {rm, 2}} {
			r = e.do(call{method: "POST", path: "/api/v1/segments/count", token: c.s.token, body: map[string]any{"rule": individuals}})
			var out map[string]float64
			r.decode(t, &out)
			if r.Code != http.StatusOK || out["count"] != c.want {
				t.Errorf("count as %v: %d %s, want %v", c.s.user["username"], r.Code, r.Body, c.want)
			}
		}

		// A bad rule is a 422 naming the bad part.
		r = e.do(call{method: "POST", path: "/api/v1/segments/count", token: mk.token, body: `{"rule":{"all":[
			{"field":"risk_level","op":">=","value":3},{"any":[{"field":"aum_x","op":">","value":1}]}]}}`})
		p := r.problem(t)
		if r.Code != http.StatusUnprocessableEntity || !strings.Contains(p.Detail, `all[1].any[0]: unknown field "aum_x"`) ||
			issues(p) != "rule.all[1].any[0]" {
			t.Errorf("bad rule: %d %s", r.Code, r.Body)
		}
		r = e.do(call{method: "POST", path: "/api/v1/segments/count", token: mk.token, body: `{"rule":{"field":"aum","op":">=","value":"lots"}}`})
		if p := r.problem(t); r.Code != http.StatusUnprocessableEntity || issues(p) != "rule.value" {
			t.Errorf("mistyped value: %d %s", r.Code, r.Body)
		}

		// Saving needs marketing.write.
		body := map[string]any{"name": "杭州个人客户", "description": "测试", "kind": "static", "rule": individuals}
		if r = e.do(call{method: "POST", path: "/api/v1/segments", token: rm.token, body: body}); r.Code != http.StatusForbidden {
			t.Errorf("rm creates a segment: %d", r.Code)
		}
		r = e.do(call{method: "POST", path: "/api/v1/segments", token: mk.token, body: body})
		var g struct {
			ID          int64
			Kind        string
			MemberCount *int64 `json:"member_count"`
		}
		r.decode(t, &g)
		if r.Code != http.StatusCreated || g.MemberCount == nil || *g.MemberCount != 4 {
			t.Fatalf("create static: %d %s", r.Code, r.Body)
		}
		seg := "/api/v1/segments/" + id(g.ID)
		if r = e.do(call{method: "POST", path: "/api/v1/segments", token: mk.token, body: body}); r.Code != http.StatusConflict {
			t.Errorf("same name again: %d %s", r.Code, r.Body)
		}

		// Members in scope, masked, one audit record.
		r = e.do(call{method: "GET", path: seg + "/members?limit=1", token: rm.token})
		var page struct {
			Items      []map[string]any
			NextCursor *string `json:"next_cursor"`
		}
		r.decode(t, &page)
		if r.Code != http.StatusOK || len(page.Items) != 1 || page.NextCursor == nil {
			t.Fatalf("members page 1: %d %s", r.Code, r.Body)
		}
		r = e.do(call{method: "GET", path: seg + "/members?limit=5&cursor=" + *page.NextCursor, token: rm.token})
		r.decode(t, &page)
		if len(page.Items) != 1 || page.NextCursor != nil {
			t.Errorf("members page 2 of rm_a's two: %s", r.Body)
		}
		if id, ok := page.Items[0]["id_number"].(string); !ok || !strings.Contains(id, "*") {
			t.Errorf("members are not masked: %v", page.Items[0])
		}

		// A segment referencing itself is a cycle; a second one referencing
		// the first blocks its deletion.
		r = e.do(call{method: "PUT", path: seg, token: mk.token, body: map[string]any{"name": "杭州个人客户", "kind": "static",
			"rule": map[string]any{"any": []any{individuals, map[string]any{"segment": g.ID}}}}})
		if p := r.problem(t); r.Code != http.StatusUnprocessableEntity || !strings.Contains(p.Detail, "cyclic segment reference") {
			t.Errorf("self reference: %d %s", r.Code, r.Body)
		}
		r = e.do(call{method: "POST", path: "/api/v1/segments", token: mk.token, body: map[string]any{"name": "引用", "kind": "dynamic",
			"rule": map[string]any{"not": map[string]any{"segment": g.ID}}}})
		var g2 struct{ ID int64 }
		r.decode(t, &g2)
		r = e.do(call{method: "POST", path: "/api/v1/segments/count", token: mk.token,
			body: map[string]any{"rule": map[string]any{"segment": g2.ID}}})
		if !strings.Contains(r.Body.String(), `"count":`) || r.Code != http.StatusOK {
			t.Errorf("count through a reference: %d %s", r.Code, r.Body)
		}
		if r = e.do(call{method: "DELETE", path: seg, token: mk.token}); r.Code != http.StatusConflict {
			t.Errorf("delete referenced: %d %s", r.Code, r.Body)
		}

		// Turn it dynamic: the snapshot goes, and a snapshot is refused.
		r = e.do(call{method: "PUT", path: seg, token: mk.token, body: map[string]any{"name": "杭州个人客户", "kind": "dynamic", "rule": individuals}})
		r.decode(t, &g)
		if r.Code != http.StatusOK || g.MemberCount != nil || g.Kind != "dynamic" {
			t.Errorf("to dynamic: %d %s", r.Code, r.Body)
		}
		if r = e.do(call{method: "POST", path: seg + "/snapshot", token: mk.token}); r.Code != http.StatusUnprocessableEntity {
			t.Errorf("snapshot of a dynamic segment: %d %s", r.Code, r.Body)
		}
		r = e.do(call{method: "PUT", path: seg, token: mk.token, body: map[string]any{"name": "杭州个人客户", "kind": "static", "rule": individuals}})
		if r = e.do(call{method: "POST", path: seg + "/snapshot", token: mk.token}); r.Code != http.StatusOK {
			t.Errorf("snapshot: %d %s", r.Code, r.Body)
		}
		r = e.do(call{method: "GET", path: "/api/v1/segments", token: rm.token})
		var list struct{ Items []map[string]any }
		r.decode(t, &list)
		if len(list.Items) != 2 {
			t.Errorf("list: %s", r.Body)
		}
		if r = e.do(call{method: "GET", path: seg, token: rm.token}); r.Code != http.StatusOK {
			t.Errorf("get: %d", r.Code)
		}
		if r = e.do(call{method: "DELETE", path: "/api/v1/segments/" + id(g2.ID), token: mk.token}); r.Code != http.StatusNoContent {
			t.Errorf("delete: %d %s", r.Code, r.Body)
		}
		if r = e.do(call{method: "GET", path: "/api/v1/segments/" + id(g2.ID), token: mk.token}); r.Code != http.StatusNotFound {
			t.Errorf("deleted: %d", r.Code)
		}
	})
}

// walkSegments provokes every documented answer of the segment routes for
// the conformance test.
func walkSegments(t *testing.T, e *env) {
	// admin holds marketing.write; a token scoped to data.ingest lacks customer.read.
	mk, rm, integ := e.login("admin"), e.login("rm_a"), session{token: e.ingestToken()}
	big := `{"name":"` + strings.Repeat("x", 1<<20) + `"}`
	plain := map[string]string{"Content-Type": "text/plain"}
	rule := map[string]any{"all": []any{map[string]any{"field": "risk_level", "op": ">=", "value": 3},
		map[string]any{"field": "inflow_sum", "window_days": 7, "op": ">=", "value": 100000}}}
	body := map[string]any{"name": "合规走查客群", "kind": "static", "rule": rule}
	bad := map[string]any{"name": "坏规则", "kind": "static", "rule": map[string]any{"field": "aum_x", "op": "=", "value": 1}}

	e.expect(call{method: "GET", path: "/api/v1/segments/fields", token: rm.token}, 200)
	e.expect(call{method: "GET", path: "/api/v1/segments/fields"}, 401)
	e.expect(call{method: "GET", path: "/api/v1/segments/fields", token: integ.token}, 403)

	count := "/api/v1/segments/count"
	e.expect(call{method: "POST", path: count, token: rm.token, body: map[string]any{"rule": rule}}, 200)
	e.expect(call{method: "POST", path: count, token: rm.token, body: `{"rule":`}, 400)
	e.expect(call{method: "POST", path: count, body: map[string]any{"rule": rule}}, 401)
	e.expect(call{method: "POST", path: count, token: integ.token, body: map[string]any{"rule": rule}}, 403)
	e.expect(call{method: "POST", path: count, token: rm.token, body: big}, 413)
	e.expect(call{method: "POST", path: count, token: rm.token, body: "x", header: plain}, 415)
	e.expect(call{method: "POST", path: count, token: rm.token, body: map[string]any{"rule": bad["rule"]}}, 422)

	list := "/api/v1/segments"
	r := e.expect(call{method: "POST", path: list, token: mk.token, body: body}, 201)
	var g struct{ ID int64 }
	r.decode(t, &g)
	seg := list + "/" + id(g.ID)
	e.expect(call{method: "POST", path: list, token: mk.token, body: body}, 409)
	e.expect(call{method: "POST", path: list, token: mk.token, body: `{"nam":"x"}`}, 400)
	e.expect(call{method: "POST", path: list, body: body}, 401)
	e.expect(call{method: "POST", path: list, token: rm.token, body: body}, 403)
	e.expect(call{method: "POST", path: list, token: mk.token, body: big}, 413)
	e.expect(call{method: "POST", path: list, token: mk.token, body: "x", header: plain}, 415)
	e.expect(call{method: "POST", path: list, token: mk.token, body: bad}, 422)
	e.expect(call{method: "GET", path: list, token: rm.token}, 200)
	e.expect(call{method: "GET", path: list}, 401)
	e.expect(call{method: "GET", path: list, token: integ.token}, 403)

	e.expect(call{method: "GET", path: seg, token: rm.token}, 200)
	e.expect(call{method: "GET", path: seg}, 401)
	e.expect(call{method: "GET", path: seg, token: integ.token}, 403)
	e.expect(call{method: "GET", path: list + "/999999", token: rm.token}, 404)
	other := e.expect(call{method: "POST", path: list, token: mk.token, body: map[string]any{"name": "另一个", "kind": "dynamic",
		"rule": map[string]any{"not": map[string]any{"segment": g.ID}}}}, 201)
	var g2 struct{ ID int64 }
	other.decode(t, &g2)
	e.expect(call{method: "PUT", path: seg, token: mk.token, body: body}, 200)
	e.expect(call{method: "PUT", path: seg, token: mk.token, body: `{}{}`}, 400)
	e.expect(call{method: "PUT", path: seg, body: body}, 401)
	e.expect(call{method: "PUT", path: seg, token: rm.token, body: body}, 403)
	e.expect(call{method: "PUT", path: list + "/999999", token: mk.token, body: body}, 404)
	e.expect(call{method: "PUT", path: list + "/" + id(g2.ID), token: mk.token, body: body}, 409) // the name is taken
	e.expect(call{method: "PUT", path: seg, token: mk.token, body: big}, 413)
	e.expect(call{method: "PUT", path: seg, token: mk.token, body: "x", header: plain}, 415)
	e.expect(call{method: "PUT", path: seg, token: mk.token, body: bad}, 422)

	e.expect(call{method: "GET", path: seg + "/members", token: rm.token}, 200)
	e.expect(call{method: "GET", path: seg + "/members?cursor=nope", token: rm.token}, 400)
	e.expect(call{method: "GET", path: seg + "/members"}, 401)
	e.expect(call{method: "GET", path: seg + "/members", token: integ.token}, 403)
	e.expect(call{method: "GET", path: list + "/999999/members", token: rm.token}, 404)

	e.expect(call{method: "POST", path: seg + "/snapshot", token: mk.token}, 200)
	e.expect(call{method: "POST", path: seg + "/snapshot"}, 401)
	e.expect(call{method: "POST", path: seg + "/snapshot", token: rm.token}, 403)
	e.expect(call{method: "POST", path: list + "/999999/snapshot", token: mk.token}, 404)
	e.expect(call{method: "POST", path: list + "/" + id(g2.ID) + "/snapshot", token: mk.token}, 422) // dynamic

	e.expect(call{method: "DELETE", path: seg, token: mk.token}, 409) // referenced by g2
	e.expect(call{method: "DELETE", path: seg}, 401)
	e.expect(call{method: "DELETE", path: seg, token: rm.token}, 403)
	e.expect(call{method: "DELETE", path: list + "/999999", token: mk.token}, 404)
	e.expect(call{method: "DELETE", path: list + "/" + id(g2.ID), token: mk.token}, 204)
}
