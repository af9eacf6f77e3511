package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kehu/internal/access"
	"kehu/internal/audit"
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
	SecurityStore
}

// Config holds the session lifetimes and the login-hardening policy
// (docs/SECURITY.md). Zero policy fields take the defaults.
type Config struct {
	// IdleTimeout ends a session not used for this long.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends any session this long after sign-in.
	AbsoluteTimeout time.Duration
	Argon2          Argon2Params
	Password        PasswordPolicy
	Lockout         LockoutPolicy
	// RequireTOTPRoles must enrol a second factor: their sessions are
	// restricted to enrolment until they do. Empty requires it of nobody
	// (users may still enrol); `kehu serve` defaults to DefaultTOTPRoles.
	RequireTOTPRoles []string
	// TOTPIssuer names the service in authenticator apps; default "Kehu".
	TOTPIssuer string
	// MaxTokenLifetime bounds API token expiry; default 365 days.
	MaxTokenLifetime time.Duration
	// Sealer encrypts TOTP seeds at rest; nil stores them in clear.
	Sealer SecretSealer
	// Audit records sign-ins, failed sign-ins and logouts; nil records
	// nothing (policy unit tests only: `kehu serve` always sets it).
	Audit audit.Recorder
	// Tx, when set with Audit, makes a user-administration change and its
	// audit entry one transaction.
	Tx kehu.Transactor
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
	cfg.Password = cfg.Password.withDefaults()
	cfg.Lockout = cfg.Lockout.withDefaults()
	if cfg.TOTPIssuer == "" {
		cfg.TOTPIssuer = "Kehu"
	}
	if cfg.MaxTokenLifetime <= 0 {
		cfg.MaxTokenLifetime = 365 * 24 * time.Hour
	}
	h, err := HashPassword("no-such-user-timing-equaliser", cfg.Argon2)
	if err != nil {
		return nil, err
	}
	return &Service{store: store, clock: clock, cfg: cfg, dummyHash: h}, nil
}

// Login checks the credentials and opens a session. It returns the bearer
// token, shown to the client once and stored only as a hash. A user with a
// second factor gets a *TOTPRequiredError; use SignIn to send the code.
func (s *Service) Login(ctx context.Context, username, password, ip, userAgent string) (string, Session, User, error) {
	return s.SignIn(ctx, Credentials{Username: username, Password: password, IP: ip, UserAgent: userAgent})
}

// Authenticate resolves a bearer token to its session and actor, ending
// sessions that passed their idle or absolute timeout.
func (s *Service) Authenticate(ctx context.Context, token string) (Session, kehu.Actor, error) {
	unauth := kehu.Errorf(kehu.EUNAUTHORIZED, "invalid or expired session")
	if token == "" || len(token) > 200 {
		return Session{}, kehu.Actor{}, unauth
	}
	if IsAPIToken(token) {
		return s.authenticateAPIToken(ctx, token)
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
	if err := s.store.DeleteSession(ctx, sessionID); err != nil {
		return err
	}
	return s.recordLogout(ctx, sessionID)
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
	for _, r := range s.cfg.Password.Check(n.Username, n.Password) {
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
	var created User
	err = s.administer(ctx, audit.UserCreate, func(ctx context.Context) (User, []audit.Change, error) {
		var err error
		created, err = s.store.CreateUser(ctx, User{Username: n.Username, DisplayName: n.DisplayName, Role: n.Role,
			OrgID: n.OrgID, PasswordHash: hash, CreatedAt: s.clock.Now()})
		return created, []audit.Change{{Field: "role", New: n.Role}, {Field: "org_id", New: strconv.FormatInt(n.OrgID, 10)}}, err
	})
	return created, err
}

// SetPassword replaces a user's password (an operator's reset) under the
// password policy and history, and ends their sessions.
func (s *Service) SetPassword(ctx context.Context, username, password string) error {
	return s.administerByName(ctx, audit.UserPassword, username, func(ctx context.Context, u User) error {
		if err := s.replacePassword(ctx, u, password); err != nil {
			return err
		}
		return s.store.DeleteUserSessions(ctx, u.ID)
	})
}

// SetDisabled disables or re-enables a user; disabling ends their sessions.
func (s *Service) SetDisabled(ctx context.Context, username string, disabled bool) error {
	action := audit.UserEnable
	if disabled {
		action = audit.UserDisable
	}
	return s.administerByName(ctx, action, username, func(ctx context.Context, u User) error {
		if err := s.store.SetUserDisabled(ctx, u.ID, disabled); err != nil {
			return err
		}
		if disabled {
			return s.store.DeleteUserSessions(ctx, u.ID)
		}
		return nil
	})
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
