package privacy

import (
	"context"
	"time"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// Store is the storage the privacy service needs. Methods taking a
// customer.ScopeFilter must apply it exactly as the customer store does.
type Store interface {
	CreateRequest(ctx context.Context, r Request) (Request, error)
	// GetRequest returns ENOTFOUND for an unknown id or one whose customer
	// lies outside scope.
	GetRequest(ctx context.Context, id int64, scope customer.ScopeFilter) (Request, error)
	ListRequests(ctx context.Context, f RequestFilter) (RequestPage, error)
	UpdateRequest(ctx context.Context, r Request) error

	Consents(ctx context.Context, customerID int64) ([]Consent, error)
	SetConsent(ctx context.Context, customerID int64, c Consent) error
	// ConsentedCustomers returns which of ids have granted channel.
	ConsentedCustomers(ctx context.Context, channel string, ids []int64) (map[int64]bool, error)

	// ExportData reads everything about a customer in scope, in clear;
	// ENOTFOUND outside scope.
	ExportData(ctx context.Context, customerID int64, scope customer.ScopeFilter, limit int) (Export, error)
	// OpenAccounts counts the customer's accounts not closed.
	OpenAccounts(ctx context.Context, customerID int64) (int, error)
	EraseCustomer(ctx context.Context, e Erasure) error

	CountCustomers(ctx context.Context, f customer.Filter) (int64, error)
	// EachCustomer calls fn for every customer f matches, in id order.
	EachCustomer(ctx context.Context, f customer.Filter, fn func(customer.Customer) error) error
	// CustomersShownSince sums the customers listed or exported to username
	// since t, from the audit trail.
	CustomersShownSince(ctx context.Context, username string, t time.Time) (int64, error)

	CreateApproval(ctx context.Context, a Approval) (Approval, error)
	// GetApproval returns ENOTFOUND for an unknown id or a requester homed
	// outside orgPath.
	GetApproval(ctx context.Context, id int64, orgPath string) (Approval, error)
	ListApprovals(ctx context.Context, status, orgPath string, limit int) ([]Approval, error)
	UpdateApproval(ctx context.Context, a Approval) error
	// UsableApproval returns an approved, unused, unexpired approval of user
	// for at least n customers, ENOTFOUND if none.
	UsableApproval(ctx context.Context, userID int64, n int64, now time.Time) (Approval, error)

	CreateAlert(ctx context.Context, a Alert) (Alert, error)
	ListAlerts(ctx context.Context, f AlertFilter) (AlertPage, error)
}

// Config holds the bank's privacy settings.
type Config struct {
	// BulkThreshold is the most customers one user may list or export in one
	// request, and in one day counting list pages, without an approval.
	BulkThreshold int64
	// Calendar computes statutory deadlines.
	Calendar Calendar
	// ApprovalValidity is how long an approved bulk export may be used.
	ApprovalValidity time.Duration
}

// DefaultBulkThreshold is the threshold when none is configured.
const DefaultBulkThreshold = 1000

// Service handles data-subject requests, consents and bulk exports. Every
// step is recorded in the audit trail in the transaction that makes it.
type Service struct {
	store     Store
	customers *customer.Service
	clock     kehu.Clock
	audit     audit.Recorder
	tx        kehu.Transactor
	cfg       Config
}

// Deps are the collaborators of a Service. Customers is the customer
// service: scope comes from it and rectifications go through its Update,
// so its validation and audit apply.
type Deps struct {
	Store     Store
	Customers *customer.Service
	Clock     kehu.Clock
	Audit     audit.Recorder
	Tx        kehu.Transactor
	Config    Config
}

// NewService returns a Service. Like customer.NewService it panics without
// Audit or Tx, a wiring mistake.
func NewService(d Deps) *Service {
	if d.Audit == nil || d.Tx == nil || d.Customers == nil {
		panic("privacy.NewService: Deps.Audit, Deps.Tx and Deps.Customers are required")
	}
	if d.Config.BulkThreshold <= 0 {
		d.Config.BulkThreshold = DefaultBulkThreshold
	}
	if d.Config.ApprovalValidity <= 0 {
		d.Config.ApprovalValidity = 24 * time.Hour
	}
	if d.Config.Calendar.holidays == nil {
		d.Config.Calendar = NewCalendar(nil, nil)
	}
	return &Service{store: d.Store, customers: d.Customers, clock: d.Clock, audit: d.Audit, tx: d.Tx, cfg: d.Config}
}

// BulkThreshold returns the configured threshold, for pages that explain it.
func (s *Service) BulkThreshold() int64 { return s.cfg.BulkThreshold }

// manager returns the actor if it may handle privacy requests, with its
// customer read scope.
func (s *Service) manager(ctx context.Context) (kehu.Actor, customer.ScopeFilter, error) {
	a, err := access.ActorWith(ctx, access.PrivacyManage)
	if err != nil {
		return a, customer.ScopeFilter{}, err
	}
	scope, err := s.customers.ReadScope(ctx)
	return a, scope, err
}

// visible fails with ENOTFOUND unless customer id is in the actor's scope.
func (s *Service) visible(ctx context.Context, id int64) error {
	ok, err := s.customers.Visible(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return kehu.Errorf(kehu.ENOTFOUND, "customer not found")
	}
	return nil
}
