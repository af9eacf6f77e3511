package httpapi_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"kehu/internal/httpapi"
	"kehu/internal/journey"
	"kehu/internal/msgtemplate"
	"kehu/internal/privacy"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestJourneysAPI: a marketing operator creates a large-inflow journey, a
// transaction arrives through POST /api/v1/ingest/transactions, the engine
// fires, and the firing (with its queued message) and the results are read
// back; an RM sees only firings of their own customers.
func TestJourneysAPI(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		b := e.bank
		b.AddPortfolio(t)
		a1 := b.Customers["a1"].ID
		if _, err := b.PrivacyService().SetConsents(b.As("admin"), a1,
			[]privacy.ConsentChange{{Channel: "sms", Granted: true}}, "counter"); err != nil {
			t.Fatal(err)
		}
		tm, err := b.TemplateService().Create(b.As("hq_marketing"), msgtemplate.Input{Name: "到账", Channel: msgtemplate.SMS,
			Purpose: msgtemplate.Marketing, Content: msgtemplate.Content{Body: "【客户银行】{{salutation}}，到账{{amount_wan}}。退订回T"}})
		if err != nil {
			t.Fatal(err)
		}
		engine := b.JourneyEngine(journey.Options{})
		if _, err := engine.Pass(context.Background()); err != nil { // cursors at the history's end
			t.Fatal(err)
		}
		mk, rmB := e.login("hq_marketing"), e.login("rm_b")
		r := e.expect(call{method: "POST", path: "/api/v1/journeys", token: mk.token, body: map[string]any{
			"name": "大额入账关怀", "definition": map[string]any{"trigger": "large_inflow", "reentry_days": 30,
				"actions": []any{map[string]any{"kind": "message", "channel": "sms", "template_id": tm.ID}}}}}, 201)
		var j journey.Journey
		r.decode(t, &j)
		if j.Version != 1 || j.Status != "active" || j.Definition.Conditions.MinAmount != journey.DefaultInflowFen {
			t.Fatalf("created %+v", j)
		}
		line := `{"source_system":"core_banking","reference":"T-LIVE-1","account_no":"` + testkit.AccountNo(1) +
			`","occurred_at":"2026-03-02 09:29:00","amount":"150000.00","direction":"贷","kind":"transfer_in","channel":"手机银行"}`
		r = e.expect(call{method: "POST", path: "/api/v1/ingest/transactions", token: e.ingestToken(), body: line + "\n",
			header: map[string]string{"Content-Type": "application/x-ndjson"}}, 200)
		if !strings.Contains(r.Body.String(), `"accepted":1`) {
			t.Fatalf("ingest: %s", r.Body)
		}
		fs, err := engine.Pass(context.Background())
		if err != nil || len(fs) != 1 {
			t.Fatalf("fired %d (%v)", len(fs), err)
		}
		path := fmt.Sprintf("/api/v1/journeys/%d", j.ID)
		var page struct {
			Items []journey.Firing `json:"items"`
		}
		e.expect(call{method: "GET", path: path + "/firings", token: mk.token}, 200).decode(t, &page)
		if len(page.Items) != 1 || page.Items[0].CustomerID != a1 || page.Items[0].Outcomes[0].Outcome != "queued" {
			t.Fatalf("firings %+v", page.Items)
		}
		e.expect(call{method: "GET", path: path + "/firings", token: rmB.token}, 200).decode(t, &page)
		if len(page.Items) != 0 {
			t.Fatalf("rm_b sees a1's firing: %+v", page.Items)
		}
		var res journey.Results
		e.expect(call{method: "GET", path: path + "/results", token: mk.token}, 200).decode(t, &res)
		if res.Fired != 1 || len(res.Actions) != 1 || res.Actions[0].Outcome != "queued" || res.Actions[0].Count != 1 ||
			res.FiredTreatment != 1 || res.Treatment != 1 || res.Queued != 1 || res.Lift.Defined || res.ConversionDays != 30 {
			t.Fatalf("results %+v", res)
		}
		// The period is of Asia/Shanghai days: the firing's day holds it.
		day := fs[0].FiredOn.String()
		e.expect(call{method: "GET", path: path + "/results?from=" + day + "&to=" + day, token: mk.token}, 200).decode(t, &res)
		if res.Fired != 1 || res.From.String() != day {
			t.Fatalf("results of %s: %+v", day, res)
		}
		// The workbook: the results and the firing, a1's name masked for
		// marketing; rm_b's holds no firing; each export is audited.
		r = e.expect(call{method: "GET", path: path + "/results.xlsx?lang=en", token: mk.token}, 200)
		if ct, cd := r.Header().Get("Content-Type"), r.Header().Get("Content-Disposition"); ct != httpapi.XLSXType ||
			!strings.Contains(cd, fmt.Sprintf("journey-%d-results.xlsx", j.ID)) {
			t.Errorf("headers %q %q", ct, cd)
		}
		book, err := excelize.OpenReader(bytes.NewReader(r.Body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		defer book.Close()
		if v, _ := book.GetCellValue("Results", "B1"); v != "大额入账关怀" {
			t.Errorf("journey name cell %q", v)
		}
		if v, _ := book.GetCellValue("Firings", "C2"); v != fmt.Sprint(a1) {
			t.Errorf("firing row customer %q", v)
		}
		if v, _ := book.GetCellValue("Firings", "D2"); v == "" || v == b.Customers["a1"].Name {
			t.Errorf("a1's name %q in the marketing workbook", v)
		}
		r = e.expect(call{method: "GET", path: path + "/results.xlsx", token: rmB.token}, 200)
		if other, err := excelize.OpenReader(bytes.NewReader(r.Body.Bytes())); err != nil {
			t.Fatal(err)
		} else {
			if rows, _ := other.GetRows("触发记录"); len(rows) != 1 {
				t.Errorf("rm_b's workbook lists %d firings", len(rows)-1)
			}
			other.Close()
		}
		var exports int
		if err := b.DB.InTx(context.Background(), func(tx *sql.Tx) error {
			return tx.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'journey.export' AND object = $1`,
				fmt.Sprintf("journey:%d", j.ID)).Scan(&exports)
		}); err != nil || exports != 2 {
			t.Errorf("%d journey.export records (%v)", exports, err)
		}
		var queued int
		if err := b.DB.InTx(context.Background(), func(tx *sql.Tx) error {
			return tx.QueryRow(`SELECT COUNT(*) FROM outbox_messages WHERE source_kind = 'journey' AND source_id = $1
				AND customer_id = $2 AND status = 'queued'`, j.ID, a1).Scan(&queued)
		}); err != nil || queued != 1 {
			t.Fatalf("%d queued messages (%v)", queued, err)
		}
		// A new version keeps the firing's version; pause is audited.
		e.expect(call{method: "PUT", path: path, token: mk.token, body: map[string]any{"name": "大额入账关怀",
			"definition": map[string]any{"trigger": "large_inflow", "conditions": map[string]any{"min_amount": 20_000_000},
				"actions": []any{map[string]any{"kind": "message", "channel": "sms", "template_id": tm.ID}}}}}, 200).decode(t, &j)
		if j.Version != 2 {
			t.Fatalf("version %d", j.Version)
		}
		e.expect(call{method: "POST", path: path + "/pause", token: mk.token}, 200).decode(t, &j)
		if j.Status != "paused" {
			t.Fatalf("status %s", j.Status)
		}
		var vs struct{ Items []journey.Version }
		e.expect(call{method: "GET", path: path + "/versions", token: mk.token}, 200).decode(t, &vs)
		if len(vs.Items) != 2 || vs.Items[0].Definition.Conditions.MinAmount != 20_000_000 {
			t.Fatalf("versions %+v", vs.Items)
		}
		r = e.expect(call{method: "POST", path: "/api/v1/journeys", token: mk.token, body: map[string]any{"name": "坏",
			"definition": map[string]any{"trigger": "large_inflow", "conditions": map[string]any{"window_days": 400},
				"actions": []any{map[string]any{"kind": "message", "channel": "sms", "template_id": 99999}}}}}, 422)
		for _, f := range []string{"definition.conditions.window_days", "definition.actions[0].template_id"} {
			if !strings.Contains(r.Body.String(), f) {
				t.Errorf("422 does not name %s: %s", f, r.Body)
			}
		}
		r = e.expect(call{method: "POST", path: "/api/v1/journeys", token: mk.token, body: map[string]any{"name": "坏对照",
			"definition": map[string]any{"trigger": "large_inflow", "control_pct": 60,
				"actions": []any{map[string]any{"kind": "message", "channel": "sms", "template_id": tm.ID}}}}}, 422)
		for _, f := range []string{"definition.control_pct", "between 0 and 50"} {
			if !strings.Contains(r.Body.String(), f) {
				t.Errorf("422 does not name %s: %s", f, r.Body)
			}
		}
	})
}

// walkJourneys provokes every documented answer of the journey routes for
// the conformance test.
func walkJourneys(t *testing.T, e *env) {
	mk, rm, integ := e.login("admin"), e.login("rm_a"), session{token: e.ingestToken()}
	big := `{"name":"` + strings.Repeat("x", 1<<20) + `"}`
	plain := map[string]string{"Content-Type": "text/plain"}
	def := map[string]any{"trigger": "dormancy", "actions": []any{map[string]any{"kind": "task", "task_kind": "churn_alert",
		"title": "客户长期未活跃", "suggested": []string{"电话回访"}}}}
	body := map[string]any{"name": "走查旅程", "definition": def}
	bad := map[string]any{"name": "坏旅程", "definition": map[string]any{"trigger": "moon", "actions": []any{}}}
	list := "/api/v1/journeys"
	r := e.expect(call{method: "POST", path: list, token: mk.token, body: body}, 201)
	var j struct{ ID int64 }
	r.decode(t, &j)
	one := list + "/" + id(j.ID)
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

	e.expect(call{method: "GET", path: one, token: rm.token}, 200)
	e.expect(call{method: "GET", path: one}, 401)
	e.expect(call{method: "GET", path: one, token: integ.token}, 403)
	e.expect(call{method: "GET", path: list + "/999999", token: rm.token}, 404)
	r = e.expect(call{method: "POST", path: list, token: mk.token, body: map[string]any{"name": "另一个旅程", "definition": def}}, 201)
	var j2 struct{ ID int64 }
	r.decode(t, &j2)
	e.expect(call{method: "PUT", path: one, token: mk.token, body: body}, 200)
	e.expect(call{method: "PUT", path: one, token: mk.token, body: `{}{}`}, 400)
	e.expect(call{method: "PUT", path: one, body: body}, 401)
	e.expect(call{method: "PUT", path: one, token: rm.token, body: body}, 403)
	e.expect(call{method: "PUT", path: list + "/999999", token: mk.token, body: body}, 404)
	e.expect(call{method: "PUT", path: list + "/" + id(j2.ID), token: mk.token, body: body}, 409) // the name is taken
	e.expect(call{method: "PUT", path: one, token: mk.token, body: big}, 413)
	e.expect(call{method: "PUT", path: one, token: mk.token, body: "x", header: plain}, 415)
	e.expect(call{method: "PUT", path: one, token: mk.token, body: bad}, 422)

	for _, p := range []string{"/pause", "/resume"} {
		e.expect(call{method: "POST", path: one + p, token: mk.token}, 200)
		e.expect(call{method: "POST", path: one + p}, 401)
		e.expect(call{method: "POST", path: one + p, token: rm.token}, 403)
		e.expect(call{method: "POST", path: list + "/999999" + p, token: mk.token}, 404)
	}
	for _, p := range []string{"/versions", "/firings", "/results"} {
		e.expect(call{method: "GET", path: one + p, token: rm.token}, 200)
		e.expect(call{method: "GET", path: one + p}, 401)
		e.expect(call{method: "GET", path: one + p, token: integ.token}, 403)
		e.expect(call{method: "GET", path: list + "/999999" + p, token: rm.token}, 404)
	}
	e.expect(call{method: "GET", path: one + "/firings?cursor=nope", token: rm.token}, 400)
	e.expect(call{method: "GET", path: one + "/results?from=2026-02-30", token: rm.token}, 400)
	e.expect(call{method: "GET", path: one + "/results?from=2026-03-02&to=2026-03-01", token: rm.token}, 422)
	xlsx := one + "/results.xlsx"
	r = e.expect(call{method: "GET", path: xlsx + "?lang=en&from=2026-03-01", token: rm.token}, 200)
	if f, err := excelize.OpenReader(bytes.NewReader(r.Body.Bytes())); err != nil {
		t.Errorf("the journey workbook does not open: %v", err)
	} else {
		f.Close()
	}
	r = e.expect(call{method: "GET", path: xlsx + "?firings=none", token: rm.token}, 200)
	if f, err := excelize.OpenReader(bytes.NewReader(r.Body.Bytes())); err != nil {
		t.Errorf("the aggregates-only workbook does not open: %v", err)
	} else {
		if got := strings.Join(f.GetSheetList(), ","); got != "结果,抑制原因" {
			t.Errorf("aggregates-only sheets %s", got)
		}
		f.Close()
	}
	e.expect(call{method: "GET", path: xlsx + "?firings=some", token: rm.token}, 422)
	e.expect(call{method: "GET", path: xlsx + "?to=soon", token: rm.token}, 400)
	e.expect(call{method: "GET", path: xlsx}, 401)
	e.expect(call{method: "GET", path: xlsx, token: integ.token}, 403)
	e.expect(call{method: "GET", path: list + "/999999/results.xlsx", token: rm.token}, 404)
	e.expect(call{method: "GET", path: xlsx + "?from=2026-03-02&to=2026-03-01", token: rm.token}, 422)
	if e.do(call{method: "GET", path: one, token: rm.token}).Code != http.StatusOK {
		t.Error("journey unreadable after the walk")
	}
}
