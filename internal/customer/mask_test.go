package customer_test

import (
	"slices"
	"strings"
	"testing"

	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestMaskingByRole reads customer a1 (owned by rm_a) as every role that
// can see it and checks which fields arrive masked.
func TestMaskingByRole(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		svc := b.CustomerService()
		a1 := b.Customers["a1"]
		email, addr := "zhangwei@example.com", "浙江省杭州市西湖区文三路90号"
		if _, err := svc.Update(b.As("admin"), a1.ID, customer.Update{Email: &email, Address: &addr}); err != nil {
			t.Fatal(err)
		}
		all := []string{"name", "id_number", "birth_date", "mobile", "email", "address"}
		// The call centre's own scope is empty: it reaches a1 by break glass.
		if _, err := svc.Get(b.As("hq_callcenter"), a1.ID); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Errorf("call centre before break glass: %v", err)
		}
		b.BreakGlass(t, "hq_callcenter", a1.ID)
		for _, c := range []struct {
			user   string
			masked []string
		}{
			{"rm_a", []string{"id_number"}},
			{"teller_a", all[1:]},
			{"lobby_a", all[1:]},
			{"branch_manager", all[1:]},
			{"hq_callcenter", all[1:]},
			{"hq_compliance", all[1:]},
			{"admin", all[1:]},
			{"hq_marketing", all},
		} {
			got, err := svc.Get(b.As(c.user), a1.ID)
			if err != nil {
				t.Fatalf("%s: %v", c.user, err)
			}
			if !slices.Equal(got.Masked, c.masked) && !sameSet(got.Masked, c.masked) {
				t.Errorf("%s: masked %v, want %v", c.user, got.Masked, c.masked)
			}
			want := map[string]string{"name": "张*", "id_number": a1.IDNumber[:3] + "***********" + a1.IDNumber[14:],
				"mobile": "138****0001", "email": "z***@example.com", "address": "浙江省杭州市西湖区****"}
			clear := map[string]string{"name": a1.Name, "id_number": a1.IDNumber, "mobile": a1.Mobile, "email": email, "address": addr}
			values := map[string]string{"name": got.Name, "id_number": got.IDNumber, "mobile": got.Mobile, "email": got.Email, "address": got.Address}
			for f, v := range values {
				expect := clear[f]
				if slices.Contains(c.masked, f) {
					expect = want[f]
				}
				if v != expect {
					t.Errorf("%s sees %s = %q, want %q", c.user, f, v, expect)
				}
			}
			if slices.Contains(c.masked, "birth_date") != got.BirthDate.IsZero() {
				t.Errorf("%s: birth date %v", c.user, got.BirthDate)
			}
			// Lists mask the same way.
			p, err := svc.List(b.As(c.user), customer.Filter{Query: a1.Mobile})
			if err != nil || len(p.Items) != 1 || p.Items[0].Mobile != values["mobile"] {
				t.Errorf("%s: list by mobile %+v %v", c.user, p.Items, err)
			}
		}
		// A company's name and USCC are public; its contacts are not.
		corp, err := svc.Get(b.As("hq_marketing"), b.Customers["corp_a"].ID)
		if err != nil || corp.Name != b.Customers["corp_a"].Name || corp.IDNumber != b.Customers["corp_a"].IDNumber {
			t.Errorf("corporate as marketing: %+v %v", corp, err)
		}
	})
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestUnmask(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		svc := b.CustomerService()
		a1, b1 := b.Customers["a1"], b.Customers["b1"]
		reason := "客户来电核实身份"
		got, err := svc.Unmask(b.As("teller_a"), a1.ID, []string{"id_number", "mobile", "mobile", "birth_date"}, "  "+reason+" ")
		if err != nil {
			t.Fatal(err)
		}
		if got["id_number"] != a1.IDNumber || got["mobile"] != a1.Mobile || got["birth_date"] != a1.BirthDate.String() || len(got) != 3 {
			t.Errorf("unmasked %v", got)
		}
		for name, c := range map[string]struct {
			user   string
			id     int64
			fields []string
			reason string
			code   string
		}{
			"no permission":  {"lobby_a", a1.ID, []string{"mobile"}, reason, kehu.EFORBIDDEN},
			"marketing":      {"hq_marketing", a1.ID, []string{"name"}, reason, kehu.EFORBIDDEN},
			"admin":          {"admin", a1.ID, []string{"mobile"}, reason, kehu.EFORBIDDEN},
			"no reason":      {"teller_a", a1.ID, []string{"mobile"}, "  ", kehu.EINVALID},
			"long reason":    {"teller_a", a1.ID, []string{"mobile"}, strings.Repeat("因", 201), kehu.EINVALID},
			"no fields":      {"teller_a", a1.ID, nil, reason, kehu.EINVALID},
			"unknown field":  {"teller_a", a1.ID, []string{"password_hash"}, reason, kehu.EINVALID},
			"out of scope":   {"teller_a", b1.ID, []string{"mobile"}, reason, kehu.ENOTFOUND},
			"unknown id":     {"teller_a", 99999, []string{"mobile"}, reason, kehu.ENOTFOUND},
			"not signed in":  {"", a1.ID, []string{"mobile"}, reason, kehu.EUNAUTHORIZED},
			"rm other owner": {"rm_a2", a1.ID, []string{"mobile"}, reason, kehu.ENOTFOUND},
		} {
			ctx := b.As("admin")
			if c.user == "" {
				ctx = t.Context()
			} else {
				ctx = b.As(c.user)
			}
			out, err := svc.Unmask(ctx, c.id, c.fields, c.reason)
			if kehu.ErrorCode(err) != c.code || out != nil {
				t.Errorf("%s: %v %v, want %s", name, out, err, c.code)
			}
		}
		// One record for the successful unmask, with the reason and the field
		// names but no value; one "denied" record per refused role.
		p, err := b.Audit.Search(b.As("hq_compliance"), audit.Filter{Action: audit.CustomerUnmask, CustomerID: a1.ID})
		if err != nil {
			t.Fatal(err)
		}
		var ok, denied int
		for _, r := range p.Items {
			switch r.Outcome {
			case "denied":
				denied++
			default:
				ok++
				if r.Username != "teller_a" || r.Reason != reason || len(r.Changes) != 3 || r.Changes[0].Field != "id_number" {
					t.Errorf("unmask record %+v", r)
				}
				for _, ch := range r.Changes {
					if ch.Old != "" || ch.New != "" {
						t.Errorf("unmask record holds a value: %+v", ch)
					}
				}
			}
		}
		if ok != 1 || denied != 3 {
			t.Errorf("audit: %d unmask records and %d denied, want 1 and 3", ok, denied)
		}
	})
}
