package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"kehu/internal/access"
	"kehu/internal/auth"
	"kehu/internal/i18n"
	"kehu/internal/kehu"
)

// loginView is the login form's state.
type loginView struct {
	Username  string
	Next      string
	ErrorKey  string // catalogue key of the error shown above the form
	SignedOut bool
	// Challenge is set after a right password of a user with a second
	// factor: the page then asks for the code instead.
	Challenge string
}

func (s *server) loginForm(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"), "/customers")
	if stateOf(r).signedIn {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	lv := loginView{Next: next, SignedOut: r.URL.Query().Get("signed_out") == "1"}
	s.render(w, r, http.StatusOK, "login", "layout.html", s.newView(w, r, "login.title", "", lv))
}

// login checks the credentials and opens a session. A wrong username or
// password re-renders the form with one message for both, so the form does
// not reveal which usernames exist.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	lv := loginView{Username: strings.TrimSpace(r.PostForm.Get("username")),
		Next: localPath(r.PostForm.Get("next"), "/customers")}
	password := r.PostForm.Get("password")
	if lv.Username == "" || password == "" {
		lv.ErrorKey = "login.missing"
		s.render(w, r, http.StatusBadRequest, "login", "layout.html", s.newView(w, r, "login.title", "", lv))
		return
	}
	if s.loginLimited(w, r, lv) {
		return
	}
	token, _, _, err := s.Auth.Login(r.Context(), lv.Username, password, clientIP(r), r.UserAgent())
	s.finishLogin(w, r, lv, token, err)
}

// loginTOTP is the second form: the challenge from a right password and
// the code of the authenticator app.
func (s *server) loginTOTP(w http.ResponseWriter, r *http.Request) {
	lv := loginView{Next: localPath(r.PostForm.Get("next"), "/customers"), Challenge: r.PostForm.Get("challenge")}
	if s.loginLimited(w, r, lv) {
		return
	}
	token, _, _, err := s.Auth.CompleteSignIn(r.Context(), lv.Challenge, strings.TrimSpace(r.PostForm.Get("code")),
		clientIP(r), r.UserAgent())
	if kehu.ErrorCode(err) == kehu.EUNAUTHORIZED {
		lv.ErrorKey = "login.bad_code"
		s.render(w, r, http.StatusUnauthorized, "login", "layout.html", s.newView(w, r, "login.title", "", lv))
		return
	}
	lv.Challenge = ""
	s.finishLogin(w, r, lv, token, err)
}

// finishLogin sets the session cookie, asks for the TOTP code, or shows
// why the sign-in was refused. A locked account says so: the message does
// not confirm the password, which is not checked while locked.
func (s *server) finishLogin(w http.ResponseWriter, r *http.Request, lv loginView, token string, err error) {
	var need *auth.TOTPRequiredError
	switch {
	case err == nil:
	case errors.As(err, &need):
		lv.Challenge = need.Challenge
		s.render(w, r, http.StatusOK, "login", "layout.html", s.newView(w, r, "login.title", "", lv))
		return
	case kehu.ErrorCode(err) == kehu.EUNAUTHORIZED || kehu.ErrorCode(err) == kehu.ELOCKED:
		s.Logger.InfoContext(r.Context(), "ui login refused", "code", kehu.ErrorCode(err))
		status := http.StatusUnauthorized
		lv.ErrorKey = "login.bad_credentials"
		if kehu.ErrorCode(err) == kehu.ELOCKED {
			status, lv.ErrorKey = http.StatusLocked, "login.locked"
		}
		s.render(w, r, status, "login", "layout.html", s.newView(w, r, "login.title", "", lv))
		return
	default:
		s.fail(w, r, err)
		return
	}
	// The session cookie lives as long as the browser; the server enforces
	// the idle and absolute timeouts on every request.
	s.setCookie(w, s.sessionCookie(), token, 0)
	if lv.Next == "/customers" {
		// The default landing page; a role without customers (an
		// integration account) lands on its first page instead.
		if _, a, err := s.Auth.Authenticate(r.Context(), token); err == nil && !access.Can(a.Role, access.CustomerRead) {
			lv.Next = navFor(a.Role)[0].Href
		}
	}
	http.Redirect(w, r, lv.Next, http.StatusSeeOther)
}

// loginLimited applies the sign-in rate limits shared with the API and
// renders the refusal; it reports whether the request was refused.
func (s *server) loginLimited(w http.ResponseWriter, r *http.Request, lv loginView) bool {
	for _, key := range []string{"ip:" + clientIP(r), "user:" + strings.ToLower(lv.Username)} {
		if ok, wait := s.LoginLimit.Allow(key); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
			lv.ErrorKey = "login.rate_limited"
			s.render(w, r, http.StatusTooManyRequests, "login", "layout.html", s.newView(w, r, "login.title", "", lv))
			return true
		}
		if lv.Username == "" {
			break
		}
	}
	return false
}

// logout ends the server-side session first, so the cookie is worthless even
// if the browser keeps it.
func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.Auth.Logout(r.Context(), stateOf(r).session.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.setCookie(w, s.sessionCookie(), "", -1)
	http.Redirect(w, r, "/login?signed_out=1", http.StatusSeeOther)
}

// setLanguage stores the chosen language in the kehu_lang cookie for a year
// and returns to the page the switch was on.
func (s *server) setLanguage(w http.ResponseWriter, r *http.Request) {
	lang := s.i18n.Supported(r.PostForm.Get("lang"))
	if lang == "" {
		s.fail(w, r, kehu.Errorf(kehu.EINVALID, "unsupported language"))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: i18n.CookieName, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, localPath(r.PostForm.Get("next"), "/"), http.StatusSeeOther)
}
