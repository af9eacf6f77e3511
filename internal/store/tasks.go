package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"kehu/internal/kehu"
	"kehu/internal/task"
)

// TaskStore implements task.Store.
type TaskStore struct{ db *DB }

// Tasks returns the task store.
func (db *DB) Tasks() *TaskStore { return &TaskStore{db: db} }

// homeOf is what creating a task or lead reads of its customer: the
// primary RM (the default assignee) and the home outlet (the RM queue when
// there is no RM).
type homeOf struct {
	owner, org int64
}

// customerHomes reads the owner and home outlet of ids; an unknown id is
// EINVALID naming it.
func (db *DB) customerHomes(ctx context.Context, ids []int64) (map[int64]homeOf, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	out := make(map[int64]homeOf, len(ids))
	q := db.writer(ctx)
	err := inChunks(ids, 5000, func(part []int64) error {
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		return queryEach(ctx, q, "customer homes", "SELECT id, COALESCE(owner_id, 0), org_id FROM customers WHERE id IN ("+
			db.dialect.params(1, len(part))+")", args, func(r *sql.Rows) error {
			var id int64
			var h homeOf
			if err := r.Scan(&id, &h.owner, &h.org); err != nil {
				return err
			}
			out[id] = h
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if _, ok := out[id]; !ok {
			return nil, &kehu.Error{Code: kehu.EINVALID, Message: fmt.Sprintf("customer %d does not exist", id),
				Fields: []kehu.FieldError{{Field: "customer_id", Reason: "no such customer"}}}
		}
	}
	return out, nil
}

// insertCounted writes rows with multi-row INSERTs ending in tail (an ON
// CONFLICT … DO NOTHING) and returns how many rows were inserted.
func insertCounted(ctx context.Context, d Dialect, q querier, head, tail string, width int, rows [][]any) (int, error) {
	per, n := max(1, maxBatchParams/width), 0
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(len(rows), start+per)]
		args := make([]any, 0, len(chunk)*width)
		for _, r := range chunk {
			args = append(args, r...)
		}
		res, err := q.ExecContext(ctx, head+" VALUES "+d.valuesClause(len(chunk), width)+" "+tail, args...)
		if err != nil {
			return n, err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return n, err
		}
		n += int(k)
	}
	return n, nil
}

// orNull is v, or NULL for the zero value.
func orNull[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

const taskInsertHead = `INSERT INTO tasks (kind, title, detail, actions, customer_id, product_id, assignee_id, queue_role,
	queue_org_id, due_at, priority, status, source_kind, source_id, dedup_key, created_by, created_at, updated_at)`

// insertForCustomers inserts one row per customer of ids (the rows of a
// task or lead batch, in order) in the transaction in ctx, each row's
// values made by values from the customer's home (the default assignee),
// skipping used dedup keys; it returns how many rows it inserted.
func (db *DB) insertForCustomers(ctx context.Context, what, head string, width int, ids []int64,
	values func(i int, h homeOf) ([]any, error)) (int, error) {
	n := 0
	err := db.WithTx(ctx, func(ctx context.Context) error {
		homes, err := db.customerHomes(ctx, ids)
		if err != nil {
			return err
		}
		rows := make([][]any, len(ids))
		for i, id := range ids {
			if rows[i], err = values(i, homes[id]); err != nil {
				return err
			}
		}
		n, err = insertCounted(ctx, db.dialect, db.writer(ctx), head, "ON CONFLICT (dedup_key) DO NOTHING", width, rows)
		if err != nil {
			return fmt.Errorf("insert %s: %w", what, err)
		}
		return nil
	})
	return n, err
}

// CreateTasks implements task.Store: without an assignee or a queue, the
// customer's RM, else the RM queue of the customer's outlet.
func (s *TaskStore) CreateTasks(ctx context.Context, rows []task.New, now time.Time) (int, error) {
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.CustomerID
	}
	return s.db.insertForCustomers(ctx, "tasks", taskInsertHead, 18, ids, func(i int, h homeOf) ([]any, error) {
		r := rows[i]
		if r.AssigneeID == 0 && r.Queue.IsZero() {
			if h.owner != 0 {
				r.AssigneeID = h.owner
			} else {
				r.Queue = task.Queue{Role: "relationship_manager", OrgID: h.org}
			}
		}
		actions, err := json.Marshal(append([]string{}, r.Actions...))
		if err != nil {
			return nil, err
		}
		var due any
		if !r.DueAt.IsZero() {
			due = r.DueAt.UTC()
		}
		return []any{string(r.Kind), r.Title, r.Detail, string(actions), r.CustomerID, orNull(r.ProductID),
			orNull(r.AssigneeID), r.Queue.Role, orNull(r.Queue.OrgID), due, int(r.Priority), string(task.Open),
			r.SourceKind, r.SourceID, r.Key(), orNull(r.CreatedBy), now.UTC(), now.UTC()}, nil
	})
}

const taskSelect = `SELECT t.id, t.kind, t.title, t.detail, t.actions, t.customer_id, c.name, c.type, c.owner_id,
	COALESCE(t.product_id, 0), COALESCE(p.name, ''), COALESCE(t.assignee_id, 0), COALESCE(u.display_name, ''),
	t.queue_role, COALESCE(t.queue_org_id, 0), t.due_at, t.priority, t.status, t.outcome, COALESCE(t.closed_by, 0),
	t.closed_at, t.claimed_at, t.source_kind, t.source_id, t.dedup_key, t.created_at, t.updated_at
	FROM tasks t JOIN customers c ON c.id = t.customer_id LEFT JOIN products p ON p.id = t.product_id
	LEFT JOIN users u ON u.id = t.assignee_id`

func scanTask(row interface{ Scan(...any) error }) (task.Task, error) {
	var t task.Task
	var actions, kind, status, ctype string
	var owner sql.NullInt64
	var due, closed, claimed sql.NullTime
	var q task.Queue
	err := row.Scan(&t.ID, &kind, &t.Title, &t.Detail, &actions, &t.CustomerID, &t.Customer.Name, &ctype, &owner,
		&t.ProductID, &t.ProductName, &t.AssigneeID, &t.AssigneeName, &q.Role, &q.OrgID, &due, &t.Priority, &status,
		&t.Outcome, &t.ClosedBy, &closed, &claimed, &t.SourceKind, &t.SourceID, &t.DedupKey, &t.CreatedAt, &t.UpdatedAt)
	if err != nil {
		return t, err
	}
	t.Kind, t.Status = task.Kind(kind), task.Status(status)
	t.Customer.ID, t.Customer.Type, t.CustomerName = t.CustomerID, ctype, t.Customer.Name
	if owner.Valid {
		t.Customer.OwnerID = &owner.Int64
	}
	if !q.IsZero() {
		t.Queue = &q
	}
	t.DueAt, t.ClosedAt, t.ClaimedAt = utcPtr(due), utcPtr(closed), utcPtr(claimed)
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	if err := json.Unmarshal([]byte(actions), &t.Actions); err != nil {
		return t, fmt.Errorf("task %d actions: %w", t.ID, err)
	}
	return t, nil
}

// seeWhere restricts rows (alias t, customer alias c) to those visible to
// v: assigned to the user, waiting in the user's queue, or (Team) about a
// customer in the scope.
func seeWhere(d Dialect, w *where, v task.Visibility) {
	var alt where
	alt.args = w.args
	if v.UserID > 0 {
		alt.add("t.assignee_id = ?", v.UserID)
	}
	if v.Role != "" {
		alt.add("(t.assignee_id IS NULL AND t.queue_role = ? AND t.queue_org_id = ?)", v.Role, v.OrgID)
	}
	if v.Team {
		var scope where
		scope.args = alt.args
		scopeWhere(d, &scope, v.Scope)
		alt.args = scope.args
		if len(scope.conds) == 0 {
			alt.conds = append(alt.conds, "1 = 1")
		} else {
			alt.conds = append(alt.conds, "("+strings.Join(scope.conds, " AND ")+")")
		}
	}
	if len(alt.conds) == 0 {
		alt.conds = []string{"1 = 0"}
	}
	w.args = alt.args
	w.conds = append(w.conds, "("+strings.Join(alt.conds, " OR ")+")")
}

// ListTasks implements task.Store: by priority, then oldest first.
func (s *TaskStore) ListTasks(ctx context.Context, f task.Filter) (task.Page, error) {
	var w where
	switch f.View {
	case task.ViewQueue:
		w.add("t.assignee_id IS NULL AND t.queue_role = ? AND t.queue_org_id = ?", f.See.Role, f.See.OrgID)
	case task.ViewTeam:
		seeWhere(s.db.dialect, &w, f.See)
	default:
		w.add("t.assignee_id = ?", f.See.UserID)
	}
	w.add("t.status = ?", string(f.Status))
	if f.Kind != "" {
		w.add("t.kind = ?", string(f.Kind))
	}
	if f.CustomerID != 0 {
		w.add("t.customer_id = ?", f.CustomerID)
	}
	if f.SourceKind != "" {
		w.add("t.source_kind = ?", f.SourceKind)
		if f.SourceID != 0 {
			w.add("t.source_id = ?", f.SourceID)
		}
	}
	if f.After.AfterID > 0 {
		w.add("(t.priority > ? OR (t.priority = ? AND t.id > ?))", f.After.Rank, f.After.Rank, f.After.AfterID)
	}
	items, err := listWhere(ctx, s.db.reader(ctx), "tasks", taskSelect, w, "t.priority, t.id", f.Limit+1, scanTask)
	p := task.Page{Items: items}
	if p.Items == nil {
		p.Items = []task.Task{}
	}
	if err == nil && len(p.Items) > f.Limit {
		p.Items = p.Items[:f.Limit]
		last := p.Items[f.Limit-1]
		p.NextCursor = kehu.Cursor{AfterID: last.ID, Rank: int(last.Priority)}
	}
	return p, err
}

// GetTask implements task.Store.
func (s *TaskStore) GetTask(ctx context.Context, id int64, v task.Visibility) (task.Task, error) {
	var w where
	w.add("t.id = ?", id)
	seeWhere(s.db.dialect, &w, v)
	t, err := scanTask(s.db.reader(ctx).QueryRowContext(ctx, taskSelect+w.sql(), w.args...))
	if err != nil {
		return t, notFound(err, "task")
	}
	return t, nil
}

// changed turns an UPDATE that matched no row into ECONFLICT.
func changed(res sql.Result, err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return conflict(format, args...)
	}
	return nil
}

// ClaimTask implements task.Store. The conditions are checked by the
// UPDATE itself, so of two claims at once the second matches nothing: on
// PostgreSQL it waits for the first's row lock and re-reads the row, on
// SQLite the single writer runs them one after the other.
func (s *TaskStore) ClaimTask(ctx context.Context, id, user int64, q task.Queue, now time.Time) error {
	res, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE tasks SET assignee_id = $1, claimed_at = $2, updated_at = $2
		WHERE id = $3 AND status = 'open' AND assignee_id IS NULL AND queue_role = $4 AND queue_org_id = $5`,
		user, now.UTC(), id, q.Role, q.OrgID)
	return changed(res, err, "task %d was claimed by someone else", id)
}

// CloseTask implements task.Store.
func (s *TaskStore) CloseTask(ctx context.Context, id int64, st task.Status, outcome string, by int64, now time.Time) error {
	res, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE tasks SET status = $1, outcome = $2, closed_by = $3,
		closed_at = $4, updated_at = $4 WHERE id = $5 AND status = 'open'`, string(st), outcome, by, now.UTC(), id)
	return changed(res, err, "task %d is no longer open", id)
}

// AssignTask implements task.Store.
func (s *TaskStore) AssignTask(ctx context.Context, id, user int64, q task.Queue, now time.Time) error {
	res, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE tasks SET assignee_id = $1, queue_role = $2, queue_org_id = $3,
		claimed_at = NULL, updated_at = $4 WHERE id = $5 AND status = 'open'`, orNull(user), q.Role, orNull(q.OrgID),
		now.UTC(), id)
	return changed(res, err, "task %d is no longer open", id)
}

// Assignee implements task.Store.
func (s *TaskStore) Assignee(ctx context.Context, id int64) (task.Assignee, error) {
	var a task.Assignee
	var disabled bool
	err := s.db.reader(ctx).QueryRowContext(ctx, `SELECT u.id, u.display_name, u.role, u.org_id, o.path, u.disabled
		FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.id = $1`, id).Scan(&a.ID, &a.Name, &a.Role, &a.OrgID,
		&a.OrgPath, &disabled)
	if err != nil {
		return a, notFound(err, "user")
	}
	a.Active = !disabled
	return a, nil
}

// OrgPath implements task.Store.
func (s *TaskStore) OrgPath(ctx context.Context, orgID int64) (string, error) {
	var path string
	if err := s.db.reader(ctx).QueryRowContext(ctx, `SELECT path FROM orgs WHERE id = $1`, orgID).Scan(&path); err != nil {
		return "", notFound(err, "organisation")
	}
	return path, nil
}

// CountOpen implements task.Store.
func (s *TaskStore) CountOpen(ctx context.Context, v task.Visibility) (task.Counts, error) {
	var c task.Counts
	err := s.db.reader(ctx).QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM tasks WHERE assignee_id = $1 AND status = 'open'),
		(SELECT count(*) FROM tasks WHERE assignee_id IS NULL AND queue_org_id = $2 AND queue_role = $3 AND status = 'open')`,
		v.UserID, v.OrgID, v.Role).Scan(&c.Mine, &c.Queue)
	if err != nil {
		return c, fmt.Errorf("count tasks: %w", err)
	}
	return c, nil
}
