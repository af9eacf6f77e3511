package web

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"

	"kehu/internal/auth"
	"kehu/internal/i18n"
	"kehu/internal/kehu"
)

// state is what identify learns about a request: its language and, when the
// session cookie is valid, the session and actor.
type state struct {
	lang     string
	signedIn bool
	session  auth.Session
	actor    kehu.Actor
}

type stateKey struct{}

func stateOf(r *http.Request) *state {
	if st, ok := r.Context().Value(stateKey{}).(*state); ok {
		return st
	}
	return &state{lang: i18n.Default}
}

// sessionCookie is the cookie shared with the JSON API login; the __Host-
// name needs Secure, so plain-http development uses the bare name.
func (s *server) sessionCookie() string {
	if s.SecureCookies {
		return auth.CookieName
	}
	return "kehu_session"
}

// identify resolves the language and the session of every page request. An
// invalid or expired session cookie is cleared and the request continues
// anonymously; pages that need a user redirect in signedIn.
func (s *server) identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/static/") {
			next.ServeHTTP(w, r)
			return
		}
		st := &state{lang: s.i18n.Negotiate(cookieValue(r, i18n.CookieName), r.Header.Get("Accept-Language"))}
		ctx := r.Context()
		if token := cookieValue(r, s.sessionCookie()); token != "" && !auth.IsAPIToken(token) {
			sess, actor, err := s.Auth.Authenticate(ctx, token)
			switch kehu.ErrorCode(err) {
			case "":
				actor.IP, actor.UserAgent = clientIP(r), r.UserAgent()
				st.signedIn, st.session, st.actor = true, sess, actor
				ctx = kehu.WithActor(ctx, actor)
			case kehu.EUNAUTHORIZED:
				s.setCookie(w, s.sessionCookie(), "", -1)
			default:
				s.fail(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, stateKey{}, st)))
	})
}

// signedIn sends anonymous users to the login page, remembering where they
// were going. htmx requests get HX-Redirect so the whole page navigates
// instead of swapping the login form into a fragment.
func (s *server) signedIn(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if st := stateOf(r); st.signedIn {
			// A restricted session (expired password, TOTP to enrol) may
			// only use the security page and sign out.
			if st.session.Restriction != "" && !strings.HasPrefix(r.URL.Path, "/security") && r.URL.Path != "/logout" {
				http.Redirect(w, r, "/security", http.StatusSeeOther)
				return
			}
			h(w, r)
			return
		}
		target := "/login"
		if r.Method == http.MethodGet && r.URL.Path != "/" {
			target += "?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		if r.Header.Get("HX-Request") == "true" {
			w.Header().Set("HX-Redirect", target)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	}
}

// setCookie writes an HttpOnly, SameSite=Lax cookie on Path=/; maxAge < 0
// deletes it.
func (s *server) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
}

func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// localPath returns p when it is a path on this site, else fallback, so a
// crafted ?next= cannot send a user to another host after login.
func localPath(p, fallback string) string {
	if p == "" || len(p) > 2000 || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") ||
		strings.ContainsAny(p, "\\\r\n") {
		return fallback
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return fallback
	}
	return p
}

// clientIP is the peer address recorded on the actor; the proxy-aware
// variant belongs to the HTTP middleware that knows the trusted proxies.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
