package store

import (
	"context"
	"fmt"
	"time"

	"kehu/internal/auth"
	"kehu/internal/kehu"
)

// UserStore implements auth.Store.
type UserStore struct{ db *DB }

// Users returns the user and session store.
func (db *DB) Users() *UserStore { return &UserStore{db: db} }

const userColumns = "u.id, u.username, u.display_name, u.role, u.org_id, o.path, u.disabled, u.password_hash, u.created_at"

func scanUser(row interface{ Scan(...any) error }, extra ...any) (auth.User, error) {
	var u auth.User
	dest := append([]any{&u.ID, &u.Username, &u.DisplayName, &u.Role, &u.OrgID, &u.OrgPath, &u.Disabled,
		&u.PasswordHash, &u.CreatedAt}, extra...)
	return u, row.Scan(dest...)
}

// CreateUser inserts u.
func (s *UserStore) CreateUser(ctx context.Context, u auth.User) (auth.User, error) {
	err := s.db.writer(ctx).QueryRowContext(ctx, `INSERT INTO users (username, display_name, role, org_id, password_hash, disabled, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`,
		u.Username, u.DisplayName, u.Role, u.OrgID, u.PasswordHash, u.Disabled, u.CreatedAt).Scan(&u.ID)
	if err != nil {
		if isUniqueViolation(err) {
			return auth.User{}, conflict("username %s is taken", u.Username)
		}
		return auth.User{}, fmt.Errorf("insert user: %w", err)
	}
	return u, nil
}

// UserByUsername looks a user up by login name.
func (s *UserStore) UserByUsername(ctx context.Context, username string) (auth.User, error) {
	u, err := scanUser(s.db.reader(ctx).QueryRowContext(ctx,
		"SELECT "+userColumns+" FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.username = $1", username))
	if err != nil {
		return auth.User{}, notFound(err, "user")
	}
	return u, nil
}

// UserByID looks a user up by id.
func (s *UserStore) UserByID(ctx context.Context, id int64) (auth.User, error) {
	u, err := scanUser(s.db.reader(ctx).QueryRowContext(ctx,
		"SELECT "+userColumns+" FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.id = $1", id))
	if err != nil {
		return auth.User{}, notFound(err, "user")
	}
	return u, nil
}

// UserExists reports whether an enabled user with id exists.
func (db *DB) UserExists(ctx context.Context, id int64) (bool, error) {
	var n int
	err := db.reader(ctx).QueryRowContext(ctx, "SELECT count(*) FROM users WHERE id = $1 AND NOT disabled", id).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("user exists: %w", err)
	}
	return n > 0, nil
}

// SetPasswordHash replaces a user's password hash.
func (s *UserStore) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	return s.updateUser(ctx, "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3", hash, time.Now().UTC(), userID)
}

// SetUserDisabled disables or enables a user.
func (s *UserStore) SetUserDisabled(ctx context.Context, userID int64, disabled bool) error {
	return s.updateUser(ctx, "UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3", disabled, time.Now().UTC(), userID)
}

func (s *UserStore) updateUser(ctx context.Context, query string, args ...any) error {
	res, err := s.db.writer(ctx).ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return kehu.Errorf(kehu.ENOTFOUND, "user not found")
	}
	return nil
}

// ListUsers returns every user, for the demo's login table and admin views.
func (s *UserStore) ListUsers(ctx context.Context) ([]auth.User, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT "+userColumns+" FROM users u JOIN orgs o ON o.id = u.org_id ORDER BY u.id")
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []auth.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CreateSession stores a new session.
func (s *UserStore) CreateSession(ctx context.Context, se auth.Session) (auth.Session, error) {
	err := s.db.writer(ctx).QueryRowContext(ctx, `INSERT INTO sessions (user_id, token_hash, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent, restriction)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		se.UserID, se.TokenHash, se.CSRFToken, se.CreatedAt, se.LastSeenAt, se.ExpiresAt, se.IP, se.UserAgent, se.Restriction).Scan(&se.ID)
	if err != nil {
		return auth.Session{}, fmt.Errorf("insert session: %w", err)
	}
	return se, nil
}

// SessionByTokenHash finds a session and its user by the token's hash.
func (s *UserStore) SessionByTokenHash(ctx context.Context, hash []byte) (auth.Session, auth.User, error) {
	var se auth.Session
	u, err := scanUser(s.db.hotReader(ctx).QueryRowContext(ctx, "SELECT "+userColumns+`,
			s.id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, s.ip, s.user_agent, s.restriction
		FROM sessions s JOIN users u ON u.id = s.user_id JOIN orgs o ON o.id = u.org_id
		WHERE s.token_hash = $1`, hash),
		&se.ID, &se.CSRFToken, &se.CreatedAt, &se.LastSeenAt, &se.ExpiresAt, &se.IP, &se.UserAgent, &se.Restriction)
	if err != nil {
		return auth.Session{}, auth.User{}, notFound(err, "session")
	}
	se.UserID, se.TokenHash = u.ID, hash
	return se, u, nil
}

// TouchSession records activity on a session.
func (s *UserStore) TouchSession(ctx context.Context, id int64, at time.Time) error {
	_, err := s.db.hotWriter(ctx).ExecContext(ctx, "UPDATE sessions SET last_seen_at = $1 WHERE id = $2", at, id)
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession ends one session.
func (s *UserStore) DeleteSession(ctx context.Context, id int64) error {
	if _, err := s.db.writer(ctx).ExecContext(ctx, "DELETE FROM sessions WHERE id = $1", id); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of a user.
func (s *UserStore) DeleteUserSessions(ctx context.Context, userID int64) error {
	if _, err := s.db.writer(ctx).ExecContext(ctx, "DELETE FROM sessions WHERE user_id = $1", userID); err != nil {
		return fmt.Errorf("delete sessions: %w", err)
	}
	return nil
}

// OrgPath implements auth.Store.
func (s *UserStore) OrgPath(ctx context.Context, id int64) (string, error) {
	return s.db.OrgPath(ctx, id)
}
