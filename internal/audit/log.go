package audit

import (
	"context"
	"fmt"
	"time"

	"kehu/internal/kehu"
)

// Store is the storage the audit log needs. Append and the chain head are
// called inside a transaction (kehu.Transactor); implementations keep the
// table append-only.
type Store interface {
	// LockChain serialises appends until the transaction in ctx ends and
	// returns the id and hash of the newest record, or of the last purged one
	// when every record was purged, or (0, Genesis) for an empty trail.
	LockChain(ctx context.Context) (lastID int64, lastHash string, err error)
	// AppendRecord inserts r with its id.
	AppendRecord(ctx context.Context, r Record) error
	// SearchRecords returns up to limit records matching f, newest first,
	// with ids below f.After.AfterID when set.
	SearchRecords(ctx context.Context, f Filter, limit int) ([]Record, error)
	// EachRecord calls fn for every record, oldest first. A row that cannot
	// be decoded is reported as *DamagedError.
	EachRecord(ctx context.Context, fn func(Record) error) error
	// LastCheckpoint returns the newest purge checkpoint, ok false if none.
	LastCheckpoint(ctx context.Context) (c Checkpoint, ok bool, err error)
	// PurgeBefore deletes the oldest records, those up to the newest one
	// written before cutoff, after recording a checkpoint of it, all in the
	// transaction in ctx. Zero Checkpoint.Purged means nothing was old enough.
	PurgeBefore(ctx context.Context, cutoff, now time.Time) (Checkpoint, error)
}

// Log is the audit trail: it implements Recorder, and lets auditors search,
// export and verify the chain.
type Log struct {
	store Store
	tx    kehu.Transactor
	clock kehu.Clock
}

// NewLog returns a Log over store. tx must be the Transactor the services use,
// so a record joins the transaction of the change it describes.
func NewLog(store Store, tx kehu.Transactor, clock kehu.Clock) *Log {
	return &Log{store: store, tx: tx, clock: clock}
}

// Record appends e to the chain, attributed to the actor in ctx. It joins the
// transaction in ctx, or runs in its own.
func (l *Log) Record(ctx context.Context, e Entry) error {
	if e.Action == "" {
		return fmt.Errorf("audit: entry without action")
	}
	r := Record{At: l.clock.Now().UTC().Truncate(time.Microsecond), Action: e.Action, CustomerID: e.CustomerID,
		Object: e.Object, Reason: e.Reason, Count: e.Count, Outcome: e.Outcome, Username: e.Username}
	if a, ok := kehu.ActorFrom(ctx); ok {
		r.ActorID, r.Role, r.OrgID, r.SessionID = a.UserID, a.Role, a.OrgID, a.SessionID
		r.IP, r.UserAgent = a.IP, a.UserAgent
		if a.Username != "" {
			r.Username = a.Username
		}
	}
	for _, c := range e.Changes {
		r.Changes = append(r.Changes, MaskChange(c))
	}
	err := l.tx.WithTx(ctx, func(ctx context.Context) error {
		lastID, lastHash, err := l.store.LockChain(ctx)
		if err != nil {
			return err
		}
		r.ID, r.PrevHash = lastID+1, lastHash
		r.Hash = r.ComputeHash()
		return l.store.AppendRecord(ctx, r)
	})
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}
