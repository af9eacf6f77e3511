package level

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// Rule version statuses.
const (
	StatusDraft   = "draft"
	StatusActive  = "active"
	StatusRetired = "retired"
)

// Version is one stored version of the rule.
type Version struct {
	Version     int        `json:"version"`
	Status      string     `json:"status"`
	Rule        Rule       `json:"rule"`
	Note        string     `json:"note"`
	CreatedBy   *int64     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	ActivatedBy *int64     `json:"activated_by"`
	ActivatedAt *time.Time `json:"activated_at"`
	RetiredAt   *time.Time `json:"retired_at"`
	// CreatedByName and ActivatedByName are the users' display names.
	CreatedByName   string `json:"created_by_name"`
	ActivatedByName string `json:"activated_by_name"`
}

// Assessment is a customer's stored evaluation.
type Assessment struct {
	CustomerID   int64     `json:"customer_id"`
	Level        string    `json:"level"`
	RuleVersion  int       `json:"rule_version"`
	Metrics      Metrics   `json:"metrics"`
	Contribution int64     `json:"contribution"`
	Reasons      []Reason  `json:"reasons"`
	ComputedAt   time.Time `json:"computed_at"`
	// Computed is false for a customer never evaluated yet: Level is then
	// the stored customers.level and there are no reasons.
	Computed bool `json:"computed"`
}

// Change is one entry of the level-change history.
type Change struct {
	ID          int64     `json:"id"`
	CustomerID  int64     `json:"customer_id"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	RuleVersion int       `json:"rule_version"`
	Trigger     string    `json:"trigger"`
	ChangedAt   time.Time `json:"changed_at"`
}

// Triggers of a recompute, stored on runs and level changes.
const (
	TriggerChange  = "change"  // RecomputeCustomers after a data change
	TriggerNightly = "nightly" // the 02:00 scheduler
	TriggerManual  = "manual"  // an administrator in the UI or API
	TriggerCLI     = "cli"     // kehu levels recompute
	TriggerDemo    = "demo"    // after generating the demo bank
)

// Outcome is one customer's new evaluation, as the store saves it.
type Outcome struct {
	Subject      Subject
	Level        string
	RuleVersion  int
	Metrics      Metrics
	Contribution int64
	Reasons      []Reason
}

// Selection picks the customers of a batch: ids in [From, To), or exactly IDs.
type Selection struct {
	From, To int64
	IDs      []int64
}

// Store is the storage the level service needs.
type Store interface {
	Versions(ctx context.Context) ([]Version, error)
	// Version returns ENOTFOUND for an unknown version.
	Version(ctx context.Context, version int) (Version, error)
	ActiveVersion(ctx context.Context) (Version, error)
	// CreateVersion stores a draft under the next version number.
	CreateVersion(ctx context.Context, v Version) (Version, error)
	// UpdateDraft replaces a draft's rule and note; ECONFLICT when it is no
	// longer a draft.
	UpdateDraft(ctx context.Context, version int, rule Rule, note string, at time.Time) error
	// Activate retires the active version and activates version, a draft
	// (ECONFLICT otherwise), in the transaction in ctx.
	Activate(ctx context.Context, version int, by int64, at time.Time) error

	// CustomerIDBounds returns the smallest and largest customer id (0, 0
	// when there are none).
	CustomerIDBounds(ctx context.Context) (lo, hi int64, err error)
	// LoadBatch loads what the metrics of the selected customers need.
	LoadBatch(ctx context.Context, sel Selection, since time.Time) (Batch, error)
	// StoredMetrics returns the stored metrics of the customers in [from,
	// to), and the subjects with none.
	StoredMetrics(ctx context.Context, from, to int64) (stored []Stored, missing []int64, err error)
	// SaveOutcomes writes evaluations: customer_levels for each, customers'
	// level and AUM where they changed, and a level_changes row per changed
	// level. It returns how many levels changed.
	SaveOutcomes(ctx context.Context, outs []Outcome, trigger string, at time.Time) (int, error)

	// Assessment returns the stored evaluation; ENOTFOUND when the customer
	// was never evaluated.
	Assessment(ctx context.Context, customerID int64) (Assessment, error)
	// CustomerLevel returns customers.level (for customers never evaluated).
	CustomerLevel(ctx context.Context, customerID int64) (string, error)
	Changes(ctx context.Context, customerID int64, limit int) ([]Change, error)
	// ChangesSince returns level changes with id > after, oldest first: the
	// feed other modules (marketing journeys) follow.
	ChangesSince(ctx context.Context, after int64, limit int) ([]Change, error)

	// StartRun inserts a running run unless another run's heartbeat is newer
	// than staleBefore (ECONFLICT).
	StartRun(ctx context.Context, r Run, staleBefore time.Time) (Run, error)
	ProgressRun(ctx context.Context, id int64, at time.Time, customers, changed int64) error
	FinishRun(ctx context.Context, id int64, status string, at time.Time, customers, changed int64, errText string) error
	Runs(ctx context.Context, limit int) ([]Run, error)
	Run(ctx context.Context, id int64) (Run, error)
}

// Stored is a customer with the metrics of its last evaluation.
type Stored struct {
	Subject    Subject
	Metrics    Metrics
	ComputedAt time.Time
}

// Service is the customer-level engine: rule versions, evaluation, recompute.
type Service struct {
	store     Store
	customers *customer.Service
	clock     kehu.Clock
	audit     audit.Recorder
	tx        kehu.Transactor
	log       *slog.Logger
	loc       *time.Location
	batchSize int
	// background is the context of runs started by StartRecompute: the
	// server's, so they stop with it; wg lets the server wait for them.
	background context.Context
	wg         sync.WaitGroup
}

// Deps are the collaborators of a Service.
type Deps struct {
	Store     Store
	Customers *customer.Service
	Clock     kehu.Clock
	Audit     audit.Recorder
	Tx        kehu.Transactor
	Logger    *slog.Logger
	// Background is the context asynchronous recomputes run under (the
	// server's lifetime); nil means context.Background().
	Background context.Context
	// BatchSize is how many consecutive customer ids one batch of a full
	// recompute covers (default 5,000): one commit each.
	BatchSize int
}

// NewService returns a Service. Audit, Tx and Customers are required.
func NewService(d Deps) *Service {
	if d.Audit == nil || d.Tx == nil || d.Store == nil {
		panic("level.NewService: Store, Audit and Tx are required")
	}
	if d.Clock == nil {
		d.Clock = kehu.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Background == nil {
		d.Background = context.Background()
	}
	if d.BatchSize <= 0 {
		d.BatchSize = 5_000
	}
	return &Service{store: d.Store, customers: d.Customers, clock: d.Clock, audit: d.Audit, tx: d.Tx, log: d.Logger,
		loc: kehu.LoadShanghai(), batchSize: d.BatchSize, background: d.Background}
}

// Wait blocks until the recomputes started by StartRecompute have ended.
func (s *Service) Wait() { s.wg.Wait() }
