package report_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"kehu/internal/journey"
	"kehu/internal/journey/report"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/privacy"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestJourneyWorkbook: a large-inflow journey with a control group fires
// for a1 (rm_a's) and b1 (rm_b's); the workbook holds every metric of the
// results, the suppressions by reason and one row per firing in the
// reader's scope with names masked for marketing, and leaves one
// journey.export record; an RM's workbook lists only their customer; an
// integration account may not export. The firing list is under the
// privacy module's bulk-export rule, counted towards the user's day.
func TestJourneyWorkbook(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := testkit.NewBank(t, db)
		b.AddPortfolio(t)
		a1, b1 := b.Customers["a1"].ID, b.Customers["b1"].ID
		if _, err := b.PrivacyService().SetConsents(b.As("admin"), a1,
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
		def, _ := json.Marshal(map[string]any{"trigger": "large_inflow", "reentry_days": 0, "product_id": 3,
			"cost_per_message": 5, "value_per_conversion": 10000,
			"actions": []any{map[string]any{"kind": "message", "channel": "sms", "template_id": tm.ID}}})
		j, err := b.JourneyService().Create(b.As("hq_marketing"), journey.Input{Name: "大额入账效果", Definition: def})
		if err != nil {
			t.Fatal(err)
		}
		now := b.Clock.Now().UTC()
		if err := db.InTx(ctx, func(tx *sql.Tx) error {
			for _, c := range []struct{ customer, account int64 }{{a1, 1}, {b1, 4}} {
				if _, err := tx.Exec(`INSERT INTO transactions (account_id, customer_id, occurred_at, amount, balance_after,
					kind, channel, counterparty, description) VALUES ($1, $2, $3, 20000000, 0, 'transfer_in', 'mobile', '', '')`,
					c.account, c.customer, now); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if fs, err := eng.Pass(ctx); err != nil || len(fs) != 2 {
			t.Fatalf("fired %d (%v)", len(fs), err)
		}
		svc := b.JourneyReportService(t)
		_, res, err := b.JourneyService().ResultsIn(b.As("hq_marketing"), j.ID, journey.Period{})
		if err != nil {
			t.Fatal(err)
		}
		before, _ := db.CountRows(ctx, "audit_log")
		var buf bytes.Buffer
		n, err := svc.Export(b.As("hq_marketing"), j.ID, journey.Period{}, "zh-CN", &buf)
		if err != nil || n != 2 {
			t.Fatalf("export: %d rows, %v", n, err)
		}
		if after, _ := db.CountRows(ctx, "audit_log"); after-before != 1 {
			t.Errorf("%d audit records for one export", after-before)
		}
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if got := strings.Join(f.GetSheetList(), ","); got != "结果,抑制原因,触发记录" {
			t.Fatalf("sheets %s", got)
		}
		if v, _ := f.GetCellValue("结果", "B1"); v != "大额入账效果" {
			t.Errorf("name cell %q", v)
		}
		rows, _ := f.GetRows("结果", excelize.Options{RawCellValue: true})
		byKey := map[string][]string{}
		for _, r := range rows {
			if len(r) >= 3 {
				byKey[r[1]] = r
			}
		}
		for key, want := range map[string]int64{"fired": 2, "customers": 2, "treatment": res.Treatment,
			"suppressed": res.SuppressedTotal, "queued": res.Queued, "converted_treatment": 0} {
			if r := byKey[key]; r == nil || r[2] != strconv.FormatInt(want, 10) {
				t.Errorf("%s: %v, want %d", key, r, want)
			}
		}
		if res.SuppressedTotal != 1 || res.Queued != 1 {
			t.Fatalf("results %+v", res)
		}
		reasons, _ := f.GetRows("抑制原因")
		if len(reasons) != 2 || reasons[1][1] != "no_consent" || reasons[1][0] == "no_consent" || reasons[1][2] != "1" {
			t.Errorf("suppressions %v", reasons)
		}
		firings, _ := f.GetRows("触发记录")
		if len(firings) != 3 {
			t.Fatalf("firing rows %v", firings)
		}
		for _, r := range firings[1:] {
			if r[3] == "张伟" || r[3] == "刘洋" || r[4] != "实验组" || !strings.Contains(r[6], "发送消息") {
				t.Errorf("firing row %v (names must be masked for marketing)", r)
			}
		}
		// rm_b's workbook holds only b1.
		buf.Reset()
		if n, err := svc.Export(b.As("rm_b"), j.ID, journey.Period{}, "en", &buf); err != nil || n != 1 {
			t.Fatalf("rm_b export: %d rows, %v", n, err)
		}
		g, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		if v, _ := g.GetCellValue("Firings", "C2"); v != strconv.FormatInt(b1, 10) {
			t.Errorf("rm_b's firing row names customer %s", v)
		}
		// A period without firings: an empty list, counted as such.
		tomorrow := kehu.DateOf(now.AddDate(0, 0, 2))
		if n, err := svc.Export(b.As("hq_marketing"), j.ID, journey.Period{From: tomorrow}, "en", &buf); err != nil || n != 0 {
			t.Errorf("empty period: %d rows, %v", n, err)
		}
		if _, err := svc.Export(b.As("hq_integration"), j.ID, journey.Period{}, "en", &buf); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Errorf("integration export: %v", err)
		}

		// The firing list is a bulk export: with a threshold of one
		// customer, two rows are refused whole (recorded as denied,
		// compliance alerted) until an approval is used up; the
		// aggregates alone need none; rm_b's one row passes.
		priv := privacy.NewService(privacy.Deps{Store: db.Privacy(), Customers: b.CustomerService(), Clock: b.Clock,
			Audit: b.Audit, Tx: db, Config: privacy.Config{BulkThreshold: 1}})
		gated := b.JourneyReportServiceWith(t, priv)
		count := func(q string, args ...any) int64 {
			t.Helper()
			var c int64
			if err := db.InTx(ctx, func(tx *sql.Tx) error { return tx.QueryRow(q, args...).Scan(&c) }); err != nil {
				t.Fatal(err)
			}
			return c
		}
		buf.Reset()
		_, err = gated.Export(b.As("hq_marketing"), j.ID, journey.Period{}, "zh-CN", &buf)
		var need *privacy.ApprovalRequiredError
		if !errors.As(err, &need) || need.Customers != 2 || buf.Len() != 0 {
			t.Fatalf("above the threshold: %v (%d bytes)", err, buf.Len())
		}
		if c := count(`SELECT COUNT(*) FROM audit_log WHERE action = 'journey.export' AND outcome = 'denied' AND count = 2`); c != 1 {
			t.Errorf("%d denied journey.export records", c)
		}
		if c := count(`SELECT COUNT(*) FROM compliance_alerts WHERE kind = $1`, privacy.AlertBulkRefused); c != 1 {
			t.Errorf("%d refusal alerts", c)
		}
		if n, err := gated.ExportWith(b.As("hq_marketing"), j.ID, journey.Period{}, "en", &buf, report.Options{NoFirings: true}); err != nil || n != 0 {
			t.Fatalf("aggregates only: %d, %v", n, err)
		}
		agg, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(agg.GetSheetList(), ","); got != "Results,Suppressions" {
			t.Errorf("aggregates-only sheets %s", got)
		}
		agg.Close()
		ap, err := priv.RequestApproval(b.As("hq_marketing"), "旅程效果复盘需要触发明细", 2)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := priv.Decide(b.As("admin"), ap.ID, true, "同意"); err != nil {
			t.Fatal(err)
		}
		buf.Reset()
		if n, err := gated.Export(b.As("hq_marketing"), j.ID, journey.Period{}, "zh-CN", &buf); err != nil || n != 2 {
			t.Fatalf("with the approval: %d, %v", n, err)
		}
		if _, err := gated.Export(b.As("hq_marketing"), j.ID, journey.Period{}, "zh-CN", &buf); !errors.As(err, &need) {
			t.Errorf("the approval was used twice: %v", err)
		}
		// rm_b's one row is under the threshold, but rm_b's earlier
		// workbook today counts towards the day.
		if _, err := gated.Export(b.As("rm_b"), j.ID, journey.Period{}, "zh-CN", &buf); !errors.As(err, &need) || need.UsedToday != 1 {
			t.Errorf("rm_b's second row today: %v", err)
		}
	})
}
