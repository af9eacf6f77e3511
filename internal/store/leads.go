package store

import (
	"context"
	"database/sql"
	"time"

	"kehu/internal/sales"
	"kehu/internal/task"
)

// LeadStore implements sales.Store.
type LeadStore struct{ db *DB }

// Leads returns the lead store.
func (db *DB) Leads() *LeadStore { return &LeadStore{db: db} }

const leadInsertHead = `INSERT INTO leads (customer_id, product_id, source_kind, source_id, assignee_id, status, note,
	dedup_key, created_by, created_at, updated_at)`

// CreateLeads implements sales.Store: the customer's primary RM is the
// default assignee.
func (s *LeadStore) CreateLeads(ctx context.Context, rows []sales.NewLead, now time.Time) (int, error) {
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.CustomerID
	}
	return s.db.insertForCustomers(ctx, "leads", leadInsertHead, 11, ids, func(i int, h homeOf) ([]any, error) {
		r := rows[i]
		if r.AssigneeID == 0 {
			r.AssigneeID = h.owner
		}
		return []any{r.CustomerID, orNull(r.ProductID), r.SourceKind, r.SourceID, orNull(r.AssigneeID),
			string(sales.New), r.Note, r.Key(), orNull(r.CreatedBy), now.UTC(), now.UTC()}, nil
	})
}

// leadSelect aliases leads as t so seeWhere serves both tasks and leads.
const leadSelect = `SELECT t.id, t.customer_id, c.name, c.type, c.owner_id, COALESCE(t.product_id, 0), COALESCE(p.name, ''),
	t.source_kind, t.source_id, COALESCE(t.assignee_id, 0), COALESCE(u.display_name, ''), t.status, t.note, t.dedup_key,
	t.created_at, t.updated_at
	FROM leads t JOIN customers c ON c.id = t.customer_id LEFT JOIN products p ON p.id = t.product_id
	LEFT JOIN users u ON u.id = t.assignee_id`

func scanLead(row interface{ Scan(...any) error }) (sales.Lead, error) {
	var l sales.Lead
	var owner sql.NullInt64
	var status string
	err := row.Scan(&l.ID, &l.CustomerID, &l.Customer.Name, &l.Customer.Type, &owner, &l.ProductID, &l.ProductName,
		&l.SourceKind, &l.SourceID, &l.AssigneeID, &l.AssigneeName, &status, &l.Note, &l.DedupKey, &l.CreatedAt, &l.UpdatedAt)
	if err != nil {
		return l, err
	}
	l.Status, l.Customer.ID, l.CustomerName = sales.Status(status), l.CustomerID, l.Customer.Name
	if owner.Valid {
		l.Customer.OwnerID = &owner.Int64
	}
	l.CreatedAt, l.UpdatedAt = l.CreatedAt.UTC(), l.UpdatedAt.UTC()
	return l, nil
}

// leadSee is seeWhere without queues: leads have none.
func leadSee(d Dialect, w *where, v task.Visibility) {
	v.Role = ""
	seeWhere(d, w, v)
}

// ListLeads implements sales.Store: newest first.
func (s *LeadStore) ListLeads(ctx context.Context, f sales.Filter) (sales.Page, error) {
	var w where
	if f.View == task.ViewTeam {
		leadSee(s.db.dialect, &w, f.See)
	} else {
		w.add("t.assignee_id = ?", f.See.UserID)
	}
	if f.Status != "" {
		w.add("t.status = ?", string(f.Status))
	}
	if f.SourceKind != "" {
		w.add("t.source_kind = ?", f.SourceKind)
		if f.SourceID != 0 {
			w.add("t.source_id = ?", f.SourceID)
		}
	}
	if f.After > 0 {
		w.add("t.id < ?", f.After)
	}
	items, err := listWhere(ctx, s.db.reader(ctx), "leads", leadSelect, w, "t.id DESC", f.Limit+1, scanLead)
	p := sales.Page{Items: items}
	if p.Items == nil {
		p.Items = []sales.Lead{}
	}
	if err == nil && len(p.Items) > f.Limit {
		p.Items = p.Items[:f.Limit]
		p.NextCursor.AfterID = p.Items[f.Limit-1].ID
	}
	return p, err
}

// GetLead implements sales.Store.
func (s *LeadStore) GetLead(ctx context.Context, id int64, v task.Visibility) (sales.Lead, error) {
	var w where
	w.add("t.id = ?", id)
	leadSee(s.db.dialect, &w, v)
	l, err := scanLead(s.db.reader(ctx).QueryRowContext(ctx, leadSelect+w.sql(), w.args...))
	if err != nil {
		return l, notFound(err, "lead")
	}
	return l, nil
}

// UpdateLead implements sales.Store.
func (s *LeadStore) UpdateLead(ctx context.Context, id int64, from, status sales.Status, note string, now time.Time) error {
	res, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE leads SET status = $1, note = $2, updated_at = $3
		WHERE id = $4 AND status = $5`, string(status), note, now.UTC(), id, string(from))
	return changed(res, err, "lead %d changed meanwhile", id)
}
