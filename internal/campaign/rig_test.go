package campaign_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"kehu/internal/campaign"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/segment"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// rig is a bank with n extra customers at outlet A, an SMS template, a
// wealth product rated R2, a deposit product and a segment of every
// individual.
type rig struct {
	t        *testing.T
	b        *testkit.Bank
	svc      *campaign.Service
	segment  int64
	template int64
	wealth   int64
	deposit  int64
	ids      []int64 // every individual, in id order
}

// The extra customers' facts follow their index i: SMS consent unless
// i%5 == 0 (withdrawn when i%10 == 0), do-not-call when i%13 == 0, assessed
// C3 a month ago unless i%7 == 0 (never assessed).
func newRig(t *testing.T, db *store.DB, n, batch int) *rig {
	t.Helper()
	b := testkit.NewBank(t, db)
	r := &rig{t: t, b: b}
	now := b.Clock.Now()
	ctx := context.Background()
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRow(`INSERT INTO products (code, name, name_en, type, risk_level) VALUES
			('WM-CAMP', '稳盈90天理财', 'Steady 90', 'wealth', 2) RETURNING id`).Scan(&r.wealth); err != nil {
			return err
		}
		if err := tx.QueryRow(`INSERT INTO products (code, name, name_en, type) VALUES
			('TD-CAMP', '三年定期', 'Three-year deposit', 'time_deposit') RETURNING id`).Scan(&r.deposit); err != nil {
			return err
		}
		for i := range n {
			var id int64
			risk, assessed := 3, any(now.AddDate(0, -1, 0))
			if i%7 == 0 {
				risk, assessed = 0, nil
			}
			if err := tx.QueryRow(`INSERT INTO customers (type, name, id_type, id_number, id_number_bidx, org_id, status,
				risk_level, risk_assessed_at, created_at, updated_at)
				VALUES ('individual', $1, 'passport', $2, $2, $3, 'active', $4, $5, $6, $6) RETURNING id`,
				fmt.Sprintf("客户%d", i), fmt.Sprintf("C%07d", i), b.OutletA.ID, risk, assessed, now).Scan(&id); err != nil {
				return err
			}
			if i%5 != 0 || i%10 == 0 {
				if _, err := tx.Exec(`INSERT INTO customer_consents (customer_id, channel, granted, changed_at, source)
					VALUES ($1, 'sms', $2, $3, 'counter')`, id, i%5 != 0, now); err != nil {
					return err
				}
			}
			if i%13 == 0 {
				if _, err := tx.Exec(`INSERT INTO customer_preferences (customer_id, contact_from, contact_to, contact_days,
					do_not_call, updated_at) VALUES ($1, '', '', '', TRUE, $2)`, id, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r.segment, r.template = benchSegmentAndTemplate(t, b)
	rows, err := b.DB.Segments().SegmentIDs(ctx, mustPlan(t, b, r.segment), customer.ScopeFilter{}, 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	r.ids = rows
	r.svc = b.CampaignService(batch, nil)
	return r
}

func mustPlan(t *testing.T, b *testkit.Bank, id int64) *segment.Plan {
	t.Helper()
	p, err := b.SegmentService().PlanFor(context.Background(), id, b.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// benchSegmentAndTemplate saves the segment of every individual and the
// SMS template offering the product.
func benchSegmentAndTemplate(t testing.TB, b *testkit.Bank) (segmentID, templateID int64) {
	t.Helper()
	mk := b.As("hq_marketing")
	g, err := b.SegmentService().Create(mk, segment.Input{Name: "全部个人客户", Kind: segment.Dynamic,
		Rule: json.RawMessage(`{"field":"customer_type","op":"=","value":"individual"}`)})
	if err != nil {
		t.Fatal(err)
	}
	tm, err := b.TemplateService().Create(mk, msgtemplate.Input{Name: "理财推荐", Channel: msgtemplate.SMS,
		Purpose: msgtemplate.Marketing, Content: msgtemplate.Content{Body: "【客户银行】{{salutation}}您好，{{product_name}}正在发售，详询{{rm_name}}。退订回T"}})
	if err != nil {
		t.Fatal(err)
	}
	return g.ID, tm.ID
}

// input is an SMS campaign offering the wealth product to the segment.
func (r *rig) input(control int) campaign.Input {
	return campaign.Input{Name: "稳盈理财推广", Description: "春季理财", SegmentID: r.segment, ProductID: &r.wealth,
		Channel: campaign.SMS, TemplateID: &r.template, Schedule: campaign.Schedule{Kind: campaign.Once},
		ControlPct: control, ConversionDays: 14, CostPerMessage: 5, ValuePerConversion: 20_000}
}

// approved creates, submits and approves a campaign (maker hq_marketing,
// checker branch_manager).
func (r *rig) approved(in campaign.Input) campaign.Campaign {
	r.t.Helper()
	mk := r.b.As("hq_marketing")
	c, err := r.svc.Create(mk, in)
	if err != nil {
		r.t.Fatalf("create: %v", err)
	}
	if c, err = r.svc.Submit(mk, c.ID); err != nil {
		r.t.Fatalf("submit: %v", err)
	}
	if c, err = r.svc.Approve(r.b.As("branch_manager"), c.ID); err != nil {
		r.t.Fatalf("approve: %v", err)
	}
	return c
}

// launched is approved, launched and run to the end.
func (r *rig) launched(in campaign.Input) campaign.Campaign {
	r.t.Helper()
	c := r.approved(in)
	if _, err := r.svc.Launch(r.b.As("hq_marketing"), c.ID); err != nil {
		r.t.Fatalf("launch: %v", err)
	}
	if _, err := r.svc.RunDue(context.Background()); err != nil {
		r.t.Fatalf("run: %v", err)
	}
	c, err := r.svc.Get(r.b.As("hq_marketing"), c.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

func (r *rig) count(q string, args ...any) int64 {
	r.t.Helper()
	var n int64
	if err := r.b.DB.InTx(context.Background(), func(tx *sql.Tx) error { return tx.QueryRow(q, args...).Scan(&n) }); err != nil {
		r.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (r *rig) exec(q string, args ...any) {
	r.t.Helper()
	if err := r.b.DB.InTx(context.Background(), func(tx *sql.Tx) error { _, err := tx.Exec(q, args...); return err }); err != nil {
		r.t.Fatalf("%s: %v", q, err)
	}
}

// members returns customer id → member of one run.
func (r *rig) members(id int64, run int) map[int64]campaign.Member {
	r.t.Helper()
	out := map[int64]campaign.Member{}
	after := kehu.Cursor{}
	for {
		p, err := r.svc.Members(r.b.As("hq_marketing"), id, run, after, kehu.MaxPageSize)
		if err != nil {
			r.t.Fatal(err)
		}
		for _, m := range p.Items {
			if _, dup := out[m.CustomerID]; dup {
				r.t.Fatalf("customer %d listed twice", m.CustomerID)
			}
			out[m.CustomerID] = m
		}
		if p.NextCursor.AfterID == 0 {
			return out
		}
		after = p.NextCursor
	}
}

func fieldsOf(err error) []string {
	var out []string
	for _, f := range kehu.ErrorFields(err) {
		out = append(out, f.Field)
	}
	slices.Sort(out)
	return out
}

// actions lists the audit actions recorded on object, sorted.
func (r *rig) actions(object string) []string {
	r.t.Helper()
	var out []string
	err := r.b.DB.InTx(context.Background(), func(tx *sql.Tx) error {
		rows, err := tx.Query("SELECT action FROM audit_log WHERE object = $1", object)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a string
			if err := rows.Scan(&a); err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		r.t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func contains(list []string, s string) bool { return slices.Contains(list, s) }

// scanTime reads one instant.
func (r *rig) scanTime(q string, arg any, a *time.Time) {
	r.t.Helper()
	if err := r.b.DB.InTx(context.Background(), func(tx *sql.Tx) error { return tx.QueryRow(q, arg).Scan(a) }); err != nil {
		r.t.Fatalf("%s: %v", q, err)
	}
}

// scanID runs an INSERT … RETURNING id.
func (r *rig) scanID(q string, id *int64, args ...any) {
	r.t.Helper()
	if err := r.b.DB.InTx(context.Background(), func(tx *sql.Tx) error { return tx.QueryRow(q, args...).Scan(id) }); err != nil {
		r.t.Fatalf("%s: %v", q, err)
	}
}
