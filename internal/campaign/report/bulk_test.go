package report_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"strconv"
	"testing"

	"github.com/xuri/excelize/v2"

	"kehu/internal/campaign/report"
	"kehu/internal/privacy"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestMemberListNeedsBulkApproval puts the workbook's member list under
// the bulk-export rule with a threshold below the campaign's audience: the
// export is refused (recorded as denied, compliance alerted) until an
// approved bulk-export request is used up by exactly one export; the
// aggregates alone need none; and a list under the threshold counts towards
// the user's day like any other export.
func TestMemberListNeedsBulkApproval(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		lc := b.LaunchedCampaign(t)
		n := lc.Results.Total.Audience
		priv := privacy.NewService(privacy.Deps{Store: db.Privacy(), Customers: b.CustomerService(), Clock: b.Clock,
			Audit: b.Audit, Tx: db, Config: privacy.Config{BulkThreshold: n - 1}})
		svc := b.CampaignReportServiceWith(t, priv)
		mk, ctx := b.As("hq_marketing"), context.Background()
		count := func(q string, args ...any) int64 {
			t.Helper()
			var c int64
			if err := db.InTx(ctx, func(tx *sql.Tx) error { return tx.QueryRow(q, args...).Scan(&c) }); err != nil {
				t.Fatal(err)
			}
			return c
		}

		var buf bytes.Buffer
		_, err := svc.Export(mk, lc.Campaign.ID, "zh-CN", &buf)
		var need *privacy.ApprovalRequiredError
		if !errors.As(err, &need) || need.Customers != n || need.Threshold != n-1 || buf.Len() != 0 {
			t.Fatalf("above the threshold without approval: %v (%d bytes)", err, buf.Len())
		}
		if c := count(`SELECT COUNT(*) FROM audit_log WHERE action = 'campaign.export' AND outcome = 'denied' AND count = $1`, n); c != 1 {
			t.Errorf("%d denied campaign.export records", c)
		}
		if c := count(`SELECT COUNT(*) FROM compliance_alerts WHERE kind = $1`, privacy.AlertBulkRefused); c != 1 {
			t.Errorf("%d refusal alerts", c)
		}

		// The aggregates alone: no approval, no member row, one record.
		buf.Reset()
		rows, err := svc.ExportWith(mk, lc.Campaign.ID, "en", &buf, report.Options{NoMembers: true})
		if err != nil || rows != 0 {
			t.Fatalf("aggregates only: %d rows, %v", rows, err)
		}
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.GetSheetList(); len(got) != 2 || got[0] != "Results" || got[1] != "Suppressions" {
			t.Errorf("sheets of the aggregates-only workbook: %v", got)
		}
		f.Close()
		if c := count(`SELECT COUNT(*) FROM audit_log WHERE action = 'campaign.export' AND outcome <> 'denied' AND count = 0`); c != 1 {
			t.Errorf("%d aggregate-only campaign.export records", c)
		}

		// An approved request for enough customers is used by one export.
		ap, err := priv.RequestApproval(mk, "季度营销复盘需要成员明细", int(n))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := priv.Decide(b.As("admin"), ap.ID, true, "同意"); err != nil {
			t.Fatal(err)
		}
		buf.Reset()
		if got, err := svc.Export(mk, lc.Campaign.ID, "zh-CN", &buf); err != nil || int64(got) != n {
			t.Fatalf("with the approval: %d rows, %v", got, err)
		}
		if c := count(`SELECT COUNT(*) FROM bulk_export_approvals WHERE id = $1 AND status = 'used'`, ap.ID); c != 1 {
			t.Errorf("the approval is not used up")
		}
		if c := count(`SELECT COUNT(*) FROM audit_log WHERE action = 'campaign.export' AND outcome <> 'denied'
			AND count = $1 AND reason = $2`, n, "results.xlsx; bulk_approval:"+strconv.FormatInt(ap.ID, 10)); c != 1 {
			t.Errorf("%d campaign.export records naming the approval", c)
		}
		if c := count(`SELECT COUNT(*) FROM compliance_alerts WHERE kind = $1`, privacy.AlertBulkApproved); c != 1 {
			t.Errorf("%d approved-export alerts", c)
		}
		buf.Reset()
		if _, err := svc.Export(mk, lc.Campaign.ID, "zh-CN", &buf); !errors.As(err, &need) {
			t.Errorf("a used approval served a second export: %v", err)
		}

		// Under the threshold the list goes out, and counts towards the
		// day: the customer export that follows is over.
		svc = b.CampaignReportServiceWith(t, privacy.NewService(privacy.Deps{Store: db.Privacy(),
			Customers: b.CustomerService(), Clock: b.Clock, Audit: b.Audit, Tx: db,
			Config: privacy.Config{BulkThreshold: 3*n - 1}}))
		if got, err := svc.Export(b.As("admin"), lc.Campaign.ID, "zh-CN", &buf); err != nil || int64(got) != n {
			t.Fatalf("under the threshold: %d %v", got, err)
		}
		if got, err := svc.Export(b.As("admin"), lc.Campaign.ID, "zh-CN", &buf); err != nil || int64(got) != n {
			t.Fatalf("second under the threshold: %d %v", got, err)
		}
		if _, err := svc.Export(b.As("admin"), lc.Campaign.ID, "zh-CN", &buf); !errors.As(err, &need) || need.UsedToday != 2*n {
			t.Errorf("the third export of the day: %v", err)
		}
	})
}
