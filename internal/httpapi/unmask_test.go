package httpapi_test

import (
	"slices"
	"testing"

	"kehu/internal/audit"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestMaskedAndUnmasked checks a teller sees a1 masked, unmasks two fields
// with a reason, gets the clear values, and leaves one audit record with the
// reason and no value.
func TestMaskedAndUnmasked(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		teller := e.login("teller_a")
		a1 := e.bank.Customers["a1"]
		path := "/api/v1/customers/" + id(a1.ID)
		var got struct {
			IDNumber  string   `json:"id_number"`
			Mobile    string   `json:"mobile"`
			BirthDate *string  `json:"birth_date"`
			Masked    []string `json:"masked"`
		}
		e.do(call{method: "GET", path: path, token: teller.token}).decode(t, &got)
		if got.IDNumber != a1.IDNumber[:3]+"***********"+a1.IDNumber[14:] || got.Mobile != "138****0001" ||
			got.BirthDate != nil || !slices.Contains(got.Masked, "mobile") {
			t.Errorf("teller sees %+v", got)
		}
		var out struct {
			ID     int64             `json:"id"`
			Values map[string]string `json:"values"`
		}
		r := e.do(call{method: "POST", path: path + "/unmask", token: teller.token,
			body: map[string]any{"fields": []string{"id_number", "mobile"}, "reason": "客户临柜办理挂失"}})
		if r.Code != 200 {
			t.Fatalf("unmask: %d %s", r.Code, r.Body)
		}
		r.decode(t, &out)
		if out.ID != a1.ID || out.Values["id_number"] != a1.IDNumber || out.Values["mobile"] != a1.Mobile {
			t.Errorf("unmasked %+v", out)
		}
		p, err := e.bank.Audit.Search(e.bank.As("hq_compliance"), audit.Filter{Action: audit.CustomerUnmask, CustomerID: a1.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 1 || p.Items[0].Username != "teller_a" || p.Items[0].Reason != "客户临柜办理挂失" ||
			len(p.Items[0].Changes) != 2 || p.Items[0].Changes[1].New != "" {
			t.Errorf("audit records %+v", p.Items)
		}
		if r := e.do(call{method: "POST", path: path + "/unmask", token: teller.token,
			body: map[string]any{"fields": []string{"mobile"}}}); r.Code != 422 {
			t.Errorf("no reason: %d %s", r.Code, r.Body)
		}
	})
}

// TestRefusedUnmaskIsAudited checks an attempt by a role without the unmask
// permission (and without a c2_fields grant) is refused by the service and
// still leaves one customer.unmask record with outcome denied naming the
// customer.
func TestRefusedUnmaskIsAudited(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		lobby := e.login("lobby_a")
		a1 := e.bank.Customers["a1"]
		r := e.do(call{method: "POST", path: "/api/v1/customers/" + id(a1.ID) + "/unmask", token: lobby.token,
			body: map[string]any{"fields": []string{"mobile"}, "reason": "想看看"}})
		if r.Code != 403 {
			t.Fatalf("lobby manager unmask: %d %s", r.Code, r.Body)
		}
		p, err := e.bank.Audit.Search(e.bank.As("hq_compliance"), audit.Filter{Action: audit.CustomerUnmask})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 1 || p.Items[0].Username != "lobby_a" || p.Items[0].CustomerID != a1.ID || p.Items[0].Outcome != "denied" ||
			p.Items[0].Object != "customer:"+id(a1.ID) || p.Items[0].Reason != "想看看" {
			t.Errorf("audit records %+v", p.Items)
		}
	})
}
