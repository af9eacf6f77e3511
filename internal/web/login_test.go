package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kehu/internal/store"
	"kehu/internal/testkit"
)

func TestLoginFlow(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		c := a.client(t)
		res := c.get("/customers?q=%E5%BC%A0")
		if res.status != http.StatusSeeOther || res.location != "/login?next=%2Fcustomers%3Fq%3D%25E5%25BC%25A0" {
			t.Fatalf("anonymous /customers: %d → %q", res.status, res.location)
		}
		if res := c.get("/"); res.status != http.StatusSeeOther || res.location != "/login" {
			t.Errorf("anonymous /: %d → %q", res.status, res.location)
		}
		form := c.get("/login?next=%2Fcustomers%3Fq%3D%25E5%25BC%25A0")
		mustContain(t, form.body, "员工登录", `name="next" value="/customers?q=%E5%BC%A0"`)
		token := c.csrf(form)

		res = c.post("/login", url.Values{"csrf": {token}, "username": {"rm_a"}, "password": {"wrong-password"}})
		if res.status != http.StatusUnauthorized {
			t.Errorf("wrong password: status %d", res.status)
		}
		mustContain(t, res.body, "用户名或密码错误", `value="rm_a"`)

		res = c.post("/login", url.Values{"csrf": {token}, "username": {"rm_a"}, "password": {testkit.Password},
			"next": {"/customers?q=%E5%BC%A0"}})
		if res.status != http.StatusSeeOther || res.location != "/customers?q=%E5%BC%A0" {
			t.Fatalf("login: %d → %q", res.status, res.location)
		}
		cookie := sessionCookie(t, res)
		if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || cookie.Secure {
			t.Errorf("session cookie attributes: %+v", cookie)
		}
		if _, _, err := a.Auth.Authenticate(t.Context(), cookie.Value); err != nil {
			t.Errorf("cookie is not a valid session token: %v", err)
		}
		page := c.get("/customers")
		if page.status != http.StatusOK {
			t.Fatalf("customers: %d", page.status)
		}
		mustContain(t, page.body, "张伟", "王芳", "杭州西湖茶叶有限公司", "客户经理 · 西湖支行")
		mustNotContain(t, page.body, "刘洋", "李娜", `href="/orgs"`)

		res = c.post("/logout", url.Values{"csrf": {c.csrf(page)}})
		if res.status != http.StatusSeeOther || res.location != "/login?signed_out=1" {
			t.Fatalf("logout: %d → %q", res.status, res.location)
		}
		if _, _, err := a.Auth.Authenticate(t.Context(), cookie.Value); err == nil {
			t.Error("the session survived logout")
		}
		if res := c.get("/customers"); res.status != http.StatusSeeOther {
			t.Errorf("after logout: %d", res.status)
		}
		mustContain(t, c.get("/login?signed_out=1").body, "您已安全退出")
	})
}

func sessionCookie(t *testing.T, res response) *http.Cookie {
	t.Helper()
	for _, line := range res.header.Values("Set-Cookie") {
		if strings.HasPrefix(line, "kehu_session=") {
			c, err := http.ParseSetCookie(line)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
	}
	t.Fatalf("no session cookie in %v", res.header.Values("Set-Cookie"))
	return nil
}

func TestLoginRejectsForeignNext(t *testing.T) {
	db := testkit.NewDB(t, "sqlite")
	a := newApp(t, db)
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"} {
		c := a.client(t)
		token := c.csrf(c.get("/login"))
		res := c.post("/login", url.Values{"csrf": {token}, "username": {"rm_a"}, "password": {testkit.Password}, "next": {next}})
		if res.location != "/customers" {
			t.Errorf("next=%q redirected to %q", next, res.location)
		}
	}
}

func TestCSRF(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		anon := a.client(t)
		token := anon.csrf(anon.get("/login"))
		creds := url.Values{"username": {"rm_a"}, "password": {testkit.Password}}
		if res := anon.post("/login", creds); res.status != http.StatusForbidden {
			t.Errorf("login without token: %d", res.status)
		} else {
			mustContain(t, res.body, "请求已失效")
		}
		creds.Set("csrf", token+"x")
		if res := anon.post("/login", creds); res.status != http.StatusForbidden {
			t.Errorf("login with a wrong token: %d", res.status)
		}
		// A token without its cookie (another browser's) is refused too.
		other := a.client(t)
		creds.Set("csrf", token)
		if res := other.post("/login", creds); res.status != http.StatusForbidden {
			t.Errorf("login with a token but no cookie: %d", res.status)
		}
		if res := anon.post("/lang", url.Values{"lang": {"en"}}); res.status != http.StatusForbidden {
			t.Errorf("language switch without token: %d", res.status)
		}

		c := a.login(t, "rm_a")
		page := c.get("/customers")
		sessToken := c.csrf(page)
		if sessToken == token {
			t.Error("the signed-in form token should be the session's, not the login cookie's")
		}
		if res := c.post("/logout", url.Values{}); res.status != http.StatusForbidden {
			t.Errorf("logout without token: %d", res.status)
		}
		if res := c.post("/logout", url.Values{"csrf": {token}}); res.status != http.StatusForbidden {
			t.Errorf("logout with the anonymous token: %d", res.status)
		}
		// A cross-site browser request is refused even with the right token.
		if res := c.post("/logout", url.Values{"csrf": {sessToken}}, "Sec-Fetch-Site", "cross-site"); res.status != http.StatusForbidden {
			t.Errorf("cross-site logout: %d", res.status)
		}
		if res := c.get("/customers"); res.status != http.StatusOK {
			t.Fatalf("the session should survive refused requests: %d", res.status)
		}
		// htmx sends the token as a header.
		if res := c.post("/lang", url.Values{"lang": {"en"}, "next": {"/customers"}}, "X-CSRF-Token", sessToken); res.status != http.StatusSeeOther {
			t.Errorf("header token: %d", res.status)
		}
		if res := c.post("/logout", url.Values{"csrf": {sessToken}}); res.status != http.StatusSeeOther {
			t.Errorf("logout with token: %d", res.status)
		}
	})
}
