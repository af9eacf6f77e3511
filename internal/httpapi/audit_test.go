package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"kehu/internal/store"
	"kehu/internal/testkit"
)

// auditCalls are the conformance walk's exchanges with the audit routes.
func auditCalls(e *env) []call {
	auditor, rm := e.login("hq_compliance"), e.login("rm_a")
	a1 := id(e.bank.Customers["a1"].ID)
	return []call{
		{method: "GET", path: "/api/v1/audit?limit=2&action=customer.create&from=2026-01-01&to=2026-12-31", token: auditor.token},
		{method: "GET", path: "/api/v1/audit?customer_id=" + a1 + "&actor=admin", token: auditor.token},
		{method: "GET", path: "/api/v1/audit?from=yesterday&customer_id=x", token: auditor.token},
		{method: "GET", path: "/api/v1/audit", token: rm.token},
		{method: "GET", path: "/api/v1/audit"},
		{method: "GET", path: "/api/v1/audit/export?customer_id=" + a1, token: auditor.token},
		{method: "GET", path: "/api/v1/audit/export?to=never", token: auditor.token},
		{method: "GET", path: "/api/v1/audit/export", token: rm.token},
		{method: "GET", path: "/api/v1/audit/export"},
	}
}

func TestAuditSearchAndExport(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		auditor, rm := e.login("hq_compliance"), e.login("rm_a")
		a1 := id(e.bank.Customers["a1"].ID)
		if r := e.do(call{method: "GET", path: "/api/v1/customers/" + a1, token: rm.token}); r.Code != http.StatusOK {
			t.Fatalf("read a1: %d", r.Code)
		}
		r := e.do(call{method: "GET", path: "/api/v1/audit?customer_id=" + a1 + "&actor=rm_a", token: auditor.token})
		var page struct {
			Items []struct {
				Actor, Role, Action, Object string
				CustomerID                  int64 `json:"customer_id"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		r.decode(t, &page)
		if r.Code != http.StatusOK || len(page.Items) != 1 || page.Items[0].Action != "customer.read" ||
			page.Items[0].Actor != "rm_a" || page.Items[0].Role != "relationship_manager" || page.NextCursor != nil {
			t.Fatalf("search: %d %+v", r.Code, page)
		}
		r = e.do(call{method: "GET", path: "/api/v1/audit", token: rm.token})
		if p := r.problem(t); r.Code != http.StatusForbidden || !strings.HasSuffix(p.Type, "/forbidden") {
			t.Fatalf("rm search: %d %+v", r.Code, p)
		}
		r = e.do(call{method: "GET", path: "/api/v1/audit/export?customer_id=" + a1, token: auditor.token})
		body := r.Body.String()
		if r.Code != http.StatusOK || !strings.HasPrefix(r.Header().Get("Content-Type"), "text/csv") ||
			!strings.Contains(body, "id,at,actor,role") || !strings.Contains(body, "customer.read") {
			t.Fatalf("export: %d %q", r.Code, body)
		}
		// The search and the export are themselves on the trail.
		r = e.do(call{method: "GET", path: "/api/v1/audit?actor=hq_compliance&action=audit.export", token: auditor.token})
		r.decode(t, &page)
		if len(page.Items) != 1 || page.Items[0].CustomerID != e.bank.Customers["a1"].ID {
			t.Fatalf("export not recorded: %+v", page)
		}
	})
}
