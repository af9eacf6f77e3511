package auth

import (
	"context"
	"time"

	"kehu/internal/access"
)

// SecurityStore is the storage of login hardening: lockout counters,
// password history, TOTP, pending second-factor sign-ins, session listing and
// API tokens. store.UserStore implements it with the rest of Store.
type SecurityStore interface {
	// AuthState returns the user's security state; a user who never failed,
	// changed a password or enrolled has the zero state.
	AuthState(ctx context.Context, userID int64) (AuthState, error)
	// RecordLoginFailure adds one consecutive failure atomically and returns
	// the new count and how many lockouts preceded it.
	RecordLoginFailure(ctx context.Context, userID int64) (failures, lockouts int, err error)
	// LockUser sets locked_until, counts the lockout and clears the failures.
	LockUser(ctx context.Context, userID int64, until time.Time) error
	// ResetLoginFailures clears failures, lockouts and any lock after a
	// successful sign-in.
	ResetLoginFailures(ctx context.Context, userID int64) error

	// PasswordHistory returns up to n earlier hashes, newest first.
	PasswordHistory(ctx context.Context, userID int64, n int) ([]string, error)
	// ReplacePassword sets the new hash, moves the old one into the history
	// (keeping the newest keep entries) and stamps the change time.
	ReplacePassword(ctx context.Context, userID int64, newHash, oldHash string, at time.Time, keep int) error

	// SetTOTPSecret stores a sealed secret awaiting confirmation (disabled,
	// no step used); an empty secret removes the second factor.
	SetTOTPSecret(ctx context.Context, userID int64, sealed string) error
	// EnableTOTP turns the stored secret on, with step as the last one used.
	EnableTOTP(ctx context.Context, userID int64, step int64) error
	// UseTOTPStep records step as used unless it is not newer than the last
	// used step; false means the code was replayed (or raced).
	UseTOTPStep(ctx context.Context, userID int64, step int64) (bool, error)

	CreateChallenge(ctx context.Context, userID int64, hash []byte, expires time.Time) error
	// ChallengeUser returns the user of a challenge that has not expired at
	// now, ENOTFOUND otherwise.
	ChallengeUser(ctx context.Context, hash []byte, now time.Time) (int64, error)
	DeleteChallenge(ctx context.Context, hash []byte) error

	// UserSessions lists a user's sessions, newest first.
	UserSessions(ctx context.Context, userID int64) ([]Session, error)
	// DeleteUserSession ends one session of the user, ENOTFOUND if the user
	// has no such session.
	DeleteUserSession(ctx context.Context, userID, id int64) error
	// DeleteOtherSessions ends every session of the user except keepID.
	DeleteOtherSessions(ctx context.Context, userID, keepID int64) error
	SetSessionRestriction(ctx context.Context, id int64, restriction string) error

	CreateAPIToken(ctx context.Context, t APIToken) (APIToken, error)
	// APITokenByHash returns the token and its user, ENOTFOUND if none.
	APITokenByHash(ctx context.Context, hash []byte) (APIToken, User, error)
	// UserAPITokens lists a user's tokens, newest first.
	UserAPITokens(ctx context.Context, userID int64) ([]APIToken, error)
	// DeleteAPIToken revokes a token of the user, ENOTFOUND if none.
	DeleteAPIToken(ctx context.Context, userID, id int64) error
	TouchAPIToken(ctx context.Context, id int64, at time.Time) error
}

// AuthState is a user's login-hardening state.
type AuthState struct {
	FailedLogins      int
	Lockouts          int
	LockedUntil       time.Time // zero when not locked
	PasswordChangedAt time.Time // zero when never changed since creation
	TOTPSecret        string    // sealed; "" when none
	TOTPEnabled       bool
	TOTPLastStep      int64
}

// Session restrictions: a restricted session may only do what lifts the
// restriction (see docs/SECURITY.md).
const (
	RestrictPasswordChange = "password_change"
	RestrictTOTPEnrolment  = "totp_enrolment"
)

// SecretSealer encrypts secrets the server must read back, such as TOTP
// seeds (passwords and tokens are hashed instead). internal/vault provides
// one; without it seeds are stored in clear, which docs/SECURITY.md notes.
type SecretSealer interface {
	Seal(ctx context.Context, plaintext string) (string, error)
	Open(ctx context.Context, sealed string) (string, error)
}

// LockoutPolicy says when repeated failures lock an account and for how
// long: Threshold consecutive failures lock it for Base, doubling with each
// further lockout up to Max. Zero fields take DefaultLockout's values.
type LockoutPolicy struct {
	Threshold int
	Base      time.Duration
	Max       time.Duration
}

// DefaultLockout locks after 5 failures for 1, 2, 4 … minutes, at most an hour.
var DefaultLockout = LockoutPolicy{Threshold: 5, Base: time.Minute, Max: time.Hour}

func (p LockoutPolicy) withDefaults() LockoutPolicy {
	if p.Threshold <= 0 {
		p.Threshold = DefaultLockout.Threshold
	}
	if p.Base <= 0 {
		p.Base = DefaultLockout.Base
	}
	if p.Max <= 0 {
		p.Max = DefaultLockout.Max
	}
	return p
}

// duration is how long the lockout after `previous` earlier ones lasts.
func (p LockoutPolicy) duration(previous int) time.Duration {
	d := p.Base
	for i := 0; i < previous && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// DefaultTOTPRoles are the roles `kehu serve` requires a second factor of by
// default: they see the whole bank or a branch, manage users, or govern the
// data — the data steward reads the whole bank, edits the data dictionary
// (sensitivity classes decide masking), merges customers and runs imports.
var DefaultTOTPRoles = []string{access.Admin, access.ComplianceAuditor, access.BranchManager, access.DataSteward}
