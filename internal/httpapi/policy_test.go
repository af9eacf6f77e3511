package httpapi_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"kehu/internal/access"
	"kehu/internal/policy"
	"kehu/internal/store"
	"kehu/internal/suitability"
	"kehu/internal/testkit"
)

// policyFixture gives a1 a C3 assessment made eight months ago and SMS
// consent, and puts a rated fund (R3) and an R5 fund on the shelf; it
// returns the first fund's code.
func policyFixture(t *testing.T, e *env) string {
	t.Helper()
	a1 := e.bank.Customers["a1"].ID
	err := e.bank.DB.InTx(context.Background(), func(tx *sql.Tx) error {
		for _, q := range []struct {
			q    string
			args []any
		}{
			{`INSERT INTO products (code, name, name_en, type, risk_level) VALUES ('POL-F3', '平衡混合基金', 'Balanced fund', 'fund', 3),
				('POL-F5', '行业主题基金', 'Sector fund', 'fund', 5)`, nil},
			{"UPDATE customers SET risk_level = 3, risk_assessed_at = $1 WHERE id = $2", []any{e.bank.Clock.Now().AddDate(0, -8, 0), a1}},
			{`INSERT INTO customer_consents (customer_id, channel, granted, changed_at, source) VALUES ($1, 'sms', TRUE, $2, 'counter')
				ON CONFLICT (customer_id, channel) DO UPDATE SET granted = TRUE`,
				[]any{a1, e.bank.Clock.Now()}},
		} {
			if _, err := tx.Exec(q.q, q.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return "POL-F3"
}

// walkPolicy drives every documented response of the policy routes (the
// conformance walk), asserting each status on the way.
func walkPolicy(t *testing.T, e *env) {
	fund := policyFixture(t, e)
	// hq_marketing has a second factor by now (walkSecurity): admin, who
	// also holds marketing.write, edits the settings.
	admin, rm, rmB, lobby := e.login("admin"), e.login("rm_a"), e.login("rm_b"), e.login("lobby_a")
	a1 := "/api/v1/customers/" + id(e.bank.Customers["a1"].ID)
	narrow := e.token(admin, "marketing.write") // an API token without customer.read
	big := `{"quiet_from":"` + strings.Repeat("x", 1<<20) + `"}`
	plain := map[string]string{"Content-Type": "text/plain"}

	e.expect(call{method: "GET", path: a1 + "/suitability", token: rm.token}, 200)
	e.expect(call{method: "GET", path: a1 + "/suitability?product=" + fund, token: rm.token}, 200)
	e.expect(call{method: "GET", path: a1 + "/suitability?product=NOPE", token: rm.token}, 404)
	e.expect(call{method: "GET", path: a1 + "/suitability", token: rmB.token}, 404)
	e.expect(call{method: "GET", path: a1 + "/suitability"}, 401)
	e.expect(call{method: "GET", path: a1 + "/suitability", token: narrow}, 403)

	settings := policy.InputOf(policy.Defaults(30))
	e.expect(call{method: "GET", path: "/api/v1/contact-policy", token: lobby.token}, 200)
	e.expect(call{method: "GET", path: "/api/v1/contact-policy"}, 401)
	e.expect(call{method: "GET", path: "/api/v1/contact-policy", token: narrow}, 403)
	e.expect(call{method: "PUT", path: "/api/v1/contact-policy", token: admin.token, body: settings}, 200)
	// Two editors read the same version; the first save wins, the second
	// is a conflict (base_version).
	var cur policy.Settings
	if err := json.Unmarshal(e.expect(call{method: "GET", path: "/api/v1/contact-policy", token: admin.token}, 200).Body.Bytes(), &cur); err != nil {
		t.Fatal(err)
	}
	edit := settings
	edit.BaseVersion = &cur.Version
	e.expect(call{method: "PUT", path: "/api/v1/contact-policy", token: admin.token, body: edit}, 200)
	if r := e.expect(call{method: "PUT", path: "/api/v1/contact-policy", token: admin.token, body: edit}, 409); !strings.Contains(r.Body.String(), "reload") {
		t.Errorf("stale base version: %s", r.Body)
	}
	e.expect(call{method: "PUT", path: "/api/v1/contact-policy", token: admin.token, body: `{"max_marketing":`}, 400)
	e.expect(call{method: "PUT", path: "/api/v1/contact-policy", token: admin.token, body: big}, 413)
	e.expect(call{method: "PUT", path: "/api/v1/contact-policy", token: admin.token, body: "x", header: plain}, 415)
	e.expect(call{method: "PUT", path: "/api/v1/contact-policy", token: admin.token, body: map[string]any{"max_marketing": 0,
		"quiet_from": "9pm"}}, 422)
	e.expect(call{method: "PUT", path: "/api/v1/contact-policy", token: rm.token, body: settings}, 403)
	e.expect(call{method: "PUT", path: "/api/v1/contact-policy", body: settings}, 401)

	check := map[string]any{"customer_id": e.bank.Customers["a1"].ID, "channel": "sms", "product": fund, "purpose": "marketing"}
	e.expect(call{method: "POST", path: "/api/v1/contact-policy/check", token: rm.token, body: check}, 200)
	e.expect(call{method: "POST", path: "/api/v1/contact-policy/check", token: rmB.token, body: check}, 404)
	e.expect(call{method: "POST", path: "/api/v1/contact-policy/check", token: rm.token, body: `{"customer_id":1,`}, 400)
	e.expect(call{method: "POST", path: "/api/v1/contact-policy/check", token: rm.token, body: `{"x":"` + strings.Repeat("x", 1<<20) + `"}`}, 413)
	e.expect(call{method: "POST", path: "/api/v1/contact-policy/check", token: rm.token, body: "x", header: plain}, 415)
	e.expect(call{method: "POST", path: "/api/v1/contact-policy/check", token: rm.token, body: map[string]any{"customer_id": 0,
		"channel": "fax", "purpose": "spam"}}, 422)
	e.expect(call{method: "POST", path: "/api/v1/contact-policy/check", token: narrow, body: check}, 403)
	e.expect(call{method: "POST", path: "/api/v1/contact-policy/check", body: check}, 401)

	// Last of the fixed steps: the shared decoder's limits on every route
	// that takes a JSON body (bodylimits_test.go).
	walkBodyLimits(t, e)
}

// policyAuditRequests are the audit meta-test's requests for the policy
// routes that read customer data: one record each.
func policyAuditRequests(t *testing.T, e *env, token string) map[string]call {
	policyFixture(t, e)
	a1 := e.bank.Customers["a1"].ID
	return map[string]call{
		"GET /api/v1/customers/{id}/suitability": {method: "GET", path: "/api/v1/customers/" + id(a1) + "/suitability", token: token},
		"POST /api/v1/contact-policy/check": {method: "POST", path: "/api/v1/contact-policy/check", token: token,
			body: map[string]any{"customer_id": a1, "channel": "sms", "purpose": "marketing"}},
	}
}

// TestPolicyAPI: the report and the decision say what the engines decide,
// in both languages.
func TestPolicyAPI(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		fund := policyFixture(t, e)
		rm := e.login("rm_a")
		a1 := e.bank.Customers["a1"].ID
		var rep suitability.Report
		e.expect(call{method: "GET", path: "/api/v1/customers/" + id(a1) + "/suitability", token: rm.token}, 200).decode(t, &rep)
		if !rep.Valid || rep.Suitable != 1 || len(rep.Results) != 2 || rep.Results[0].Product.Code != fund ||
			rep.Results[1].Code != suitability.RiskTooHigh || rep.ExpiresOn == nil {
			t.Errorf("report: %+v", rep)
		}
		var d policy.Decision
		body := map[string]any{"customer_id": a1, "channel": "sms", "product": "POL-F5", "purpose": "marketing"}
		e.expect(call{method: "POST", path: "/api/v1/contact-policy/check", token: rm.token, body: body}, 200).decode(t, &d)
		if d.Outcome != policy.Suppress || len(d.Reasons) != 1 || d.Reasons[0].Code != policy.ReasonRiskTooHigh ||
			d.Reasons[0].ZH != "产品风险等级R5高于客户风险承受能力C3" || d.Reasons[0].EN == "" {
			t.Errorf("decision: %+v", d)
		}
		// At 22:00 Shanghai the same SMS without a product is deferred to 08:00.
		e.bank.Clock.Advance(12*time.Hour + 30*time.Minute)
		rm = e.login("rm_a") // the session timed out
		body["product"] = ""
		e.expect(call{method: "POST", path: "/api/v1/contact-policy/check", token: rm.token, body: body}, 200).decode(t, &d)
		if d.Outcome != policy.Defer || d.DeferUntil == nil || d.DeferUntil.Format(time.RFC3339) != "2026-03-03T00:00:00Z" {
			t.Errorf("deferred: %+v", d)
		}
	})
}

// policyProbes are the scope matrix's probes of the policy routes that name
// a customer in the path.
func policyProbes() map[string]probe {
	return map[string]probe{
		"GET /api/v1/customers/{id}/suitability": {access.CustomerRead, func(e *env, s session, cid int64) call {
			return call{method: "GET", path: "/api/v1/customers/" + id(cid) + "/suitability", token: s.token}
		}},
	}
}
