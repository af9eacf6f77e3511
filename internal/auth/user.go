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
}
