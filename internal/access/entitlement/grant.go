// Package entitlement decides who may reach a customer beyond their role's
// data scope, and records it: ownership (primary and secondary relationship
// managers, transfers with history), temporary access granted on approval,
// and break glass for call-centre agents serving an inbound caller. Its
// rules live here so every handler, page and job gets them by construction;
// the customer queries honour the resulting grants (customer.ScopeFilter).
package entitlement

import (
	"strings"
	"time"
	"unicode/utf8"

	"kehu/internal/kehu"
)

// What a request or grant opens. GrantCustomer adds the customer to the
// user's data scope (reads only); GrantC2Fields lets the user unmask that
// customer's C2 fields without holding CustomerUnmask, each unmask still
// audited (customer.Service.Unmask asks Grants.ActiveGrant).
const (
	GrantCustomer = "customer"
	GrantC2Fields = "c2_fields"
)

// Request statuses. "expired" is never stored: an approved request whose
// grant has passed its expiry is shown as expired (Request.Status).
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusDenied   = "denied"
	StatusRevoked  = "revoked"
	StatusExpired  = "expired"
)

// Grant kinds: from an approved request, or a break-glass opening.
const (
	KindRequest    = "request"
	KindBreakGlass = "break_glass"
)

// Bounds of wider access. A request is for whole hours up to three days;
// break glass lasts one short call.
const (
	MaxRequestHours    = 72
	BreakGlassDuration = 15 * time.Minute
	maxTextRunes       = 500
	maxTicketRunes     = 64
)

// Request is a user's request for temporary access to one customer.
// CustomerName is filled only for approvers (who have the customer in scope);
// the requester never learns more than the id they typed.
type Request struct {
	ID            int64
	RequesterID   int64
	RequesterName string
	CustomerID    int64
	CustomerName  string
	// CustomerOrgPath is the home organisation's path of an existing
	// customer, "" when the id matches no customer; it decides who approves.
	CustomerOrgPath string
	Scope           string
	Reason          string
	Hours           int
	Status          string // stored status; see StatusAt
	CreatedAt       time.Time
	DecidedBy       *int64
	DeciderName     string
	DecidedAt       *time.Time
	Comment         string
	// ExpiresAt and RevokedAt come from the grant an approval created.
	ExpiresAt *time.Time
}

// StatusAt is the status as of now: an approved request whose grant has
// expired is "expired".
func (r Request) StatusAt(now time.Time) string {
	if r.Status == StatusApproved && r.ExpiresAt != nil && !r.ExpiresAt.After(now) {
		return StatusExpired
	}
	return r.Status
}

// NewRequest is what a user submits.
type NewRequest struct {
	CustomerID int64
	Scope      string
	Reason     string
	Hours      int
}

// Validate names every invalid field at once.
func (n *NewRequest) Validate() error {
	var v kehu.Validation
	n.Reason = strings.TrimSpace(n.Reason)
	if n.CustomerID <= 0 {
		v.Add("customer_id", "must be a customer id")
	}
	if n.Scope != GrantCustomer && n.Scope != GrantC2Fields {
		v.Add("scope", "must be customer or c2_fields")
	}
	checkText(&v, "reason", n.Reason, maxTextRunes, true)
	if n.Hours < 1 || n.Hours > MaxRequestHours {
		v.Add("hours", "must be between 1 and 72")
	}
	return v.Err()
}

// checkText adds an issue when s is missing (and required) or too long.
func checkText(v *kehu.Validation, field, s string, max int, required bool) {
	switch {
	case required && s == "":
		v.Add(field, "is required")
	case utf8.RuneCountInString(s) > max:
		v.Add(field, "is too long")
	}
}

// Grant is access actually held: until ExpiresAt, unless revoked.
type Grant struct {
	ID           int64
	UserID       int64
	UserName     string
	CustomerID   int64
	CustomerName string // for reviewers only
	Scope        string
	Kind         string
	RequestID    *int64
	Reason       string
	Ticket       string
	GrantedBy    *int64
	CreatedAt    time.Time
	ExpiresAt    time.Time
	RevokedAt    *time.Time
	RevokedBy    *int64
	ReviewedBy   *int64
	ReviewerName string
	ReviewedAt   *time.Time
	Comment      string
}

// NewBreakGlass is what a call-centre agent states to open a customer.
type NewBreakGlass struct {
	CustomerID int64
	Reason     string
	// Ticket is the inbound call's ticket or the caller's number, so the
	// reviewer can match the opening to a real call.
	Ticket string
}

// Validate names every invalid field at once.
func (n *NewBreakGlass) Validate() error {
	var v kehu.Validation
	n.Reason, n.Ticket = strings.TrimSpace(n.Reason), strings.TrimSpace(n.Ticket)
	if n.CustomerID <= 0 {
		v.Add("customer_id", "must be a customer id")
	}
	checkText(&v, "reason", n.Reason, maxTextRunes, true)
	checkText(&v, "ticket", n.Ticket, maxTicketRunes, true)
	return v.Err()
}

// RequestFilter selects requests. Mine lists the actor's own; otherwise the
// list is the approver's: requests for customers homed under ApproverPath,
// never the approver's own.
type RequestFilter struct {
	Status       string // "" for all; "expired" is answered from approved
	RequesterID  int64
	ApproverPath string
	ExcludeUser  int64
	Limit        int
	// Now splits approved from expired.
	Now time.Time
}

// BreakGlassFilter selects break-glass grants for review.
type BreakGlassFilter struct {
	Reviewed *bool
	Limit    int
}
