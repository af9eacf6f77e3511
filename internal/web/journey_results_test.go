package web_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kehu/internal/journey"
	"kehu/internal/kehu"
	"kehu/internal/lift"
	"kehu/internal/msgtemplate"
	"kehu/internal/privacy"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// journeyWithResults makes a large-inflow SMS journey with a 50% control
// group and product 3, fires it for every customer of the bank, lets the
// gateway deliver the messages and has one treatment and one control
// customer buy the product; it returns the journey and its results.
func journeyWithResults(t *testing.T, b *testkit.Bank) (journey.Journey, journey.Results) {
	t.Helper()
	ctx := context.Background()
	b.AddPortfolio(t)
	if _, err := b.PrivacyService().SetConsents(b.As("admin"), b.Customers["a1"].ID,
		[]privacy.ConsentChange{{Channel: "sms", Granted: true}}, "counter"); err != nil {
		t.Fatal(err)
	}
	tm, err := b.TemplateService().Create(b.As("hq_marketing"), msgtemplate.Input{Name: "到账", Channel: msgtemplate.SMS,
		Purpose: msgtemplate.Marketing, Content: msgtemplate.Content{Body: "【客户银行】{{salutation}}，到账{{amount_wan}}。退订回T"}})
	if err != nil {
		t.Fatal(err)
	}
	eng := b.JourneyEngine(journey.Options{})
	if _, err := eng.Pass(ctx); err != nil {
		t.Fatal(err)
	}
	def, _ := json.Marshal(map[string]any{"trigger": "large_inflow", "reentry_days": 0, "control_pct": 50, "product_id": 3,
		"cost_per_message": 5, "value_per_conversion": 10000,
		"actions": []any{map[string]any{"kind": "message", "channel": "sms", "template_id": tm.ID}}})
	j, err := b.JourneyService().Create(b.As("hq_marketing"), journey.Input{Name: "大额入账效果", Definition: def})
	if err != nil {
		t.Fatal(err)
	}
	now := b.Clock.Now().UTC()
	var groups [2][]int64 // treatment, control
	exec := func(q string, args ...any) {
		t.Helper()
		if err := b.DB.InTx(ctx, func(tx *sql.Tx) error { _, err := tx.Exec(q, args...); return err }); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, k := range []string{"a1", "a2", "a3", "b1", "corp_a"} {
		id := b.Customers[k].ID
		exec(`INSERT INTO transactions (account_id, customer_id, occurred_at, amount, balance_after, kind, channel,
			counterparty, description) VALUES (4, $1, $2, 20000000, 0, 'transfer_in', 'mobile', '', '')`, id, now)
		g := 0
		if journey.InControl(j.ID, id, 50) {
			g = 1
		}
		groups[g] = append(groups[g], id)
	}
	if fs, err := eng.Pass(ctx); err != nil || len(fs) != 5 {
		t.Fatalf("fired %d (%v)", len(fs), err)
	}
	if len(groups[0]) == 0 || len(groups[1]) == 0 {
		t.Fatalf("groups %v: the test needs both", groups)
	}
	exec(`UPDATE outbox_messages SET status = 'delivered', sent_at = $1, delivered_at = $1 WHERE source_kind = 'journey'
		AND source_id = $2`, now, j.ID)
	day := kehu.DateOf(now.In(kehu.LoadShanghai()).AddDate(0, 0, 1))
	for _, id := range []int64{groups[0][0], groups[1][0]} {
		exec(`INSERT INTO holdings (customer_id, account_id, product_id, amount, cost, acquired_on)
			VALUES ($1, 3, 3, 100, 100, $2)`, id, day)
	}
	res, err := b.JourneyService().Results(b.As("hq_marketing"), j.ID)
	if err != nil {
		t.Fatal(err)
	}
	return j, res
}

// TestJourneyResultsPage: 旅程效果 draws the funnel, the suppressions by
// reason and treatment against control with the lift's interval, links the
// workbook with the period, refuses a bad period with a sentence, reads in
// English, opens for an RM, and is linked from the journey's page; the
// editor keeps the control group and refuses one over 50% with a sentence.
func TestJourneyResultsPage(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		j, res := journeyWithResults(t, a.Bank)
		if res.ConvertedTreatment != 1 || res.ConvertedControl != 1 || !res.Lift.Defined || res.SuppressedTotal == 0 {
			t.Fatalf("results %+v", res)
		}
		mk := a.login(t, "hq_marketing")
		path := fmt.Sprintf("/journeys/%d", j.ID)
		mustContain(t, mk.get(path).body, `href="`+path+`/results" id="journey-results-link"`, "查看旅程效果")
		page := mk.get(path + "/results")
		if page.status != http.StatusOK {
			t.Fatalf("results page: %d %s %s", page.status, page.body, a.logs.String())
		}
		l := res.Lift
		mustContain(t, page.body, "旅程效果", "大额入账效果", `id="funnel-chart"`, `data-stage="fired"`,
			fmt.Sprintf(`class="value">%d · 100.0%%<`, res.Fired), `data-stage="sent"`, `data-stage="converted"`,
			`id="suppression-chart"`, `data-reason="no_consent"`, "未同意营销", `id="conversion-chart"`,
			`data-group="control"`, fmt.Sprintf("提升 %s（95%% 置信区间 %s 至 %s）", pct(l.Difference), pct(l.Low), pct(l.High)),
			`id="results-control-pct">50%<`, fmt.Sprintf(`id="n-fired-control">%d<`, res.FiredControl),
			fmt.Sprintf(`/api/v1/journeys/%d/results.xlsx?lang=zh-CN"`, j.ID), `data-outcome="control"`, "对照组（未执行）",
			fmt.Sprintf(`/api/v1/journeys/%d/results.xlsx?firings=none&amp;lang=zh-CN" id="results-export-aggregates"`, j.ID),
			`id="results-export-rule"`, "触发明细属于批量导出")
		// The Wilson interval of the control group is drawn as its error bar.
		lo, hi := lift.Wilson(res.ConvertedControl, res.Control, lift.Z95)
		mustContain(t, page.body, fmt.Sprintf("%d/%d = %s (95%% %s–%s)", res.ConvertedControl, res.Control,
			pct(res.RateControl), pct(lo), pct(hi)))
		if res.ROI == nil {
			t.Fatal("no ROI with a cost")
		}
		mustContain(t, page.body, `id="roi">`+pct(*res.ROI)+`<`)

		day := res.Lift.Method // any non-date text
		bad := mk.get(path + "/results?from=" + url.QueryEscape(day))
		if bad.status != http.StatusBadRequest {
			t.Errorf("bad date: %d", bad.status)
		}
		mustContain(t, bad.body, `id="results-error"`, "日期格式应为 YYYY-MM-DD")
		mustNotContain(t, bad.body, `id="funnel-chart"`)
		back := mk.get(path + "/results?from=2026-03-05&to=2026-03-01")
		if back.status != http.StatusUnprocessableEntity {
			t.Errorf("to before from: %d", back.status)
		}
		mustContain(t, back.body, "结束日期不能早于开始日期。")
		empty := mk.get(path + "/results?from=2030-01-01")
		mustContain(t, empty.body, `id="funnel-empty"`, `value="2030-01-01"`, `results.xlsx?from=2030-01-01&amp;lang=zh-CN"`)

		mk.lang = "en"
		mustContain(t, mk.get(path+"/results").body, "Journey results", "Treatment (actions run)", "Control group (not run)")
		mk.lang = "zh-CN"
		if r := a.login(t, "rm_a").get(path + "/results"); r.status != http.StatusOK {
			t.Errorf("an RM reads the results: %d", r.status)
		}

		// The editor shows the control group and refuses 60%.
		edit := mk.get(path)
		mustContain(t, edit.body, `id="journey-control-pct" name="control_pct" value="50"`, `name="cost_per_message" value="0.05"`,
			`name="value_per_conversion" value="100"`)
		form := url.Values{"csrf": {mk.csrf(edit)}, "name": {"大额入账效果"}, "trigger": {"large_inflow"},
			"reentry_days": {"0"}, "act_tag": {"1"}, "tag_id": {"1"}, "control_pct": {"60"}}
		r := mk.post(path, form)
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("60%%: %d", r.status)
		}
		mustContain(t, r.body, `id="control-pct-error">对照组比例须在 0 到 50 之间（百分比）。<`,
			`name="control_pct" value="60" inputmode="numeric" aria-invalid="true"`)
		form.Set("control_pct", "20")
		form.Set("conversion_days", "14")
		if r := mk.post(path, form); r.status != http.StatusSeeOther {
			t.Fatalf("save 20%%: %d", r.status)
		}
		got, _ := a.JourneyService().Get(a.As("hq_marketing"), j.ID)
		if got.Definition.ControlPct != 20 || got.Definition.ConversionDays != 14 {
			t.Errorf("saved %+v", got.Definition)
		}
	})
}

func pct(v float64) string { return fmt.Sprintf("%.2f%%", v*100) }

var _ = strings.Contains
