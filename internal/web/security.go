package web

import (
	"net/http"
	"strconv"

	"kehu/internal/auth"
	"kehu/internal/kehu"
)

// securityView is the 安全设置 page: password change, second factor and
// the user's sessions. Enrolment is set while a new TOTP secret is shown.
type securityView struct {
	Restriction string
	TOTPEnabled bool
	Enrolment   *auth.TOTPEnrolment
	Sessions    []auth.Session
	CurrentID   int64
	Notice      string // catalogue key of a success message
	ErrorKey    string // catalogue key of an error message
	Errors      []kehu.FieldError
	Tokens      tokensView // 访问令牌 (security_tokens.go)
}

func (s *server) securityPage(w http.ResponseWriter, r *http.Request) {
	s.renderSecurity(w, r, http.StatusOK, securityView{Notice: noticeKey(r.URL.Query().Get("done"))})
}

// noticeKey maps the ?done= marker of a redirect after a change to its
// message, so a reload does not repeat the change.
func noticeKey(done string) string {
	switch done {
	case "password", "totp", "revoked", "token_revoked":
		return "security.done." + done
	}
	return ""
}

func (s *server) renderSecurity(w http.ResponseWriter, r *http.Request, status int, v securityView) {
	st := stateOf(r)
	v.Restriction, v.CurrentID = st.session.Restriction, st.session.ID
	var err error
	if v.Sessions, err = s.Auth.Sessions(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	if v.TOTPEnabled, err = s.Auth.TOTPEnabled(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	if err = s.loadTokens(r, &v.Tokens); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, "security", "layout.html", s.newView(w, r, "security.title", "security", v))
}

// formError shows a validation or refusal on the page; other errors fail.
func (s *server) formError(w http.ResponseWriter, r *http.Request, err error, key string) {
	switch kehu.ErrorCode(err) {
	case kehu.EINVALID, kehu.ECONFLICT, kehu.ELOCKED:
		s.renderSecurity(w, r, http.StatusUnprocessableEntity, securityView{ErrorKey: key, Errors: kehu.ErrorFields(err)})
	default:
		s.fail(w, r, err)
	}
}

func (s *server) changePassword(w http.ResponseWriter, r *http.Request) {
	if r.PostForm.Get("new_password") != r.PostForm.Get("confirm_password") {
		s.renderSecurity(w, r, http.StatusUnprocessableEntity, securityView{ErrorKey: "security.password.mismatch"})
		return
	}
	err := s.Auth.ChangePassword(r.Context(), r.PostForm.Get("current_password"), r.PostForm.Get("new_password"))
	if err != nil {
		s.formError(w, r, err, "security.password.refused")
		return
	}
	http.Redirect(w, r, "/security?done=password", http.StatusSeeOther)
}

// beginTOTP shows the new secret once, on this response only.
func (s *server) beginTOTP(w http.ResponseWriter, r *http.Request) {
	en, err := s.Auth.BeginTOTP(r.Context())
	if err != nil {
		s.formError(w, r, err, "security.totp.refused")
		return
	}
	s.renderSecurity(w, r, http.StatusOK, securityView{Enrolment: &en})
}

func (s *server) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	if err := s.Auth.ConfirmTOTP(r.Context(), r.PostForm.Get("code")); err != nil {
		s.formError(w, r, err, "security.totp.bad_code")
		return
	}
	http.Redirect(w, r, "/security?done=totp", http.StatusSeeOther)
}

func (s *server) revokeSession(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, kehu.Errorf(kehu.ENOTFOUND, "no such session"))
		return
	}
	if err := s.Auth.RevokeSession(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	if id == stateOf(r).session.ID {
		s.setCookie(w, s.sessionCookie(), "", -1)
		http.Redirect(w, r, "/login?signed_out=1", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/security?done=revoked", http.StatusSeeOther)
}

func (s *server) revokeOtherSessions(w http.ResponseWriter, r *http.Request) {
	if err := s.Auth.RevokeOtherSessions(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/security?done=revoked", http.StatusSeeOther)
}
