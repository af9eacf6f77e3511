package testkit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"

	"kehu/internal/campaign"
	"kehu/internal/campaign/report"
	"kehu/internal/msgtemplate"
	"kehu/internal/segment"
)

// LaunchedCampaign is a finished SMS campaign over the bank's individuals
// and 30 more at outlet A, with a 20% control group, built by
// (*Bank).LaunchedCampaign.
type LaunchedCampaign struct {
	Campaign campaign.Campaign
	Results  campaign.Results
}

// LaunchedCampaign creates 30 customers at outlet A (the i-th without SMS
// consent when i%5 == 0, consent withdrawn when i%10 == 0), a wealth product
// rated R2, a segment of every individual and an SMS template; launches an
// approved campaign offering the product with a 20% control group; marks
// six treatment messages delivered and one failed; and has four treatment
// members and one control member buy the product inside the window.
func (b *Bank) LaunchedCampaign(t testing.TB) LaunchedCampaign {
	t.Helper()
	ctx, now := context.Background(), b.Clock.Now()
	var product int64
	err := b.DB.InTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRow(`INSERT INTO products (code, name, name_en, type, risk_level) VALUES
			('WM-RPT', '稳盈90天理财', 'Steady 90', 'wealth', 2) RETURNING id`).Scan(&product); err != nil {
			return err
		}
		for i := range 30 {
			var id int64
			if err := tx.QueryRow(`INSERT INTO customers (type, name, id_type, id_number, id_number_bidx, org_id, owner_id,
				status, risk_level, risk_assessed_at, created_at, updated_at)
				VALUES ('individual', $1, 'passport', $2, $2, $3, $4, 'active', 3, $5, $5, $5) RETURNING id`,
				fmt.Sprintf("报表客户%02d", i), fmt.Sprintf("R%07d", i), b.OutletA.ID, b.Users["rm_a"].ID, now).Scan(&id); err != nil {
				return err
			}
			if i%5 != 0 || i%10 == 0 {
				if _, err := tx.Exec(`INSERT INTO customer_consents (customer_id, channel, granted, changed_at, source)
					VALUES ($1, 'sms', $2, $3, 'counter')`, id, i%5 != 0, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mk := b.As("hq_marketing")
	g, err := b.SegmentService().Create(mk, segment.Input{Name: "报表客群", Kind: segment.Dynamic,
		Rule: json.RawMessage(`{"field":"customer_type","op":"=","value":"individual"}`)})
	if err != nil {
		t.Fatal(err)
	}
	tm, err := b.TemplateService().Create(mk, msgtemplate.Input{Name: "报表模板", Channel: msgtemplate.SMS,
		Purpose: msgtemplate.Marketing, Content: msgtemplate.Content{Body: "【客户银行】{{salutation}}您好，{{product_name}}正在发售。退订回T"}})
	if err != nil {
		t.Fatal(err)
	}
	svc := b.CampaignService(0, nil)
	c, err := svc.Create(mk, campaign.Input{Name: "稳盈理财春季推广", SegmentID: g.ID, ProductID: &product, Channel: campaign.SMS,
		TemplateID: &tm.ID, Schedule: campaign.Schedule{Kind: campaign.Once}, ControlPct: 20, ConversionDays: 14,
		CostPerMessage: 5, ValuePerConversion: 20_000})
	if err == nil {
		_, err = svc.Submit(mk, c.ID)
	}
	if err == nil {
		_, err = svc.Approve(b.As("branch_manager"), c.ID)
	}
	if err == nil {
		_, err = svc.Launch(mk, c.ID)
	}
	if err == nil {
		_, err = svc.RunDue(ctx)
	}
	if err != nil {
		t.Fatalf("campaign: %v", err)
	}
	b.campaignOutcomes(t, c.ID, product)
	out := LaunchedCampaign{}
	if out.Campaign, err = svc.Get(mk, c.ID); err != nil {
		t.Fatal(err)
	}
	if out.Results, err = svc.Results(mk, c.ID); err != nil {
		t.Fatal(err)
	}
	return out
}

// campaignOutcomes delivers six treatment messages, fails one, and has four
// treatment members and one control member buy product two days in.
func (b *Bank) campaignOutcomes(t testing.TB, id, product int64) {
	t.Helper()
	day := b.Clock.Now().AddDate(0, 0, 2).Format("2006-01-02")
	err := b.DB.InTx(context.Background(), func(tx *sql.Tx) error {
		pick := func(q string, n int) ([]int64, error) {
			rows, err := tx.Query(q+fmt.Sprintf(" ORDER BY customer_id LIMIT %d", n), id)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			var ids []int64
			for rows.Next() {
				var x int64
				if err := rows.Scan(&x); err != nil {
					return nil, err
				}
				ids = append(ids, x)
			}
			return ids, rows.Err()
		}
		queued, err := pick(`SELECT customer_id FROM campaign_members WHERE campaign_id = $1 AND outcome = 'queued'`, 7)
		if err != nil {
			return err
		}
		control, err := pick(`SELECT customer_id FROM campaign_members WHERE campaign_id = $1 AND grp = 'control'`, 1)
		if err != nil {
			return err
		}
		if len(queued) < 7 || len(control) < 1 {
			return fmt.Errorf("too few members: %d queued, %d control", len(queued), len(control))
		}
		now := b.Clock.Now()
		for i, cid := range queued {
			q := `UPDATE outbox_messages SET status = 'delivered', sent_at = $1, delivered_at = $1 WHERE customer_id = $2 AND source_id = $3`
			if i == 6 {
				q = `UPDATE outbox_messages SET status = 'failed', failed_at = $1 WHERE customer_id = $2 AND source_id = $3`
			}
			if _, err := tx.Exec(q, now, cid, id); err != nil {
				return err
			}
		}
		for i, cid := range append(queued[:4], control[0]) {
			sealed, index, err := b.DB.SealAccountNo(AccountNo(9000 + i))
			if err != nil {
				return err
			}
			var account int64
			if err := tx.QueryRow(`INSERT INTO accounts (customer_id, product_id, account_no, account_no_bidx, org_id, opened_on)
				VALUES ($1, $2, $3, $4, $5, '2025-01-01') RETURNING id`, cid, product, sealed, index, b.OutletA.ID).Scan(&account); err != nil {
				return err
			}
			if _, err := tx.Exec(`INSERT INTO holdings (customer_id, account_id, product_id, amount, cost, acquired_on)
				VALUES ($1, $2, $3, 5000000, 5000000, $4)`, cid, account, product, day); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// CampaignReportService returns the campaign results workbook service over
// the bank, its member lists under the privacy module's default bulk rule.
func (b *Bank) CampaignReportService(t testing.TB) *report.Service {
	return b.CampaignReportServiceWith(t, b.PrivacyService())
}

// CampaignReportServiceWith is CampaignReportService with another bulk rule
// (a privacy service with a lower threshold).
func (b *Bank) CampaignReportServiceWith(t testing.TB, bulk report.ExportGate) *report.Service {
	s, err := report.NewService(report.Deps{Campaigns: b.CampaignService(0, nil), Store: b.DB.CampaignReports(),
		Customers: b.CustomerService(), Audit: b.Audit, Tx: b.DB, Clock: b.Clock, Bulk: bulk})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
