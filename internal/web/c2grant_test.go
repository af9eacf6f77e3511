package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"kehu/internal/access/entitlement"
	"kehu/internal/audit"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestC2GrantShowLinks: a lobby manager (no customer.unmask) is offered 显示
// on a1 once a c2_fields grant for a1 is approved, and only on a1; the
// clear value comes back with a record naming the grant; after the expiry
// the links are gone and the form is refused.
func TestC2GrantShowLinks(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		a1, a2 := a.Customers["a1"], a.Customers["a2"]
		page := "/customers/" + strconv.FormatInt(a1.ID, 10)
		es := a.EntitlementService()
		req, err := es.Request(a.As("lobby_a"), entitlement.NewRequest{CustomerID: a1.ID, Scope: entitlement.GrantC2Fields,
			Reason: "核对客户联系方式", Hours: 1})
		if err != nil {
			t.Fatal(err)
		}
		lobby := a.login(t, "lobby_a")
		mustNotContain(t, lobby.get(page).body, "/unmask?field=")
		if _, err := es.Approve(a.As("branch_manager"), req.ID, "同意"); err != nil {
			t.Fatal(err)
		}
		res := lobby.get(page)
		mustContain(t, res.body, `hx-get="`+page+`/unmask?field=mobile"`, "138****0001")
		mustNotContain(t, lobby.get("/customers/"+strconv.FormatInt(a2.ID, 10)).body, "/unmask?field=")
		if form := lobby.get(page + "/unmask?field=mobile"); form.status != http.StatusOK {
			t.Fatalf("reason form with the grant: %d", form.status)
		}
		shown := lobby.post(page+"/unmask", url.Values{"csrf": {lobby.csrf(res)}, "field": {"mobile"},
			"reason": {"客户来电核实"}}, "HX-Request", "true")
		if shown.status != http.StatusOK {
			t.Fatalf("unmask with the grant: %d", shown.status)
		}
		mustContain(t, shown.body, a1.Mobile, "已记录审计")
		p, err := a.Audit.Search(a.As("hq_compliance"), audit.Filter{Action: audit.CustomerUnmask, Actor: "lobby_a"})
		if err != nil || len(p.Items) != 1 || !strings.Contains(p.Items[0].Object, " grant:") {
			t.Fatalf("audit %+v %v", p.Items, err)
		}

		a.Clock.Advance(time.Hour + time.Second)
		lobby = a.login(t, "lobby_a")
		mustNotContain(t, lobby.get(page).body, "/unmask?field=")
		if form := lobby.get(page + "/unmask?field=mobile"); form.status != http.StatusForbidden {
			t.Errorf("reason form after the expiry: %d", form.status)
		}
	})
}
