package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"kehu/internal/httpapi"
	"kehu/internal/ingest"
	"kehu/internal/org"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestIntegrationAccount follows a source system's service account: it
// signs in to the page its role has (not the customer list), creates a token
// scoped to data.ingest on 安全设置 — offered nothing but data.ingest and
// data.import —, feeds events with it, and can open no customer, neither
// with the token nor in the UI.
func TestIntegrationAccount(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		api := httpapi.New(httpapi.Deps{Auth: a.Auth, Customers: a.CustomerService(), Entitlements: a.EntitlementService(),
			Orgs: org.NewService(db.Orgs()), Audit: a.Audit, Clock: a.Clock, Ingest: a.IngestService(t, ingest.Config{})})
		a1 := a.Customers["a1"].ID

		// Sign-in lands on 数据导入, its first page, not on a 403.
		c := a.client(t)
		form := c.get("/login")
		res := c.post("/login", url.Values{"csrf": {c.csrf(form)}, "username": {"hq_integration"}, "password": {testkit.Password}})
		if res.status != http.StatusSeeOther || res.location != "/imports" {
			t.Fatalf("sign-in: %d to %q, want 303 to /imports", res.status, res.location)
		}
		if r := c.get("/"); r.status != http.StatusSeeOther || r.location != "/imports" {
			t.Errorf("home: %d to %q", r.status, r.location)
		}
		page := c.get("/security")
		mustContain(t, page.body, `href="/imports"`, `value="data.ingest"`, `value="data.import"`, "推送增量数据")
		mustNotContain(t, page.body, `href="/customers"`, `value="customer.read"`, `href="/duplicates"`)
		for _, path := range []string{"/customers", "/customers/" + strconv.FormatInt(a1, 10)} {
			if r := c.get(path); r.status != http.StatusForbidden || strings.Contains(r.body, a.Customers["a1"].Name) {
				t.Errorf("GET %s: %d, want 403 without the name", path, r.status)
			}
		}

		// A token scoped to data.ingest, from the security page.
		res = c.post("/security/tokens", url.Values{"csrf": {c.csrf(page)}, "name": {"core-banking-feed"},
			"scopes": {"data.ingest"}, "days": {"90"}})
		m := newTokenField.FindStringSubmatch(res.body)
		if res.status != http.StatusOK || m == nil {
			t.Fatalf("create token: %d", res.status)
		}
		// customer.read is not the role's: refused.
		if r := c.post("/security/tokens", url.Values{"csrf": {c.csrf(page)}, "name": {"x"},
			"scopes": {"customer.read"}, "days": {"30"}}); r.status != http.StatusUnprocessableEntity {
			t.Errorf("token with customer.read: %d, want 422", r.status)
		}
		call := func(method, path, body string) (int, string) {
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+m[1])
			req.Header.Set("Content-Type", "application/x-ndjson")
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, req)
			return rec.Code, rec.Body.String()
		}
		line := fmt.Sprintf(`{"event_id":"int-1","channel":"mobile_app","kind":"login","occurred_at":%q,"customer_id":%d}`,
			a.Clock.Now().Add(-time.Minute).Format(time.RFC3339), a1)
		code, body := call("POST", "/api/v1/ingest/events", line+"\n")
		if code != http.StatusOK || !strings.Contains(body, `"accepted":1`) {
			t.Fatalf("feed: %d %s", code, body)
		}
		for _, path := range []string{"/api/v1/customers", "/api/v1/customers/" + strconv.FormatInt(a1, 10),
			"/api/v1/customers/" + strconv.FormatInt(a1, 10) + "/360"} {
			if code, body := call("GET", path, ""); code != http.StatusForbidden || strings.Contains(body, a.Customers["a1"].Name) {
				t.Errorf("GET %s with the integration token: %d, want 403", path, code)
			}
		}
	})
}
