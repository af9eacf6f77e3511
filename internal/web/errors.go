package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"

	"kehu/internal/kehu"
)

// errorView is what the error page shows: catalogue keys, never the error's
// own text, which may carry internal detail.
type errorView struct {
	Status    int
	TitleKey  string
	BodyKey   string
	Reference string
}

// fail renders a friendly error page for err. Unexpected errors are logged
// with a reference the user can quote to support; the page never shows the
// error itself or a stack trace.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	ev := errorView{}
	switch code := kehu.ErrorCode(err); {
	case errors.Is(err, errCSRF):
		ev = errorView{Status: http.StatusForbidden, TitleKey: "error.csrf.title", BodyKey: "error.csrf.body"}
	case code == kehu.ENOTFOUND:
		ev = errorView{Status: http.StatusNotFound, TitleKey: "error.not_found.title", BodyKey: "error.not_found.body"}
	case code == kehu.EFORBIDDEN:
		ev = errorView{Status: http.StatusForbidden, TitleKey: "error.forbidden.title", BodyKey: "error.forbidden.body"}
	case code == kehu.EINVALID:
		ev = errorView{Status: http.StatusBadRequest, TitleKey: "error.bad_request.title", BodyKey: "error.bad_request.body"}
	case code == kehu.EUNAUTHORIZED:
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	case code == kehu.EUNAVAILABLE:
		ev = errorView{Status: http.StatusServiceUnavailable, TitleKey: "error.unavailable.title", BodyKey: "error.unavailable.body"}
		s.Logger.WarnContext(r.Context(), "page unavailable", "path", kehu.LogPath(r.URL.Path), "err", err)
	default:
		ev = errorView{Status: http.StatusInternalServerError, TitleKey: "error.internal.title",
			BodyKey: "error.internal.body", Reference: reference()}
		s.Logger.ErrorContext(r.Context(), "page failed", "path", kehu.LogPath(r.URL.Path), "ref", ev.Reference, "err", err)
	}
	if r.Header.Get("HX-Request") == "true" {
		// A fragment swap cannot show a page; make htmx navigate to it.
		w.Header().Set("HX-Refresh", "true")
	}
	s.render(w, r, ev.Status, "error", "layout.html", s.newView(w, r, ev.TitleKey, "", ev))
}

// reference is a short random id tying an error page to its log line.
func reference() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// recoverPanics turns a panic in a page into the internal-error page, so a
// bug shows a reference number, not a dropped connection or a stack trace.
func (s *server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.fail(w, r, kehu.Errorf(kehu.EINTERNAL, "panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets the headers every UI response carries. The CSP allows
// scripts only from this origin (htmx is served from /static), so an injected
// inline script cannot run; pages are never cached because they show
// customer data.
func (s *server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		if s.SecureCookies {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if len(r.URL.Path) < 8 || r.URL.Path[:8] != "/static/" {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}
