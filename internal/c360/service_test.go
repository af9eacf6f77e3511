package c360_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"testing"
	"time"

	"kehu/internal/c360"
	"kehu/internal/interaction"
	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/tag"
	"kehu/internal/testkit"
)

// setup gives a1 the portfolio, a declined pitch, an emotion tag, channel
// events, a secondary RM and a risk assessment 11 months old.
func setup(t *testing.T, db *store.DB) *testkit.Bank {
	t.Helper()
	b := testkit.NewBank(t, db)
	b.AddPortfolio(t)
	ctx := context.Background()
	tags := b.TagService()
	if _, err := tags.EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	a1 := b.Customers["a1"].ID
	now := b.Clock.Now()
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO channel_events (customer_id, occurred_at, channel, kind, product_id, detail) VALUES
				($1, $2, 'mobile_app', 'app_login', NULL, '{"device":"iPhone"}'),
				($1, $3, 'mobile_app', 'product_view', 3, '{"source":"app"}')`, []any{a1, now.Add(-48 * time.Hour), now.Add(-47 * time.Hour)}},
			// A secondary RM who sees the whole bank anyway, so scope tests
			// are not widened.
			{`INSERT INTO customer_secondary_rms (customer_id, user_id, added_by, added_at) VALUES ($1, $2, $2, $3)`,
				[]any{a1, b.Users["admin"].ID, now}},
			{`UPDATE customers SET risk_level = 3, risk_assessed_at = $1 WHERE id = $2`, []any{now.AddDate(0, -11, -10), a1}},
		} {
			if _, err := tx.Exec(q.sql, q.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.InteractionService().Record(b.As("teller_a"), a1, interaction.New{Channel: "branch",
		Purpose: "marketing", Products: []string{"FD-EQ01"}, Response: interaction.Declined, Note: "嫌波动大"}); err != nil {
		t.Fatal(err)
	}
	cat, err := tags.Catalogue(b.As("rm_a"), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range cat {
		if x.Code == "dissatisfied" {
			if _, err := tags.Add(b.As("rm_a"), a1, tag.Assign{TagID: x.ID, Reason: "等候时间长"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b
}

func auditRows(t *testing.T, db *store.DB) int64 {
	t.Helper()
	n, err := db.CountRows(context.Background(), "audit_log")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestView(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		svc := b.C360Service()
		a1 := b.Customers["a1"].ID
		before := auditRows(t, db)
		v, err := svc.View(b.As("rm_a"), a1, c360.TxnFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if n := auditRows(t, db) - before; n != 1 {
			t.Errorf("the 360 wrote %d audit records, want 1", n)
		}
		if v.Profile.Name != "张伟" || v.Profile.Mobile != "13800000001" {
			t.Errorf("profile %+v", v.Profile)
		}
		if v.AUM.Total != 101845678 || v.AUM.Deposits != 62345678 || v.AUM.Investments != 39500000 {
			t.Errorf("aum %+v", v.AUM)
		}
		want := []int64{11855678, 11855678, 20855678, 20855678, 20855678, 70855678, 70855678, 70855678,
			101355678, 101355678, 101355678, 101845678}
		if len(v.AUM.Trend) != 12 || v.AUM.Trend[0].Month != "2025-04" || v.AUM.Trend[11].Month != "2026-03" {
			t.Fatalf("trend %+v", v.AUM.Trend)
		}
		for i, p := range v.AUM.Trend {
			if p.AUM != want[i] {
				t.Errorf("trend %s: %d, want %d", p.Month, p.AUM, want[i])
			}
		}
		if len(v.Accounts) != 2 || v.Accounts[0].Type != "current_deposit" || len(v.Accounts[0].Accounts) != 2 ||
			v.Accounts[1].Total != 50000000 || len(v.Holdings) != 2 || v.Holdings[0].Type != "wealth" {
			t.Errorf("groups %+v %+v", v.Accounts, v.Holdings)
		}
		if len(v.Transactions.Items) != c360.DefaultTxnLimit || v.Transactions.NextCursor == "" ||
			v.Transactions.Items[0].AccountNo != "6222 **** **** 0001" {
			t.Errorf("transactions %d %q", len(v.Transactions.Items), v.Transactions.NextCursor)
		}
		rel := map[string]string{}
		for _, r := range v.Relationships {
			rel[r.Relation] = r.Name
		}
		if rel["spouse"] != "王芳" || rel["sibling"] != "刘洋" || rel["represented_company"] != b.Customers["corp_a"].Name {
			t.Errorf("relations %v", rel)
		}
		if len(v.Events) != 2 || v.Events[0].Kind != "product_view" || v.Events[0].ProductCode != "WM-R2-180" ||
			detail(t, v.Events[0].Detail)["source"] != "app" {
			t.Errorf("events %+v", v.Events)
		}
		if len(v.Interactions) != 1 || v.Interactions[0].Note != "嫌波动大" || v.KPIs.LastContactAt == nil {
			t.Errorf("interactions %+v", v.Interactions)
		}
		if len(v.QuietProducts) != 1 || v.QuietProducts[0].Product.Code != "FD-EQ01" ||
			v.QuietProducts[0].Until != (kehu.Date{Year: 2026, Month: 4, Day: 1}) {
			t.Errorf("quiet %+v", v.QuietProducts)
		}
		if len(v.Tags) == 0 || v.Tags[0].Tag.Code != "dissatisfied" || v.Tags[0].Reason != "等候时间长" {
			t.Errorf("tags (negative emotion first) %+v", v.Tags)
		}
		if len(v.Preferences.Consents) != 6 || v.Preferences.Consents[0].Granted {
			t.Errorf("consents %+v", v.Preferences.Consents)
		}
		if v.Owners.Primary == nil || v.Owners.Primary.Name != "rm_a" || len(v.Owners.Secondaries) != 1 ||
			v.Owners.Secondaries[0].Name != "admin" {
			t.Errorf("owners %+v", v.Owners)
		}
		if v.Risk.Level != 3 || v.Risk.Expired || !v.Risk.ExpiringSoon || v.Risk.ExpiresOn == nil {
			t.Errorf("risk %+v", v.Risk)
		}
		if v.Level.Code != "standard" || v.Level.Source != "stored" || len(v.Level.Reasons) != 1 {
			t.Errorf("level %+v", v.Level)
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatal(err)
		}
		// A month and a half later the assessment has expired.
		b.Clock.Advance(45 * 24 * time.Hour)
		if v, err = svc.View(b.As("rm_a"), a1, c360.TxnFilter{}); err != nil || !v.Risk.Expired || v.Risk.ExpiringSoon {
			t.Errorf("risk later %+v %v", v.Risk, err)
		}
	})
}

func TestViewScopeAndMasking(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		svc := b.C360Service()
		for _, tt := range []struct{ user, cust, code string }{
			{"rm_a", "b1", kehu.ENOTFOUND}, {"rm_a2", "a1", kehu.ENOTFOUND}, {"teller_b", "a1", kehu.ENOTFOUND},
			{"hq_callcenter", "a1", kehu.ENOTFOUND}, {"teller_a", "a1", ""}, {"branch_manager", "b1", ""},
		} {
			if _, err := svc.View(b.As(tt.user), b.Customers[tt.cust].ID, c360.TxnFilter{}); kehu.ErrorCode(err) != tt.code {
				t.Errorf("%s → %s: %v, want %q", tt.user, tt.cust, err, tt.code)
			}
			if _, err := svc.Transactions(b.As(tt.user), b.Customers[tt.cust].ID, c360.TxnFilter{}); kehu.ErrorCode(err) != tt.code {
				t.Errorf("transactions %s → %s: %v, want %q", tt.user, tt.cust, err, tt.code)
			}
		}
		if _, err := svc.View(b.As("admin"), 999999, c360.TxnFilter{}); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Errorf("unknown: %v", err)
		}
		v, err := svc.View(b.As("teller_a"), b.Customers["a1"].ID, c360.TxnFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if v.Transactions.Items[0].AccountNo != "6222 **** **** 0001" || v.Accounts[0].Accounts[0].AccountNo != "6222 **** **** 0001" ||
			v.Profile.Mobile == "13800000001" {
			t.Errorf("teller sees %q %q %q", v.Transactions.Items[0].AccountNo, v.Accounts[0].Accounts[0].AccountNo, v.Profile.Mobile)
		}
		for _, r := range v.Relationships {
			if r.Relation == "sibling" && r.Visible {
				t.Errorf("b1 is outside outlet A yet linked: %+v", r)
			}
		}
	})
}

func TestTransactionFilters(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		svc := b.C360Service()
		ctx, a1 := b.As("rm_a"), b.Customers["a1"].ID
		min := int64(200000)
		var ids []int64
		var times []time.Time
		f := c360.TxnFilter{Kind: "transfer_in", MinAmount: &min, Limit: 4}
		for range 3 {
			p, err := svc.Transactions(ctx, a1, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range p.Items {
				ids, times = append(ids, x.ID), append(times, x.OccurredAt)
				if x.Amount < min {
					t.Errorf("amount %d below the minimum", x.Amount)
				}
			}
			if f.Cursor = p.NextCursor; f.Cursor == "" {
				break
			}
		}
		if len(ids) != 6 {
			t.Errorf("paged %d transactions over ¥2,000, want 6", len(ids))
		}
		for i := 1; i < len(times); i++ {
			if !times[i].Before(times[i-1]) {
				t.Errorf("not newest first: %v", times)
			}
		}
		day := kehu.Date{Year: 2026, Month: 3, Day: 2} // Shanghai: 00:00–09:30 holds the newest 9
		max := int64(50000)
		for _, tt := range []struct {
			f    c360.TxnFilter
			want int
		}{
			{c360.TxnFilter{From: &day, To: &day, Limit: 100}, 9},
			{c360.TxnFilter{To: &kehu.Date{Year: 2026, Month: 2, Day: 28}, Limit: 100}, 0},
			{c360.TxnFilter{Channel: "mobile", MaxAmount: &max, Limit: 100}, 5},
			{c360.TxnFilter{AccountID: 2, Limit: 100}, 0},
			{c360.TxnFilter{Kind: "salary", Limit: 100}, 0},
		} {
			p, err := svc.Transactions(ctx, a1, tt.f)
			if err != nil || len(p.Items) != tt.want {
				t.Errorf("%+v: %d %v, want %d", tt.f, len(p.Items), err, tt.want)
			}
		}
		neg := int64(-1)
		for _, tt := range []struct {
			f     c360.TxnFilter
			field string
		}{
			{c360.TxnFilter{From: &day, To: &kehu.Date{Year: 2026, Month: 3, Day: 1}}, "to"},
			{c360.TxnFilter{MinAmount: &neg}, "min_amount"},
			{c360.TxnFilter{MinAmount: &min, MaxAmount: &max}, "max_amount"},
			{c360.TxnFilter{Cursor: "bm9wZQ"}, "cursor"},
		} {
			_, err := svc.Transactions(ctx, a1, tt.f)
			if f := kehu.ErrorFields(err); len(f) != 1 || f[0].Field != tt.field {
				t.Errorf("%+v: %v, want %s", tt.f, err, tt.field)
			}
		}
	})
}

func detail(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("detail %s: %v", raw, err)
	}
	return m
}
