package vault

import "kehu/internal/access"

// Visibility says whether a role sees a field in clear.
type Visibility int

// Visibilities. The zero value is Masked, so a role or field the policy does
// not name is masked: forgetting a rule fails closed.
const (
	Masked Visibility = iota
	// Clear: shown as stored.
	Clear
	// ClearIfOwner: clear on customers the user is the primary relationship
	// manager of, masked on the others.
	ClearIfOwner
)

// MaskedFields are the customer fields the policy can mask, in display
// order; Unmask accepts exactly these.
var maskable = []string{"name", "id_number", "birth_date", "mobile", "email", "address", "account_no"}

// MaskableFields returns the fields a role may see masked and ask to
// unmask.
func MaskableFields() []string { return append([]string(nil), maskable...) }

// policy is the bank's default display policy by role. The reasoning:
//
//   - Nobody sees a full ID number or birth date by default: the front line
//     checks the physical document, and birth date with the region code and
//     the last four digits rebuilds the number.
//   - A relationship manager calls and visits their own customers, so sees
//     their mobile, e-mail, address and birthday in clear (their scope is
//     their own customers anyway).
//   - Tellers, lobby managers, call-centre agents and branch managers see
//     names in clear (they serve people face to face or by phone) and
//     contact details masked; they unmask with a reason when a task needs it.
//   - Marketing operators design campaigns for segments, not people: even
//     names are masked.
//   - Compliance auditors and administrators see masked values like
//     everyone else; an auditor who needs a value unmasks it, on the record.
//   - Data stewards see names (to review duplicates), integration accounts
//     nothing (they cannot read customers anyway).
//   - Account numbers are masked for everyone: the last four digits are how
//     staff and customers refer to an account.
var policy = map[string]map[string]Visibility{
	access.Teller:            {"name": Clear},
	access.LobbyManager:      {"name": Clear},
	access.RelationshipMgr:   {"name": Clear, "mobile": ClearIfOwner, "email": ClearIfOwner, "address": ClearIfOwner, "birth_date": ClearIfOwner},
	access.CallCenterAgent:   {"name": Clear},
	access.BranchManager:     {"name": Clear},
	access.MarketingOperator: {},
	access.ComplianceAuditor: {"name": Clear},
	access.Admin:             {"name": Clear},
	// A data steward compares suspected duplicates by name, like a branch
	// manager reviewing them; everything else stays masked.
	access.DataSteward: {"name": Clear},
	// An integration account reads no customer at all; named so the policy
	// lists every role, and empty so it would see nothing in clear.
	access.Integration: {},
}

// ShowsClear reports whether role sees field in clear on a customer the
// user owns (owner) or not.
func ShowsClear(role, field string, owner bool) bool {
	switch policy[role][field] {
	case Clear:
		return true
	case ClearIfOwner:
		return owner
	}
	return false
}

// VisibilityOf returns the policy entry of role for field, for the data
// dictionary page.
func VisibilityOf(role, field string) Visibility { return policy[role][field] }
