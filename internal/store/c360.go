package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"kehu/internal/account"
	"kehu/internal/c360"
	"kehu/internal/privacy"
)

// C360Store implements c360.Store.
type C360Store struct{ db *DB }

// C360 returns the store of the 360 view.
func (db *DB) C360() *C360Store { return &C360Store{db: db} }

// Transactions returns a filtered page of a customer's transactions, newest
// first. The transactions_customer index (customer_id, occurred_at) serves
// the range and the order; the other filters are checked on the customer's
// own rows, a year of which is a few dozen to a few thousand.
func (s *C360Store) Transactions(ctx context.Context, customerID int64, q c360.TxnQuery) ([]account.Transaction, error) {
	k, err := s.db.keyring()
	if err != nil {
		return nil, err
	}
	var w where
	w.add("t.customer_id = ?", customerID)
	if !q.From.IsZero() {
		w.add("t.occurred_at >= ?", q.From)
	}
	if !q.To.IsZero() {
		w.add("t.occurred_at < ?", q.To)
	}
	if q.Kind != "" {
		w.add("t.kind = ?", q.Kind)
	}
	if q.Channel != "" {
		w.add("t.channel = ?", q.Channel)
	}
	if q.MinAmount != nil {
		w.add("(t.amount >= ? OR t.amount <= ?)", *q.MinAmount, -*q.MinAmount)
	}
	if q.MaxAmount != nil {
		w.add("t.amount <= ? AND t.amount >= ?", *q.MaxAmount, -*q.MaxAmount)
	}
	if q.AccountID != 0 {
		w.add("t.account_id = ?", q.AccountID)
	}
	if !q.BeforeAt.IsZero() {
		w.add("(t.occurred_at < ? OR (t.occurred_at = ? AND t.id < ?))", q.BeforeAt, q.BeforeAt, q.BeforeID)
	}
	return listWhere(ctx, s.db.hotReader(ctx), "transactions", transactionSelect, w, transactionOrder, q.Limit,
		scanTransaction(k))
}

// Postings returns the customer's transactions since since, oldest first,
// for the AUM trend and the overview figures: one range of
// transactions_customer.
func (s *C360Store) Postings(ctx context.Context, customerID int64, since time.Time) ([]c360.Posting, error) {
	rows, err := s.db.hotReader(ctx).QueryContext(ctx, `SELECT account_id, occurred_at, amount, balance_after, kind
		FROM transactions WHERE customer_id = $1 AND occurred_at >= $2 ORDER BY occurred_at, id`, customerID, since.UTC())
	if err != nil {
		return nil, fmt.Errorf("postings of %d: %w", customerID, err)
	}
	return collect(rows, "postings", func(r *sql.Rows) (c360.Posting, error) {
		var p c360.Posting
		err := r.Scan(&p.AccountID, &p.OccurredAt, &p.Amount, &p.BalanceAfter, &p.Kind)
		p.OccurredAt = p.OccurredAt.UTC()
		return p, err
	})
}

// Events returns the newest channel events (channel_events_customer).
func (s *C360Store) Events(ctx context.Context, customerID int64, limit int) ([]c360.Event, error) {
	rows, err := s.db.hotReader(ctx).QueryContext(ctx, `SELECT e.id, e.occurred_at, e.channel, e.kind,
		COALESCE(p.code, ''), COALESCE(p.name, ''), COALESCE(p.name_en, ''), COALESCE(CAST(e.detail AS TEXT), '')
		FROM channel_events e LEFT JOIN products p ON p.id = e.product_id
		WHERE e.customer_id = $1 ORDER BY e.occurred_at DESC, e.id DESC LIMIT $2`, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("events of %d: %w", customerID, err)
	}
	out, err := collect(rows, "events", func(r *sql.Rows) (c360.Event, error) {
		var e c360.Event
		var detail []byte
		err := r.Scan(&e.ID, &e.OccurredAt, &e.Channel, &e.Kind, &e.ProductCode, &e.ProductName, &e.ProductNameEN, &detail)
		e.OccurredAt = e.OccurredAt.UTC()
		// A detail that is not a JSON object (a feed's mistake) is shown
		// as nothing rather than failing the view.
		if len(detail) > 0 && json.Valid(detail) && detail[0] == '{' {
			e.Detail = json.RawMessage(detail)
		} else {
			e.Detail = json.RawMessage("{}")
		}
		return e, err
	})
	if out == nil && err == nil {
		out = []c360.Event{}
	}
	return out, err
}

// Contact returns the customer's contact preferences and stored consents in
// one statement: the customer's preference row (if any) joined with their
// consent rows, so a customer without preferences still brings their
// consents and one without consents still brings their preferences.
func (s *C360Store) Contact(ctx context.Context, customerID int64) (c360.Preferences, error) {
	rows, err := s.db.hotReader(ctx).QueryContext(ctx, `SELECT `+preferenceColumns+`,
		c.channel, c.granted, c.changed_at, c.source, c.changed_by
		FROM (SELECT CAST($1 AS BIGINT) AS customer_id) k
		LEFT JOIN customer_preferences p ON p.customer_id = k.customer_id
		LEFT JOIN customer_consents c ON c.customer_id = k.customer_id
		ORDER BY c.channel`, customerID)
	if err != nil {
		return c360.Preferences{}, fmt.Errorf("contact preferences of %d: %w", customerID, err)
	}
	defer rows.Close()
	var out c360.Preferences
	for rows.Next() {
		var r preferenceScan
		var channel, source sql.NullString
		var granted sql.NullBool
		var changedAt sql.NullTime
		var changedBy sql.NullInt64
		if err := rows.Scan(append(r.dest(), &channel, &granted, &changedAt, &source, &changedBy)...); err != nil {
			return c360.Preferences{}, fmt.Errorf("contact preferences of %d: %w", customerID, err)
		}
		out.Preferences = r.value()
		if channel.Valid {
			c := privacy.Consent{Channel: channel.String, Granted: granted.Bool, Source: source.String}
			if changedAt.Valid {
				at := changedAt.Time.UTC()
				c.ChangedAt = &at
			}
			if changedBy.Valid {
				by := changedBy.Int64
				c.ChangedBy = &by
			}
			out.Consents = append(out.Consents, c)
		}
	}
	return out, rows.Err()
}

// SecondaryRMs returns the customer's secondary relationship managers.
func (s *C360Store) SecondaryRMs(ctx context.Context, customerID int64) ([]c360.Staff, error) {
	rows, err := s.db.hotReader(ctx).QueryContext(ctx, `SELECT u.id, u.display_name FROM customer_secondary_rms r
		JOIN users u ON u.id = r.user_id WHERE r.customer_id = $1 ORDER BY u.display_name, u.id`, customerID)
	if err != nil {
		return nil, fmt.Errorf("secondary RMs of %d: %w", customerID, err)
	}
	return collect(rows, "secondary RMs", func(r *sql.Rows) (c360.Staff, error) {
		var st c360.Staff
		err := r.Scan(&st.ID, &st.Name)
		return st, err
	})
}
