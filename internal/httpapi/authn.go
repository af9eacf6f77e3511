package httpapi

import (
	"context"
	"crypto/subtle"
	"net"
	"net/http"
	"strings"

	"kehu/internal/auth"
	"kehu/internal/kehu"
)

// SessionCookieName returns the name of the session cookie shared by the API
// login and the web UI. Over HTTPS it is auth.CookieName, whose __Host- prefix
// makes browsers require Secure, Path=/ and no Domain; browsers refuse such a
// cookie over plain HTTP, so local development uses a plain name.
func SessionCookieName(secure bool) string {
	if secure {
		return auth.CookieName
	}
	return "kehu_session"
}

// sessionKey carries the authenticated session to handlers that need it
// (logout ends exactly this session).
type sessionKey struct{}

// authenticate resolves the request's credentials to an actor. A bearer token
// wins over the cookie; a cookie alone on an unsafe method must come with the
// session's CSRF token, since browsers attach cookies to cross-site requests
// but never an Authorization header.
func (a *api) authenticate(r *http.Request) (context.Context, error) {
	token, viaCookie, err := a.credentials(r)
	if err != nil {
		return nil, err
	}
	sess, actor, err := a.d.Auth.Authenticate(r.Context(), token)
	if err != nil {
		return nil, err
	}
	if viaCookie && !safeMethod(r.Method) {
		sent := r.Header.Get("X-CSRF-Token")
		if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(sess.CSRFToken)) != 1 {
			return nil, newProblem(http.StatusForbidden, ProblemCSRF,
				"a cookie-authenticated request that changes data needs the X-CSRF-Token header from login")
		}
	}
	actor.IP, actor.UserAgent = clientIP(r), userAgent(r)
	ctx := kehu.WithActor(r.Context(), actor)
	return context.WithValue(ctx, sessionKey{}, sess), nil
}

// credentials returns the token of the request and whether it came from the
// session cookie.
func (a *api) credentials(r *http.Request) (string, bool, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return "", false, newProblem(http.StatusUnauthorized, ProblemUnauthorized,
				"the Authorization header must be: Bearer <token>")
		}
		return strings.TrimSpace(token), false, nil
	}
	// API tokens are bearer-only: one planted in a cookie is not honoured.
	if c, err := r.Cookie(SessionCookieName(a.d.SecureCookies)); err == nil && c.Value != "" && !auth.IsAPIToken(c.Value) {
		return c.Value, true, nil
	}
	return "", false, newProblem(http.StatusUnauthorized, ProblemUnauthorized,
		"send Authorization: Bearer <token> from POST /api/v1/auth/login")
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// sessionCookie is the cookie set at login. It has no Expires: it ends with
// the browser, and the server enforces the idle and absolute timeouts anyway.
func (a *api) sessionCookie(token string) *http.Cookie {
	return &http.Cookie{Name: SessionCookieName(a.d.SecureCookies), Value: token, Path: "/",
		HttpOnly: true, Secure: a.d.SecureCookies, SameSite: http.SameSiteLaxMode}
}

// clearedCookie tells the browser to drop the session cookie.
func (a *api) clearedCookie() *http.Cookie {
	c := a.sessionCookie("")
	c.MaxAge = -1
	return c
}

// clientIP is the peer address. X-Forwarded-For is not trusted: without a
// configured proxy list anyone could write it.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// userAgent is the client's User-Agent, cut to a length fit for storage.
func userAgent(r *http.Request) string {
	ua := r.UserAgent()
	if len(ua) > 256 {
		ua = ua[:256]
	}
	return strings.ToValidUTF8(ua, "")
}
