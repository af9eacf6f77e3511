package httpapi

import (
	"net/http"
	"time"

	"kehu/internal/kehu"
)

// Handlers of the signed-in user's security settings: password, sessions,
// second factor and API tokens (docs/SECURITY.md). The auth service enforces
// the rules; an API token gets 403 from authorize before reaching them.

// passwordChange is the body of POST /api/v1/me/password.
type passwordChange struct {
	CurrentPassword *string `json:"current_password"`
	NewPassword     *string `json:"new_password"`
}

func (a *api) changePassword(w http.ResponseWriter, r *http.Request) error {
	var in passwordChange
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	var v kehu.Validation
	if in.CurrentPassword == nil || *in.CurrentPassword == "" {
		v.Add("current_password", "is required")
	}
	if in.NewPassword == nil || *in.NewPassword == "" {
		v.Add("new_password", "is required")
	}
	if err := v.Err(); err != nil {
		return err
	}
	err := a.d.Auth.ChangePassword(r.Context(), *in.CurrentPassword, *in.NewPassword)
	if err != nil {
		return renameField(err, "password", "new_password")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// renameField renames a field of a validation error to the API's member name.
func renameField(err error, from, to string) error {
	fields := kehu.ErrorFields(err)
	if len(fields) == 0 || kehu.ErrorCode(err) != kehu.EINVALID {
		return err
	}
	out := &kehu.Error{Code: kehu.EINVALID, Message: kehu.ErrorMessage(err)}
	for _, f := range fields {
		if f.Field == from {
			f.Field = to
		}
		out.Fields = append(out.Fields, f)
	}
	return out
}

// sessionJSON describes a session without its secrets.
type sessionJSON struct {
	ID         int64     `json:"id"`
	Current    bool      `json:"current"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
}

func (a *api) listSessions(w http.ResponseWriter, r *http.Request) error {
	list, err := a.d.Auth.Sessions(r.Context())
	if err != nil {
		return err
	}
	actor, _ := kehu.ActorFrom(r.Context())
	items := make([]sessionJSON, 0, len(list))
	for _, s := range list {
		items = append(items, sessionJSON{ID: s.ID, Current: s.ID == actor.SessionID, CreatedAt: s.CreatedAt.UTC(),
			LastSeenAt: s.LastSeenAt.UTC(), ExpiresAt: s.ExpiresAt.UTC(), IP: s.IP, UserAgent: s.UserAgent})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (a *api) revokeSession(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := a.d.Auth.RevokeSession(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) revokeOtherSessions(w http.ResponseWriter, r *http.Request) error {
	if err := a.d.Auth.RevokeOtherSessions(r.Context()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) revokeUserSessions(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := a.d.Auth.RevokeUserSessions(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// totpEnrolmentJSON is shown once: the secret for manual entry and the
// otpauth:// URI for apps that import it.
type totpEnrolmentJSON struct {
	Secret string `json:"secret"`
	URI    string `json:"uri"`
}

func (a *api) beginTOTP(w http.ResponseWriter, r *http.Request) error {
	en, err := a.d.Auth.BeginTOTP(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, totpEnrolmentJSON{Secret: en.Secret, URI: en.URI})
	return nil
}

// totpConfirm is the body of POST /api/v1/me/totp/confirm.
type totpConfirm struct {
	Code *string `json:"code"`
}

func (a *api) confirmTOTP(w http.ResponseWriter, r *http.Request) error {
	var in totpConfirm
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Code == nil || *in.Code == "" {
		var v kehu.Validation
		v.Add("code", "is required")
		return v.Err()
	}
	if err := a.d.Auth.ConfirmTOTP(r.Context(), *in.Code); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
