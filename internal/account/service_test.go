package account_test

import (
	"strings"
	"testing"

	"kehu/internal/account"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

func newService(b *testkit.Bank) *account.Service {
	return b.AccountService()
}

func TestSummary(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		p := b.AddPortfolio(t)
		svc := newService(b)
		s, err := svc.Summary(b.As("rm_a"), b.Customers["a1"].ID)
		if err != nil {
			t.Fatal(err)
		}
		if s.Customer.Name != "张伟" || s.OwnerName != "rm_a" {
			t.Errorf("customer %q owner %q", s.Customer.Name, s.OwnerName)
		}
		if len(s.Accounts) != p.Accounts || s.Accounts[0].AccountNo != "6222 **** **** 0001" ||
			s.Accounts[0].Balance != 12345678 || s.Accounts[0].ProductName != "活期储蓄" ||
			s.Accounts[0].OpenedOn != (kehu.Date{Year: 2019, Month: 5, Day: 6}) || !s.Accounts[0].MaturesOn.IsZero() {
			t.Errorf("accounts: %+v", s.Accounts)
		}
		if s.Accounts[2].MaturesOn != (kehu.Date{Year: 2026, Month: 9, Day: 1}) {
			t.Errorf("maturity: %+v", s.Accounts[2].MaturesOn)
		}
		if len(s.Holdings) != p.Holdings || s.Holdings[0].ProductType != account.Wealth || s.Holdings[0].RiskLevel != 2 ||
			s.Holdings[0].Gain() != 500000 || s.Holdings[1].Gain() != -1000000 || s.Holdings[0].AccountNo != "6222 **** **** 0003" {
			t.Errorf("holdings: %+v", s.Holdings)
		}
		if len(s.Transactions) != account.RecentTransactions {
			t.Fatalf("transactions: %d", len(s.Transactions))
		}
		if first := s.Transactions[0]; first.Amount != 100_00 || !first.OccurredAt.Equal(b.Clock.Now().Add(-3600e9)) ||
			first.OccurredAt.Location().String() != "UTC" {
			t.Errorf("newest transaction: %+v", first)
		}
		for i := 1; i < len(s.Transactions); i++ {
			if s.Transactions[i].OccurredAt.After(s.Transactions[i-1].OccurredAt) {
				t.Fatalf("transactions not newest first at %d", i)
			}
		}
		rels := map[string]account.Relationship{}
		for _, r := range s.Relationships {
			rels[r.Direction+":"+r.Kind] = r
		}
		if r := rels["out:spouse"]; r.Name != "王芳" || !r.Visible {
			t.Errorf("spouse: %+v", r)
		}
		if r := rels["out:sibling"]; r.Name != "刘洋" || r.Visible {
			t.Errorf("sibling in another outlet must not be openable by rm_a: %+v", r)
		}
		if r := rels["out:legal_representative"]; r.CustomerID != b.Customers["corp_a"].ID || r.Type != customer.Corporate {
			t.Errorf("legal representative: %+v", r)
		}
		if len(s.Tags) != 2 {
			t.Errorf("tags (the expired one must be absent): %+v", s.Tags)
		}
	})
}

func TestSummaryScope(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		b.AddPortfolio(t)
		svc := newService(b)
		for _, tt := range []struct{ user, cust, code string }{
			{"rm_a", "b1", kehu.ENOTFOUND},
			{"rm_a2", "a1", kehu.ENOTFOUND},
			{"teller_b", "a1", kehu.ENOTFOUND},
			{"teller_a", "a1", ""},
			{"branch_manager", "b1", ""},
		} {
			_, err := svc.Summary(b.As(tt.user), b.Customers[tt.cust].ID)
			if kehu.ErrorCode(err) != tt.code {
				t.Errorf("%s → %s: %v, want %q", tt.user, tt.cust, err, tt.code)
			}
		}
		if _, err := svc.Summary(b.As("admin"), 999999); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Errorf("unknown id: %v", err)
		}
		s, err := svc.Summary(b.As("branch_manager"), b.Customers["a1"].ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range s.Relationships {
			if !r.Visible {
				t.Errorf("branch manager sees the whole city, yet %s is not openable", r.Name)
			}
		}
	})
}

func TestStaffNames(t *testing.T) {
	db := testkit.NewDB(t, "sqlite")
	b := testkit.NewBank(t, db)
	svc := newService(b)
	ids := []int64{b.Users["rm_a"].ID, b.Users["rm_b"].ID, 424242}
	names, err := svc.StaffNames(b.As("teller_a"), ids)
	if err != nil || len(names) != 2 || names[ids[0]] != "rm_a" {
		t.Errorf("names %v, %v", names, err)
	}
	if _, err := svc.StaffNames(t.Context(), ids); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
		t.Errorf("without actor: %v", err)
	}
}

// TestSummaryMasking checks a marketing operator sees account numbers and
// related people's names masked, and the profile masked by the customer
// service.
func TestSummaryMasking(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		b.AddPortfolio(t)
		s, err := newService(b).Summary(b.As("hq_marketing"), b.Customers["a1"].ID)
		if err != nil {
			t.Fatal(err)
		}
		if s.Customer.Name != "张*" || s.Accounts[0].AccountNo != "6222 **** **** 0001" ||
			s.Transactions[0].AccountNo != "6222 **** **** 0001" {
			t.Errorf("masked summary: %q %q %q", s.Customer.Name, s.Accounts[0].AccountNo, s.Transactions[0].AccountNo)
		}
		for _, r := range s.Relationships {
			if r.Type == customer.Corporate && r.Name != b.Customers["corp_a"].Name || r.Type != customer.Corporate && !strings.HasSuffix(r.Name, "*") {
				t.Errorf("related %s shown as %q", r.Kind, r.Name)
			}
		}
	})
}
