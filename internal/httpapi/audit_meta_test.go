package httpapi_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"kehu/internal/httpapi"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// customerBearing reports whether a route reads or changes customer data (or
// the trail about it), and so must leave exactly one audit record per call.
func customerBearing(pattern string) bool {
	return strings.HasPrefix(pattern, "GET /api/v1/segments/{id}/members") ||
		strings.Contains(pattern, "/customers") || strings.Contains(pattern, "/audit") ||
		pattern == "GET /api/v1/outbox" || pattern == "POST /api/v1/outbox/{id}/retry" ||
		strings.Contains(pattern, "/duplicates") || strings.Contains(pattern, "/merges") ||
		strings.Contains(pattern, "/contact-policy/check")
}

// TestEveryCustomerRouteAuditsOnce walks the route table: every route that
// reads or changes customer data must have a request below, and that request
// must write exactly one audit record. A new customer route without an entry
// fails this test until someone decides how it is audited.
func TestEveryCustomerRouteAuditsOnce(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		rm, auditor, manager := e.login("rm_a"), e.login("hq_compliance"), e.login("branch_manager")
		a1 := "/api/v1/customers/" + id(e.bank.Customers["a1"].ID)
		requests := map[string]call{
			"GET /api/v1/customers":        {method: "GET", path: "/api/v1/customers?q=13800000001", token: rm.token},
			"POST /api/v1/customers":       {method: "POST", path: "/api/v1/customers", token: rm.token, body: e.newIndividual()},
			"GET /api/v1/customers/{id}":   {method: "GET", path: a1, token: rm.token},
			"PATCH /api/v1/customers/{id}": {method: "PATCH", path: a1, token: rm.token, body: map[string]any{"mobile": "13912345678"}},
			"POST /api/v1/customers/{id}/unmask": {method: "POST", path: a1 + "/unmask", token: rm.token,
				body: map[string]any{"fields": []string{"id_number"}, "reason": "核实身份"}},
			"GET /api/v1/audit": {method: "GET", path: "/api/v1/audit?limit=5", token: auditor.token},

			// Ownership (access_test.go): one record each.
			"GET /api/v1/customers/{id}/owners": {method: "GET", path: a1 + "/owners", token: rm.token},
			"POST /api/v1/customers/{id}/transfer": {method: "POST", path: a1 + "/transfer", token: manager.token,
				body: map[string]any{"owner_id": e.bank.Users["rm_a2"].ID, "reason": "handover"}},
			"POST /api/v1/customers/{id}/secondary-rms": {method: "POST", path: a1 + "/secondary-rms", token: manager.token,
				body: map[string]any{"user_id": e.bank.Users["rm_a"].ID}},
			"DELETE /api/v1/customers/{id}/secondary-rms/{user_id}": {method: "DELETE", token: manager.token,
				path: a1 + "/secondary-rms/" + id(e.bank.Users["rm_a"].ID)},
			"GET /api/v1/audit/export": {method: "GET", path: "/api/v1/audit/export?actor=rm_a", token: auditor.token},

			// Privacy (privacy_test.go): the export, consent read and change,
			// and the bulk CSV under the threshold record one entry each.
			"GET /api/v1/customers/{id}/export":   {method: "GET", path: a1 + "/export", token: auditor.token},
			"GET /api/v1/customers/{id}/consents": {method: "GET", path: a1 + "/consents", token: auditor.token},
			"PUT /api/v1/customers/{id}/consents": {method: "PUT", path: a1 + "/consents", token: auditor.token,
				body: map[string]any{"consents": []map[string]any{{"channel": "sms", "granted": false}}, "source": "phone"}},
			"GET /api/v1/customers/export": {method: "GET", path: "/api/v1/customers/export?type=corporate", token: rm.token},

			// Field provenance (provenance_test.go): one customer.provenance record.
			"GET /api/v1/customers/{id}/provenance": {method: "GET", path: a1 + "/provenance", token: auditor.token},

			// Customer level (governance_test.go): the level read is one customer.level record.
			"GET /api/v1/customers/{id}/level": {method: "GET", path: a1 + "/level", token: auditor.token},
		}
		for k, v := range c360AuditRequests(t, e, auditor.token) {
			requests[k] = v
		}
		for k, v := range mergeAuditRequests(e, manager.token) {
			requests[k] = v
		}
		for k, v := range outboxAuditRequests(t, e, db) {
			requests[k] = v
		}
		for k, v := range segmentAuditRequests(t, e, rm.token) {
			requests[k] = v
		}
		for k, v := range policyAuditRequests(t, e, auditor.token) {
			requests[k] = v
		}
		for _, pattern := range httpapi.RoutePatterns() {
			if !customerBearing(pattern) {
				continue
			}
			c, ok := requests[pattern]
			if !ok {
				t.Errorf("%s reads or changes customer data but the audit meta-test has no request for it", pattern)
				continue
			}
			before := auditCount(t, db)
			if r := e.do(c); r.Code >= 300 {
				t.Fatalf("%s: %d %s", pattern, r.Code, r.Body)
			}
			if n := auditCount(t, db) - before; n != 1 {
				t.Errorf("%s wrote %d audit records, want exactly 1", pattern, n)
			}
		}
		if res, err := e.bank.Audit.Verify(context.Background()); err != nil || !res.OK() {
			t.Fatalf("verify: %v %+v", err, res)
		}
	})
}

func auditCount(t *testing.T, db *store.DB) int64 {
	t.Helper()
	n, err := db.CountRows(context.Background(), "audit_log")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// personalData matches what must never reach an application log: resident ID
// numbers (18 characters), mainland mobiles and card numbers (16–19 digits).
var personalData = regexp.MustCompile(`\b\d{17}[\dXx]\b|\b1[3-9]\d{9}\b|\b\d{16,19}\b`)

// TestLogsHoldNoPersonalData runs the conformance walk (every route, with ID
// numbers and mobiles in bodies and queries) plus the audit routes and scans
// everything the server logged.
func TestLogsHoldNoPersonalData(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		walk(t, e)
		rm := e.login("rm_a")
		for _, q := range []string{"13800000001", e.bank.Customers["a1"].IDNumber, "6222020200112233445"} {
			e.do(call{method: "GET", path: "/api/v1/customers?q=" + q, token: rm.token})
		}
		e.do(call{method: "GET", path: "/api/v1/customers/99999999999999999", token: rm.token})
		logs := e.logs.String()
		if logs == "" {
			t.Fatal("nothing was logged: the scan would prove nothing")
		}
		if m := personalData.FindString(logs); m != "" {
			t.Fatalf("the log holds personal data %q", m)
		}
	})
}
