package tag_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/tag"
	"kehu/internal/testkit"
)

func newService(b *testkit.Bank) *tag.Service {
	return tag.NewService(tag.Deps{Store: b.DB.Tags(), Customers: b.CustomerService(), Clock: b.Clock,
		Audit: b.Audit, Tx: b.DB})
}

// byCode returns the catalogue entry with a built-in code.
func byCode(t *testing.T, svc *tag.Service, ctx context.Context, code string) tag.Tag {
	t.Helper()
	all, err := svc.Catalogue(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range all {
		if x.Code == code {
			return x
		}
	}
	t.Fatalf("no tag %s in %+v", code, all)
	return tag.Tag{}
}

func names(ts []tag.CustomerTag) map[string]tag.CustomerTag {
	out := map[string]tag.CustomerTag{}
	for _, t := range ts {
		out[t.Tag.Name] = t
	}
	return out
}

func TestCatalogue(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		svc := newService(b)
		ctx := context.Background()
		if n, err := svc.EnsureDefaults(ctx); err != nil || n != len(tag.Defaults) {
			t.Fatalf("defaults: %d %v", n, err)
		}
		if n, err := svc.EnsureDefaults(ctx); err != nil || n != 0 {
			t.Fatalf("defaults twice: %d %v", n, err)
		}
		admin, mkt, rm := b.As("admin"), b.As("hq_marketing"), b.As("rm_a")
		if _, err := svc.Create(rm, tag.NewTag{Name: "房贷客户", Kind: tag.Manual}); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Errorf("rm creates: %v", err)
		}
		vip, err := svc.Create(mkt, tag.NewTag{Name: "房贷客户", LabelEN: "Mortgage", Kind: tag.Manual, Color: "blue"})
		if err != nil || vip.ID == 0 || !vip.Active {
			t.Fatalf("create %+v %v", vip, err)
		}
		if _, err := svc.Create(admin, tag.NewTag{Name: "房贷客户", Kind: tag.Manual}); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Errorf("duplicate name: %v", err)
		}
		for _, tt := range []struct {
			n     tag.NewTag
			field string
		}{
			{tag.NewTag{Kind: tag.Manual}, "name"},
			{tag.NewTag{Name: "x", Kind: "mood"}, "kind"},
			{tag.NewTag{Name: "x", Kind: tag.Emotion}, "polarity"},
			{tag.NewTag{Name: "x", Kind: tag.Computed}, "rule"},
			{tag.NewTag{Name: "x", Kind: tag.Computed, Rule: &tag.Rule{Kind: "astrology"}}, "rule.rule"},
			{tag.NewTag{Name: "x", Kind: tag.Computed, Rule: &tag.Rule{Kind: tag.RuleDormant, Days: 4000}}, "rule.days"},
			{tag.NewTag{Name: "x", Kind: tag.Manual, Rule: &tag.Rule{Kind: tag.RuleDormant, Days: 4}}, "rule"},
			{tag.NewTag{Name: "x", Kind: tag.Manual, Color: "pink"}, "color"},
		} {
			_, err := svc.Create(admin, tt.n)
			if f := kehu.ErrorFields(err); kehu.ErrorCode(err) != kehu.EINVALID || len(f) == 0 || f[0].Field != tt.field {
				t.Errorf("%+v: %v %+v, want %s", tt.n, err, f, tt.field)
			}
		}
		off := false
		name := "按揭客户"
		up, err := svc.Update(admin, vip.ID, tag.Update{Name: &name, Active: &off})
		if err != nil || up.Name != name || up.Active || up.Kind != tag.Manual {
			t.Fatalf("update %+v %v", up, err)
		}
		if all, _ := svc.Catalogue(rm, false); len(all) != len(tag.Defaults) {
			t.Errorf("active catalogue has %d entries", len(all))
		}
		if err := svc.Delete(admin, vip.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Get(admin, vip.ID); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Errorf("deleted: %v", err)
		}
		// In use: deleting is refused, deactivating is the way.
		unhappy := byCode(t, svc, admin, "dissatisfied")
		if _, err := svc.Add(rm, b.Customers["a1"].ID, tag.Assign{TagID: unhappy.ID, Reason: "排队太久"}); err != nil {
			t.Fatal(err)
		}
		if err := svc.Delete(admin, unhappy.ID); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Errorf("delete in use: %v", err)
		}
	})
}

func TestCustomerTags(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		svc := newService(b)
		if _, err := svc.EnsureDefaults(context.Background()); err != nil {
			t.Fatal(err)
		}
		rm, a1 := b.As("rm_a"), b.Customers["a1"].ID
		unhappy := byCode(t, svc, rm, "dissatisfied")
		hnw := byCode(t, svc, rm, "high_net_worth")
		// 2026-03-02 09:30 in Shanghai: the default 90 days end with 2026-05-31.
		ct, err := svc.Add(rm, a1, tag.Assign{TagID: unhappy.ID, Reason: " 理财亏损，情绪激动 "})
		if err != nil {
			t.Fatal(err)
		}
		wantEnd := time.Date(2026, 5, 31, 16, 0, 0, 0, time.UTC) // 2026-06-01 00:00 Shanghai
		if ct.ExpiresAt == nil || !ct.ExpiresAt.Equal(wantEnd) || ct.Reason != "理财亏损，情绪激动" {
			t.Errorf("emotion tag %+v", ct)
		}
		for _, tt := range []struct {
			in    tag.Assign
			field string
		}{
			{tag.Assign{TagID: unhappy.ID}, "reason"},
			{tag.Assign{TagID: hnw.ID}, "tag_id"},
			{tag.Assign{TagID: 99999}, "tag_id"},
			{tag.Assign{TagID: unhappy.ID, Reason: "不满", ExpiresOn: &kehu.Date{Year: 2026, Month: 3, Day: 1}}, "expires_on"},
			{tag.Assign{TagID: unhappy.ID, Reason: "不满", ExpiresOn: &kehu.Date{Year: 2027, Month: 3, Day: 3}}, "expires_on"},
		} {
			_, err := svc.Add(rm, a1, tt.in)
			if f := kehu.ErrorFields(err); kehu.ErrorCode(err) != kehu.EINVALID || len(f) != 1 || f[0].Field != tt.field {
				t.Errorf("%+v: %v %+v, want %s", tt.in, err, f, tt.field)
			}
		}
		if _, err := svc.Add(b.As("rm_b"), a1, tag.Assign{TagID: unhappy.ID, Reason: "不满"}); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Errorf("out of scope: %v", err)
		}
		// Renewing replaces reason and expiry; a chosen last day ends at its midnight.
		last := kehu.Date{Year: 2026, Month: 3, Day: 10}
		if _, err := svc.Add(b.As("teller_a"), a1, tag.Assign{TagID: unhappy.ID, Reason: "再次投诉", ExpiresOn: &last}); err != nil {
			t.Fatal(err)
		}
		got, err := svc.Of(rm, a1)
		if err != nil {
			t.Fatal(err)
		}
		u := names(got)["不满意"]
		if len(got) != 1 || u.Reason != "再次投诉" || u.CreatedByName != "teller_a" || u.Tag.Polarity != tag.Negative ||
			!u.ExpiresAt.Equal(time.Date(2026, 3, 10, 16, 0, 0, 0, time.UTC)) {
			t.Fatalf("renewed %+v", got)
		}
		b.Clock.Advance(9 * 24 * time.Hour) // 2026-03-11 09:30 Shanghai: expired
		if got, _ := svc.Of(rm, a1); len(got) != 0 {
			t.Errorf("expired tag still shown: %+v", got)
		}
		if err := svc.Remove(rm, a1, unhappy.ID); err != nil {
			t.Fatalf("remove (expired row): %v", err)
		}
		if err := svc.Remove(rm, a1, unhappy.ID); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Errorf("remove twice: %v", err)
		}
		if err := svc.Remove(rm, a1, hnw.ID); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Errorf("remove computed: %v", err)
		}
	})
}

// TestComputedTags builds each rule's situation for a1 and checks the tags
// appear with their reasons, change only when the facts do, and go when the
// facts no longer hold.
func TestComputedTags(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		b.AddPortfolio(t) // a1: deposits, holdings (one matures 2026-05-30), 25 transfers in the last day
		svc := newService(b)
		ctx := context.Background()
		// The portfolio's hand-made 代发工资 is a manual tag of the same name as
		// the computed one: renamed, so the built-in can be created. Its
		// computed 理财到期 (no rule) is adopted by EnsureDefaults.
		if err := db.InTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.Exec("UPDATE tags SET name = '代发工资（手工）' WHERE name = '代发工资'")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if n, err := svc.EnsureDefaults(ctx); err != nil || n != len(tag.Defaults) {
			t.Fatalf("defaults %d %v", n, err)
		}
		a1, a2 := b.Customers["a1"].ID, b.Customers["a2"].ID
		now := b.Clock.Now()
		exec := func(q string, args ...any) {
			t.Helper()
			if err := db.InTx(ctx, func(tx *sql.Tx) error { _, err := tx.Exec(q, args...); return err }); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		exec(`UPDATE customers SET aum = 700000000 WHERE id = $1`, a1)
		exec(`INSERT INTO products (id, code, name, name_en, type) VALUES (10, 'CC01', '白金信用卡', 'Platinum card', 'credit_card')`)
		sealed, idx, err := db.SealAccountNo("6225880000000010")
		if err != nil {
			t.Fatal(err)
		}
		exec(`INSERT INTO accounts (id, customer_id, product_id, account_no, account_no_bidx, balance, credit_limit, org_id, opened_on)
			VALUES (10, $1, 10, $2, $3, -50000, 5000000, $4, '2024-01-01')`, a1, sealed, idx, b.OutletA.ID)
		for i, days := range []int{70, 40, 10} {
			exec(`INSERT INTO transactions (account_id, customer_id, occurred_at, amount, balance_after, kind, channel)
				VALUES (1, $1, $2, 800000, 0, 'salary', 'batch')`, a1, now.AddDate(0, 0, -days))
			exec(`INSERT INTO transactions (account_id, customer_id, occurred_at, amount, balance_after, kind, channel)
				VALUES (10, $1, $2, -10000, 0, 'card_spend', 'pos')`, a1, now.AddDate(0, 0, -(i*5+1)))
		}
		// a2 is an old customer with nothing for a year: dormant.
		exec(`UPDATE customers SET created_at = $1 WHERE id = $2`, now.AddDate(-2, 0, 0), a2)

		res, err := svc.Recompute(ctx, a1)
		if err != nil {
			t.Fatal(err)
		}
		// Added: 高净值, 代发工资, 信用卡活跃; the portfolio's 理财到期 stays
		// until 2026-03-03 but the rule now says no (nothing matures in 30
		// days) and takes it off.
		if res.Added != 3 || res.Removed != 1 {
			t.Errorf("a1 recompute %+v", res)
		}
		got := names(mustOf(t, svc, b, a1))
		if r := got["高净值"].Reason; r != "AUM ¥7,000,000 ≥ ¥6,000,000" {
			t.Errorf("high net worth: %q (%v)", r, got)
		}
		if r := got["代发工资"].Reason; r != "3 salary/pension credits in 3 months" {
			t.Errorf("payroll: %q", r)
		}
		if r := got["信用卡活跃"].Reason; r != "3 card purchases in 30 days" || got["信用卡活跃"].CreatedBy != nil {
			t.Errorf("card: %+v", got["信用卡活跃"])
		}
		if _, ok := got["沉睡客户"]; ok {
			t.Error("a1 is active, not dormant")
		}
		if res, err := svc.Recompute(ctx, a1); err != nil || res.Added+res.Removed+res.Changed != 0 {
			t.Errorf("unchanged facts rewrote tags: %+v %v", res, err)
		}
		// 60 days on: the holding maturing 2026-05-30 is within 30 days; the
		// card has gone quiet; one salary left in the 3-month window.
		b.Clock.Advance(60 * 24 * time.Hour)
		if _, err := svc.Recompute(ctx, a1); err != nil {
			t.Fatal(err)
		}
		got = names(mustOf(t, svc, b, a1))
		if r := got["理财到期"].Reason; r != "matures on 2026-05-30" {
			t.Errorf("maturing: %q (%v)", r, got)
		}
		if _, ok := got["信用卡活跃"]; ok {
			t.Error("card tag stayed after the spends aged")
		}
		if _, ok := got["代发工资"]; ok {
			t.Error("payroll tag stayed with one credit in 3 months")
		}
		// The batch: a2 becomes dormant; a1 keeps what it has.
		all, err := svc.RecomputeAll(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if all.Customers != len(b.Customers) || all.Added < 1 {
			t.Errorf("batch %+v", all)
		}
		if got := names(mustOf(t, svc, b, a2)); got["沉睡客户"].Reason != "no activity in 90 days" {
			t.Errorf("a2: %+v", got)
		}
		// A deactivated rule takes its tags away at the next recompute.
		off := false
		hnw := byCode(t, svc, b.As("admin"), "high_net_worth")
		if _, err := svc.Update(b.As("admin"), hnw.ID, tag.Update{Active: &off}); err != nil {
			t.Fatal(err)
		}
		if res, err := svc.Recompute(ctx, a1); err != nil || res.Removed != 1 {
			t.Errorf("after deactivation %+v %v", res, err)
		}
	})
}

func mustOf(t *testing.T, svc *tag.Service, b *testkit.Bank, id int64) []tag.CustomerTag {
	t.Helper()
	got, err := svc.Of(b.As("admin"), id)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
