package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"kehu/internal/access"
	"kehu/internal/kehu"
)

// APITokenPrefix starts every API token, so a leaked one is recognisable
// (secret scanners, log filters) and never mistaken for a session token.
const APITokenPrefix = "kehu_pat_"

// IsAPIToken reports whether token has the API token form. Session cookies
// never carry one: tokens are bearer-only.
func IsAPIToken(token string) bool { return strings.HasPrefix(token, APITokenPrefix) }

// NewAPIToken is the input to create a token. UserID 0 means the signed-in
// user; another user's id needs user.manage.
type NewAPIToken struct {
	UserID    int64
	Name      string
	Scopes    []string
	ExpiresAt time.Time
}

// CreateAPIToken validates and stores a token and returns its secret, which
// is shown once. Scopes must be permissions the owner's role holds, and the
// expiry at most MaxTokenLifetime away.
func (s *Service) CreateAPIToken(ctx context.Context, n NewAPIToken) (string, APIToken, error) {
	a, err := sessionActor(ctx)
	if err != nil {
		return "", APIToken{}, err
	}
	if n.UserID == 0 {
		n.UserID = a.UserID
	}
	if n.UserID != a.UserID && !access.Can(a.Role, access.UserManage) {
		return "", APIToken{}, kehu.Errorf(kehu.EFORBIDDEN, "your role may not create tokens for others")
	}
	owner, err := s.store.UserByID(ctx, n.UserID)
	if err != nil {
		return "", APIToken{}, err
	}
	if err := s.validateToken(owner, &n); err != nil {
		return "", APIToken{}, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", APIToken{}, fmt.Errorf("api token: %w", err)
	}
	secret := APITokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	t, err := s.store.CreateAPIToken(ctx, APIToken{UserID: owner.ID, Name: n.Name, TokenHash: HashToken(secret),
		Scopes: n.Scopes, CreatedBy: a.UserID, CreatedAt: s.clock.Now(), ExpiresAt: n.ExpiresAt})
	if err != nil {
		return "", APIToken{}, fmt.Errorf("create api token: %w", err)
	}
	return secret, t, nil
}

func (s *Service) validateToken(owner User, n *NewAPIToken) error {
	var v kehu.Validation
	n.Name = strings.TrimSpace(n.Name)
	if n.Name == "" || len([]rune(n.Name)) > 100 {
		v.Add("name", "must have 1-100 characters")
	}
	if len(n.Scopes) == 0 {
		v.Add("scopes", "must name at least one permission")
	}
	slices.Sort(n.Scopes)
	n.Scopes = slices.Compact(n.Scopes)
	for _, sc := range n.Scopes {
		if !access.Can(owner.Role, access.Permission(sc)) {
			v.Add("scopes", fmt.Sprintf("%q is not a permission of the %s role", sc, owner.Role))
		}
	}
	now := s.clock.Now()
	if !n.ExpiresAt.After(now) {
		v.Add("expires_at", "must be in the future")
	} else if n.ExpiresAt.Sub(now) > s.cfg.MaxTokenLifetime {
		v.Add("expires_at", fmt.Sprintf("must be at most %d days away", int(s.cfg.MaxTokenLifetime.Hours()/24)))
	}
	return v.Err()
}

// APITokens lists the signed-in user's tokens (never their secrets).
func (s *Service) APITokens(ctx context.Context) ([]APIToken, error) {
	a, err := sessionActor(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.UserAPITokens(ctx, a.UserID)
}

// RevokeAPIToken deletes one of the signed-in user's tokens.
func (s *Service) RevokeAPIToken(ctx context.Context, id int64) error {
	a, err := sessionActor(ctx)
	if err != nil {
		return err
	}
	return s.store.DeleteAPIToken(ctx, a.UserID, id)
}

// authenticateAPIToken resolves an API token to an actor carrying its scopes.
// The returned Session has no id: there is no session to log out of.
func (s *Service) authenticateAPIToken(ctx context.Context, token string) (Session, kehu.Actor, error) {
	unauth := kehu.Errorf(kehu.EUNAUTHORIZED, "invalid or expired token")
	t, u, err := s.store.APITokenByHash(ctx, HashToken(token))
	if kehu.ErrorCode(err) == kehu.ENOTFOUND {
		return Session{}, kehu.Actor{}, unauth
	} else if err != nil {
		return Session{}, kehu.Actor{}, fmt.Errorf("authenticate token: %w", err)
	}
	now := s.clock.Now()
	if u.Disabled || !now.Before(t.ExpiresAt) {
		return Session{}, kehu.Actor{}, unauth
	}
	// As with sessions, record use at most once a minute.
	if now.Sub(t.LastUsedAt) > time.Minute {
		if err := s.store.TouchAPIToken(ctx, t.ID, now); err != nil {
			return Session{}, kehu.Actor{}, fmt.Errorf("authenticate token: %w", err)
		}
	}
	a := kehu.Actor{UserID: u.ID, Username: u.Username, Role: u.Role, OrgID: u.OrgID, OrgPath: u.OrgPath,
		TokenID: t.ID, Scopes: t.Scopes}
	return Session{UserID: u.ID}, a, nil
}

// Permitted reports whether the actor may use permission p: the role must
// hold it and, for an API token, so must the token's scopes.
func Permitted(a kehu.Actor, p access.Permission) bool {
	if !access.Can(a.Role, p) {
		return false
	}
	return a.TokenID == 0 || slices.Contains(a.Scopes, string(p))
}
