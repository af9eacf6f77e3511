package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/privacy"
)

// PrivacyStore implements privacy.Store.
type PrivacyStore struct{ db *DB }

// Privacy returns the privacy store.
func (db *DB) Privacy() *PrivacyStore { return &PrivacyStore{db: db} }

const requestColumns = `r.id, r.kind, r.customer_id, r.received_at, r.due_on, r.status, r.handler_id,
	COALESCE(u.display_name, ''), r.notes, r.reason, r.created_by, r.closed_at, r.updated_at`

const requestFrom = ` FROM privacy_requests r JOIN customers c ON c.id = r.customer_id
	LEFT JOIN users u ON u.id = r.handler_id`

func scanPrivacyRequest(row interface{ Scan(...any) error }) (privacy.Request, error) {
	var r privacy.Request
	var handler sql.NullInt64
	var closed sql.NullTime
	err := row.Scan(&r.ID, &r.Kind, &r.CustomerID, &r.ReceivedAt, &r.DueOn, &r.Status, &handler, &r.HandlerName,
		&r.Notes, &r.Reason, &r.CreatedBy, &closed, &r.UpdatedAt)
	if handler.Valid {
		r.HandlerID = &handler.Int64
	}
	if closed.Valid {
		t := closed.Time.UTC()
		r.ClosedAt = &t
	}
	r.ReceivedAt, r.UpdatedAt = r.ReceivedAt.UTC(), r.UpdatedAt.UTC()
	return r, err
}

// CreateRequest inserts a request and returns it with its id.
func (s *PrivacyStore) CreateRequest(ctx context.Context, r privacy.Request) (privacy.Request, error) {
	err := s.db.writer(ctx).QueryRowContext(ctx, `INSERT INTO privacy_requests (kind, customer_id, received_at, due_on,
		status, handler_id, notes, reason, created_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		RETURNING id`, r.Kind, r.CustomerID, r.ReceivedAt.UTC(), r.DueOn, r.Status, r.HandlerID, r.Notes, r.Reason,
		r.CreatedBy, r.UpdatedAt.UTC()).Scan(&r.ID)
	if err != nil {
		return r, fmt.Errorf("insert privacy request: %w", err)
	}
	return r, nil
}

// GetRequest returns one request whose customer lies in scope.
func (s *PrivacyStore) GetRequest(ctx context.Context, id int64, scope customer.ScopeFilter) (privacy.Request, error) {
	var w where
	w.add("r.id = ?", id)
	scopeWhere(s.db.dialect, &w, scope)
	r, err := scanPrivacyRequest(s.db.reader(ctx).QueryRowContext(ctx, "SELECT "+requestColumns+requestFrom+w.sql(), w.args...))
	if err != nil {
		return r, notFound(err, "privacy request")
	}
	return r, nil
}

// ListRequests returns a keyset page, newest first (privacy_requests_customer
// or the primary key serves the order).
func (s *PrivacyStore) ListRequests(ctx context.Context, f privacy.RequestFilter) (privacy.RequestPage, error) {
	var w where
	scopeWhere(s.db.dialect, &w, f.Scope)
	if f.Status != "" {
		w.add("r.status = ?", f.Status)
	}
	if f.CustomerID != 0 {
		w.add("r.customer_id = ?", f.CustomerID)
	}
	if f.After.AfterID > 0 {
		w.add("r.id < ?", f.After.AfterID)
	}
	limit := kehu.ClampLimit(f.Limit)
	items, err := listWhere(ctx, s.db.reader(ctx), "privacy requests", "SELECT "+requestColumns+requestFrom, w, "r.id DESC",
		limit+1, scanPrivacyRequest)
	if err != nil {
		return privacy.RequestPage{}, err
	}
	p := privacy.RequestPage{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		p.NextCursor = kehu.Cursor{AfterID: p.Items[limit-1].ID}
	}
	return p, nil
}

// UpdateRequest writes the workflow fields of r.
func (s *PrivacyStore) UpdateRequest(ctx context.Context, r privacy.Request) error {
	var closed any
	if r.ClosedAt != nil {
		closed = r.ClosedAt.UTC()
	}
	_, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE privacy_requests SET status = $1, handler_id = $2, notes = $3,
		reason = $4, closed_at = $5, updated_at = $6 WHERE id = $7`,
		r.Status, r.HandlerID, r.Notes, r.Reason, closed, r.UpdatedAt.UTC(), r.ID)
	if err != nil {
		return fmt.Errorf("update privacy request %d: %w", r.ID, err)
	}
	return nil
}

// Consents returns the stored consents of a customer.
func (s *PrivacyStore) Consents(ctx context.Context, customerID int64) ([]privacy.Consent, error) {
	rows, err := s.db.hotReader(ctx).QueryContext(ctx, `SELECT channel, granted, changed_at, source, changed_by
		FROM customer_consents WHERE customer_id = $1 ORDER BY channel`, customerID)
	if err != nil {
		return nil, fmt.Errorf("consents of %d: %w", customerID, err)
	}
	return collect(rows, "consents", func(r *sql.Rows) (privacy.Consent, error) {
		var c privacy.Consent
		var at time.Time
		var by sql.NullInt64
		err := r.Scan(&c.Channel, &c.Granted, &at, &c.Source, &by)
		at = at.UTC()
		c.ChangedAt = &at
		if by.Valid {
			c.ChangedBy = &by.Int64
		}
		return c, err
	})
}

// SetConsent upserts one channel's consent.
func (s *PrivacyStore) SetConsent(ctx context.Context, customerID int64, c privacy.Consent) error {
	var at time.Time
	if c.ChangedAt != nil {
		at = c.ChangedAt.UTC()
	}
	_, err := s.db.writer(ctx).ExecContext(ctx, `INSERT INTO customer_consents (customer_id, channel, granted, changed_at,
		source, changed_by) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (customer_id, channel) DO UPDATE SET granted = excluded.granted, changed_at = excluded.changed_at,
		source = excluded.source, changed_by = excluded.changed_by`,
		customerID, c.Channel, c.Granted, at, c.Source, c.ChangedBy)
	if err != nil {
		return fmt.Errorf("set consent %d/%s: %w", customerID, c.Channel, err)
	}
	return nil
}

// consentBatch bounds the IN list of ConsentedCustomers.
const consentBatch = 500

// ConsentedCustomers returns which of ids granted channel, in batches of
// primary-key lookups.
func (s *PrivacyStore) ConsentedCustomers(ctx context.Context, channel string, ids []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(ids))
	for start := 0; start < len(ids); start += consentBatch {
		batch := ids[start:min(start+consentBatch, len(ids))]
		args := []any{channel}
		marks := make([]string, len(batch))
		for i, id := range batch {
			args = append(args, id)
			marks[i] = "$" + strconv.Itoa(len(args))
		}
		rows, err := s.db.reader(ctx).QueryContext(ctx, `SELECT customer_id FROM customer_consents
			WHERE channel = $1 AND granted AND customer_id IN (`+strings.Join(marks, ", ")+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("consented customers: %w", err)
		}
		got, err := collect(rows, "consents", func(r *sql.Rows) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		})
		if err != nil {
			return nil, err
		}
		for _, id := range got {
			out[id] = true
		}
	}
	return out, nil
}

// CountCustomers counts what a customer list with f would match.
func (s *PrivacyStore) CountCustomers(ctx context.Context, f customer.Filter) (int64, error) {
	f.Count, f.Limit, f.After = true, 1, kehu.Cursor{}
	p, err := s.db.Customers().ListCustomers(ctx, f)
	if err != nil {
		return 0, err
	}
	return p.Total, nil
}

// EachCustomer pages through what f matches (scope included), in id order,
// a full page at a time.
func (s *PrivacyStore) EachCustomer(ctx context.Context, f customer.Filter, fn func(customer.Customer) error) error {
	f.Count, f.Limit = false, kehu.MaxPageSize
	for {
		p, err := s.db.Customers().ListCustomers(ctx, f)
		if err != nil {
			return err
		}
		for _, c := range p.Items {
			if err := fn(c); err != nil {
				return err
			}
		}
		if p.NextCursor.AfterID == 0 {
			return nil
		}
		f.After = p.NextCursor
	}
}

// CustomersShownSince sums the customers listed or exported to username
// since t, from the audit trail (audit_log_actor serves the username): the
// customer list and export, the member lists of campaign results
// workbooks (campaign.export counts its member rows), the firing lists
// of journey results workbooks (journey.export), and the pages of a
// campaign's members (campaign.members) and of a journey's firings
// (journey.firings) shown in the API and the pages — so paging through a
// million members is counted like the customer list, not a way around the
// daily total.
func (s *PrivacyStore) CustomersShownSince(ctx context.Context, username string, t time.Time) (int64, error) {
	var n int64
	err := s.db.reader(ctx).QueryRowContext(ctx, `SELECT COALESCE(SUM(count), 0) FROM audit_log
		WHERE username = $1 AND action IN ('customer.list', 'customer.export', 'campaign.export', 'journey.export',
			'campaign.members', 'journey.firings') AND at >= $2
		AND outcome NOT IN ('denied', 'failed')`, username, t.UTC()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("customers shown to %s: %w", username, err)
	}
	return n, nil
}
