// Package identity decides which customer a record from a source system
// (core banking, credit, cards, wealth, the legacy CRM) is about, and what
// the customer's fields become when sources disagree. Records resolve
// through, in order: the source's own key already linked to a customer;
// the same identity document (type and number, through its blind index);
// the same name, mobile and birth date. Each field then follows its rule —
// the most trusted source wins (name, identity document) or the most recent
// observation wins (mobile, e-mail, address, risk assessment) — and keeps
// its provenance: which system set it and when. Near misses (same name and
// mobile but another birth date; same mobile and birth date under another
// name) create a new customer and queue the pair for a person to review.
//
// The package knows no SQL and no HTTP; internal/store implements Store.
package identity

import (
	"strings"
	"time"

	"kehu/internal/customer"
)

// Fields are the customer attributes survivorship decides, in the order
// their fingerprints are stored. "identity" is the identity document (type
// and number together, with the gender and birth date a resident ID fixes);
// "risk" is the assessed level with its assessment time.
const (
	FieldName              = "name"
	FieldIdentity          = "identity"
	FieldGender            = "gender"
	FieldBirthDate         = "birth_date"
	FieldMobile            = "mobile"
	FieldEmail             = "email"
	FieldAddress           = "address"
	FieldOrg               = "org_id"
	FieldOwner             = "owner_id"
	FieldRisk              = "risk"
	FieldIndustry          = "industry"
	FieldRegisteredCapital = "registered_capital"
)

// Fields lists every survivorship field in fingerprint order. Appending is
// safe (older fingerprints have fewer entries); reordering is not.
var Fields = []string{FieldName, FieldIdentity, FieldGender, FieldBirthDate, FieldMobile, FieldEmail, FieldAddress,
	FieldOrg, FieldOwner, FieldRisk, FieldIndustry, FieldRegisteredCapital}

// Field rules.
const (
	// RulePriority: the value of the most trusted source (lowest priority
	// number) wins; a source may always replace its own value.
	RulePriority = "priority"
	// RuleRecent: the most recent observation wins, whatever its source.
	RuleRecent = "recent"
	// RuleFirst: set when the customer is created (or while empty), never
	// changed by an import afterwards. Moving a customer to another branch
	// or RM is a transfer with a reason (internal/access/entitlement).
	RuleFirst = "first"
)

// SourceKehu names edits made in Kehu itself (UI, API, PIPL
// rectification). It is the most trusted source by default: a correction a
// person made is not undone by the next nightly file.
const SourceKehu = "kehu"

// Ways a record was matched to a customer, stored in customer_sources.
const (
	MatchCreated         = "created"           // the record created the customer
	MatchSource          = "source"            // the source's key was already linked
	MatchIDNumber        = "id_number"         // same identity document
	MatchNameMobileBirth = "name_mobile_birth" // same name, mobile and birth date
)

// Suspected-duplicate rules (duplicate_candidates.rule).
const (
	DupNameMobile  = "name_mobile"  // same name and mobile, different birth date
	DupMobileBirth = "mobile_birth" // same mobile and birth date, different name
)

// Sealed is the stored form of a customer's encrypted fields and blind
// indexes, computed by the importer's workers (so encryption runs beside
// the single database writer) and written as is.
type Sealed struct {
	IDNumber, Mobile, Email, Address string
	IDNumberIndex, MobileIndex       string
}

// Incoming is one validated customer record from a source system.
type Incoming struct {
	Line         int64
	SourceSystem string
	SourceID     string
	// Customer holds the record's values in clear (ID 0). Fields the record
	// leaves empty are absent from Provided and never erase a value.
	Customer customer.Customer
	Sealed   Sealed
	// Provided is read-only: an import shares one map among all records
	// that provide the same fields.
	Provided map[string]bool
	// Prints are the record's field fingerprints (Fingerprints), compared
	// with what this source sent last time: only a field whose value changed
	// in the source is a new observation.
	Prints string
	// AsOf is when the source observed the record: its updated_at column,
	// else the time the import started.
	AsOf time.Time
	// NameKey is the search key of the name (search.NameKey), written with it.
	NameKey string
}

// Fingerprinter computes the keyed fingerprint of a field value (a short
// HMAC under the blind-index key): comparable, but not reversible by
// guessing mobiles or ID numbers.
type Fingerprinter interface {
	Fingerprint(field, value string) string
}

// Fingerprints returns the fingerprints of c's provided fields, joined in
// Fields order ("" for a field not provided).
func Fingerprints(f Fingerprinter, c customer.Customer, provided map[string]bool) string {
	parts := make([]string, len(Fields))
	for i, field := range Fields {
		if provided[field] {
			parts[i] = f.Fingerprint(field, fieldText(c, field))
		}
	}
	return strings.Join(parts, ",")
}

// printAt returns the fingerprint of field in a joined fingerprint string.
func printAt(prints, field string) string {
	for i, f := range Fields {
		if f == field {
			parts := strings.Split(prints, ",")
			if i < len(parts) {
				return parts[i]
			}
			return ""
		}
	}
	return ""
}

// Link is a source record linked to a customer (customer_sources).
type Link struct {
	SourceSystem string
	SourceID     string
	CustomerID   int64
	Origin       bool   // the record created the customer
	MatchedBy    string // Match* constant
	JobID        int64  // the import job that linked it (0: another path)
	Line         int64
	Prints       string // field fingerprints of the source's last record
	// LinkedAt is the observation time of the source's latest record that
	// changed something (customer_sources.observed_at).
	LinkedAt time.Time
	// FirstSeen is when the link was made (customer_sources.linked_at);
	// filled by CustomerLinks only.
	FirstSeen time.Time
}

// Provenance says where a field's current value came from.
type Provenance struct {
	Field        string    `json:"field"`
	SourceSystem string    `json:"source_system"`
	SetAt        time.Time `json:"set_at"`
	JobID        int64     `json:"job_id,omitempty"`
}

// Existing is a stored customer as resolution sees it.
type Existing struct {
	Customer   customer.Customer // clear values
	Sealed     Sealed            // stored ciphertexts, reused when a field does not change
	MergedInto int64
	// Provenance holds the explicit per-field rows; a field without one
	// came from the origin source (Origin) or, with no origin, from Kehu at
	// the customer's creation.
	Provenance map[string]Provenance
	Origin     *Link
}

// provenanceOf returns the provenance of field, explicit or implied.
func (e *Existing) provenanceOf(field string) Provenance {
	if p, ok := e.Provenance[field]; ok {
		return p
	}
	if e.Origin != nil {
		return Provenance{Field: field, SourceSystem: e.Origin.SourceSystem, SetAt: e.Origin.LinkedAt, JobID: e.Origin.JobID}
	}
	return Provenance{Field: field, SourceSystem: SourceKehu, SetAt: e.Customer.CreatedAt}
}

// Rules are the configured survivorship rules: each source system's
// priority (lower is more trusted) and each field's rule.
type Rules struct {
	Priority map[string]int
	Field    map[string]string
}

// rank returns a source's priority; an unknown source ranks last.
func (r Rules) rank(source string) int {
	if p, ok := r.Priority[source]; ok {
		return p
	}
	return 1 << 30
}

// rule returns a field's rule, RulePriority when unconfigured.
func (r Rules) rule(field string) string {
	if x := r.Field[field]; x != "" {
		return x
	}
	return RulePriority
}

// SourceSystem is a configured source of customer data.
type SourceSystem struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	NameEN   string `json:"name_en"`
	Priority int    `json:"priority"`
}
