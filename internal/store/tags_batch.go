package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kehu/internal/kehu"
	"kehu/internal/tag"
)

// LoadBatch implements tag.BatchStore: the next limit customers (not
// erased) above after, with what the active rules read about them, in a few
// set-based queries over the batch's id range (after, last]. Each walks an
// index by customer: customers' primary key; transactions_customer and
// channel_events_customer (customer_id, occurred_at) for the newest
// activity and the windowed postings, so a customer's old history is not
// read; holdings_customer and accounts_customer for maturities; and
// customer_tags' primary key for the tags carried.
func (s *TagStore) LoadBatch(ctx context.Context, after int64, limit int, now time.Time, w tag.Windows) (tag.Batch, error) {
	b := tag.Batch{Carried: map[int64]map[int64]string{}}
	q := s.db.reader(ctx)
	rows, err := q.QueryContext(ctx, `SELECT id, created_at, aum FROM customers
		WHERE id > $1 AND status <> 'erased' ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return b, fmt.Errorf("tag batch: %w", err)
	}
	if b.Facts, err = collect(rows, "tag batch", func(r *sql.Rows) (tag.Facts, error) {
		var f tag.Facts
		err := r.Scan(&f.CustomerID, &f.Since, &f.AUM)
		f.Since = f.Since.UTC()
		return f, err
	}); err != nil || len(b.Facts) == 0 {
		return b, err
	}
	lo, hi := after, b.Facts[len(b.Facts)-1].CustomerID
	at := make(map[int64]*tag.Facts, len(b.Facts))
	for i := range b.Facts {
		at[b.Facts[i].CustomerID] = &b.Facts[i]
	}
	each := func(what, query string, args []any, scan func(*sql.Rows) error) error {
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("tag batch %s: %w", what, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return fmt.Errorf("tag batch %s: %w", what, err)
			}
		}
		return rows.Err()
	}
	if w.Activity {
		// The newest transaction and event of each customer: the max is an
		// index probe per customer; joining back on it keeps occurred_at a
		// plain column, which SQLite's driver needs to return a time.
		for _, table := range []string{"transactions", "channel_events"} {
			err := each("activity", `SELECT x.customer_id, x.occurred_at FROM customers c JOIN `+table+` x
				ON x.customer_id = c.id AND x.occurred_at = (SELECT max(y.occurred_at) FROM `+table+` y WHERE y.customer_id = c.id)
				WHERE c.id > $1 AND c.id <= $2`, []any{lo, hi}, func(r *sql.Rows) error {
				var id int64
				var t time.Time
				if err := r.Scan(&id, &t); err != nil {
					return err
				}
				if f := at[id]; f != nil && t.After(f.LastActivity) {
					f.LastActivity = t.UTC()
				}
				return nil
			})
			if err != nil {
				return b, err
			}
		}
	}
	if since := earliest(w.Salary, w.Card); !since.IsZero() {
		err := each("postings", `SELECT t.customer_id, t.occurred_at, t.kind, t.amount, p.type FROM customers c
			JOIN transactions t ON t.customer_id = c.id AND t.occurred_at >= $3
			JOIN accounts a ON a.id = t.account_id JOIN products p ON p.id = a.product_id
			WHERE c.id > $1 AND c.id <= $2 AND t.kind IN ('salary', 'pension', 'card_spend')`,
			[]any{lo, hi, since.UTC()}, func(r *sql.Rows) error {
				var id, amount int64
				var t time.Time
				var kind, ptype string
				if err := r.Scan(&id, &t, &kind, &amount, &ptype); err != nil {
					return err
				}
				f := at[id]
				switch {
				case f == nil:
				case (kind == "salary" || kind == "pension") && amount > 0 && !w.Salary.IsZero() && !t.Before(w.Salary):
					f.SalaryCredits = append(f.SalaryCredits, t.UTC())
				case kind == "card_spend" && ptype == "credit_card" && !w.Card.IsZero() && !t.Before(w.Card):
					f.CardSpends = append(f.CardSpends, t.UTC())
				}
				return nil
			})
		if err != nil {
			return b, err
		}
	}
	if !w.MaturesBy.IsZero() {
		today := kehu.DateOf(now.In(kehu.LoadShanghai()))
		err := each("maturities", `SELECT h.customer_id, h.matures_on FROM holdings h
			WHERE h.customer_id > $1 AND h.customer_id <= $2 AND h.matures_on >= $3 AND h.matures_on <= $4
			UNION ALL SELECT a.customer_id, a.matures_on FROM accounts a JOIN products p ON p.id = a.product_id
			WHERE a.customer_id > $1 AND a.customer_id <= $2 AND a.matures_on >= $3 AND a.matures_on <= $4
			AND a.status = 'active' AND p.type = 'time_deposit'`, []any{lo, hi, today, w.MaturesBy},
			func(r *sql.Rows) error {
				var id int64
				var d kehu.Date
				if err := r.Scan(&id, &d); err != nil {
					return err
				}
				if f := at[id]; f != nil {
					f.Maturities = append(f.Maturities, d)
				}
				return nil
			})
		if err != nil {
			return b, err
		}
	}
	err = each("carried tags", `SELECT ct.customer_id, ct.tag_id, ct.reason FROM customer_tags ct
		JOIN tags t ON t.id = ct.tag_id
		WHERE ct.customer_id > $1 AND ct.customer_id <= $2 AND t.kind = 'computed' AND t.rule <> ''`,
		[]any{lo, hi}, func(r *sql.Rows) error {
			var id, tagID int64
			var reason string
			if err := r.Scan(&id, &tagID, &reason); err != nil {
				return err
			}
			if at[id] == nil {
				return nil // erased: its tags went with the erasure
			}
			if b.Carried[id] == nil {
				b.Carried[id] = map[int64]string{}
			}
			b.Carried[id][tagID] = reason
			return nil
		})
	return b, err
}

// earliest is the earlier of two times, ignoring zeros.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

const tagRunColumns = `id, status, trigger, started_at, heartbeat_at, finished_at, as_of, after_id, customers,
	added, removed, changed, error`

// ClaimRun implements tag.BatchStore (see runTable.claim). The unique index
// tag_runs_one_running still refuses a second running row written outside a
// claim.
func (s *TagStore) ClaimRun(ctx context.Context, staleBefore time.Time, start func(ctx context.Context) error) error {
	return tagRuns.claim(ctx, s.db, staleBefore, func(ctx context.Context, _ querier) error { return start(ctx) })
}

// LatestRun implements tag.BatchStore.
func (s *TagStore) LatestRun(ctx context.Context) (tag.Run, bool, error) {
	var r tag.Run
	var finished sql.NullTime
	err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT "+tagRunColumns+" FROM tag_runs ORDER BY id DESC LIMIT 1").
		Scan(&r.ID, &r.Status, &r.Trigger, &r.StartedAt, &r.HeartbeatAt, &finished, &r.AsOf, &r.AfterID, &r.Customers,
			&r.Added, &r.Removed, &r.Changed, &r.Error)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("tag runs: %w", err)
	}
	r.StartedAt, r.HeartbeatAt, r.AsOf = r.StartedAt.UTC(), r.HeartbeatAt.UTC(), r.AsOf.UTC()
	if finished.Valid {
		t := finished.Time.UTC()
		r.FinishedAt = &t
	}
	return r, true, nil
}

// CreateRun implements tag.BatchStore.
func (s *TagStore) CreateRun(ctx context.Context, r tag.Run) (tag.Run, error) {
	err := s.db.writer(ctx).QueryRowContext(ctx, `INSERT INTO tag_runs (status, trigger, started_at, heartbeat_at,
		as_of, after_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		r.Status, r.Trigger, r.StartedAt.UTC(), r.HeartbeatAt.UTC(), r.AsOf.UTC(), r.AfterID).Scan(&r.ID)
	if isUniqueViolation(err) {
		return r, conflict("another tag recompute is running")
	}
	if err != nil {
		return r, fmt.Errorf("create tag run: %w", err)
	}
	return r, nil
}

// SaveRun implements tag.BatchStore.
func (s *TagStore) SaveRun(ctx context.Context, r tag.Run) error {
	var finished any
	if r.FinishedAt != nil {
		finished = r.FinishedAt.UTC()
	}
	_, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE tag_runs SET status = $1, heartbeat_at = $2, finished_at = $3,
		after_id = $4, customers = $5, added = $6, removed = $7, changed = $8, error = $9 WHERE id = $10`,
		r.Status, r.HeartbeatAt.UTC(), finished, r.AfterID, r.Customers, r.Added, r.Removed, r.Changed, r.Error, r.ID)
	if isUniqueViolation(err) {
		return conflict("another tag recompute is running")
	}
	if err != nil {
		return fmt.Errorf("save tag run %d: %w", r.ID, err)
	}
	return nil
}
