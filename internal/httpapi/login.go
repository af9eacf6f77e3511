package httpapi

import (
	"net/http"
	"time"

	"kehu/internal/access"
	"kehu/internal/auth"
	"kehu/internal/kehu"
)

// loginRequest is the body of POST /api/v1/auth/login.
type loginRequest struct {
	Username *string `json:"username"`
	Password *string `json:"password"`
	// TOTPCode is required for users with a second factor; without it they
	// get 401 totp-required and send the request again with the code.
	TOTPCode *string `json:"totp_code"`
}

// loginResponse gives an API client its bearer token and a browser script the
// CSRF token it must echo in X-CSRF-Token on cookie-authenticated writes.
type loginResponse struct {
	Token     string    `json:"token"`
	CSRFToken string    `json:"csrf_token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      userJSON  `json:"user"`
}

// userJSON is the public view of a user: no hash, no internal paths.
type userJSON struct {
	ID          int64        `json:"id"`
	Username    string       `json:"username"`
	DisplayName string       `json:"display_name"`
	Role        string       `json:"role"`
	OrgID       int64        `json:"org_id"`
	Scope       access.Scope `json:"scope"`
}

func userView(u auth.User) userJSON {
	return userJSON{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role, OrgID: u.OrgID,
		Scope: access.DefaultScope(u.Role)}
}

// login opens a session: the token is returned once in the body and set as
// the HttpOnly session cookie for the web UI.
func (a *api) login(w http.ResponseWriter, r *http.Request) error {
	var in loginRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	var v kehu.Validation
	if in.Username == nil || *in.Username == "" {
		v.Add("username", "is required")
	}
	if in.Password == nil || *in.Password == "" {
		v.Add("password", "is required")
	}
	if err := v.Err(); err != nil {
		return err
	}
	if err := a.limitLogin(r, *in.Username); err != nil {
		return err
	}
	c := auth.Credentials{Username: *in.Username, Password: *in.Password, IP: clientIP(r), UserAgent: userAgent(r)}
	if in.TOTPCode != nil {
		c.TOTPCode = *in.TOTPCode
	}
	token, sess, u, err := a.d.Auth.SignIn(r.Context(), c)
	if err != nil {
		return err
	}
	http.SetCookie(w, a.sessionCookie(token))
	writeJSON(w, http.StatusOK, loginResponse{Token: token, CSRFToken: sess.CSRFToken,
		ExpiresAt: sess.ExpiresAt.UTC(), User: userView(u)})
	return nil
}

// logout ends the session the request authenticated with and clears the
// cookie, so neither the token nor the cookie works afterwards.
func (a *api) logout(w http.ResponseWriter, r *http.Request) error {
	sess, _ := r.Context().Value(sessionKey{}).(auth.Session)
	if err := a.d.Auth.Logout(r.Context(), sess.ID); err != nil {
		return err
	}
	http.SetCookie(w, a.clearedCookie())
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// me returns the signed-in user.
func (a *api) me(w http.ResponseWriter, r *http.Request) error {
	u, err := a.d.Auth.Me(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userView(u))
	return nil
}
