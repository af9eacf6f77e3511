package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"kehu/internal/access"
	"kehu/internal/governance"
	"kehu/internal/level"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// governanceProbes are the scope-matrix probes of the customer-level route.
func governanceProbes(t *testing.T, e *env) map[string]probe {
	return map[string]probe{
		"GET /api/v1/customers/{id}/level": {access.CustomerRead, func(e *env, s session, cid int64) call {
			return call{method: "GET", path: "/api/v1/customers/" + id(cid) + "/level", token: s.token}
		}},
	}
}

// tighterRule is the default rule with platinum at ¥2m of current AUM.
func tighterRule() map[string]any {
	r := level.DefaultRule()
	v := int64(2_000_000_00)
	r.Tiers[1].Any = []level.Condition{{MinAUM: &v}}
	return map[string]any{"rule": r, "note": "platinum needs ¥2m"}
}

// expect runs c and fails unless it answers want.
func (e *env) expect(c call, want int) response {
	e.t.Helper()
	r := e.do(c)
	if r.Code != want {
		e.t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, r.Code, want, r.Body)
	}
	return r
}

// walkGovernance drives every documented response of the governance routes
// (the conformance walk), asserting each status on the way.
func walkGovernance(t *testing.T, e *env) {
	admin, rm, manager := e.login("admin"), e.login("rm_a"), e.login("branch_manager")
	big := `{"note":"` + strings.Repeat("x", 1<<20) + `"}`
	plain := map[string]string{"Content-Type": "text/plain"}

	// The rule: list, draft, read, edit, preview, activate.
	e.expect(call{method: "GET", path: "/api/v1/level-rules", token: rm.token}, 200)
	e.expect(call{method: "GET", path: "/api/v1/level-rules"}, 401)
	e.expect(call{method: "POST", path: "/api/v1/level-rules", token: admin.token, body: tighterRule()}, 201)
	e.expect(call{method: "POST", path: "/api/v1/level-rules", token: admin.token, body: `{"rule":`}, 400)
	e.expect(call{method: "POST", path: "/api/v1/level-rules", token: admin.token, body: `{"rule":{"tiers":[],"bonus":1}}`}, 400)
	e.expect(call{method: "POST", path: "/api/v1/level-rules", token: admin.token, body: big}, 413)
	e.expect(call{method: "POST", path: "/api/v1/level-rules", token: admin.token, body: "x", header: plain}, 415)
	e.expect(call{method: "POST", path: "/api/v1/level-rules", token: admin.token, body: map[string]any{"rule": map[string]any{
		"tiers": []any{map[string]any{"level": "gold", "any": []any{map[string]any{"min_aum": -5}}}}}}}, 422)
	e.expect(call{method: "POST", path: "/api/v1/level-rules", token: rm.token, body: tighterRule()}, 403)
	e.expect(call{method: "POST", path: "/api/v1/level-rules", body: tighterRule()}, 401)
	e.expect(call{method: "GET", path: "/api/v1/level-rules/2", token: admin.token}, 200)
	e.expect(call{method: "GET", path: "/api/v1/level-rules/2", token: rm.token}, 404) // a draft
	e.expect(call{method: "GET", path: "/api/v1/level-rules/2"}, 401)
	e.expect(call{method: "PUT", path: "/api/v1/level-rules/2", token: admin.token, body: tighterRule()}, 200)
	e.expect(call{method: "PUT", path: "/api/v1/level-rules/1", token: admin.token, body: tighterRule()}, 409)
	e.expect(call{method: "PUT", path: "/api/v1/level-rules/99", token: admin.token, body: tighterRule()}, 404)
	e.expect(call{method: "PUT", path: "/api/v1/level-rules/2", token: admin.token, body: `{}{}`}, 400)
	e.expect(call{method: "PUT", path: "/api/v1/level-rules/2", token: admin.token, body: map[string]any{"note": "no rule"}}, 422)
	e.expect(call{method: "PUT", path: "/api/v1/level-rules/2", token: rm.token, body: tighterRule()}, 403)
	e.expect(call{method: "PUT", path: "/api/v1/level-rules/2", body: tighterRule()}, 401)
	e.expect(call{method: "POST", path: "/api/v1/level-rules/2/preview", token: admin.token}, 200)
	e.expect(call{method: "POST", path: "/api/v1/level-rules/99/preview", token: admin.token}, 404)
	e.expect(call{method: "POST", path: "/api/v1/level-rules/2/preview", token: rm.token}, 403)
	e.expect(call{method: "POST", path: "/api/v1/level-rules/2/preview"}, 401)
	e.expect(call{method: "POST", path: "/api/v1/level-rules/2/activate", token: rm.token}, 403)
	e.expect(call{method: "POST", path: "/api/v1/level-rules/2/activate", token: admin.token}, 200)
	e.expect(call{method: "POST", path: "/api/v1/level-rules/2/activate", token: admin.token}, 409)
	e.expect(call{method: "POST", path: "/api/v1/level-rules/99/activate", token: admin.token}, 404)
	e.expect(call{method: "POST", path: "/api/v1/level-rules/2/activate"}, 401)

	// Recompute runs: one at a time.
	ctx := e.bank.As("admin")
	now := e.bank.Clock.Now()
	stuck, err := e.bank.DB.Levels().StartRun(ctx, level.Run{Trigger: "cli", Status: level.RunRunning, RuleVersion: 2,
		StartedAt: now, HeartbeatAt: now}, now)
	if err != nil {
		t.Fatal(err)
	}
	e.expect(call{method: "POST", path: "/api/v1/level-runs", token: admin.token}, 409)
	if err := e.bank.DB.Levels().FinishRun(ctx, stuck.ID, level.RunDone, now, 0, 0, ""); err != nil {
		t.Fatal(err)
	}
	e.expect(call{method: "POST", path: "/api/v1/level-runs", token: admin.token}, 202)
	e.levels.Wait()
	e.expect(call{method: "POST", path: "/api/v1/level-runs", token: manager.token}, 403)
	e.expect(call{method: "POST", path: "/api/v1/level-runs"}, 401)
	e.expect(call{method: "GET", path: "/api/v1/level-runs?limit=5", token: admin.token}, 200)
	e.expect(call{method: "GET", path: "/api/v1/level-runs?limit=0", token: admin.token}, 400)
	e.expect(call{method: "GET", path: "/api/v1/level-runs", token: rm.token}, 403)
	e.expect(call{method: "GET", path: "/api/v1/level-runs"}, 401)
	e.expect(call{method: "GET", path: "/api/v1/level-runs/" + id(stuck.ID), token: admin.token}, 200)
	e.expect(call{method: "GET", path: "/api/v1/level-runs/999", token: admin.token}, 404)
	e.expect(call{method: "GET", path: "/api/v1/level-runs/" + id(stuck.ID), token: rm.token}, 403)
	e.expect(call{method: "GET", path: "/api/v1/level-runs/" + id(stuck.ID)}, 401)

	// A customer's level.
	a1 := "/api/v1/customers/" + id(e.bank.Customers["a1"].ID)
	e.expect(call{method: "GET", path: a1 + "/level", token: rm.token}, 200)
	e.expect(call{method: "GET", path: "/api/v1/customers/" + id(e.bank.Customers["b1"].ID) + "/level", token: rm.token}, 404)
	e.expect(call{method: "GET", path: a1 + "/level"}, 401)

	// The dictionary.
	e.expect(call{method: "GET", path: "/api/v1/dictionary?q=%E6%89%8B%E6%9C%BA&table=customers", token: rm.token}, 200)
	e.expect(call{method: "GET", path: "/api/v1/dictionary?table=users", token: rm.token}, 400)
	e.expect(call{method: "GET", path: "/api/v1/dictionary"}, 401)
	e.expect(call{method: "GET", path: "/api/v1/dictionary/customers/mobile", token: rm.token}, 200)
	e.expect(call{method: "GET", path: "/api/v1/dictionary/customers/nope", token: rm.token}, 404)
	e.expect(call{method: "GET", path: "/api/v1/dictionary/customers/mobile"}, 401)
	edit := map[string]any{"definition_zh": "电子邮箱：客户书面留存的电子邮件地址", "definition_en": "E-mail address the customer gave in writing",
		"source_system": "crm_legacy", "owner": "retail_banking", "quality_rule": map[string]any{"required": false, "format": "email"},
		"base_version": 0, "note": "措辞"}
	dictPath := "/api/v1/dictionary/customers/email"
	e.expect(call{method: "PUT", path: dictPath, token: admin.token, body: edit}, 200)
	e.expect(call{method: "PUT", path: dictPath, token: admin.token, body: edit}, 409)
	bad := map[string]any{}
	for k, v := range edit {
		bad[k] = v
	}
	bad["owner"], bad["base_version"] = "nobody", 1
	e.expect(call{method: "PUT", path: dictPath, token: admin.token, body: bad}, 422)
	e.expect(call{method: "PUT", path: dictPath, token: admin.token, body: `{"owner":1}`}, 400)
	e.expect(call{method: "PUT", path: dictPath, token: manager.token, body: edit}, 403)
	e.expect(call{method: "PUT", path: "/api/v1/dictionary/customers/nope", token: admin.token, body: edit}, 404)
	e.expect(call{method: "PUT", path: dictPath, body: edit}, 401)

	// Data quality.
	qstuck, err := e.bank.DB.Governance().StartRun(ctx, governance.Run{Trigger: "cli", Status: governance.RunRunning,
		StartedAt: now, HeartbeatAt: now}, now)
	if err != nil {
		t.Fatal(err)
	}
	e.expect(call{method: "POST", path: "/api/v1/data-quality/runs", token: admin.token}, 409)
	if err := e.bank.DB.Governance().FinishRun(ctx, qstuck.ID, governance.RunDone, now, 0, ""); err != nil {
		t.Fatal(err)
	}
	e.expect(call{method: "POST", path: "/api/v1/data-quality/runs", token: admin.token}, 202)
	e.quality.Wait()
	e.expect(call{method: "POST", path: "/api/v1/data-quality/runs", token: manager.token}, 403)
	e.expect(call{method: "POST", path: "/api/v1/data-quality/runs"}, 401)
	e.expect(call{method: "GET", path: "/api/v1/data-quality", token: manager.token}, 200)
	e.expect(call{method: "GET", path: "/api/v1/data-quality?org_id=x", token: manager.token}, 400)
	e.expect(call{method: "GET", path: "/api/v1/data-quality?org_id=" + id(e.bank.HeadOffice.ID), token: manager.token}, 404)
	e.expect(call{method: "GET", path: "/api/v1/data-quality", token: rm.token}, 403)
	e.expect(call{method: "GET", path: "/api/v1/data-quality"}, 401)
	e.expect(call{method: "GET", path: "/api/v1/data-quality/runs", token: manager.token}, 200)
	e.expect(call{method: "GET", path: "/api/v1/data-quality/runs?limit=-1", token: manager.token}, 400)
	e.expect(call{method: "GET", path: "/api/v1/data-quality/runs", token: rm.token}, 403)
	e.expect(call{method: "GET", path: "/api/v1/data-quality/runs"}, 401)
}

// TestLevelAPI: an administrator tightens the rule, previews the effect,
// activates it and recomputes; the RM sees the customer's new level with
// reasons in both languages and the change in its history.
func TestLevelAPI(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.bank.AddPortfolio(t)
		admin, rm := e.login("admin"), e.login("rm_a")
		a1 := "/api/v1/customers/" + id(e.bank.Customers["a1"].ID) + "/level"
		var cl struct {
			Level    string
			Computed bool
			Reasons  []struct {
				TextZH string `json:"text_zh"`
				TextEN string `json:"text_en"`
			} `json:"reasons"`
			History []struct{ From, To string }
		}
		e.expect(call{method: "GET", path: a1, token: rm.token}, 200).decode(t, &cl)
		if cl.Level != "standard" || cl.Computed || len(cl.Reasons) != 0 {
			t.Fatalf("before any recompute: %+v", cl)
		}
		var run struct{ ID int64 }
		e.expect(call{method: "POST", path: "/api/v1/level-runs", token: admin.token}, 202).decode(t, &run)
		e.levels.Wait()
		var done struct{ Status string }
		e.expect(call{method: "GET", path: "/api/v1/level-runs/" + id(run.ID), token: admin.token}, 200).decode(t, &done)
		if done.Status != "done" {
			t.Fatalf("run %+v", done)
		}
		e.expect(call{method: "GET", path: a1, token: rm.token}, 200).decode(t, &cl)
		if cl.Level != "platinum" || !cl.Computed || len(cl.Reasons) == 0 ||
			cl.Reasons[0].TextZH != "AUM ¥1,018,456.78 ≥ ¥500,000.00（白金）" ||
			cl.Reasons[0].TextEN != "AUM ¥1,018,456.78 ≥ ¥500,000.00 (Platinum)" {
			t.Fatalf("after recompute: %+v", cl)
		}
		var draft struct{ Version int }
		e.expect(call{method: "POST", path: "/api/v1/level-rules", token: admin.token, body: tighterRule()}, 201).decode(t, &draft)
		var preview struct {
			Downgrades int64
			Moves      []struct {
				From, To string
				Count    int64
			}
		}
		e.expect(call{method: "POST", path: "/api/v1/level-rules/" + id(int64(draft.Version)) + "/preview", token: admin.token}, 200).
			decode(t, &preview)
		if preview.Downgrades != 1 || len(preview.Moves) != 1 || preview.Moves[0].To != "gold" {
			t.Fatalf("preview %+v", preview)
		}
		r := e.expect(call{method: "POST", path: "/api/v1/level-rules", token: admin.token, body: map[string]any{"rule": map[string]any{
			"contribution": map[string]any{"fund_bp": 20_000},
			"tiers":        []any{map[string]any{"level": "gold", "any": []any{map[string]any{}}}}}}}, 422)
		if got := issues(r.problem(t)); got != "note,rule.contribution.fund_bp,rule.tiers[0].any[0]" &&
			got != "rule.contribution.fund_bp,rule.tiers[0].any[0]" {
			t.Errorf("422 names %q", got)
		}
		e.expect(call{method: "POST", path: "/api/v1/level-rules/" + id(int64(draft.Version)) + "/activate", token: admin.token}, 200)
		e.expect(call{method: "POST", path: "/api/v1/level-runs", token: admin.token}, 202)
		e.levels.Wait()
		e.expect(call{method: "GET", path: a1, token: rm.token}, 200).decode(t, &cl)
		if cl.Level != "gold" || len(cl.History) != 2 || cl.History[0].From != "platinum" || cl.History[0].To != "gold" {
			t.Fatalf("after activation: %+v", cl)
		}
		var list struct {
			Items []struct {
				Version int
				Status  string
			}
		}
		e.expect(call{method: "GET", path: "/api/v1/level-rules", token: rm.token}, 200).decode(t, &list)
		if len(list.Items) != 2 || list.Items[0].Status != "active" || list.Items[1].Status != "retired" {
			t.Errorf("versions %+v", list.Items)
		}
	})
}

// TestDataQualityAPIScope: the branch manager's report covers their city
// branch only; the examples are masked.
func TestDataQualityAPIScope(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin, manager := e.login("admin"), e.login("branch_manager")
		var rep struct {
			Run      *struct{ Status string }
			Org      struct{ ID int64 }
			Children []struct {
				Org  struct{ ID int64 }
				Self bool
			}
			Fields []struct {
				Table, Column      string
				Completeness       *float64
				Applicable, Filled int64
			}
		}
		e.expect(call{method: "GET", path: "/api/v1/data-quality", token: manager.token}, 200).decode(t, &rep)
		if rep.Run != nil || len(rep.Fields) != 0 {
			t.Fatalf("before a run: %+v", rep)
		}
		e.expect(call{method: "POST", path: "/api/v1/data-quality/runs", token: admin.token}, 202)
		e.quality.Wait()
		e.expect(call{method: "GET", path: "/api/v1/data-quality", token: manager.token}, 200).decode(t, &rep)
		if rep.Run == nil || rep.Run.Status != "done" || rep.Org.ID != e.bank.City.ID || len(rep.Children) != 2 {
			t.Fatalf("report %+v", rep)
		}
		for _, f := range rep.Fields {
			if f.Table == "customers" && f.Column == "address" && (f.Applicable != 5 || f.Completeness == nil || *f.Completeness != 0) {
				t.Errorf("address: the test bank's customers have none: %+v", f)
			}
		}
		e.expect(call{method: "GET", path: "/api/v1/data-quality?org_id=" + id(e.bank.OutletB.ID), token: manager.token}, 200).
			decode(t, &rep)
		if rep.Org.ID != e.bank.OutletB.ID || len(rep.Children) != 1 || !rep.Children[0].Self {
			t.Errorf("outlet B %+v", rep)
		}
		e.expect(call{method: "GET", path: "/api/v1/data-quality?org_id=" + id(e.bank.Province.ID), token: manager.token}, 404)
		e.expect(call{method: "GET", path: "/api/v1/data-quality?org_id=" + id(e.bank.Province.ID), token: admin.token}, 200)
		if r := e.do(call{method: "GET", path: "/api/v1/data-quality", token: e.login("teller_a").token}); r.Code != http.StatusForbidden {
			t.Errorf("teller: %d", r.Code)
		}
	})
}
