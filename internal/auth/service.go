package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"kehu/internal/access"
	"kehu/internal/kehu"
)

// Store is the storage the auth service needs.
type Store interface {
	CreateUser(ctx context.Context, u User) (User, error)
	// UserByUsername returns ENOTFOUND when there is no such user.
	UserByUsername(ctx context.Context, username string) (User, error)
	UserByID(ctx context.Context, id int64) (User, error)
	SetPasswordHash(ctx context.Context, userID int64, hash string) error
	SetUserDisabled(ctx context.Context, userID int64, disabled bool) error
	CreateSession(ctx context.Context, s Session) (Session, error)
	// SessionByTokenHash returns the live session with the hash, ENOTFOUND
	// otherwise; the user is returned with it to save a round trip per request.
	SessionByTokenHash(ctx context.Context, hash []byte) (Session, User, error)
	TouchSession(ctx context.Context, id int64, at time.Time) error
	DeleteSession(ctx context.Context, id int64) error
	DeleteUserSessions(ctx context.Context, userID int64) error
	// OrgPath returns the materialised path of the organisation, ENOTFOUND if none.
	OrgPath(ctx context.Context, orgID int64) (string, error)
}

// Config holds the session lifetimes.
type Config struct {
	// IdleTimeout ends a session not used for this long.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends any session this long after sign-in.
	AbsoluteTimeout time.Duration
	Argon2          Argon2Params
}

// DefaultConfig is a bank's usual policy: 30 minutes idle, 12 hours at most.
var DefaultConfig = Config{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour, Argon2: DefaultArgon2}

// Service signs users in and out and resolves tokens to actors.
type Service struct {
	store Store
	clock kehu.Clock
	cfg   Config
	// dummyHash is checked against when the user does not exist, so a wrong
	// username takes as long as a wrong password.
	dummyHash string
}

// NewService returns an auth Service.
func NewService(store Store, clock kehu.Clock, cfg Config) (*Service, error) {
	h, err := HashPassword("no-such-user-timing-equaliser", cfg.Argon2)
	if err != nil {
		return nil, err
	}
	return &Service{store: store, clock: clock, cfg: cfg, dummyHash: h}, nil
}

// Login checks the credentials and opens a session. It returns the bearer
// token, shown to the client once and stored only as a hash.
func (s *Service) Login(ctx context.Context, username, password, ip, userAgent string) (string, Session, User, error) {
	bad := kehu.Errorf(kehu.EUNAUTHORIZED, "wrong username or password")
	u, err := s.store.UserByUsername(ctx, strings.TrimSpace(username))
	if kehu.ErrorCode(err) == kehu.ENOTFOUND {
		_, _ = CheckPassword(s.dummyHash, password)
		return "", Session{}, User{}, bad
	} else if err != nil {
		return "", Session{}, User{}, fmt.Errorf("login: %w", err)
	}
	ok, err := CheckPassword(u.PasswordHash, password)
	if err != nil {
		return "", Session{}, User{}, fmt.Errorf("login %d: %w", u.ID, err)
	}
	if !ok || u.Disabled {
		return "", Session{}, User{}, bad
	}
	token, hash, err := newToken()
	if err != nil {
		return "", Session{}, User{}, err
	}
	csrf, _, err := newToken()
	if err != nil {
		return "", Session{}, User{}, err
	}
	now := s.clock.Now()
	sess, err := s.store.CreateSession(ctx, Session{UserID: u.ID, TokenHash: hash, CSRFToken: csrf,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.cfg.AbsoluteTimeout), IP: ip, UserAgent: userAgent})
	if err != nil {
		return "", Session{}, User{}, fmt.Errorf("login: %w", err)
	}
	return token, sess, u, nil
}

// Authenticate resolves a bearer token to its session and actor, ending
// sessions that passed their idle or absolute timeout.
func (s *Service) Authenticate(ctx context.Context, token string) (Session, kehu.Actor, error) {
	unauth := kehu.Errorf(kehu.EUNAUTHORIZED, "invalid or expired session")
	if token == "" || len(token) > 200 {
		return Session{}, kehu.Actor{}, unauth
	}
	sess, u, err := s.store.SessionByTokenHash(ctx, HashToken(token))
	if kehu.ErrorCode(err) == kehu.ENOTFOUND {
		return Session{}, kehu.Actor{}, unauth
	} else if err != nil {
		return Session{}, kehu.Actor{}, fmt.Errorf("authenticate: %w", err)
	}
	now := s.clock.Now()
	if u.Disabled || now.After(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) > s.cfg.IdleTimeout {
		_ = s.store.DeleteSession(ctx, sess.ID)
		return Session{}, kehu.Actor{}, unauth
	}
	// Touch at most once a minute: a write per request would serialise every
	// read on SQLite's single writer.
	if now.Sub(sess.LastSeenAt) > time.Minute {
		if err := s.store.TouchSession(ctx, sess.ID, now); err != nil {
			return Session{}, kehu.Actor{}, fmt.Errorf("authenticate: %w", err)
		}
	}
	a := kehu.Actor{UserID: u.ID, Username: u.Username, Role: u.Role, OrgID: u.OrgID, OrgPath: u.OrgPath,
		SessionID: sess.ID}
	return sess, a, nil
}

// Logout ends the session.
func (s *Service) Logout(ctx context.Context, sessionID int64) error {
	return s.store.DeleteSession(ctx, sessionID)
}

// Me returns the user behind the actor in ctx.
func (s *Service) Me(ctx context.Context) (User, error) {
	a, ok := kehu.ActorFrom(ctx)
	if !ok {
		return User{}, kehu.Errorf(kehu.EUNAUTHORIZED, "authentication required")
	}
	return s.store.UserByID(ctx, a.UserID)
}

// NewUser is the input to create a user.
type NewUser struct {
	Username    string
	DisplayName string
	Password    string
	Role        string
	OrgID       int64
}

// AddUser validates and creates a user. It is used by the CLI (an operator at
// the server) and the demo; the user-management UI belongs to the trust issue.
func (s *Service) AddUser(ctx context.Context, n NewUser) (User, error) {
	var v kehu.Validation
	n.Username = strings.TrimSpace(n.Username)
	if !validUsername(n.Username) {
		v.Add("username", "must be 3-32 letters, digits, dots, dashes or underscores")
	}
	if r := CheckPolicy(n.Password); r != "" {
		v.Add("password", r)
	}
	if !access.ValidRole(n.Role) {
		v.Add("role", "must be one of "+strings.Join(access.Roles, ", "))
	}
	if _, err := s.store.OrgPath(ctx, n.OrgID); kehu.ErrorCode(err) == kehu.ENOTFOUND {
		v.Add("org", "no such organisation")
	} else if err != nil {
		return User{}, err
	}
	if err := v.Err(); err != nil {
		return User{}, err
	}
	hash, err := HashPassword(n.Password, s.cfg.Argon2)
	if err != nil {
		return User{}, err
	}
	if n.DisplayName == "" {
		n.DisplayName = n.Username
	}
	return s.store.CreateUser(ctx, User{Username: n.Username, DisplayName: n.DisplayName, Role: n.Role,
		OrgID: n.OrgID, PasswordHash: hash, CreatedAt: s.clock.Now()})
}

// SetPassword replaces a user's password and ends their sessions.
func (s *Service) SetPassword(ctx context.Context, username, password string) error {
	if r := CheckPolicy(password); r != "" {
		return &kehu.Error{Code: kehu.EINVALID, Message: "validation failed",
			Fields: []kehu.FieldError{{Field: "password", Reason: r}}}
	}
	u, err := s.store.UserByUsername(ctx, username)
	if err != nil {
		return err
	}
	hash, err := HashPassword(password, s.cfg.Argon2)
	if err != nil {
		return err
	}
	if err := s.store.SetPasswordHash(ctx, u.ID, hash); err != nil {
		return err
	}
	return s.store.DeleteUserSessions(ctx, u.ID)
}

// SetDisabled disables or re-enables a user; disabling ends their sessions.
func (s *Service) SetDisabled(ctx context.Context, username string, disabled bool) error {
	u, err := s.store.UserByUsername(ctx, username)
	if err != nil {
		return err
	}
	if err := s.store.SetUserDisabled(ctx, u.ID, disabled); err != nil {
		return err
	}
	if disabled {
		return s.store.DeleteUserSessions(ctx, u.ID)
	}
	return nil
}

func validUsername(s string) bool {
	if len(s) < 3 || len(s) > 32 {
		return false
	}
	for _, r := range s {
		ok := r == '.' || r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !ok {
			return false
		}
	}
	return true
}

// newToken returns a random 256-bit token and its hash.
func newToken() (string, []byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("session token: %w", err)
	}
	t := base64.RawURLEncoding.EncodeToString(b)
	return t, HashToken(t), nil
}

// HashToken is how tokens are stored and looked up.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
