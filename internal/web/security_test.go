package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"

	"kehu/internal/auth"
	"kehu/internal/org"
	"kehu/internal/store"
	"kehu/internal/testkit"
	"kehu/internal/web"
)

var totpSecret = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)

func TestSecurityPage(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		other := a.login(t, "rm_a")
		c := a.login(t, "rm_a")
		page := c.get("/security")
		if page.status != http.StatusOK {
			t.Fatalf("security page: %d", page.status)
		}
		mustContain(t, page.body, "安全设置", "修改密码", "退出其他所有会话", "/security/totp")
		// Every new form refuses a request without the token.
		for _, path := range []string{"/security/password", "/security/totp", "/security/totp/confirm",
			"/security/sessions/1/revoke", "/security/sessions/revoke-others", "/login/totp"} {
			if res := c.post(path, url.Values{"code": {"123456"}}); res.status != http.StatusForbidden {
				t.Errorf("POST %s without CSRF token: %d", path, res.status)
			}
		}
		token := c.csrf(page)
		res := c.post("/security/password", url.Values{"csrf": {token}, "current_password": {testkit.Password},
			"new_password": {testkit.Password}, "confirm_password": {testkit.Password}})
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("reused password: %d", res.status)
		}
		mustContain(t, res.body, "must differ from your last 5 passwords")
		res = c.post("/security/password", url.Values{"csrf": {token}, "current_password": {testkit.Password},
			"new_password": {"Web-changed-2026"}, "confirm_password": {"Web-changed-2026"}})
		if res.status != http.StatusSeeOther || res.location != "/security?done=password" {
			t.Fatalf("password change: %d %s", res.status, res.location)
		}
		if res := other.get("/customers"); res.status != http.StatusSeeOther {
			t.Errorf("the other session survived a password change: %d", res.status)
		}
		// TOTP enrolment shows the secret once, then a code confirms it.
		res = c.post("/security/totp", url.Values{"csrf": {token}})
		m := totpSecret.FindStringSubmatch(res.body)
		if res.status != http.StatusOK || m == nil {
			t.Fatalf("begin totp: %d", res.status)
		}
		mustContain(t, res.body, "otpauth://totp/Kehu:rm_a?")
		code, _ := auth.TOTPCode(m[1], a.Clock.Now())
		if res := c.post("/security/totp/confirm", url.Values{"csrf": {token}, "code": {"000000"}}); res.status != http.StatusUnprocessableEntity {
			t.Errorf("wrong confirmation code: %d", res.status)
		}
		if res := c.post("/security/totp/confirm", url.Values{"csrf": {token}, "code": {code}}); res.status != http.StatusSeeOther {
			t.Fatalf("confirm totp: %d %s", res.status, res.body)
		}
		// Signing in now takes a second form.
		d := a.client(t)
		form := d.get("/login")
		res = d.post("/login", url.Values{"csrf": {d.csrf(form)}, "username": {"rm_a"}, "password": {"Web-changed-2026"}})
		challenge := regexp.MustCompile(`name="challenge" value="([^"]+)"`).FindStringSubmatch(res.body)
		if res.status != http.StatusOK || challenge == nil {
			t.Fatalf("password step: %d", res.status)
		}
		step := url.Values{"csrf": {d.csrf(res)}, "challenge": {challenge[1]}, "next": {"/customers"}}
		step.Set("code", code) // used for the confirmation: a replay
		if res := d.post("/login/totp", step); res.status != http.StatusUnauthorized {
			t.Errorf("replayed code: %d", res.status)
		}
		a.Clock.Advance(30 * time.Second)
		code, _ = auth.TOTPCode(m[1], a.Clock.Now())
		step.Set("code", code)
		if res := d.post("/login/totp", step); res.status != http.StatusSeeOther || res.location != "/customers" {
			t.Fatalf("code step: %d %s", res.status, res.location)
		}
		// The first client sees two sessions and signs the other out.
		page = c.get("/security")
		mustContain(t, page.body, "（当前）")
		if res := c.post("/security/sessions/revoke-others", url.Values{"csrf": {token}}); res.status != http.StatusSeeOther {
			t.Errorf("revoke others: %d", res.status)
		}
		if res := d.get("/customers"); res.status != http.StatusSeeOther {
			t.Errorf("revoked session still works: %d", res.status)
		}
	})
}

func TestLoginLockedAndRestricted(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		cfg := testkit.FastAuth
		cfg.RequireTOTPRoles = auth.DefaultTOTPRoles
		as, err := auth.NewService(db.Users(), b.Clock, cfg)
		if err != nil {
			t.Fatal(err)
		}
		h, err := web.New(web.Deps{Auth: as, Customers: b.CustomerService(), Orgs: org.NewService(db.Orgs()),
			Accounts: b.AccountService(), Audit: b.Audit, Clock: b.Clock,
			C360: b.C360Service(), Interactions: b.InteractionService(), Tags: b.TagService()})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		a := &app{Bank: b, srv: srv}
		c := a.client(t)
		form := c.get("/login")
		token := c.csrf(form)
		for range 5 {
			c.post("/login", url.Values{"csrf": {token}, "username": {"rm_b"}, "password": {"Wrong-pass-2026"}})
		}
		res := c.post("/login", url.Values{"csrf": {token}, "username": {"rm_b"}, "password": {testkit.Password}})
		if res.status != http.StatusLocked {
			t.Errorf("right password while locked: %d", res.status)
		}
		mustContain(t, res.body, "账户已临时锁定")
		// A role that needs TOTP is sent to enrol before anything else.
		bm := a.login(t, "branch_manager")
		if res := bm.get("/customers"); res.status != http.StatusSeeOther || res.location != "/security" {
			t.Errorf("restricted session: %d %s", res.status, res.location)
		}
		mustContain(t, bm.get("/security").body, "您的角色要求启用双因素认证")
	})
}
