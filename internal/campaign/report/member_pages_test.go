package report_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"kehu/internal/audit"
	"kehu/internal/kehu"
	"kehu/internal/privacy"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestMemberPagesCountTowardsTheDay: the pages of a campaign's members (and
// of a journey's firings) count towards the reader's daily bulk total like
// the customer list, so paging through the members and then exporting them
// is refused where the export alone would have gone out.
func TestMemberPagesCountTowardsTheDay(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		lc := b.LaunchedCampaign(t)
		n := lc.Results.Total.Audience
		priv := privacy.NewService(privacy.Deps{Store: db.Privacy(), Customers: b.CustomerService(), Clock: b.Clock,
			Audit: b.Audit, Tx: db, Config: privacy.Config{BulkThreshold: 2*n - 1}})
		svc := b.CampaignReportServiceWith(t, priv)
		admin, ctx := b.As("admin"), context.Background()

		// Paged two at a time: every page is one campaign.members record.
		shown, after := int64(0), kehu.Cursor{}
		for {
			p, err := b.CampaignService(100, nil).Members(admin, lc.Campaign.ID, 0, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			shown += int64(len(p.Items))
			if p.NextCursor.AfterID == 0 {
				break
			}
			after = p.NextCursor
		}
		if shown != n {
			t.Fatalf("paged %d members, want %d", shown, n)
		}
		if got, err := db.Privacy().CustomersShownSince(ctx, "admin", b.Clock.Now().Add(-1)); err != nil || got != n {
			t.Fatalf("shown today after paging: %d (%v), want %d", got, err, n)
		}
		var buf bytes.Buffer
		_, err := svc.Export(admin, lc.Campaign.ID, "zh-CN", &buf)
		var need *privacy.ApprovalRequiredError
		if !errors.As(err, &need) || need.UsedToday != n || need.Customers != n {
			t.Fatalf("export after paging through the members: %v; want approval required, %d used today", err, n)
		}

		// A journey's firing pages count the same way.
		err = db.WithTx(admin, func(ctx context.Context) error {
			return b.Audit.Record(ctx, audit.Entry{Action: "journey.firings", Object: "journey:1", Count: 7})
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := db.Privacy().CustomersShownSince(ctx, "admin", b.Clock.Now().Add(-1)); err != nil || got != n+7 {
			t.Errorf("shown today after a page of firings: %d (%v), want %d", got, err, n+7)
		}
	})
}
