package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kehu/internal/kehu"
)

// MinRetention is the shortest retention the purge accepts: banks must keep
// access records for at least six months.
const MinRetention = 180 * 24 * time.Hour

// DefaultRetention is used when no retention is configured.
const DefaultRetention = MinRetention

// Checkpoint records a retention purge: records up to LastID were deleted and
// LastHash was the hash of that record, so the next one must point at it.
type Checkpoint struct {
	ID       int64
	PurgedAt time.Time
	Cutoff   time.Time
	LastID   int64
	LastHash string
	Purged   int64
}

// VerifyResult is the outcome of walking the chain.
type VerifyResult struct {
	Records int64 // records checked
	// BrokenID is the first record whose link or hash is wrong, 0 when the
	// chain is intact. A deleted record shows as its successor.
	BrokenID int64
	Reason   string // why BrokenID is broken
}

// OK reports whether the chain verified.
func (v VerifyResult) OK() bool { return v.BrokenID == 0 }

// errStop ends a walk early once a break is found.
var errStop = errors.New("stop")

// Verify walks the chain from the last purge checkpoint (or the first record)
// and returns the first broken record: an id out of sequence (a record was
// deleted or inserted), a prev_hash that is not the previous hash (a record
// was deleted), or a hash that does not match the record's contents (a
// record was edited). It is an operator's tool and needs no actor.
func (l *Log) Verify(ctx context.Context) (VerifyResult, error) {
	var res VerifyResult
	wantID, prev := int64(1), Genesis
	cp, ok, err := l.store.LastCheckpoint(ctx)
	if err != nil {
		return res, fmt.Errorf("verify audit: %w", err)
	}
	if ok {
		wantID, prev = cp.LastID+1, cp.LastHash
	}
	err = l.store.EachRecord(ctx, func(r Record) error {
		res.Records++
		switch {
		case r.ID != wantID:
			res.BrokenID, res.Reason = r.ID, fmt.Sprintf("expected record %d here: records are missing or inserted", wantID)
		case r.PrevHash != prev:
			res.BrokenID, res.Reason = r.ID, "prev_hash does not match the previous record's hash"
		case r.ComputeHash() != r.Hash:
			res.BrokenID, res.Reason = r.ID, "hash does not match the record's contents"
		default:
			wantID, prev = r.ID+1, r.Hash
			return nil
		}
		return errStop
	})
	var damaged *DamagedError
	switch {
	case errors.As(err, &damaged):
		res.BrokenID, res.Reason = damaged.ID, damaged.Err.Error()
	case err != nil && !errors.Is(err, errStop):
		return res, fmt.Errorf("verify audit: %w", err)
	}
	return res, nil
}

// Purge deletes the records older than olderThan (at least MinRetention)
// behind a checkpoint, so the remaining chain still verifies, and records the
// purge itself in the same transaction. It is an operator's tool (kehu audit
// purge) and needs no actor.
func (l *Log) Purge(ctx context.Context, olderThan time.Duration) (Checkpoint, error) {
	if olderThan < MinRetention {
		return Checkpoint{}, kehu.Errorf(kehu.EINVALID, "audit records must be kept at least %d days", int(MinRetention/(24*time.Hour)))
	}
	now := l.clock.Now().UTC()
	var cp Checkpoint
	err := l.tx.WithTx(ctx, func(ctx context.Context) error {
		if _, _, err := l.store.LockChain(ctx); err != nil {
			return err
		}
		var err error
		if cp, err = l.store.PurgeBefore(ctx, now.Add(-olderThan), now); err != nil {
			return err
		}
		return l.Record(ctx, Entry{Action: AuditPurge, Object: fmt.Sprintf("audit:..%d", cp.LastID),
			Count: int(cp.Purged), Reason: fmt.Sprintf("retention %d days", int(olderThan/(24*time.Hour)))})
	})
	if err != nil {
		return Checkpoint{}, fmt.Errorf("purge audit: %w", err)
	}
	return cp, nil
}
