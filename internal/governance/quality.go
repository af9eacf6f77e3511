package governance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/kehu"
	"kehu/internal/org"
	"kehu/internal/vault"
)

// Run statuses of a measurement (a kehu batch run).
const (
	RunRunning = kehu.RunRunning
	RunDone    = kehu.RunDone
	RunFailed  = kehu.RunFailed
)

// Run is one data-quality measurement.
type Run struct {
	ID          int64      `json:"id"`
	Trigger     string     `json:"trigger"`
	Status      string     `json:"status"`
	StartedBy   *int64     `json:"started_by"`
	StartedAt   time.Time  `json:"started_at"`
	HeartbeatAt time.Time  `json:"heartbeat_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	RowsScanned int64      `json:"rows_scanned"`
	Error       string     `json:"error"`
}

// Example is an invalid value kept to help a steward find the problem: the
// row, the customer it belongs to, the value masked as the vault masks it for
// display (empty for values never shown), and why it is invalid.
type Example struct {
	RowID      int64  `json:"row_id"`
	CustomerID int64  `json:"customer_id"`
	Value      string `json:"value"`
	Reason     string `json:"reason"`
}

// Result is the count of one field at one home organisation in one run.
type Result struct {
	OrgID      int64     `json:"org_id"`
	OrgPath    string    `json:"-"`
	Table      string    `json:"table"`
	Column     string    `json:"column"`
	Applicable int64     `json:"applicable"`
	Filled     int64     `json:"filled"`
	Valid      int64     `json:"valid"`
	Examples   []Example `json:"examples"`
}

// Row is one row of a measured table with its home organisation (a
// customer's; an account's own outlet) and the customer it belongs to.
type Row struct {
	ID           int64
	OrgID        int64
	CustomerID   int64
	CustomerType string
	Values       []any
}

// QualityStore is the storage the measurement needs.
type QualityStore interface {
	// References returns the ids a reference check accepts: "orgs",
	// "users" (active users) and "products".
	References(ctx context.Context) (map[string][]int64, error)
	// ScanRows calls fn for every row of table with columns, in id order,
	// opening encrypted columns; it reads in short batches, not one long
	// transaction. The measurement streams only the fields the database
	// cannot judge (CountingStore).
	ScanRows(ctx context.Context, table string, columns []string, fn func(Row) error) error
	StartRun(ctx context.Context, r Run, staleBefore time.Time) (Run, error)
	ProgressRun(ctx context.Context, id int64, at time.Time, rows int64) error
	FinishRun(ctx context.Context, id int64, status string, at time.Time, rows int64, errText string) error
	// SaveResults stores a run's results and drops those of runs older than
	// the newest keep runs.
	SaveResults(ctx context.Context, runID int64, rs []Result, keep int) error
	Runs(ctx context.Context, limit int) ([]Run, error)
	// LatestRun returns the newest run with status, ENOTFOUND if none.
	LatestRun(ctx context.Context, status string) (Run, error)
	// Results returns a run's results for organisations whose path starts
	// with pathPrefix, with OrgPath set.
	Results(ctx context.Context, runID int64, pathPrefix string) ([]Result, error)
	CountingStore
}

// Quality measures data quality and reports it per field and branch.
type Quality struct {
	store      QualityStore
	dict       *Dictionary
	orgs       *org.Service
	clock      kehu.Clock
	audit      audit.Recorder
	tx         kehu.Transactor
	log        *slog.Logger
	loc        *time.Location
	background context.Context
	wg         sync.WaitGroup
}

// QualityDeps are the collaborators of Quality.
type QualityDeps struct {
	Store      QualityStore
	Dictionary *Dictionary
	Orgs       *org.Service
	Clock      kehu.Clock
	Audit      audit.Recorder
	Tx         kehu.Transactor
	Logger     *slog.Logger
	// Background is the context of runs started from a request (the
	// server's lifetime); nil means context.Background().
	Background context.Context
}

// NewQuality returns a Quality.
func NewQuality(d QualityDeps) *Quality {
	if d.Store == nil || d.Dictionary == nil || d.Orgs == nil || d.Audit == nil || d.Tx == nil {
		panic("governance.NewQuality: Store, Dictionary, Orgs, Audit and Tx are required")
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
	return &Quality{store: d.Store, dict: d.Dictionary, orgs: d.Orgs, clock: d.Clock, audit: d.Audit, tx: d.Tx,
		log: d.Logger, loc: kehu.LoadShanghai(), background: d.Background}
}

// Audit actions of the measurement.
const (
	ActionQualityRun  = "quality.run"  // a measurement ran; Count is the rows scanned
	ActionQualityRead = "quality.read" // results (with masked examples) were shown
)

// Measured tables, in order. Transactions and channel events are measured in
// full too: the database counts them (measure.go).
var measuredTables = []string{"customers", "accounts", "holdings", "transactions", "channel_events"}

// Limits of what a run keeps.
const (
	examplesPerCell = 3  // invalid examples per organisation and field
	keepRuns        = 30 // runs whose results are kept
	progressEvery   = 50_000
)

// Measure runs a measurement now and waits for it: the nightly job and the
// tests. A second run while one is alive is refused (ECONFLICT).
func (q *Quality) Measure(ctx context.Context, trigger string) (Run, error) {
	run, err := q.begin(ctx, trigger)
	if err != nil {
		return Run{}, err
	}
	return q.execute(ctx, run)
}

// StartMeasure starts a measurement in the background for a data steward and
// returns the running run.
func (q *Quality) StartMeasure(ctx context.Context) (Run, error) {
	a, err := access.ActorWith(ctx, access.GovernanceManage)
	if err != nil {
		return Run{}, err
	}
	run, err := q.begin(ctx, "manual")
	if err != nil {
		return Run{}, err
	}
	bg := kehu.WithActor(q.background, a)
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		if _, err := q.execute(bg, run); err != nil {
			q.log.Error("data-quality run failed", "run", run.ID, "err", err)
		}
	}()
	return run, nil
}

// Wait blocks until runs started by StartMeasure have ended.
func (q *Quality) Wait() { q.wg.Wait() }

func (q *Quality) begin(ctx context.Context, trigger string) (Run, error) {
	now := q.clock.Now()
	r := Run{Trigger: trigger, Status: RunRunning, StartedBy: kehu.RunStarter(ctx), StartedAt: now, HeartbeatAt: now}
	return q.store.StartRun(ctx, r, now.Add(-kehu.RunStaleAfter))
}

// execute measures every table and records how the run ended, also when the
// server stops it.
func (q *Quality) execute(ctx context.Context, run Run) (Run, error) {
	results, err := q.measure(ctx, &run)
	end := context.WithoutCancel(ctx)
	now := q.clock.Now()
	if err == nil {
		err = q.tx.WithTx(end, func(ctx context.Context) error { return q.store.SaveResults(ctx, run.ID, results, keepRuns) })
	}
	run.FinishedAt = &now
	run.Status, run.Error = kehu.RunOutcome(err)
	ferr := q.store.FinishRun(end, run.ID, run.Status, now, run.RowsScanned, run.Error)
	entry := audit.Entry{Action: ActionQualityRun, Object: fmt.Sprintf("quality_run:%d", run.ID), Count: int(run.RowsScanned),
		Reason: run.Trigger}
	if err != nil {
		entry.Outcome = "failed"
	}
	rerr := q.audit.Record(end, entry)
	if err != nil {
		return run, fmt.Errorf("data-quality run %d: %w", run.ID, err)
	}
	return run, errors.Join(ferr, rerr)
}

// exampleValue is how an invalid value may appear in the results: masked by
// the vault's display rule; a personal (C2) value without a masking rule, or
// one the vault withholds, not at all; other values cut to 40 characters.
func exampleValue(e Entry, v value, customerType string) string {
	switch {
	case e.Mask == vault.RuleWithhold:
		return ""
	case e.Mask != vault.RuleNone:
		return vault.Mask(e.Mask, v.text, customerType == "corporate")
	case e.Class != vault.C1:
		return ""
	}
	s := v.text
	if v.isAt {
		s = v.at.Format("2006-01-02 15:04:05")
	}
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:40]) + "…"
	}
	return s
}

// Runs lists recent measurements for those who may see the results.
func (q *Quality) Runs(ctx context.Context, limit int) ([]Run, error) {
	if _, err := access.ActorWith(ctx, access.QualityRead); err != nil {
		return nil, err
	}
	return q.store.Runs(ctx, kehu.ClampLimit(limit))
}
