package httpapi_test

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"kehu/internal/auth"
	"kehu/internal/httpapi"
	"kehu/internal/org"
	"kehu/internal/ratelimit"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// walkSecurity is the conformance walk of the security routes: each
// documented status of each operation, on the env of TestConformance. It
// changes rm_a2's password, locks teller_b and enrols hq_marketing in TOTP;
// tests that sign in after walk should use other users.
func walkSecurity(t *testing.T, e *env) {
	t.Helper()
	admin, rm, mk, rm2 := e.login("admin"), e.login("rm_a"), e.login("hq_marketing"), e.login("rm_a2")
	big := `{"code":"` + strings.Repeat("x", 1<<20) + `"}`
	plain := map[string]string{"Content-Type": "text/plain"}
	expires := e.bank.Clock.Now().Add(30 * 24 * time.Hour).Format(time.RFC3339)
	tokenBody := map[string]any{"name": "crm-sync", "scopes": []string{"customer.read"}, "expires_at": expires}

	var created struct {
		ID    int64  `json:"id"`
		Token string `json:"token"`
	}
	r := e.do(call{method: "POST", path: "/api/v1/me/tokens", token: rm.token, body: tokenBody})
	if r.Code != http.StatusCreated {
		t.Fatalf("create token: %d %s", r.Code, r.Body)
	}
	r.decode(t, &created)
	pat := created.Token
	var sessions struct {
		Items []struct {
			ID      int64 `json:"id"`
			Current bool  `json:"current"`
		} `json:"items"`
	}
	other := e.login("rm_a")
	r = e.do(call{method: "GET", path: "/api/v1/me/sessions", token: rm.token})
	r.decode(t, &sessions)
	var otherID int64
	for _, s := range sessions.Items {
		if !s.Current {
			otherID = s.ID
		}
	}
	_ = other
	userSessions := "/api/v1/users/" + id(e.bank.Users["rm_b"].ID) + "/sessions"
	userTokens := "/api/v1/users/" + id(e.bank.Users["rm_b"].ID) + "/tokens"

	var en struct{ Secret, URI string }
	r = e.do(call{method: "POST", path: "/api/v1/me/totp", token: mk.token})
	r.decode(t, &en)
	code, _ := auth.TOTPCode(en.Secret, e.bank.Clock.Now())

	calls := []call{
		{method: "GET", path: "/api/v1/me/tokens", token: rm.token},
		{method: "GET", path: "/api/v1/me/tokens"},
		{method: "GET", path: "/api/v1/me/tokens", token: pat},
		{method: "POST", path: "/api/v1/me/tokens"},
		{method: "POST", path: "/api/v1/me/tokens", token: pat, body: tokenBody},
		{method: "POST", path: "/api/v1/me/tokens", token: rm.token, body: `{"name":`},
		{method: "POST", path: "/api/v1/me/tokens", token: rm.token, body: big},
		{method: "POST", path: "/api/v1/me/tokens", token: rm.token, body: "x", header: plain},
		{method: "POST", path: "/api/v1/me/tokens", token: rm.token, body: map[string]any{"name": "x", "scopes": []string{"user.manage"}, "expires_at": expires}},

		{method: "GET", path: "/api/v1/me/sessions", token: rm.token},
		{method: "GET", path: "/api/v1/me/sessions"},
		{method: "GET", path: "/api/v1/me/sessions", token: pat},
		{method: "DELETE", path: "/api/v1/me/sessions/" + id(e.bank.Customers["a1"].ID+100000), token: rm.token},
		{method: "DELETE", path: "/api/v1/me/sessions/" + id(otherID)},
		{method: "DELETE", path: "/api/v1/me/sessions/" + id(otherID), token: pat},
		{method: "DELETE", path: "/api/v1/me/sessions/" + id(otherID), token: rm.token},
		{method: "DELETE", path: "/api/v1/me/sessions"},
		{method: "DELETE", path: "/api/v1/me/sessions", token: pat},
		{method: "DELETE", path: "/api/v1/me/sessions", token: rm.token},

		{method: "DELETE", path: userSessions},
		{method: "DELETE", path: userSessions, token: rm.token},
		{method: "DELETE", path: "/api/v1/users/999999/sessions", token: admin.token},
		{method: "DELETE", path: userSessions, token: admin.token},
		{method: "POST", path: userTokens, body: tokenBody},
		{method: "POST", path: userTokens, token: rm.token, body: tokenBody},
		{method: "POST", path: "/api/v1/users/999999/tokens", token: admin.token, body: tokenBody},
		{method: "POST", path: userTokens, token: admin.token, body: `{"name": 1}`},
		{method: "POST", path: userTokens, token: admin.token, body: big},
		{method: "POST", path: userTokens, token: admin.token, body: "x", header: plain},
		{method: "POST", path: userTokens, token: admin.token, body: map[string]any{"name": "", "scopes": []string{}, "expires_at": expires}},
		{method: "POST", path: userTokens, token: admin.token, body: tokenBody},

		{method: "POST", path: "/api/v1/me/totp"},
		{method: "POST", path: "/api/v1/me/totp", token: pat},
		{method: "POST", path: "/api/v1/me/totp/confirm", body: map[string]string{"code": code}},
		{method: "POST", path: "/api/v1/me/totp/confirm", token: pat, body: map[string]string{"code": code}},
		{method: "POST", path: "/api/v1/me/totp/confirm", token: mk.token, body: `{"code":`},
		{method: "POST", path: "/api/v1/me/totp/confirm", token: mk.token, body: big},
		{method: "POST", path: "/api/v1/me/totp/confirm", token: mk.token, body: "x", header: plain},
		{method: "POST", path: "/api/v1/me/totp/confirm", token: mk.token, body: map[string]string{"code": "000000"}},
		{method: "POST", path: "/api/v1/me/totp/confirm", token: mk.token, body: map[string]string{"code": code}},
		{method: "POST", path: "/api/v1/me/totp/confirm", token: mk.token, body: map[string]string{"code": code}},
		{method: "POST", path: "/api/v1/me/totp", token: mk.token},

		{method: "POST", path: "/api/v1/me/password", body: map[string]string{"current_password": testkit.Password, "new_password": "Changed-pass-2026"}},
		{method: "POST", path: "/api/v1/me/password", token: pat, body: map[string]string{"current_password": testkit.Password, "new_password": "Changed-pass-2026"}},
		{method: "POST", path: "/api/v1/me/password", token: rm.token, body: `{"current_password":`},
		{method: "POST", path: "/api/v1/me/password", token: rm.token, body: big},
		{method: "POST", path: "/api/v1/me/password", token: rm.token, body: "x", header: plain},
		{method: "POST", path: "/api/v1/me/password", token: rm.token, body: map[string]string{"current_password": testkit.Password, "new_password": testkit.Password}},
		{method: "POST", path: "/api/v1/me/password", token: rm2.token, body: map[string]string{"current_password": testkit.Password, "new_password": "Changed-pass-2026"}},
		{method: "DELETE", path: "/api/v1/me/tokens/" + id(created.ID)},
		{method: "DELETE", path: "/api/v1/me/tokens/" + id(created.ID), token: pat},
		{method: "DELETE", path: "/api/v1/me/tokens/" + id(created.ID), token: admin.token},
		{method: "DELETE", path: "/api/v1/me/tokens/" + id(created.ID), token: rm.token},
	}
	for _, c := range calls {
		if r := e.do(c); r.Code >= 500 {
			t.Errorf("%s %s: %d %s", c.method, c.path, r.Code, r.Body)
		}
	}
	// A second factor: the password alone is 401 totp-required.
	r = e.do(call{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "hq_marketing", "password": testkit.Password}})
	if r.Code != http.StatusUnauthorized || r.problem(t).Type != httpapi.ProblemTOTPRequired {
		t.Errorf("login without the code: %d %s", r.Code, r.Body)
	}
	// Five wrong current passwords lock the account: 423.
	lb := e.login("teller_b")
	for range 5 {
		r = e.do(call{method: "POST", path: "/api/v1/me/password", token: lb.token, body: map[string]string{"current_password": "Wrong-pass-2026", "new_password": "Changed-pass-2026"}})
	}
	if r.Code != http.StatusLocked {
		t.Errorf("fifth wrong current password: %d %s", r.Code, r.Body)
	}
	r = e.do(call{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "teller_b", "password": testkit.Password}})
	if r.Code != http.StatusLocked || r.Header().Get("Retry-After") != "60" {
		t.Errorf("login while locked: %d Retry-After %q %s", r.Code, r.Header().Get("Retry-After"), r.Body)
	}
}

// newSecEnv is an env whose API has rate limiters or another auth service.
// Customers is left out: the tests using it stop before a customer handler.
func newSecEnv(t *testing.T, db *store.DB, mod func(b *testkit.Bank, d *httpapi.Deps)) *env {
	t.Helper()
	e := newEnv(t, db)
	logger := slog.New(slog.NewJSONHandler(e.logs, nil))
	d := httpapi.Deps{Auth: e.bank.Auth, Orgs: org.NewService(db.Orgs()), Logger: logger, Clock: e.bank.Clock, Metrics: e.metrics}
	mod(e.bank, &d)
	e.handler = httpapi.Middleware(httpapi.New(d), logger, e.metrics)
	return e
}

func TestRateLimits(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newSecEnv(t, db, func(b *testkit.Bank, d *httpapi.Deps) {
			d.LoginLimit = ratelimit.New(10, b.Clock)
			d.APILimit = ratelimit.New(20, b.Clock)
		})
		// Per username: ten attempts a minute, from anywhere.
		for i := range 11 {
			r := e.do(call{method: "POST", path: "/api/v1/auth/login", header: map[string]string{"X-Forwarded-For": strconv.Itoa(i)},
				body: map[string]string{"username": "rm_b", "password": "Wrong-pass-2026"}})
			if i < 10 && r.Code != http.StatusUnauthorized && r.Code != http.StatusLocked {
				t.Fatalf("attempt %d: %d", i+1, r.Code)
			}
			if i == 10 && (r.Code != http.StatusTooManyRequests || r.problem(t).Type != httpapi.ProblemTooManyRequests || r.Header().Get("Retry-After") == "") {
				t.Fatalf("11th attempt: %d %s", r.Code, r.Body)
			}
		}
		// The IP bucket (httptest's 192.0.2.1) is spent too: other users wait.
		if r := e.do(call{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "rm_a", "password": testkit.Password}}); r.Code != http.StatusTooManyRequests {
			t.Errorf("same IP, other user: %d", r.Code)
		}
		e.bank.Clock.Advance(time.Minute)
		s := e.login("rm_a")
		// Per user: twenty requests a minute.
		var last response
		for range 21 {
			last = e.do(call{method: "GET", path: "/api/v1/me/sessions", token: s.token})
		}
		if last.Code != http.StatusTooManyRequests || last.Header().Get("Retry-After") != "3" {
			t.Errorf("21st request: %d Retry-After %q", last.Code, last.Header().Get("Retry-After"))
		}
	})
}

func TestSecurityAttacks(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		rm := e.login("rm_a")
		get := func(token, cookie string) int {
			return e.do(call{method: "GET", path: "/api/v1/me", token: token, cookie: cookie}).Code
		}
		// Forged tokens: altered, random, a session token dressed as an API token.
		for _, forged := range []string{rm.token + "A", "A" + rm.token[1:], auth.APITokenPrefix + rm.token, auth.APITokenPrefix} {
			if c := get(forged, ""); c != http.StatusUnauthorized {
				t.Errorf("forged %q: %d", forged, c)
			}
		}
		// Replay after logout: neither the token nor the cookie works.
		if r := e.do(call{method: "POST", path: "/api/v1/auth/logout", token: rm.token}); r.Code != http.StatusNoContent {
			t.Fatal(r.Code)
		}
		if get(rm.token, "") != http.StatusUnauthorized || get("", rm.token) != http.StatusUnauthorized {
			t.Error("token replayed after logout")
		}
		// Expired sessions: idle, then absolute despite activity.
		s := e.login("rm_a")
		e.bank.Clock.Advance(31 * time.Minute)
		if get(s.token, "") != http.StatusUnauthorized {
			t.Error("session alive after 31 idle minutes")
		}
		s = e.login("rm_a")
		for range 25 {
			e.bank.Clock.Advance(29 * time.Minute)
			get(s.token, "")
		}
		if get(s.token, "") != http.StatusUnauthorized {
			t.Error("session alive after 12 h")
		}
		// Token scopes: customer.read may read customers, not write them or
		// manage the account; tokens are bearer-only.
		s = e.login("rm_a")
		var tok struct{ Token string }
		e.do(call{method: "POST", path: "/api/v1/me/tokens", token: s.token, body: map[string]any{"name": "reader",
			"scopes": []string{"customer.read"}, "expires_at": e.bank.Clock.Now().Add(time.Hour)}}).decode(t, &tok)
		if c := e.do(call{method: "GET", path: "/api/v1/customers", token: tok.Token}).Code; c != http.StatusOK {
			t.Errorf("token reads customers: %d", c)
		}
		if r := e.do(call{method: "POST", path: "/api/v1/customers", token: tok.Token, body: e.newIndividual()}); r.Code != http.StatusForbidden {
			t.Errorf("read-only token created a customer: %d", r.Code)
		}
		if c := e.do(call{method: "POST", path: "/api/v1/auth/logout", token: tok.Token}).Code; c != http.StatusForbidden {
			t.Errorf("token logout: %d", c)
		}
		if c := get("", tok.Token); c != http.StatusUnauthorized {
			t.Errorf("API token in the session cookie: %d", c)
		}
		e.bank.Clock.Advance(61 * time.Minute)
		if c := get(tok.Token, ""); c != http.StatusUnauthorized {
			t.Errorf("expired token: %d", c)
		}
		// CSRF: cookie-authenticated security writes need X-CSRF-Token.
		s = e.login("rm_a")
		body := map[string]string{"current_password": testkit.Password, "new_password": "Csrf-proof-2026"}
		if r := e.do(call{method: "POST", path: "/api/v1/me/password", cookie: s.token, body: body}); r.Code != http.StatusForbidden || r.problem(t).Type != httpapi.ProblemCSRF {
			t.Errorf("password change without CSRF token: %d", r.Code)
		}
		for _, c := range []call{
			{method: "DELETE", path: "/api/v1/me/sessions", cookie: s.token},
			{method: "POST", path: "/api/v1/me/totp", cookie: s.token},
			{method: "POST", path: "/api/v1/me/tokens", cookie: s.token, body: map[string]any{"name": "x", "scopes": []string{"customer.read"}, "expires_at": e.bank.Clock.Now().Add(time.Hour)}},
		} {
			if r := e.do(c); r.Code != http.StatusForbidden {
				t.Errorf("%s %s without CSRF token: %d", c.method, c.path, r.Code)
			}
		}
		if r := e.do(call{method: "POST", path: "/api/v1/me/password", cookie: s.token, body: body, header: map[string]string{"X-CSRF-Token": s.csrf}}); r.Code != http.StatusNoContent {
			t.Errorf("password change with CSRF token: %d %s", r.Code, r.Body)
		}
		// Password history: the previous password is refused.
		if r := e.do(call{method: "POST", path: "/api/v1/me/password", token: s.token, body: map[string]string{"current_password": "Csrf-proof-2026", "new_password": testkit.Password}}); r.Code != http.StatusUnprocessableEntity || issues(r.problem(t)) != "new_password" {
			t.Errorf("reused password: %d %s", r.Code, r.Body)
		}
	})
}

func TestTOTPLoginAPI(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		s := e.login("admin")
		var en struct{ Secret string }
		e.do(call{method: "POST", path: "/api/v1/me/totp", token: s.token}).decode(t, &en)
		code, _ := auth.TOTPCode(en.Secret, e.bank.Clock.Now())
		if r := e.do(call{method: "POST", path: "/api/v1/me/totp/confirm", token: s.token, body: map[string]string{"code": code}}); r.Code != http.StatusNoContent {
			t.Fatal(r.Code, r.Body)
		}
		login := func(code string) response {
			return e.do(call{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "admin", "password": testkit.Password, "totp_code": code}})
		}
		if r := login(code); r.Code != http.StatusUnauthorized || r.problem(t).Type != httpapi.ProblemUnauthorized {
			t.Errorf("replayed code: %d %s", r.Code, r.Body)
		}
		if r := login("123456"); r.Code != http.StatusUnauthorized {
			t.Errorf("wrong code: %d", r.Code)
		}
		e.bank.Clock.Advance(30 * time.Second)
		code, _ = auth.TOTPCode(en.Secret, e.bank.Clock.Now())
		if r := login(code); r.Code != http.StatusOK {
			t.Errorf("right code: %d %s", r.Code, r.Body)
		}
		if r := login(code); r.Code != http.StatusUnauthorized {
			t.Errorf("code used twice: %d", r.Code)
		}
	})
}

func TestRestrictedSessions(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newSecEnv(t, db, func(b *testkit.Bank, d *httpapi.Deps) {
			cfg := testkit.FastAuth
			cfg.Password.MaxAge = 90 * 24 * time.Hour
			cfg.RequireTOTPRoles = auth.DefaultTOTPRoles
			s, err := auth.NewService(db.Users(), b.Clock, cfg)
			if err != nil {
				t.Fatal(err)
			}
			d.Auth = s
			d.SecureCookies = true
		})
		// The session cookie: __Host-, Secure, HttpOnly, SameSite=Lax, Path=/.
		r := e.do(call{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "branch_manager", "password": testkit.Password}})
		sc := r.Header().Get("Set-Cookie")
		for _, want := range []string{"__Host-kehu_session=", "Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
			if !strings.Contains(sc, want) {
				t.Errorf("Set-Cookie %q lacks %s", sc, want)
			}
		}
		if strings.Contains(sc, "Domain") || strings.Contains(sc, "Expires") {
			t.Errorf("Set-Cookie %q", sc)
		}
		var out struct{ Token string }
		r.decode(t, &out)
		bm := out.Token
		if r := e.do(call{method: "POST", path: "/api/v1/customers", token: bm, body: e.newIndividual()}); r.Code != http.StatusForbidden || r.problem(t).Type != httpapi.ProblemTOTPEnrolRequired {
			t.Errorf("restricted to enrolment: %d %s", r.Code, r.Body)
		}
		var en struct{ Secret string }
		e.do(call{method: "POST", path: "/api/v1/me/totp", token: bm}).decode(t, &en)
		code, _ := auth.TOTPCode(en.Secret, e.bank.Clock.Now())
		e.do(call{method: "POST", path: "/api/v1/me/totp/confirm", token: bm, body: map[string]string{"code": code}})
		if r := e.do(call{method: "GET", path: "/api/v1/orgs", token: bm}); r.Code != http.StatusOK {
			t.Errorf("after enrolment: %d %s", r.Code, r.Body)
		}
		// Passwords older than 90 days must be changed first.
		e.bank.Clock.Advance(91 * 24 * time.Hour)
		rm := e.login("rm_a")
		if r := e.do(call{method: "GET", path: "/api/v1/customers", token: rm.token}); r.Code != http.StatusForbidden || r.problem(t).Type != httpapi.ProblemPasswordExpired {
			t.Errorf("expired password: %d %s", r.Code, r.Body)
		}
		if r := e.do(call{method: "POST", path: "/api/v1/me/password", token: rm.token, body: map[string]string{"current_password": testkit.Password, "new_password": "Fresh-pass-2026"}}); r.Code != http.StatusNoContent {
			t.Fatalf("change: %d %s", r.Code, r.Body)
		}
		if r := e.do(call{method: "GET", path: "/api/v1/orgs", token: rm.token}); r.Code != http.StatusOK {
			t.Errorf("after the change: %d", r.Code)
		}
	})
}
