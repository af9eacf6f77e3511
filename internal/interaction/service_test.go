package interaction_test

import (
	"context"
	"testing"
	"time"

	"kehu/internal/audit"
	"kehu/internal/interaction"
	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

func newService(b *testkit.Bank, days int) *interaction.Service {
	return interaction.NewService(interaction.Deps{Store: b.DB.Interactions(), Customers: b.CustomerService(),
		Clock: b.Clock, Audit: b.Audit, Tx: b.DB, Config: interaction.Config{QuietDays: days}})
}

func auditActions(t *testing.T, b *testkit.Bank, customerID int64) []string {
	t.Helper()
	p, err := b.Audit.Search(b.As("hq_compliance"), audit.Filter{CustomerID: customerID, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range p.Items {
		out = append(out, r.Action)
	}
	return out
}

func TestRecordAndList(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		b.AddPortfolio(t)
		svc := newService(b, 0)
		a1 := b.Customers["a1"].ID
		in, err := svc.Record(b.As("teller_a"), a1, interaction.New{Channel: "branch", Purpose: "marketing",
			Products: []string{"WM-R2-180", "4", "WM-R2-180"}, Response: interaction.Declined, Note: "  客户说暂时不需要  "})
		if err != nil {
			t.Fatal(err)
		}
		if in.ID == 0 || len(in.Products) != 2 || in.Note != "客户说暂时不需要" || in.UserName != "teller_a" {
			t.Errorf("recorded %+v", in)
		}
		b.Clock.Advance(time.Hour)
		if _, err := svc.Record(b.As("rm_a"), a1, interaction.New{Channel: "phone", Purpose: "service"}); err != nil {
			t.Fatal(err)
		}
		p, err := svc.List(b.As("rm_a"), a1, kehu.Cursor{}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 1 || p.Items[0].Channel != "phone" || p.NextCursor.AfterID == 0 {
			t.Fatalf("first page %+v", p)
		}
		p, err = svc.List(b.As("rm_a"), a1, p.NextCursor, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 1 || p.Items[0].ID != in.ID || len(p.Items[0].Products) != 2 ||
			p.Items[0].Products[0].Code != "FD-EQ01" || p.Items[0].UserName != "teller_a" || p.NextCursor.AfterID != 0 {
			t.Fatalf("second page %+v", p)
		}
		got := auditActions(t, b, a1)
		want := map[string]int{interaction.ActionRecord: 2, interaction.ActionList: 2}
		for _, a := range got {
			if _, ok := want[a]; ok {
				want[a]--
			}
		}
		for a, n := range want {
			if n != 0 {
				t.Errorf("audit %s off by %d: %v", a, n, got)
			}
		}
	})
}

func TestRecordValidation(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		b.AddPortfolio(t)
		svc := newService(b, 0)
		a1 := b.Customers["a1"].ID
		for _, tt := range []struct {
			n      interaction.New
			fields []string
		}{
			{interaction.New{}, []string{"channel", "purpose"}},
			{interaction.New{Channel: "pigeon", Purpose: "gossip", Response: "maybe"}, []string{"channel", "purpose", "response"}},
			{interaction.New{Channel: "phone", Purpose: "marketing", Response: "declined"}, []string{"products"}},
			{interaction.New{Channel: "phone", Purpose: "marketing", Products: []string{"NOPE", " "}, Response: "bought"},
				[]string{"products[1]"}},
			{interaction.New{Channel: "phone", Purpose: "marketing", Products: []string{"NOPE", "999"}, Response: "bought"},
				[]string{"products[0]", "products[1]"}},
		} {
			_, err := svc.Record(b.As("rm_a"), a1, tt.n)
			if kehu.ErrorCode(err) != kehu.EINVALID {
				t.Errorf("%+v: %v", tt.n, err)
				continue
			}
			fields := kehu.ErrorFields(err)
			if len(fields) != len(tt.fields) {
				t.Errorf("%+v: fields %+v, want %v", tt.n, fields, tt.fields)
				continue
			}
			for i, f := range fields {
				if f.Field != tt.fields[i] {
					t.Errorf("%+v: field %d is %s, want %s", tt.n, i, f.Field, tt.fields[i])
				}
			}
		}
	})
}

func TestRecordScope(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		svc := newService(b, 0)
		n := interaction.New{Channel: "phone", Purpose: "care"}
		for _, tt := range []struct{ user, cust, code string }{
			{"rm_a", "b1", kehu.ENOTFOUND}, {"teller_b", "a1", kehu.ENOTFOUND}, {"lobby_a", "a1", ""},
			{"hq_callcenter", "a1", kehu.ENOTFOUND}, {"hq_marketing", "b1", ""},
		} {
			if _, err := svc.Record(b.As(tt.user), b.Customers[tt.cust].ID, n); kehu.ErrorCode(err) != tt.code {
				t.Errorf("%s → %s: %v, want %q", tt.user, tt.cust, err, tt.code)
			}
			if _, err := svc.List(b.As(tt.user), b.Customers[tt.cust].ID, kehu.Cursor{}, 10); kehu.ErrorCode(err) != tt.code {
				t.Errorf("list %s → %s: %v, want %q", tt.user, tt.cust, err, tt.code)
			}
		}
		if _, err := svc.Record(context.Background(), b.Customers["a1"].ID, n); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Errorf("no actor: %v", err)
		}
		if _, err := svc.QuietProducts(b.As("rm_a"), b.Customers["b1"].ID); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Errorf("quiet out of scope: %v", err)
		}
	})
}

// TestQuietPeriod: a declined product is quiet until the declined day plus
// the configured days (in Shanghai), a later refusal extends it, and it is
// free again once the period has passed.
func TestQuietPeriod(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		b.AddPortfolio(t)
		svc := newService(b, 10)
		if svc.QuietDays() != 10 {
			t.Fatalf("quiet days %d", svc.QuietDays())
		}
		a1, ctx := b.Customers["a1"].ID, b.As("rm_a")
		// 2026-03-02 01:30 UTC is 09:30 in Shanghai.
		rec := func(resp string, products ...string) {
			t.Helper()
			if _, err := svc.Record(ctx, a1, interaction.New{Channel: "phone", Purpose: "marketing", Products: products,
				Response: resp}); err != nil {
				t.Fatal(err)
			}
		}
		rec(interaction.Declined, "WM-R2-180", "FD-EQ01")
		rec(interaction.Interested, "TD12")
		q, err := svc.QuietProducts(ctx, a1)
		if err != nil {
			t.Fatal(err)
		}
		if len(q) != 2 || q[0].Product.Code != "FD-EQ01" || q[1].Product.Code != "WM-R2-180" ||
			q[0].Until != (kehu.Date{Year: 2026, Month: 3, Day: 12}) {
			t.Fatalf("quiet %+v", q)
		}
		b.Clock.Advance(5 * 24 * time.Hour)
		rec(interaction.Declined, "FD-EQ01")
		b.Clock.Advance(6 * 24 * time.Hour) // 11 days after the first refusal
		q, err = svc.QuietProducts(ctx, a1)
		if err != nil {
			t.Fatal(err)
		}
		if len(q) != 1 || q[0].Product.Code != "FD-EQ01" || q[0].Until != (kehu.Date{Year: 2026, Month: 3, Day: 17}) {
			t.Fatalf("after the first period %+v", q)
		}
		m, err := svc.QuietFor(context.Background(), []int64{a1, b.Customers["a2"].ID})
		if err != nil || len(m[a1]) != 1 || len(m[b.Customers["a2"].ID]) != 0 {
			t.Fatalf("quiet for %v %v", m, err)
		}
		b.Clock.Advance(6 * 24 * time.Hour)
		if q, err = svc.QuietProducts(ctx, a1); err != nil || len(q) != 0 {
			t.Fatalf("after every period %+v %v", q, err)
		}
	})
}
