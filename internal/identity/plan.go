package identity

import (
	"time"

	"kehu/internal/customer"
)

// Batch is a run of incoming records from one source system, resolved and
// written together (one database transaction).
type Batch struct {
	JobID        int64
	SourceSystem string
	Records      []Incoming
	// InScope says whether the actor running the import may change a
	// customer homed at orgID and owned by owner (their data scope); nil
	// allows every customer (an operator at the shell).
	InScope func(orgID int64, owner *int64) bool
	// Now is the time of the batch: created_at/updated_at of what it writes.
	Now time.Time
	// Known, when set, says which keys may already be stored: an initial
	// load into an empty bank knows every key it stored itself, so the
	// records whose keys it never saw skip the database lookups. nil looks
	// every record up.
	Known Known
}

// Known is what an initial load knows of the store: which source links may
// exist (false: certainly not; true: look it up), and every customer that
// may hold an identity document or mobile (none: certainly nobody). The
// customers are loaded by id and matched by what they hold now, so a
// candidate too many costs a lookup, never a wrong match.
type Known interface {
	MayHaveLink(sourceID string) bool // of the batch's source system
	IdentityHolders(k IdentityKey) []int64
	MobileHolders(index string) []int64
}

// Outcomes of a record.
const (
	OutcomeCreated   = "created"
	OutcomeUpdated   = "updated"
	OutcomeUnchanged = "unchanged"
	OutcomeRejected  = "rejected"
)

// Outcome is what became of one record.
type Outcome struct {
	Line       int64
	Status     string // Outcome* constant
	CustomerID int64  // the customer resolved to (0 when rejected)
	// Merged is set when the record was linked to a customer that already
	// existed (by identity document or name, mobile and birth date) rather
	// than creating one or following its own earlier link.
	Merged bool
	// Suspected counts the suspected-duplicate pairs the record queued.
	Suspected int
	Column    string // for a rejected record: the column at fault ("" = the row)
	Reason    string // for a rejected record; never a personal value in clear
}

// Plan is what resolving a batch decided to write. Customers it creates
// carry negative references until the store assigns ids (IDs).
type Plan struct {
	Creates    []Create
	Updates    []Update
	NewLinks   []Link // CustomerID may be a negative reference
	LinkPrints []Link // existing links whose last record changed (prints, observed time)
	Provenance []ProvenanceRow
	Duplicates []Duplicate
	// IDs maps each negative reference to the id the store assigned.
	IDs map[int64]int64
}

// Create is a new customer.
type Create struct {
	Ref      int64 // negative
	Line     int64
	Customer customer.Customer
	Sealed   Sealed
	NameKey  string
	JobID    int64
}

// Update is a changed existing customer: Old as stored, New to store.
type Update struct {
	Old, New customer.Customer
	Sealed   Sealed // New's stored form
	NameKey  string
	Reason   string // for the audit record: the job and source
}

// ProvenanceRow is an explicit provenance row to upsert.
type ProvenanceRow struct {
	CustomerID int64 // may be a negative reference
	Provenance
}

// Duplicate is a suspected-duplicate pair to queue.
type Duplicate struct {
	CustomerID int64 // the existing customer
	OtherID    int64 // the customer the record created (a negative reference until stored)
	Rule       string
	Score      int
	Evidence   string // the fields that matched, never their values
	JobID      int64
}

// resolveRef maps a possibly negative reference to a stored id.
func (p *Plan) resolveRef(id int64) int64 {
	if id < 0 {
		return p.IDs[id]
	}
	return id
}

// Resolve replaces every negative reference by its stored id; the store
// calls it after inserting the creates.
func (p *Plan) Resolve() {
	for i := range p.NewLinks {
		p.NewLinks[i].CustomerID = p.resolveRef(p.NewLinks[i].CustomerID)
	}
	for i := range p.Provenance {
		p.Provenance[i].CustomerID = p.resolveRef(p.Provenance[i].CustomerID)
	}
	for i := range p.Duplicates {
		d := &p.Duplicates[i]
		d.CustomerID, d.OtherID = p.resolveRef(d.CustomerID), p.resolveRef(d.OtherID)
		if d.CustomerID > d.OtherID {
			d.CustomerID, d.OtherID = d.OtherID, d.CustomerID
		}
	}
}
