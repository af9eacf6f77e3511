// Package importer loads files from the bank's source systems (core
// banking, credit, cards, wealth, the legacy CRM) into Kehu: customers,
// accounts, holdings, transactions, relationships and channel events, as
// CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) or XLSX. Files are read as a
// stream in bounded memory; every row is validated, good rows are upserted
// idempotently in batches (each batch one transaction with the job's
// counts and checkpoint, so a killed import resumes where it stopped), bad
// rows go to a reject report with line, column and reason. Customers go
// through identity resolution (internal/identity).
//
// docs/IMPORT.md describes the columns, rules and guarantees.
package importer

import (
	"context"
	"time"

	"kehu/internal/kehu"
)

// Job statuses.
const (
	StatusQueued     = "queued"
	StatusRunning    = "running"
	StatusDone       = "done"
	StatusFailed     = "failed"
	StatusCancelled  = "cancelled"
	StatusRolledBack = "rolled_back"
)

// Counts are what a job did with the rows of its file. Accepted =
// Created + Updated + Unchanged; Total = Accepted + Rejected once a job is
// done. Merged counts accepted customer records linked to a customer that
// already existed (by identity document, or name, mobile and birth date);
// Suspected counts the suspected-duplicate pairs queued.
type Counts struct {
	Total     int64 `json:"total"`
	Accepted  int64 `json:"accepted"`
	Rejected  int64 `json:"rejected"`
	Created   int64 `json:"created"`
	Updated   int64 `json:"updated"`
	Unchanged int64 `json:"unchanged"`
	Merged    int64 `json:"merged"`
	Suspected int64 `json:"suspected"`
}

func (c *Counts) add(o Counts) {
	c.Total += o.Total
	c.Accepted += o.Accepted
	c.Rejected += o.Rejected
	c.Created += o.Created
	c.Updated += o.Updated
	c.Unchanged += o.Unchanged
	c.Merged += o.Merged
	c.Suspected += o.Suspected
}

// Changes is how many rows were written: zero on a re-run of the same file.
func (c Counts) Changes() int64 { return c.Created + c.Updated }

// Job is one import of one file.
type Job struct {
	ID           int64  `json:"id"`
	Kind         string `json:"kind"`
	FileName     string `json:"file_name"`
	SHA256       string `json:"sha256"`
	FileSize     int64  `json:"file_size"`
	FilePath     string `json:"-"` // where the server keeps the upload, for resume
	Encoding     string `json:"encoding"`
	SourceSystem string `json:"source_system"`
	// Mapping overrides the suggested column mapping: file header →
	// canonical column ("" ignores the column).
	Mapping        map[string]string `json:"mapping,omitempty"`
	Status         string            `json:"status"`
	Counts         Counts            `json:"counts"`
	CheckpointLine int64             `json:"checkpoint_line"`
	Error          string            `json:"error,omitempty"`
	CreatedBy      int64             `json:"created_by,omitempty"`
	CreatedByName  string            `json:"created_by_name"`
	ActorRole      string            `json:"-"`
	ActorOrgID     int64             `json:"-"`
	CreatedAt      time.Time         `json:"created_at"`
	StartedAt      *time.Time        `json:"started_at"`
	FinishedAt     *time.Time        `json:"finished_at"`
	HeartbeatAt    *time.Time        `json:"heartbeat_at"`
}

// staleAfter is how long a running job may go without a heartbeat before it
// counts as interrupted (its process died): batches write one every few
// seconds at most.
const staleAfter = 2 * time.Minute

// Interrupted reports whether a running job's worker has stopped.
func (j Job) Interrupted(now time.Time) bool {
	return j.Status == StatusRunning && (j.HeartbeatAt == nil || now.Sub(*j.HeartbeatAt) > staleAfter)
}

// Resumable reports whether the job may be resumed from its checkpoint.
func (j Job) Resumable(now time.Time) bool {
	return j.Status == StatusFailed || j.Interrupted(now)
}

// Reject is one rejected row (and column) of a job.
type Reject struct {
	Line   int64  `json:"line"`
	Column string `json:"column"`
	Reason string `json:"reason"`
}

// Progress is what one committed batch adds to a job.
type Progress struct {
	Counts     Counts // the job's totals after the batch
	Checkpoint int64  // the last file line the batch covered
	Rejects    []Reject
	At         time.Time
}

// JobFilter selects jobs for the list: newest first, before an id.
type JobFilter struct {
	CreatedBy int64  // 0: everybody's
	Status    string // "": any status
	Before    int64
	Limit     int
}

// CustomerInfo is a referenced customer as the asset kinds need it.
type CustomerInfo struct {
	ID      int64
	OrgID   int64
	OwnerID *int64
	Status  string
}

// AccountInfo is a stored account, by blind index of its number.
type AccountInfo struct {
	ID          int64
	Index       string
	CustomerID  int64
	ProductID   int64
	Currency    string
	Balance     int64
	CreditLimit int64
	Status      string
	OrgID       int64
	OpenedOn    kehu.Date
	MaturesOn   kehu.Date
}

// HoldingInfo is a stored holding.
type HoldingInfo struct {
	ID         int64
	AccountID  int64
	CustomerID int64
	ProductID  int64
	Amount     int64
	Cost       int64
	AcquiredOn kehu.Date
	MaturesOn  kehu.Date
}

// RelInfo is a stored relationship.
type RelInfo struct {
	ID      int64
	From    int64
	To      int64
	Kind    string
	ShareBP int
}

// ImportKey is the idempotency key of a row an import created.
type ImportKey struct {
	Kind, Source, Key string
	RowID             int64
	JobID             int64
	Line              int64
}

// Store is the storage of jobs and of the asset kinds' rows.
type Store interface {
	// CreateJob stores a queued job; ECONFLICT when the same file (by
	// SHA-256) of the same kind is queued or running.
	CreateJob(ctx context.Context, j Job) (Job, error)
	Job(ctx context.Context, id int64) (Job, error)
	Jobs(ctx context.Context, f JobFilter) ([]Job, error)
	// ClaimJob moves a queued job, or a running one whose heartbeat is
	// older than stale, to running. ECONFLICT when another worker holds it.
	ClaimJob(ctx context.Context, id int64, now, stale time.Time) (Job, error)
	// SaveProgress stores a batch's rejects, counts, checkpoint and
	// heartbeat, in the transaction of ctx.
	SaveProgress(ctx context.Context, id int64, p Progress) error
	Heartbeat(ctx context.Context, id int64, now time.Time) error
	// FinishJob sets a final status (done, failed, cancelled, rolled_back).
	FinishJob(ctx context.Context, id int64, status, errText string, now time.Time) error
	SetEncoding(ctx context.Context, id int64, encoding, source string) error
	Rejects(ctx context.Context, id int64, fn func(Reject) error) error
	// RejectedLines returns the lines up to upTo that were rejected.
	RejectedLines(ctx context.Context, id int64, upTo int64) (map[int64]bool, error)
	Refs(ctx context.Context) (*Refs, error)
	// ActorOf returns the user who started a job as an actor, and whether
	// that user is still active.
	ActorOf(ctx context.Context, userID int64) (kehu.Actor, bool, error)

	// Reference lookups of a batch.
	CustomersBySource(ctx context.Context, source string, ids []string) (map[string]CustomerInfo, error)
	CustomersByIdentity(ctx context.Context, keys []IdentityRef) (map[IdentityRef]CustomerInfo, error)
	CustomersByID(ctx context.Context, ids []int64) (map[int64]CustomerInfo, error)
	AccountsByIndex(ctx context.Context, indexes []string) (map[string]AccountInfo, error)
	Keys(ctx context.Context, kind, source string, keys []string) (map[string]ImportKey, error)
	HoldingsByID(ctx context.Context, ids []int64) (map[int64]HoldingInfo, error)
	// HoldingsByCustomer returns every holding of the customers (through
	// holdings_customer; holdings have no account index).
	HoldingsByCustomer(ctx context.Context, customerIDs []int64) ([]HoldingInfo, error)
	RelationshipsOf(ctx context.Context, fromIDs []int64) ([]RelInfo, error)

	// Writes of a batch, in the transaction of ctx.
	InsertAccounts(ctx context.Context, rows []AccountWrite) (map[string]int64, error)
	UpdateAccount(ctx context.Context, a AccountInfo) error
	InsertHolding(ctx context.Context, h HoldingInfo) (int64, error)
	UpdateHolding(ctx context.Context, h HoldingInfo) error
	InsertTransaction(ctx context.Context, t TxnWrite) (int64, error)
	InsertRelationship(ctx context.Context, r RelInfo, now time.Time) (int64, error)
	UpdateRelationshipShare(ctx context.Context, id int64, shareBP int) error
	InsertEvent(ctx context.Context, e EventWrite) (int64, error)
	InsertKeys(ctx context.Context, keys []ImportKey) error
	// RecomputeAUM sets customers.aum (deposits plus holdings' market
	// value) and, with levelOf, the level of the customers given, writing
	// only those that changed.
	RecomputeAUM(ctx context.Context, ids []int64, levelOf func(aum int64) string) error

	// TuneForImport prepares the database for a long run of batches and
	// returns what undoes it.
	TuneForImport(ctx context.Context) (func(), error)
	// DeferCustomerIndexes drops the customers' search and scope indexes
	// for a load of about expectRows rows when it is at least minRows and
	// more than the customers already stored, and reports whether it did;
	// RestoreDeferredIndexes builds the job's deferred indexes again.
	// With identityToo the identity document and mobile indexes go too (an
	// initial load, which reads neither); BuildIdentityIndexes builds those
	// again in the transaction of ctx.
	DeferCustomerIndexes(ctx context.Context, jobID, expectRows, minRows int64, identityToo bool) (bool, error)
	RestoreDeferredIndexes(ctx context.Context, jobID int64) (int, error)
	BuildIdentityIndexes(ctx context.Context) error
	// AppendOnlyCache sizes the page cache for a load that only appends
	// (on: every customers index it would insert into at random is
	// deferred) or for one that inserts into indexes (off), in the
	// transaction of ctx if there is one.
	AppendOnlyCache(ctx context.Context, on bool) error
	LoadMarker

	// Rollback deletes what job id created (see docs/IMPORT.md).
	Rollback(ctx context.Context, id int64) (RollbackResult, error)
}

// IdentityRef is an identity document reference: type and blind index.
type IdentityRef struct{ IDType, Index string }

// AccountWrite is an account to insert: its sealed number and index with
// the stored columns.
type AccountWrite struct {
	AccountInfo
	Sealed string
}

// TxnWrite is a transaction to insert.
type TxnWrite struct {
	AccountID, CustomerID int64
	OccurredAt            time.Time
	Amount, BalanceAfter  int64
	Kind, Channel         string
	Counterparty          string
	Description           string
}

// EventWrite is a channel event to insert.
type EventWrite struct {
	CustomerID int64
	OccurredAt time.Time
	Channel    string
	Kind       string
	ProductID  *int64
	Detail     string
	ReceivedAt time.Time
}

// RollbackResult says what a rollback removed and what it kept.
type RollbackResult struct {
	Customers     int64 `json:"customers"`
	CustomersKept int64 `json:"customers_kept"` // created by the job but referenced since
	Links         int64 `json:"links"`
	Accounts      int64 `json:"accounts"`
	AccountsKept  int64 `json:"accounts_kept"`
	Holdings      int64 `json:"holdings"`
	Transactions  int64 `json:"transactions"`
	Relationships int64 `json:"relationships"`
	Events        int64 `json:"events"`
	Duplicates    int64 `json:"suspected_duplicates"`
	// Touched are the customers whose AUM may have changed.
	Touched []int64 `json:"-"`
}
