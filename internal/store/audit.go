package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kehu/internal/audit"
)

// AuditStore implements audit.Store.
type AuditStore struct{ db *DB }

// Audit returns the audit trail store.
func (db *DB) Audit() *AuditStore { return &AuditStore{db: db} }

const auditColumns = `id, at, actor_id, username, role, org_id, session_id, ip, user_agent, action, customer_id,
	object, changes, reason, count, outcome, prev_hash, hash`

// nullID stores 0 as NULL so "no actor" or "no customer" is not a foreign id.
func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

func scanAudit(row interface{ Scan(...any) error }) (audit.Record, error) {
	var r audit.Record
	var actor, org, session, cust sql.NullInt64
	var changes sql.NullString
	if err := row.Scan(&r.ID, &r.At, &actor, &r.Username, &r.Role, &org, &session, &r.IP, &r.UserAgent, &r.Action,
		&cust, &r.Object, &changes, &r.Reason, &r.Count, &r.Outcome, &r.PrevHash, &r.Hash); err != nil {
		return r, err
	}
	r.At = r.At.UTC()
	r.ActorID, r.OrgID, r.SessionID, r.CustomerID = actor.Int64, org.Int64, session.Int64, cust.Int64
	var err error
	if r.Changes, err = audit.DecodeChanges(changes.String); err != nil {
		return r, &audit.DamagedError{ID: r.ID, Err: err}
	}
	return r, nil
}

// LockChain implements audit.Store. Updating the one row of audit_chain takes
// a row lock that PostgreSQL holds to the end of the transaction, so appends
// read the head one at a time; on SQLite the single writer already does.
func (s *AuditStore) LockChain(ctx context.Context) (int64, string, error) {
	q := s.db.hotWriter(ctx)
	if _, err := q.ExecContext(ctx, "UPDATE audit_chain SET appends = appends + 1 WHERE id = 1"); err != nil {
		return 0, "", fmt.Errorf("lock audit chain: %w", err)
	}
	var id int64
	var hash string
	err := q.QueryRowContext(ctx, "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").Scan(&id, &hash)
	if err == nil {
		return id, hash, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, "", fmt.Errorf("audit chain head: %w", err)
	}
	cp, ok, err := s.LastCheckpoint(ctx)
	if err != nil || !ok {
		return 0, audit.Genesis, err
	}
	return cp.LastID, cp.LastHash, nil
}

// AppendRecord implements audit.Store.
func (s *AuditStore) AppendRecord(ctx context.Context, r audit.Record) error {
	_, err := s.db.hotWriter(ctx).ExecContext(ctx, `INSERT INTO audit_log (`+auditColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		r.ID, r.At, nullID(r.ActorID), r.Username, r.Role, nullID(r.OrgID), nullID(r.SessionID), r.IP, r.UserAgent,
		r.Action, nullID(r.CustomerID), r.Object, audit.EncodeChanges(r.Changes), r.Reason, r.Count, r.Outcome,
		r.PrevHash, r.Hash)
	if err != nil {
		return fmt.Errorf("insert audit record: %w", err)
	}
	return nil
}

// SearchRecords implements audit.Store; each filter has an index (customer,
// username, action, at) and the pages run down the primary key.
func (s *AuditStore) SearchRecords(ctx context.Context, f audit.Filter, limit int) ([]audit.Record, error) {
	var w where
	if f.CustomerID != 0 {
		w.add("customer_id = ?", f.CustomerID)
	}
	if f.Actor != "" {
		w.add("username = ?", f.Actor)
	}
	if f.Action != "" {
		w.add("action = ?", f.Action)
	}
	if !f.From.IsZero() {
		w.add("at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		w.add("at < ?", f.To.UTC())
	}
	if f.After.AfterID > 0 {
		w.add("id < ?", f.After.AfterID)
	}
	return listWhere(ctx, s.db.reader(ctx), "audit records", "SELECT "+auditColumns+" FROM audit_log", w, "id DESC",
		limit, scanAudit)
}

// EachRecord implements audit.Store, reading in batches by id so a long
// trail never holds one huge result set open.
func (s *AuditStore) EachRecord(ctx context.Context, fn func(audit.Record) error) error {
	const batch = 1000
	after := int64(-1 << 62)
	for {
		rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT "+auditColumns+
			" FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2", after, batch)
		if err != nil {
			return fmt.Errorf("read audit: %w", err)
		}
		var rs []audit.Record
		for rows.Next() {
			r, err := scanAudit(rows)
			if err != nil {
				rows.Close()
				return err
			}
			rs = append(rs, r)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return fmt.Errorf("read audit: %w", err)
		}
		for _, r := range rs {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(rs) < batch {
			return nil
		}
		after = rs[len(rs)-1].ID
	}
}

// LastCheckpoint implements audit.Store.
func (s *AuditStore) LastCheckpoint(ctx context.Context) (audit.Checkpoint, bool, error) {
	var c audit.Checkpoint
	err := s.db.reader(ctx).QueryRowContext(ctx, `SELECT id, purged_at, cutoff, last_id, last_hash, purged
		FROM audit_checkpoint ORDER BY id DESC LIMIT 1`).Scan(&c.ID, &c.PurgedAt, &c.Cutoff, &c.LastID, &c.LastHash, &c.Purged)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("audit checkpoint: %w", err)
	}
	c.PurgedAt, c.Cutoff = c.PurgedAt.UTC(), c.Cutoff.UTC()
	return c, true, nil
}

// PurgeBefore implements audit.Store. The checkpoint row is written first:
// the delete triggers allow removing only rows a checkpoint covers.
func (s *AuditStore) PurgeBefore(ctx context.Context, cutoff, now time.Time) (audit.Checkpoint, error) {
	q := s.db.writer(ctx)
	c := audit.Checkpoint{PurgedAt: now.UTC(), Cutoff: cutoff.UTC()}
	err := q.QueryRowContext(ctx, "SELECT id, hash FROM audit_log WHERE at < $1 ORDER BY id DESC LIMIT 1",
		c.Cutoff).Scan(&c.LastID, &c.LastHash)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("purge audit: %w", err)
	}
	if err := q.QueryRowContext(ctx, `INSERT INTO audit_checkpoint (purged_at, cutoff, last_id, last_hash, purged)
		VALUES ($1, $2, $3, $4, (SELECT count(*) FROM audit_log WHERE id <= $3)) RETURNING id, purged`,
		c.PurgedAt, c.Cutoff, c.LastID, c.LastHash).Scan(&c.ID, &c.Purged); err != nil {
		return c, fmt.Errorf("audit checkpoint: %w", err)
	}
	if _, err := q.ExecContext(ctx, "DELETE FROM audit_log WHERE id <= $1", c.LastID); err != nil {
		return c, fmt.Errorf("purge audit: %w", err)
	}
	return c, nil
}
