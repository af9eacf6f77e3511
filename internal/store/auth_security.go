package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"kehu/internal/auth"
	"kehu/internal/kehu"
)

// This file implements auth.SecurityStore (migration 0004_auth.sql).
// auth_state rows are created on first need with an upsert, which SQLite
// (3.24+) and PostgreSQL spell the same way.

// AuthState returns the user's security state, zero if there is no row.
func (s *UserStore) AuthState(ctx context.Context, userID int64) (auth.AuthState, error) {
	var st auth.AuthState
	var locked, changed sql.NullTime
	err := s.db.reader(ctx).QueryRowContext(ctx, `SELECT failed_logins, lockouts, locked_until, password_changed_at,
			totp_secret, totp_enabled, totp_last_step
		FROM auth_state WHERE user_id = $1`, userID).
		Scan(&st.FailedLogins, &st.Lockouts, &locked, &changed, &st.TOTPSecret, &st.TOTPEnabled, &st.TOTPLastStep)
	if err == sql.ErrNoRows {
		return auth.AuthState{}, nil
	} else if err != nil {
		return auth.AuthState{}, fmt.Errorf("auth state: %w", err)
	}
	if locked.Valid {
		st.LockedUntil = locked.Time.UTC()
	}
	if changed.Valid {
		st.PasswordChangedAt = changed.Time.UTC()
	}
	return st, nil
}

// RecordLoginFailure adds one failure in a single statement, so concurrent
// failures are all counted.
func (s *UserStore) RecordLoginFailure(ctx context.Context, userID int64) (int, int, error) {
	var failures, lockouts int
	err := s.db.writer(ctx).QueryRowContext(ctx, `INSERT INTO auth_state (user_id, failed_logins) VALUES ($1, 1)
		ON CONFLICT (user_id) DO UPDATE SET failed_logins = auth_state.failed_logins + 1
		RETURNING failed_logins, lockouts`, userID).Scan(&failures, &lockouts)
	if err != nil {
		return 0, 0, fmt.Errorf("record login failure: %w", err)
	}
	return failures, lockouts, nil
}

// LockUser locks the account until the given time.
func (s *UserStore) LockUser(ctx context.Context, userID int64, until time.Time) error {
	return s.exec(ctx, "lock user", `INSERT INTO auth_state (user_id, lockouts, locked_until) VALUES ($1, 1, $2)
		ON CONFLICT (user_id) DO UPDATE SET failed_logins = 0, lockouts = auth_state.lockouts + 1, locked_until = $2`,
		userID, until.UTC())
}

// ResetLoginFailures clears the failure state after a sign-in.
func (s *UserStore) ResetLoginFailures(ctx context.Context, userID int64) error {
	return s.exec(ctx, "reset login failures",
		"UPDATE auth_state SET failed_logins = 0, lockouts = 0, locked_until = NULL WHERE user_id = $1", userID)
}

// PasswordHistory returns up to n earlier hashes, newest first.
func (s *UserStore) PasswordHistory(ctx context.Context, userID int64, n int) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	rows, err := s.db.reader(ctx).QueryContext(ctx,
		"SELECT hash FROM password_history WHERE user_id = $1 ORDER BY id DESC LIMIT $2", userID, n)
	if err != nil {
		return nil, fmt.Errorf("password history: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("password history: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// ReplacePassword swaps the hash and files the old one in the history, in
// one transaction.
func (s *UserStore) ReplacePassword(ctx context.Context, userID int64, newHash, oldHash string, at time.Time, keep int) error {
	at = at.UTC()
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.updateUser(ctx, "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3", newHash, at, userID); err != nil {
			return err
		}
		if err := s.exec(ctx, "password history", "INSERT INTO password_history (user_id, hash, created_at) VALUES ($1, $2, $3)",
			userID, oldHash, at); err != nil {
			return err
		}
		if err := s.exec(ctx, "trim password history", `DELETE FROM password_history WHERE user_id = $1 AND id NOT IN
			(SELECT id FROM password_history WHERE user_id = $1 ORDER BY id DESC LIMIT $2)`, userID, max(keep, 0)); err != nil {
			return err
		}
		return s.exec(ctx, "password changed", `INSERT INTO auth_state (user_id, password_changed_at) VALUES ($1, $2)
			ON CONFLICT (user_id) DO UPDATE SET password_changed_at = $2`, userID, at)
	})
}

// SetTOTPSecret stores a pending secret, or removes the second factor.
func (s *UserStore) SetTOTPSecret(ctx context.Context, userID int64, sealed string) error {
	return s.exec(ctx, "set totp secret", `INSERT INTO auth_state (user_id, totp_secret) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET totp_secret = $2, totp_enabled = FALSE, totp_last_step = 0`, userID, sealed)
}

// EnableTOTP puts the pending secret in force.
func (s *UserStore) EnableTOTP(ctx context.Context, userID int64, step int64) error {
	return s.exec(ctx, "enable totp",
		"UPDATE auth_state SET totp_enabled = TRUE, totp_last_step = $2 WHERE user_id = $1 AND totp_secret <> ''", userID, step)
}

// UseTOTPStep records a used step only if it is newer than the last one.
func (s *UserStore) UseTOTPStep(ctx context.Context, userID int64, step int64) (bool, error) {
	res, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE auth_state SET totp_last_step = $2
		WHERE user_id = $1 AND totp_enabled AND totp_last_step < $2`, userID, step)
	if err != nil {
		return false, fmt.Errorf("use totp step: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// CreateChallenge stores a pending second-factor sign-in.
func (s *UserStore) CreateChallenge(ctx context.Context, userID int64, hash []byte, expires time.Time) error {
	return s.exec(ctx, "create challenge", "INSERT INTO login_challenges (user_id, token_hash, expires_at) VALUES ($1, $2, $3)",
		userID, hash, expires.UTC())
}

// ChallengeUser returns the user of a live challenge. The expiry is compared
// here rather than in SQL so both engines compare times the same way.
func (s *UserStore) ChallengeUser(ctx context.Context, hash []byte, now time.Time) (int64, error) {
	var userID int64
	var expires time.Time
	err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT user_id, expires_at FROM login_challenges WHERE token_hash = $1", hash).
		Scan(&userID, &expires)
	if err != nil {
		return 0, notFound(err, "challenge")
	}
	if !now.Before(expires) {
		return 0, kehu.Errorf(kehu.ENOTFOUND, "challenge not found")
	}
	return userID, nil
}

// DeleteChallenge removes a challenge, and any expired ones with it.
func (s *UserStore) DeleteChallenge(ctx context.Context, hash []byte) error {
	return s.exec(ctx, "delete challenge", "DELETE FROM login_challenges WHERE token_hash = $1 OR expires_at < $2",
		hash, time.Now().UTC().Add(-time.Hour))
}

const sessionColumns = "id, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent, restriction"

// UserSessions lists a user's sessions, newest first.
func (s *UserStore) UserSessions(ctx context.Context, userID int64) ([]auth.Session, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx,
		"SELECT "+sessionColumns+" FROM sessions WHERE user_id = $1 ORDER BY id DESC", userID)
	if err != nil {
		return nil, fmt.Errorf("user sessions: %w", err)
	}
	defer rows.Close()
	var out []auth.Session
	for rows.Next() {
		var se auth.Session
		if err := rows.Scan(&se.ID, &se.UserID, &se.CSRFToken, &se.CreatedAt, &se.LastSeenAt, &se.ExpiresAt,
			&se.IP, &se.UserAgent, &se.Restriction); err != nil {
			return nil, fmt.Errorf("user sessions: %w", err)
		}
		out = append(out, se)
	}
	return out, rows.Err()
}

// DeleteUserSession ends one session of the user.
func (s *UserStore) DeleteUserSession(ctx context.Context, userID, id int64) error {
	return s.execOne(ctx, "session", "DELETE FROM sessions WHERE id = $1 AND user_id = $2", id, userID)
}

// DeleteOtherSessions ends every session of the user except keepID.
func (s *UserStore) DeleteOtherSessions(ctx context.Context, userID, keepID int64) error {
	return s.exec(ctx, "delete other sessions", "DELETE FROM sessions WHERE user_id = $1 AND id <> $2", userID, keepID)
}

// SetSessionRestriction sets or clears a session's restriction.
func (s *UserStore) SetSessionRestriction(ctx context.Context, id int64, restriction string) error {
	return s.exec(ctx, "session restriction", "UPDATE sessions SET restriction = $1 WHERE id = $2", restriction, id)
}

// CreateAPIToken stores a token; scopes are kept space-separated.
func (s *UserStore) CreateAPIToken(ctx context.Context, t auth.APIToken) (auth.APIToken, error) {
	err := s.db.writer(ctx).QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, scopes, created_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		t.UserID, t.Name, t.TokenHash, strings.Join(t.Scopes, " "), t.CreatedBy, t.CreatedAt.UTC(), t.ExpiresAt.UTC()).Scan(&t.ID)
	if err != nil {
		return auth.APIToken{}, fmt.Errorf("insert api token: %w", err)
	}
	return t, nil
}

const tokenColumns = "t.id, t.user_id, t.name, t.scopes, t.created_by, t.created_at, t.expires_at, t.last_used_at"

func scanToken(row interface{ Scan(...any) error }, extra ...any) (auth.APIToken, error) {
	var t auth.APIToken
	var scopes string
	var used sql.NullTime
	err := row.Scan(append([]any{&t.ID, &t.UserID, &t.Name, &scopes, &t.CreatedBy, &t.CreatedAt, &t.ExpiresAt, &used}, extra...)...)
	t.Scopes = strings.Fields(scopes)
	if used.Valid {
		t.LastUsedAt = used.Time.UTC()
	}
	return t, err
}

// APITokenByHash finds a token and its user.
func (s *UserStore) APITokenByHash(ctx context.Context, hash []byte) (auth.APIToken, auth.User, error) {
	var u auth.User
	t, err := scanToken(s.db.reader(ctx).QueryRowContext(ctx, "SELECT "+tokenColumns+`,
			u.id, u.username, u.display_name, u.role, u.org_id, o.path, u.disabled, u.password_hash, u.created_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN orgs o ON o.id = u.org_id
		WHERE t.token_hash = $1`, hash),
		&u.ID, &u.Username, &u.DisplayName, &u.Role, &u.OrgID, &u.OrgPath, &u.Disabled, &u.PasswordHash, &u.CreatedAt)
	if err != nil {
		return auth.APIToken{}, auth.User{}, notFound(err, "api token")
	}
	t.TokenHash = hash
	return t, u, nil
}

// UserAPITokens lists a user's tokens, newest first.
func (s *UserStore) UserAPITokens(ctx context.Context, userID int64) ([]auth.APIToken, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx,
		"SELECT "+tokenColumns+" FROM api_tokens t WHERE t.user_id = $1 ORDER BY t.id DESC", userID)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	defer rows.Close()
	var out []auth.APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list api tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteAPIToken revokes a token of the user.
func (s *UserStore) DeleteAPIToken(ctx context.Context, userID, id int64) error {
	return s.execOne(ctx, "api token", "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2", id, userID)
}

// TouchAPIToken records when a token was last used.
func (s *UserStore) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	return s.exec(ctx, "touch api token", "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2", at.UTC(), id)
}

// exec runs a write, wrapping its error with what.
func (s *UserStore) exec(ctx context.Context, what, query string, args ...any) error {
	if _, err := s.db.writer(ctx).ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// execOne runs a write that must affect one row; none is ENOTFOUND.
func (s *UserStore) execOne(ctx context.Context, what, query string, args ...any) error {
	res, err := s.db.writer(ctx).ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("delete %s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return kehu.Errorf(kehu.ENOTFOUND, "%s not found", what)
	}
	return nil
}
