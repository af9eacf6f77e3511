// Package customer holds the bank's customers (individual and corporate), the
// rules that keep their records valid, and the service every caller goes
// through, which applies the actor's data scope.
package customer

import (
	"time"

	"kehu/internal/kehu"
)

// Customer types.
const (
	Individual = "individual"
	Corporate  = "corporate"
)

// Identity document types accepted for customers.
const (
	ResidentID    = "resident_id"
	Passport      = "passport"
	HKMacauPermit = "hk_macau_permit"
	TaiwanPermit  = "taiwan_permit"
	USCC          = "uscc"
)

// Customer is a person or company the bank serves. Level and AUM are
// computed from holdings by the level rule; they are never typed in.
type Customer struct {
	ID        int64     `json:"id"`
	Type      string    `json:"type"`
	Name      string    `json:"name"`
	IDType    string    `json:"id_type"`
	IDNumber  string    `json:"id_number"`
	Mobile    string    `json:"mobile,omitempty"`
	Email     string    `json:"email,omitempty"`
	Gender    string    `json:"gender,omitempty"`
	BirthDate kehu.Date `json:"birth_date"`
	Address   string    `json:"address,omitempty"`
	// RegionCode is the GB/T 2260 code of the customer's domicile.
	RegionCode string `json:"region_code,omitempty"`
	OrgID      int64  `json:"org_id"`
	OwnerID    *int64 `json:"owner_id"`
	Level      string `json:"level"`
	// AUM is assets under management in fen (1/100 yuan).
	AUM int64 `json:"aum"`
	// RiskLevel is the assessed risk tolerance C1 (conservative) to C5
	// (aggressive), 0 when never assessed.
	RiskLevel      int        `json:"risk_level"`
	RiskAssessedAt *time.Time `json:"risk_assessed_at"`
	// Corporate attributes.
	Industry          string    `json:"industry,omitempty"`
	RegisteredCapital int64     `json:"registered_capital,omitempty"`
	Status            string    `json:"status"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
	// Masked names the fields the service masked (or, for birth_date,
	// withheld) for the actor who asked, so a client can show that a value
	// is masked and offer to unmask it. Empty for values read in clear.
	Masked []string `json:"masked,omitempty"`
	// MergedInto is the survivor a merged customer (status "merged", a
	// tombstone of a duplicate review) was merged into; 0 for every other
	// customer. Everything that names the tombstone resolves to it.
	MergedInto int64 `json:"merged_into,omitempty"`
}

// Customer statuses.
const (
	StatusActive  = "active"
	StatusDormant = "dormant"
	StatusClosed  = "closed"
	// StatusErased marks a customer anonymised on a PIPL erasure request
	// (internal/privacy): the row stays for the records the bank must keep.
	StatusErased = "erased"
)

// Filter selects customers for a list. Scope fields are set by the service
// from the actor, never by callers.
type Filter struct {
	// Query matches a name prefix, an exact mobile, ID number or customer id.
	Query string
	Type  string
	OrgID int64
	Limit int
	After kehu.Cursor
	Count bool
	Scope ScopeFilter
	// Tag keeps the customers carrying a tag (its id, name or code) that has
	// not expired at Now; the service sets Now from its clock.
	Tag string
	Now time.Time
}

// ScopeFilter restricts rows to what an actor may see: customers owned by
// OwnerID (as primary or secondary RM), or homed at OrgID, or homed under
// OrgPath. Zero values mean no restriction on that axis. GrantedTo widens a
// restricted scope by the customers that user holds an access grant for
// (approved request or break glass) that is unrevoked and unexpired at Now;
// the store compares with Now rather than the database clock so tests can
// move time.
type ScopeFilter struct {
	OwnerID   int64
	OrgID     int64
	OrgPath   string
	GrantedTo int64
	Now       time.Time
}

// Page is one page of a customer list.
type Page struct {
	Items      []Customer
	NextCursor kehu.Cursor
	Total      int64 // -1 when not counted
}
