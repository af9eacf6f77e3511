package httpapi

import (
	"net/http"
	"time"

	"kehu/internal/auth"
	"kehu/internal/kehu"
)

// tokenCreate is the body of POST /api/v1/me/tokens and
// POST /api/v1/users/{id}/tokens.
type tokenCreate struct {
	Name      *string    `json:"name"`
	Scopes    []string   `json:"scopes"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// tokenJSON describes a token; Token (the secret) is present only in the
// answer to its creation.
type tokenJSON struct {
	ID         int64      `json:"id"`
	Token      string     `json:"token,omitempty"`
	UserID     int64      `json:"user_id"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func tokenView(t auth.APIToken, secret string) tokenJSON {
	out := tokenJSON{ID: t.ID, Token: secret, UserID: t.UserID, Name: t.Name, Scopes: t.Scopes,
		CreatedAt: t.CreatedAt.UTC(), ExpiresAt: t.ExpiresAt.UTC()}
	if out.Scopes == nil {
		out.Scopes = []string{}
	}
	if !t.LastUsedAt.IsZero() {
		used := t.LastUsedAt.UTC()
		out.LastUsedAt = &used
	}
	return out
}

func (a *api) createMyToken(w http.ResponseWriter, r *http.Request) error {
	return a.createToken(w, r, 0)
}

func (a *api) createUserToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return a.createToken(w, r, id)
}

func (a *api) createToken(w http.ResponseWriter, r *http.Request, userID int64) error {
	var in tokenCreate
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	var v kehu.Validation
	if in.Name == nil {
		v.Add("name", "is required")
	}
	if in.ExpiresAt == nil {
		v.Add("expires_at", "is required")
	}
	if err := v.Err(); err != nil {
		return err
	}
	secret, t, err := a.d.Auth.CreateAPIToken(r.Context(), auth.NewAPIToken{UserID: userID, Name: *in.Name,
		Scopes: in.Scopes, ExpiresAt: *in.ExpiresAt})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/me/tokens")
	writeJSON(w, http.StatusCreated, tokenView(t, secret))
	return nil
}

func (a *api) listTokens(w http.ResponseWriter, r *http.Request) error {
	list, err := a.d.Auth.APITokens(r.Context())
	if err != nil {
		return err
	}
	items := make([]tokenJSON, 0, len(list))
	for _, t := range list {
		items = append(items, tokenView(t, ""))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (a *api) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := a.d.Auth.RevokeAPIToken(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
