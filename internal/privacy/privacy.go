// Package privacy implements the data-subject rights of PIPL (个人信息保护法)
// — access and export, rectification, withdrawal of marketing consent,
// erasure — as tracked requests with statutory deadlines, the per-channel
// marketing consents the contact policy reads, and the control of bulk
// exports (approval above a threshold, alerts for compliance). It knows no
// HTTP or SQL; docs/PRIVACY.md describes the rules.
package privacy

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"kehu/internal/account"
	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// Request kinds: the rights a data subject exercises.
const (
	KindAccess          = "access"           // a copy of the data (export)
	KindRectify         = "rectify"          // correct inaccurate data
	KindWithdrawConsent = "withdraw_consent" // stop marketing on some or all channels
	KindErase           = "erase"            // delete or anonymise
)

// Kinds lists the request kinds.
var Kinds = []string{KindAccess, KindRectify, KindWithdrawConsent, KindErase}

// Request statuses: received → in_progress → completed or rejected.
const (
	StatusReceived   = "received"
	StatusInProgress = "in_progress"
	StatusCompleted  = "completed"
	StatusRejected   = "rejected"
)

// Statuses lists the request statuses in workflow order.
var Statuses = []string{StatusReceived, StatusInProgress, StatusCompleted, StatusRejected}

// MaxNotes bounds free text on requests, in characters.
const MaxNotes = 2000

// Request is one data-subject request and where it stands.
type Request struct {
	ID          int64
	Kind        string
	CustomerID  int64
	ReceivedAt  time.Time
	DueOn       kehu.Date // the statutory deadline, inclusive
	Status      string
	HandlerID   *int64
	HandlerName string
	Notes       string
	Reason      string // why it was rejected
	CreatedBy   int64
	ClosedAt    *time.Time
	UpdatedAt   time.Time
	// Overdue is computed on reading: still open after DueOn.
	Overdue bool
}

// Open reports whether the request still awaits an answer.
func (r Request) Open() bool { return r.Status == StatusReceived || r.Status == StatusInProgress }

// NewRequest files a request.
type NewRequest struct {
	Kind       string
	CustomerID int64
	Notes      string
}

// RequestFilter selects requests for a list. Scope is set by the service.
type RequestFilter struct {
	Status     string
	CustomerID int64
	Limit      int
	After      kehu.Cursor
	Scope      customer.ScopeFilter
}

// RequestPage is one page of requests, newest first.
type RequestPage struct {
	Items      []Request
	NextCursor kehu.Cursor
}

// Completion is what completing a request applies: Corrections for a
// rectification, Channels (none: all) for a consent withdrawal.
type Completion struct {
	Corrections *customer.Update
	Channels    []string
	Notes       string
}

// Marketing channels a customer consents to per channel.
const (
	ChannelSMS     = "sms"
	ChannelAppPush = "app_push"
	ChannelEmail   = "email"
	ChannelWeChat  = "wechat"
	ChannelPhone   = "phone"
	ChannelRMVisit = "rm_visit"
)

// Channels lists the marketing channels.
var Channels = []string{ChannelSMS, ChannelAppPush, ChannelEmail, ChannelWeChat, ChannelPhone, ChannelRMVisit}

// Consent sources: how the customer told the bank.
var Sources = []string{"counter", "phone", "online", "written", "privacy_request", "erasure"}

// Consent is a customer's marketing consent on one channel. A channel never
// answered has Granted false and ChangedAt nil: marketing needs an opt-in.
type Consent struct {
	Channel   string     `json:"channel"`
	Granted   bool       `json:"granted"`
	ChangedAt *time.Time `json:"changed_at"`
	Source    string     `json:"source"`
	ChangedBy *int64     `json:"changed_by"`
}

// ConsentChange grants or withdraws one channel.
type ConsentChange struct {
	Channel string
	Granted bool
}

// Event is a channel event of the customer (app, web, WeChat behaviour).
type Event struct {
	ID         int64           `json:"id"`
	OccurredAt time.Time       `json:"occurred_at"`
	Channel    string          `json:"channel"`
	Kind       string          `json:"kind"`
	ProductID  *int64          `json:"product_id"`
	Detail     json.RawMessage `json:"detail"`
}

// Interaction is a contact between staff and the customer.
type Interaction struct {
	ID         int64     `json:"id"`
	UserID     int64     `json:"user_id"`
	OccurredAt time.Time `json:"occurred_at"`
	Channel    string    `json:"channel"`
	Purpose    string    `json:"purpose"`
	ProductID  *int64    `json:"product_id"`
	Response   string    `json:"response"`
	Note       string    `json:"note"`
}

// ExportFormat names the layout of Export, so a reader can tell versions
// apart.
const ExportFormat = "kehu.privacy.export/v1"

// MaxExportRows bounds each list in an export; a customer beyond it (a
// company with a lifetime of transactions) is exported by the data team.
const MaxExportRows = 100000

// Export is everything the bank holds about one customer, in clear: the
// subject is entitled to their own data (PIPL Art. 45).
type Export struct {
	Format        string                 `json:"format"`
	GeneratedAt   time.Time              `json:"generated_at"`
	Customer      customer.Customer      `json:"customer"`
	Accounts      []account.Account      `json:"accounts"`
	Holdings      []account.Holding      `json:"holdings"`
	Transactions  []account.Transaction  `json:"transactions"`
	Relationships []account.Relationship `json:"relationships"`
	Tags          []account.Tag          `json:"tags"`
	Events        []Event                `json:"events"`
	Interactions  []Interaction          `json:"interactions"`
	Consents      []Consent              `json:"consents"`
	Requests      []ExportedRequest      `json:"privacy_requests"`
}

// Rows counts the records in e, for the audit record of the export.
func (e Export) Rows() int {
	n := 0
	for _, s := range e.Sections() {
		n += s.Records
	}
	return n
}

// ExportSection is one part of an export and how many records it holds.
type ExportSection struct {
	Name    string // the export's JSON key
	Records int
}

// Sections lists what e holds, part by part, in the export's order: the
// audit record of the export names them, so the trail says what was handed
// over, not only how much.
func (e Export) Sections() []ExportSection {
	return []ExportSection{{"customer", 1}, {"accounts", len(e.Accounts)}, {"holdings", len(e.Holdings)},
		{"transactions", len(e.Transactions)}, {"relationships", len(e.Relationships)}, {"tags", len(e.Tags)},
		{"events", len(e.Events)}, {"interactions", len(e.Interactions)}, {"consents", len(e.Consents)},
		{"privacy_requests", len(e.Requests)}}
}

// ExportedRequest is a request as the subject sees it in their export.
type ExportedRequest struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"kind"`
	ReceivedAt time.Time `json:"received_at"`
	DueOn      kehu.Date `json:"due_on"`
	Status     string    `json:"status"`
}

// Erasure is what the store does to anonymise one customer.
type Erasure struct {
	CustomerID    int64
	At            time.Time
	RetainedFor   string
	RetainedUntil kehu.Date
}

// AMLRetentionYears is the minimum retention of customer identification and
// transaction records after the business relationship ends (反洗钱法 Art. 19).
const AMLRetentionYears = 5

// AMLReason is the retained_for flag of records kept under the AML law.
const AMLReason = "aml_retention"

// Bulk-export approval statuses.
const (
	ApprovalPending  = "pending"
	ApprovalApproved = "approved"
	ApprovalDenied   = "denied"
	ApprovalUsed     = "used"
)

// Approval lets one user export or list up to MaxCustomers customers in one
// request, once, before ExpiresAt.
type Approval struct {
	ID            int64
	RequesterID   int64
	RequesterName string
	Reason        string
	MaxCustomers  int
	Status        string
	CreatedAt     time.Time
	DecidedBy     *int64
	DecidedAt     *time.Time
	Comment       string
	ExpiresAt     *time.Time
	UsedAt        *time.Time
}

// Alert kinds for compliance.
const (
	AlertBulkRefused  = "bulk_export_refused"
	AlertBulkApproved = "bulk_export_approved"
)

// Alert tells compliance about a bulk export above the threshold.
type Alert struct {
	ID        int64
	Kind      string
	UserID    int64
	Username  string
	Customers int64
	Threshold int64
	Detail    string
	CreatedAt time.Time
}

// AlertFilter selects alerts, newest first, raised by users homed under
// OrgPath (set by the service from the actor).
type AlertFilter struct {
	OrgPath string
	Limit   int
	After   kehu.Cursor
}

// AlertPage is one page of alerts.
type AlertPage struct {
	Items      []Alert
	NextCursor kehu.Cursor
}

// ErrApprovalRequired is the kind of error a bulk export above the
// threshold without an approval returns; errors.Is finds it.
var ErrApprovalRequired = errors.New("approval required")

// ApprovalRequiredError says how many customers a refused bulk request would
// have returned and the threshold it crossed. It is also a kehu EFORBIDDEN
// error, so callers that know nothing of it still answer 403.
type ApprovalRequiredError struct {
	Customers int64 // matching customers in this request
	UsedToday int64 // customers already shown to the user today
	Threshold int64
}

func (e *ApprovalRequiredError) Error() string {
	return fmt.Sprintf("%d customers (%d already today) exceed the bulk threshold of %d: an approved bulk-export request is needed",
		e.Customers, e.UsedToday, e.Threshold)
}

// Unwrap exposes the sentinel and the forbidden code.
func (e *ApprovalRequiredError) Unwrap() []error {
	return []error{ErrApprovalRequired, kehu.Errorf(kehu.EFORBIDDEN, "%s", e.Error())}
}

// validKind and friends check enumerations.
func validKind(k string) bool    { return slices.Contains(Kinds, k) }
func validChannel(c string) bool { return slices.Contains(Channels, c) }
