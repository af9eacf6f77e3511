package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"kehu/internal/httpapi"
	"kehu/internal/org"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

var (
	newTokenField = regexp.MustCompile(`id="new-token" class="mono" type="text" value="(kehu_pat_[A-Za-z0-9_-]+)" readonly`)
	tokenRevoke   = regexp.MustCompile(`action="/security/tokens/(\d+)/revoke"`)
)

func TestSecurityTokens(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		api := httpapi.New(httpapi.Deps{Auth: a.Auth, Customers: a.CustomerService(), Entitlements: a.EntitlementService(),
			Orgs: org.NewService(db.Orgs()), Audit: a.Audit, Clock: a.Clock})
		bearer := func(token string) int {
			req := httptest.NewRequest("GET", "/api/v1/customers?limit=1", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, req)
			return rec.Code
		}

		c := a.login(t, "rm_a")
		page := c.get("/security")
		if page.status != http.StatusOK {
			t.Fatalf("security page: %d", page.status)
		}
		// Offered scopes are the role's permissions only.
		mustContain(t, page.body, "访问令牌", "您还没有访问令牌", `value="customer.read"`, `value="customer.unmask"`)
		mustNotContain(t, page.body, `value="user.manage"`, `value="audit.read"`)
		csrf := c.csrf(page)

		// Without the form token nothing happens.
		for _, path := range []string{"/security/tokens", "/security/tokens/1/revoke"} {
			if res := c.post(path, url.Values{"name": {"x"}, "scopes": {"customer.read"}, "days": {"30"}}); res.status != http.StatusForbidden {
				t.Errorf("POST %s without CSRF token: %d", path, res.status)
			}
		}
		if list, _ := a.Auth.APITokens(a.As("rm_a")); len(list) != 0 {
			t.Fatalf("a token was created without the CSRF token: %v", list)
		}

		// A scope outside the role is refused with a readable message, the
		// form keeping what was typed.
		res := c.post("/security/tokens", url.Values{"csrf": {csrf}, "name": {"crm-sync"},
			"scopes": {"customer.read", "user.manage"}, "days": {"30"}})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("scope outside the role: %d", res.status)
		}
		mustContain(t, res.body, "以下授权范围不属于您角色的权限，不能授予令牌：user.manage", `value="crm-sync"`)
		mustNotContain(t, res.body, "kehu_pat_")
		for _, bad := range []url.Values{
			{"csrf": {csrf}, "name": {"x"}, "days": {"30"}},                                             // no scope
			{"csrf": {csrf}, "name": {"x"}, "scopes": {"customer.read"}, "days": {"400"}},               // too long
			{"csrf": {csrf}, "name": {"x"}, "scopes": {"customer.read"}, "days": {"soon"}},              // not a number
			{"csrf": {csrf}, "name": {"  "}, "scopes": {"customer.read"}, "days": {"30"}},               // no name
			{"csrf": {csrf}, "name": {strings.Repeat("名", 101)}, "scopes": {"org.read"}, "days": {"1"}}, // not rm's
		} {
			if res := c.post("/security/tokens", bad); res.status != http.StatusUnprocessableEntity {
				t.Errorf("refused form %v: %d", bad, res.status)
			}
		}
		if list, _ := a.Auth.APITokens(a.As("rm_a")); len(list) != 0 {
			t.Fatalf("a refused form created a token: %v", list)
		}

		// Created: the secret is shown once, with the warning.
		res = c.post("/security/tokens", url.Values{"csrf": {csrf}, "name": {"crm-sync"},
			"scopes": {"customer.read"}, "days": {"30"}})
		m := newTokenField.FindStringSubmatch(res.body)
		if res.status != http.StatusOK || m == nil {
			t.Fatalf("create token: %d", res.status)
		}
		secret := m[1]
		mustContain(t, res.body, "令牌只显示这一次", "令牌“crm-sync”已创建")
		if got := res.header.Get("Cache-Control"); !strings.Contains(got, "no-store") {
			t.Errorf("the page with the secret may be cached: %q", got)
		}
		// The list shows it afterwards, never the secret.
		page = c.get("/security")
		mustContain(t, page.body, "crm-sync", "customer.read", "有效", "从未使用")
		mustNotContain(t, page.body, secret, "kehu_pat_", `id="new-token"`)
		if strings.Contains(a.logs.String(), secret) {
			t.Error("the token secret was logged")
		}

		// It works as a bearer token, within its scope.
		if code := bearer(secret); code != http.StatusOK {
			t.Fatalf("bearer token against /api/v1/customers: %d", code)
		}
		page = c.get("/security")
		mustNotContain(t, page.body, "从未使用")

		// Another user cannot revoke it.
		ids := tokenRevoke.FindStringSubmatch(page.body)
		if ids == nil {
			t.Fatal("no revoke form")
		}
		d := a.login(t, "rm_b")
		if res := d.post("/security/tokens/"+ids[1]+"/revoke", url.Values{"csrf": {d.csrf(d.get("/security"))}}); res.status != http.StatusNotFound {
			t.Errorf("revoke another user's token: %d", res.status)
		}
		if code := bearer(secret); code != http.StatusOK {
			t.Fatalf("token after another user's revoke attempt: %d", code)
		}

		// Revoked through the form: refused from then on.
		mustContain(t, page.body, "确定撤销“crm-sync”？")
		res = c.post("/security/tokens/"+ids[1]+"/revoke", url.Values{"csrf": {csrf}})
		if res.status != http.StatusSeeOther || res.location != "/security?done=token_revoked" {
			t.Fatalf("revoke: %d %s", res.status, res.location)
		}
		mustContain(t, c.get(res.location).body, "令牌已撤销", "您还没有访问令牌")
		if code := bearer(secret); code != http.StatusUnauthorized {
			t.Errorf("revoked token: %d", code)
		}
		if _, _, err := a.Auth.Authenticate(t.Context(), secret); err == nil {
			t.Error("revoked token still authenticates")
		}

		// English page.
		c.lang = "en"
		mustContain(t, c.get("/security").body, "API tokens", "You have no API tokens.", "View customers")
	})
}
