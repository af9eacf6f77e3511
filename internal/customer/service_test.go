package customer_test

import (
	"testing"

	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

func TestScopeOfList(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		svc := b.CustomerService()
		tests := []struct {
			user string
			want []string
		}{
			{"admin", []string{"a1", "a2", "a3", "b1", "corp_a"}},
			{"branch_manager", []string{"a1", "a2", "a3", "b1", "corp_a"}},
			{"teller_a", []string{"a1", "a2", "a3", "corp_a"}},
			{"rm_a", []string{"a1", "a2", "corp_a"}},
			{"rm_a2", []string{"a3"}},
			{"teller_b", []string{"b1"}},
		}
		for _, tt := range tests {
			p, err := svc.List(b.As(tt.user), customer.Filter{Count: true})
			if err != nil {
				t.Fatalf("%s: %v", tt.user, err)
			}
			if int(p.Total) != len(tt.want) || len(p.Items) != len(tt.want) {
				t.Errorf("%s sees %d (total %d), want %d", tt.user, len(p.Items), p.Total, len(tt.want))
			}
			for i, key := range tt.want {
				if i < len(p.Items) && p.Items[i].ID != b.Customers[key].ID {
					t.Errorf("%s item %d = %s, want %s", tt.user, i, p.Items[i].Name, key)
				}
			}
			// Every customer outside the list answers not found.
			seen := map[int64]bool{}
			for _, c := range p.Items {
				seen[c.ID] = true
			}
			for key, c := range b.Customers {
				_, err := svc.Get(b.As(tt.user), c.ID)
				if seen[c.ID] != (err == nil) {
					t.Errorf("%s Get(%s) err=%v, in list=%v", tt.user, key, err, seen[c.ID])
				}
				if err != nil && kehu.ErrorCode(err) != kehu.ENOTFOUND {
					t.Errorf("%s Get(%s) code %s, want not_found", tt.user, key, kehu.ErrorCode(err))
				}
			}
		}
	})
}

func TestListPagingAndSearch(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		svc := b.CustomerService()
		ctx := b.As("admin")
		var got []int64
		var cur kehu.Cursor
		for i := 0; i < 10; i++ {
			p, err := svc.List(ctx, customer.Filter{Limit: 2, After: cur})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range p.Items {
				got = append(got, c.ID)
			}
			if p.NextCursor.AfterID == 0 {
				break
			}
			cur = p.NextCursor
		}
		if len(got) != 5 {
			t.Fatalf("paged through %d customers, want 5: %v", len(got), got)
		}
		for i := 1; i < len(got); i++ {
			if got[i] <= got[i-1] {
				t.Fatalf("pages out of order: %v", got)
			}
		}
		for q, want := range map[string]string{"张": "a1", "王芳": "a2", "13800000004": "b1",
			b.Customers["a3"].IDNumber: "a3", "杭州西湖": "corp_a"} {
			p, err := svc.List(ctx, customer.Filter{Query: q})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Items) != 1 || p.Items[0].ID != b.Customers[want].ID {
				t.Errorf("search %q = %d items, want %s", q, len(p.Items), want)
			}
		}
		p, _ := svc.List(ctx, customer.Filter{Query: "'; DROP TABLE customers; --"})
		if len(p.Items) != 0 {
			t.Errorf("injection string matched %d customers", len(p.Items))
		}
	})
}

func TestCreateAndUpdate(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		svc := b.CustomerService()
		ctx := b.As("rm_a")
		id := testkit.ResidentID("33010619920512004")
		c, err := svc.Create(ctx, customer.New{Type: customer.Individual, Name: " 陈静 ",
			IDNumber: id, Mobile: "+86 139-0000-0009", OrgID: b.OutletA.ID})
		if err != nil {
			t.Fatal(err)
		}
		if c.Name != "陈静" || c.Mobile != "13900000009" || c.Gender != "F" || c.BirthDate.String() != "1992-05-12" ||
			c.OwnerID == nil || *c.OwnerID != b.Users["rm_a"].ID || c.Level != customer.LevelStandard {
			t.Errorf("created customer not normalised: %+v", c)
		}
		got, err := svc.Get(ctx, c.ID)
		if err != nil || got.Name != "陈静" || got.BirthDate != c.BirthDate {
			t.Fatalf("read back %+v, %v", got, err)
		}
		// The owner sees the mobile and birthday; the ID number is masked for
		// everyone.
		if c.IDNumber != id[:3]+"***********"+id[14:] || len(c.Masked) != 1 || c.Masked[0] != "id_number" {
			t.Errorf("created customer as the RM sees it: %q %v", c.IDNumber, c.Masked)
		}
		_, err = svc.Create(ctx, customer.New{Type: customer.Individual, Name: "重复", IDNumber: id, OrgID: b.OutletA.ID})
		if kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Errorf("duplicate ID number: %v, want conflict", err)
		}
		_, err = svc.Create(ctx, customer.New{Type: customer.Individual, Name: "外行", IDNumber: testkit.ResidentID("33010619920512005"), OrgID: b.OutletB.ID})
		if kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Errorf("RM creating a customer at another outlet: %v, want forbidden", err)
		}
		mobile := "13700000000"
		up, err := svc.Update(ctx, c.ID, customer.Update{Mobile: &mobile})
		if err != nil || up.Mobile != mobile {
			t.Fatalf("update mobile: %+v %v", up, err)
		}
		g := "M"
		if _, err := svc.Update(ctx, c.ID, customer.Update{Gender: &g}); kehu.ErrorCode(err) != kehu.EINVALID {
			t.Errorf("changing gender fixed by ID: %v", err)
		}
		if _, err := svc.Update(b.As("rm_b"), c.ID, customer.Update{Mobile: &mobile}); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Errorf("out-of-scope update: %v, want not_found", err)
		}
		if _, err := svc.Update(b.As("lobby_a"), c.ID, customer.Update{Mobile: &mobile}); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Errorf("lobby manager update: %v, want forbidden", err)
		}
	})
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name  string
		in    customer.New
		field string
	}{
		{"bad type", customer.New{Type: "alien", Name: "x", OrgID: 1}, "type"},
		{"bad check digit", customer.New{Type: customer.Individual, Name: "x", IDNumber: "110105194912310021", OrgID: 1}, "id_number"},
		{"no name", customer.New{Type: customer.Individual, IDNumber: "11010519491231002X", OrgID: 1}, "name"},
		{"bad mobile", customer.New{Type: customer.Individual, Name: "x", IDNumber: "11010519491231002X", Mobile: "12345", OrgID: 1}, "mobile"},
		{"gender mismatch", customer.New{Type: customer.Individual, Name: "x", IDNumber: "11010519491231002X", Gender: "M", OrgID: 1}, "gender"},
		{"bad uscc", customer.New{Type: customer.Corporate, Name: "x", IDNumber: "91350100M000100Y44", OrgID: 1}, "id_number"},
		{"no org", customer.New{Type: customer.Individual, Name: "x", IDNumber: "11010519491231002X"}, "org_id"},
		{"html", customer.New{Type: customer.Individual, Name: "<script>", IDNumber: "11010519491231002X", OrgID: 1}, "name"},
		{"email", customer.New{Type: customer.Individual, Name: "x", IDNumber: "11010519491231002X", Email: "a@", OrgID: 1}, "email"},
	}
	for _, tt := range tests {
		err := tt.in.Validate()
		found := false
		for _, f := range kehu.ErrorFields(err) {
			found = found || f.Field == tt.field
		}
		if !found {
			t.Errorf("%s: error %v does not name field %s", tt.name, err, tt.field)
		}
	}
}
