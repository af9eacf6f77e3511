package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"

	"kehu/internal/kehu"
)

// maxFormBytes bounds a form body; the UI's forms are a few fields.
const maxFormBytes = 64 << 10

// csrfCookie holds the double-submit token of anonymous forms (the login and
// the language switch before sign-in), which have no session to bind to.
func (s *server) csrfCookie() string {
	if s.SecureCookies {
		return "__Host-kehu_csrf"
	}
	return "kehu_csrf"
}

// csrfToken returns the token forms on this page must carry: the session's
// for a signed-in user, otherwise the double-submit cookie's, set here if
// absent.
func (s *server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if st := stateOf(r); st.signedIn {
		return st.session.CSRFToken
	}
	if v := cookieValue(r, s.csrfCookie()); len(v) >= 32 {
		return v
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails on supported platforms (Go 1.24+ panics instead)
	v := base64.RawURLEncoding.EncodeToString(b)
	s.setCookie(w, s.csrfCookie(), v, 12*3600)
	// Later reads in this request must see the new token too.
	r.AddCookie(&http.Cookie{Name: s.csrfCookie(), Value: v})
	return v
}

// checkCSRF rejects a state-changing request unless it comes from this origin
// (Sec-Fetch-Site / Origin, via net/http's CrossOriginProtection) and carries
// the expected token in the "csrf" form field or the X-CSRF-Token header
// (sent by htmx from hx-headers). Failure is a 403 page, never a redirect, so
// a forged request has no visible effect.
func (s *server) checkCSRF(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := s.cop.Check(r); err != nil {
			s.fail(w, r, errCSRF)
			return
		}
		if err := r.ParseForm(); err != nil {
			s.fail(w, r, kehu.Errorf(kehu.EINVALID, "malformed form"))
			return
		}
		given := r.Header.Get("X-CSRF-Token")
		if given == "" {
			given = r.PostForm.Get("csrf")
		}
		want := cookieValue(r, s.csrfCookie())
		if st := stateOf(r); st.signedIn {
			want = st.session.CSRFToken
		}
		if want == "" || subtle.ConstantTimeCompare([]byte(given), []byte(want)) != 1 {
			s.fail(w, r, errCSRF)
			return
		}
		h(w, r)
	}
}

// errCSRF is rendered as the "request expired" page.
var errCSRF = &kehu.Error{Code: kehu.EFORBIDDEN, Message: "csrf"}
