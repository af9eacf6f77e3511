// Package audit is the bank's tamper-evident record of who did what to which
// customer: every read of personal data, every change (old → new per field),
// every export, login, permission change and approval. Services record
// entries through the Recorder interface inside the same transaction as the
// change they describe, so a change without its audit record cannot commit.
package audit

import "context"

// Actions recorded. They are stable identifiers, stored and searched.
const (
	CustomerList   = "customer.list"   // a list or search; Count says how many rows were shown
	CustomerRead   = "customer.read"   // one customer's personal data was shown
	CustomerCreate = "customer.create" // Changes hold the initial values
	CustomerUpdate = "customer.update" // Changes hold old → new per field
	CustomerUnmask = "customer.unmask" // a masked field was shown in clear; Reason is required
	CustomerExport = "customer.export"
	LoginOK        = "auth.login"
	LoginFailed    = "auth.login_failed"
	Logout         = "auth.logout"
)

// Actions of ownership and wider access (internal/access). Object names the
// request or grant ("access_request:3", "grant:7"); Reason holds the stated
// why.
const (
	CustomerTransfer  = "customer.transfer"     // primary RM changed; Changes hold owner_id old → new
	CustomerSecondary = "customer.secondary_rm" // a secondary RM added or removed
	AccessRequest     = "access.request"        // temporary access asked for
	AccessGrant       = "access.grant"          // a request approved: a grant until its expiry
	AccessDeny        = "access.deny"
	AccessRevoke      = "access.revoke"
	AccessBreakGlass  = "access.break_glass" // a call-centre agent opened a customer without approval
	AccessReview      = "access.review"      // compliance reviewed a break-glass opening
)

// Actions of data-subject rights and bulk-export control (internal/privacy).
// Object names the request ("privacy_request:3", "bulk_approval:2") or the
// customer; Changes never hold personal values in clear.
const (
	PrivacyRequest  = "privacy.request"      // a request filed, started, completed or rejected
	PrivacyRectify  = "privacy.rectify"      // a rectification applied (customer.update holds old → new)
	PrivacyErase    = "privacy.erase"        // a customer anonymised; Changes name the fields, not values
	ConsentRead     = "consent.read"         // a customer's marketing consents were shown
	ConsentChange   = "consent.change"       // consents granted or withdrawn; Changes per channel
	BulkApproval    = "bulk_export.approval" // a bulk-export approval asked for or decided
	ComplianceAlert = "compliance.alerts"    // the compliance alerts were read
)

// Actions of user administration: permission changes the trust rules want on
// the trail. Object is "user:<id>"; Username names the account changed.
const (
	UserCreate    = "user.create"     // Changes hold role and organisation
	UserPassword  = "user.password"   // an operator reset the password
	UserDisable   = "user.disable"    // sessions ended
	UserEnable    = "user.enable"     //
	UserTOTPReset = "user.totp_reset" // second factor removed (a lost phone)
	// AccessDenied is a request refused for want of a permission or token
	// scope before any service ran; Object is the route, Reason the refusal.
	AccessDenied = "access.denied"
)

// Change is one field's change. Values of personal fields are recorded
// masked (the audit trail must not become a second copy of the data).
type Change struct {
	Field string `json:"field"`
	Old   string `json:"old,omitempty"`
	New   string `json:"new,omitempty"`
}

// Entry is what a service reports; the recorder adds who (the actor in the
// context: user, role, organisation, session, IP, user agent), when, and the
// hash chain.
type Entry struct {
	Action     string
	CustomerID int64  // 0 when the entry concerns no single customer
	Object     string // what was acted on, e.g. "customer:42", "user:7", "grant:3"
	Changes    []Change
	Reason     string // why, when the action needs a reason (unmask, access request)
	Count      int    // rows shown or exported, for lists, searches and exports
	Outcome    string // "" or "ok"; "denied" or "failed" for refused attempts
	// Username names the subject of an attempt made without an actor, such
	// as a failed login.
	Username string
}

// Recorder appends entries to the audit trail. Record must be called with
// the context of the transaction that makes the change (see kehu.Transactor)
// so the entry commits or rolls back with it.
type Recorder interface {
	Record(ctx context.Context, e Entry) error
}
