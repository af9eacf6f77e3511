package auth

import (
	"time"
)

// User is an employee who signs in to Kehu.
type User struct {
	ID           int64     `json:"id"`
	Username     string    `json:"username"`
	DisplayName  string    `json:"display_name"`
	Role         string    `json:"role"`
	OrgID        int64     `json:"org_id"`
	OrgPath      string    `json:"-"`
	Disabled     bool      `json:"disabled"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
}

// Session is a signed-in browser or API client. Only the SHA-256 of its token
// is stored, so a copy of the database does not yield usable sessions.
type Session struct {
	ID         int64
	UserID     int64
	TokenHash  []byte
	CSRFToken  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	IP         string
	UserAgent  string
	// Restriction is "" or RestrictPasswordChange / RestrictTOTPEnrolment:
	// what the user must do before the session may do anything else.
	Restriction string
}

// APIToken is a personal access token for an integration. Only the SHA-256
// of the secret is stored; Scopes are permissions (a subset of the owner's
// role) and bound what the token may do.
type APIToken struct {
	ID         int64
	UserID     int64
	Name       string
	TokenHash  []byte
	Scopes     []string
	CreatedBy  int64
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt time.Time // zero when never used
}
