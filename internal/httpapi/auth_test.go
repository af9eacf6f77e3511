package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"kehu/internal/httpapi"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

func TestLogin(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		r := e.do(call{method: "POST", path: "/api/v1/auth/login",
			body: map[string]string{"username": "rm_a", "password": testkit.Password}})
		if r.Code != http.StatusOK {
			t.Fatalf("login: %d %s", r.Code, r.Body)
		}
		var out struct {
			Token     string
			CSRFToken string `json:"csrf_token"`
			User      struct{ Username, Role, Scope string }
		}
		r.decode(t, &out)
		if out.Token == "" || out.CSRFToken == "" || out.User.Username != "rm_a" || out.User.Scope != "own" {
			t.Errorf("login body: %s", r.Body)
		}
		cookie := r.Result().Cookies()
		if len(cookie) != 1 || cookie[0].Name != "kehu_session" || !cookie[0].HttpOnly ||
			cookie[0].SameSite != http.SameSiteLaxMode || cookie[0].Path != "/" || cookie[0].Secure {
			t.Errorf("dev session cookie: %v", r.Header().Values("Set-Cookie"))
		}

		for name, body := range map[string]map[string]string{
			"wrong password": {"username": "rm_a", "password": "wrong-password"},
			"unknown user":   {"username": "nobody", "password": testkit.Password},
		} {
			r := e.do(call{method: "POST", path: "/api/v1/auth/login", body: body})
			if r.Code != http.StatusUnauthorized || r.problem(t).Type != httpapi.ProblemUnauthorized ||
				r.Header().Get("WWW-Authenticate") == "" || len(r.Result().Cookies()) != 0 {
				t.Errorf("%s: %d %s", name, r.Code, r.Body)
			}
		}
		if err := e.bank.Auth.SetDisabled(context.Background(), "teller_b", true); err != nil {
			t.Fatal(err)
		}
		r = e.do(call{method: "POST", path: "/api/v1/auth/login",
			body: map[string]string{"username": "teller_b", "password": testkit.Password}})
		if r.Code != http.StatusUnauthorized {
			t.Errorf("disabled user: %d %s", r.Code, r.Body)
		}
		r = e.do(call{method: "POST", path: "/api/v1/auth/login", body: map[string]string{}})
		if p := r.problem(t); r.Code != http.StatusUnprocessableEntity || issues(p) != "username,password" {
			t.Errorf("empty login: %d %s", r.Code, r.Body)
		}
	})
}

func TestAuthentication(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		for name, c := range map[string]call{
			"no credentials":  {},
			"not bearer":      {header: map[string]string{"Authorization": "Basic cm1fYTpwdw=="}},
			"empty bearer":    {header: map[string]string{"Authorization": "Bearer "}},
			"forged token":    {token: "forged-token"},
			"forged cookie":   {cookie: "forged-cookie"},
			"oversize token":  {token: strings.Repeat("x", 5000)},
			"cookie wrong nm": {header: map[string]string{"Cookie": "__Host-kehu_session=x"}},
		} {
			c.method, c.path = "GET", "/api/v1/me"
			r := e.do(c)
			if r.Code != http.StatusUnauthorized || r.problem(t).Type != httpapi.ProblemUnauthorized ||
				!strings.HasPrefix(r.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: %d %s", name, r.Code, r.Body)
			}
		}
		s := e.login("rm_a")
		var me struct{ Username string }
		r := e.do(call{method: "GET", path: "/api/v1/me", token: s.token})
		if r.decode(t, &me); r.Code != http.StatusOK || me.Username != "rm_a" {
			t.Errorf("bearer /me: %d %s", r.Code, r.Body)
		}
		if r := e.do(call{method: "GET", path: "/api/v1/me", cookie: s.token}); r.Code != http.StatusOK {
			t.Errorf("cookie /me: %d %s", r.Code, r.Body)
		}
		// A role without the permission is refused by the route table.
		lobby := e.login("lobby_a")
		r = e.do(call{method: "POST", path: "/api/v1/customers", token: lobby.token, body: e.newIndividual()})
		if r.Code != http.StatusForbidden || r.problem(t).Type != httpapi.ProblemForbidden {
			t.Errorf("lobby manager creating a customer: %d %s", r.Code, r.Body)
		}
	})
}

func TestCookieNeedsCSRFToken(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		s := e.login("rm_a")
		for name, hdr := range map[string]map[string]string{
			"no token":    nil,
			"wrong token": {"X-CSRF-Token": s.csrf + "x"},
			"other token": {"X-CSRF-Token": e.login("rm_a").csrf},
		} {
			r := e.do(call{method: "POST", path: "/api/v1/customers", cookie: s.token, header: hdr, body: e.newIndividual()})
			if r.Code != http.StatusForbidden || r.problem(t).Type != httpapi.ProblemCSRF {
				t.Errorf("cookie POST, %s: %d %s", name, r.Code, r.Body)
			}
			r = e.do(call{method: "POST", path: "/api/v1/auth/logout", cookie: s.token, header: hdr})
			if r.Code != http.StatusForbidden {
				t.Errorf("cookie logout, %s: %d %s", name, r.Code, r.Body)
			}
		}
		r := e.do(call{method: "POST", path: "/api/v1/customers", cookie: s.token,
			header: map[string]string{"X-CSRF-Token": s.csrf}, body: e.newIndividual()})
		if r.Code != http.StatusCreated {
			t.Errorf("cookie POST with CSRF token: %d %s", r.Code, r.Body)
		}
		// Bearer clients need no CSRF token: browsers never add the header.
		r = e.do(call{method: "PATCH", path: "/api/v1/customers/" + id(e.bank.Customers["a1"].ID), token: s.token,
			body: map[string]string{"address": "杭州市西湖区"}})
		if r.Code != http.StatusOK {
			t.Errorf("bearer PATCH: %d %s", r.Code, r.Body)
		}
	})
}

func TestLogout(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		s := e.login("teller_a")
		r := e.do(call{method: "POST", path: "/api/v1/auth/logout", cookie: s.token,
			header: map[string]string{"X-CSRF-Token": s.csrf}})
		if r.Code != http.StatusNoContent {
			t.Fatalf("logout: %d %s", r.Code, r.Body)
		}
		if c := r.Result().Cookies(); len(c) != 1 || c[0].Name != "kehu_session" || c[0].MaxAge >= 0 {
			t.Errorf("logout does not clear the cookie: %v", r.Header().Values("Set-Cookie"))
		}
		for _, c := range []call{{token: s.token}, {cookie: s.token}} {
			c.method, c.path = "GET", "/api/v1/me"
			if r := e.do(c); r.Code != http.StatusUnauthorized {
				t.Errorf("after logout: %d %s", r.Code, r.Body)
			}
		}
		s = e.login("teller_a")
		if r := e.do(call{method: "POST", path: "/api/v1/auth/logout", token: s.token}); r.Code != http.StatusNoContent {
			t.Errorf("bearer logout: %d %s", r.Code, r.Body)
		}
		if r := e.do(call{method: "GET", path: "/api/v1/me", token: s.token}); r.Code != http.StatusUnauthorized {
			t.Errorf("token after bearer logout: %d", r.Code)
		}
	})
}

// TestSecureCookie checks the production cookie: __Host- prefixed and Secure,
// and accepted under that name only.
func TestSecureCookie(t *testing.T) {
	db := testkit.NewDB(t, "sqlite")
	b := testkit.NewBank(t, db)
	h := httpapi.New(httpapi.Deps{Auth: b.Auth, SecureCookies: true})
	req := httptest.NewRequest("POST", "/api/v1/auth/login",
		strings.NewReader(`{"username":"admin","password":"`+testkit.Password+`"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	c := rec.Result().Cookies()
	if rec.Code != http.StatusOK || len(c) != 1 || c[0].Name != "__Host-kehu_session" || !c[0].Secure ||
		!c[0].HttpOnly || c[0].Path != "/" || c[0].Domain != "" {
		t.Fatalf("secure login: %d %v", rec.Code, rec.Header().Values("Set-Cookie"))
	}
	if httpapi.SessionCookieName(true) != "__Host-kehu_session" || httpapi.SessionCookieName(false) != "kehu_session" {
		t.Error("SessionCookieName")
	}
	for name, want := range map[string]int{"__Host-kehu_session": http.StatusOK, "kehu_session": http.StatusUnauthorized} {
		req := httptest.NewRequest("GET", "/api/v1/me", nil)
		req.AddCookie(&http.Cookie{Name: name, Value: c[0].Value})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("cookie %s: %d, want %d", name, rec.Code, want)
		}
	}
}
