package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"kehu/internal/audit"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestC2GrantUnmask checks that an approved c2_fields grant lets a user
// whose role lacks customer.unmask see that one customer's fields in clear:
// refused and recorded as denied before the grant, 200 with a record naming
// the grant while it lasts, refused again for other customers, for API
// tokens (which need the customer.unmask scope) and after the expiry.
func TestC2GrantUnmask(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		lobby, mgr := e.login("lobby_a"), e.login("branch_manager")
		a1, a2 := e.bank.Customers["a1"], e.bank.Customers["a2"]
		unmask := func(token string, cid int64) response {
			return e.do(call{method: "POST", path: "/api/v1/customers/" + id(cid) + "/unmask", token: token,
				body: map[string]any{"fields": []string{"mobile"}, "reason": "客户来电核实"}})
		}
		records := func() []audit.Record {
			t.Helper()
			p, err := e.bank.Audit.Search(e.bank.As("hq_compliance"), audit.Filter{Action: audit.CustomerUnmask, Actor: "lobby_a"})
			if err != nil {
				t.Fatal(err)
			}
			return p.Items
		}

		if r := unmask(lobby.token, a1.ID); r.Code != http.StatusForbidden {
			t.Fatalf("without a grant: %d %s", r.Code, r.Body)
		}
		if rs := records(); len(rs) != 1 || rs[0].Outcome != "denied" || rs[0].CustomerID != a1.ID {
			t.Fatalf("refusal recorded as %+v", rs)
		}

		r := e.do(call{method: "POST", path: "/api/v1/access-requests", token: lobby.token,
			body: map[string]any{"customer_id": a1.ID, "scope": "c2_fields", "reason": "核对客户联系方式", "hours": 2}})
		var req struct{ ID int64 }
		r.decode(t, &req)
		if r.Code != http.StatusCreated {
			t.Fatalf("file: %d %s", r.Code, r.Body)
		}
		if r := e.do(call{method: "POST", path: "/api/v1/access-requests/" + id(req.ID) + "/approve", token: mgr.token,
			body: map[string]any{"comment": "同意"}}); r.Code != http.StatusOK {
			t.Fatalf("approve: %d %s", r.Code, r.Body)
		}

		r = unmask(lobby.token, a1.ID)
		var out struct{ Values map[string]string }
		r.decode(t, &out)
		if r.Code != http.StatusOK || out.Values["mobile"] != a1.Mobile {
			t.Fatalf("with the grant: %d %s", r.Code, r.Body)
		}
		rs := records()
		if len(rs) != 2 || rs[0].Outcome == "denied" || rs[0].Reason != "客户来电核实" ||
			!strings.HasPrefix(rs[0].Object, "customer:"+id(a1.ID)+" grant:") || strings.Contains(r.Body.String(), rs[0].Object) {
			t.Errorf("grant unmask recorded as %+v", rs[0])
		}
		// The grant is for a1 only; a2 is in the lobby manager's scope too.
		if r := unmask(lobby.token, a2.ID); r.Code != http.StatusForbidden {
			t.Errorf("another customer: %d %s", r.Code, r.Body)
		}

		// An API token never acts on a person's grant.
		pat := e.token(lobby, "customer.read")
		if r := unmask(pat, a1.ID); r.Code != http.StatusForbidden {
			t.Errorf("token with the grant: %d %s", r.Code, r.Body)
		}
		teller := e.login("teller_a")
		if r := unmask(e.token(teller, "customer.read"), a1.ID); r.Code != http.StatusForbidden {
			t.Errorf("teller token without the scope: %d %s", r.Code, r.Body)
		}
		if r := unmask(e.token(teller, "customer.read", "customer.unmask"), a1.ID); r.Code != http.StatusOK {
			t.Errorf("teller token with the scope: %d %s", r.Code, r.Body)
		}

		e.bank.Clock.Advance(2*time.Hour + time.Second)
		lobby = e.login("lobby_a") // the session itself has idled out
		if r := unmask(lobby.token, a1.ID); r.Code != http.StatusForbidden {
			t.Errorf("after the expiry: %d %s", r.Code, r.Body)
		}
		if rs := records(); rs[0].Outcome != "denied" {
			t.Errorf("refusal after the expiry recorded as %+v", rs[0])
		}
	})
}

// token creates an API token of s's user with scopes and returns its secret.
func (e *env) token(s session, scopes ...string) string {
	e.t.Helper()
	r := e.do(call{method: "POST", path: "/api/v1/me/tokens", token: s.token, body: map[string]any{"name": "c2-test",
		"scopes": scopes, "expires_at": e.bank.Clock.Now().Add(24 * time.Hour).Format(time.RFC3339)}})
	var created struct {
		Token string `json:"token"`
	}
	r.decode(e.t, &created)
	if r.Code != http.StatusCreated {
		e.t.Fatalf("create token: %d %s", r.Code, r.Body)
	}
	return created.Token
}
