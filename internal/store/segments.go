package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kehu/internal/customer"
	"kehu/internal/segment"
)

// SegmentStore implements segment.Store.
type SegmentStore struct{ db *DB }

// Segments returns the segment store.
func (db *DB) Segments() *SegmentStore { return &SegmentStore{db: db} }

const segmentColumns = `g.id, g.name, g.description, g.rule, g.kind, g.owner_id, COALESCE(u.display_name, ''),
	g.snapshot_at, g.member_count, g.created_at, g.updated_at`

const segmentFrom = ` FROM segments g LEFT JOIN users u ON u.id = g.owner_id`

func scanSegment(r interface{ Scan(...any) error }) (segment.Segment, error) {
	var g segment.Segment
	var rule string
	var snap sql.NullTime
	var count sql.NullInt64
	if err := r.Scan(&g.ID, &g.Name, &g.Description, &rule, &g.Kind, &g.OwnerID, &g.OwnerName, &snap, &count,
		&g.CreatedAt, &g.UpdatedAt); err != nil {
		return g, err
	}
	var err error
	if g.Rule, err = segment.Parse([]byte(rule)); err != nil {
		return g, fmt.Errorf("segment %d: stored rule: %w", g.ID, err)
	}
	if snap.Valid {
		t := snap.Time.UTC()
		g.SnapshotAt = &t
	}
	if count.Valid {
		g.MemberCount = &count.Int64
	}
	g.CreatedAt, g.UpdatedAt = g.CreatedAt.UTC(), g.UpdatedAt.UTC()
	return g, nil
}

// ListSegments returns every segment by name.
func (s *SegmentStore) ListSegments(ctx context.Context) ([]segment.Segment, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT "+segmentColumns+segmentFrom+" ORDER BY g.name, g.id")
	if err != nil {
		return nil, fmt.Errorf("list segments: %w", err)
	}
	return collect(rows, "segments", func(r *sql.Rows) (segment.Segment, error) { return scanSegment(r) })
}

// GetSegment returns one segment.
func (s *SegmentStore) GetSegment(ctx context.Context, id int64) (segment.Segment, error) {
	g, err := scanSegment(s.db.reader(ctx).QueryRowContext(ctx, "SELECT "+segmentColumns+segmentFrom+" WHERE g.id = $1", id))
	if err != nil {
		return g, notFound(err, "segment")
	}
	return g, nil
}

// CreateSegment inserts a segment.
func (s *SegmentStore) CreateSegment(ctx context.Context, g segment.Segment) (segment.Segment, error) {
	err := s.db.writer(ctx).QueryRowContext(ctx, `INSERT INTO segments (name, description, rule, kind, owner_id,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, g.Name, g.Description,
		string(g.Rule.JSON()), g.Kind, g.OwnerID, g.CreatedAt.UTC(), g.UpdatedAt.UTC()).Scan(&g.ID)
	if isUniqueViolation(err) {
		return g, conflict("a segment named %q exists", g.Name)
	}
	if err != nil {
		return g, fmt.Errorf("insert segment: %w", err)
	}
	return g, nil
}

// UpdateSegment writes a segment's definition.
func (s *SegmentStore) UpdateSegment(ctx context.Context, g segment.Segment) error {
	res, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE segments SET name = $1, description = $2, rule = $3,
		kind = $4, updated_at = $5 WHERE id = $6`, g.Name, g.Description, string(g.Rule.JSON()), g.Kind,
		g.UpdatedAt.UTC(), g.ID)
	if isUniqueViolation(err) {
		return conflict("a segment named %q exists", g.Name)
	}
	if err != nil {
		return fmt.Errorf("update segment %d: %w", g.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound(sql.ErrNoRows, "segment")
	}
	return nil
}

// DeleteSegment removes a segment and its snapshot.
func (s *SegmentStore) DeleteSegment(ctx context.Context, id int64) error {
	q := s.db.writer(ctx)
	if _, err := q.ExecContext(ctx, "DELETE FROM segment_members WHERE segment_id = $1", id); err != nil {
		return fmt.Errorf("delete segment %d members: %w", id, err)
	}
	if _, err := q.ExecContext(ctx, "DELETE FROM segments WHERE id = $1", id); err != nil {
		return fmt.Errorf("delete segment %d: %w", id, err)
	}
	return nil
}

// ReferencedBy finds the segments whose rule names segment id. Stored
// rules are canonical JSON, where a reference is exactly {"segment":id};
// the pattern is built from the integer id, never from user text.
func (s *SegmentStore) ReferencedBy(ctx context.Context, id int64) ([]int64, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT id FROM segments WHERE rule LIKE $1 AND id <> $2 ORDER BY id",
		`%{"segment":`+strconv.FormatInt(id, 10)+`}%`, id)
	if err != nil {
		return nil, fmt.Errorf("segment references: %w", err)
	}
	return collect(rows, "segment references", func(r *sql.Rows) (int64, error) {
		var n int64
		return n, r.Scan(&n)
	})
}

// segmentWhere is the WHERE clause of the customers in scope that plan p
// selects; merged customers (tombstones) are never members.
func (s *SegmentStore) segmentWhere(p *segment.Plan, scope customer.ScopeFilter) (string, []any) {
	return s.segmentWhereBy(p, scope, true)
}

// segmentWhereBy is segmentWhere; with orgIndex false the subtree test is
// written so no index serves it (scopeWhereBy), for the keyset pages of
// SegmentIDs: walking the primary key from the page's start and stopping
// after a page reads each customer once over a whole launch, where the
// organisation index gathers and sorts every remaining customer of the
// subtree for every page (quadratic over a campaign's audience).
func (s *SegmentStore) segmentWhereBy(p *segment.Plan, scope customer.ScopeFilter, orgIndex bool) (string, []any) {
	var w where
	w.add("c.merged_into IS NULL")
	scopeWhereBy(s.db.dialect, &w, scope, scopeForm{orgIndex: orgIndex, secondary: true})
	cond, args := compileSegment(s.db.dialect, p, w.args)
	return w.sql() + " AND " + cond, args
}

// CountSQL is the query CountSegment runs, for EXPLAIN and for the
// benchmark that compares it with hand-written SQL on the same connection.
func (s *SegmentStore) CountSQL(p *segment.Plan, scope customer.ScopeFilter) (string, []any) {
	cond, args := s.segmentWhere(p, scope)
	return "SELECT count(*) FROM customers c" + cond, args
}

// CountSegment counts the customers in scope the plan selects.
func (s *SegmentStore) CountSegment(ctx context.Context, p *segment.Plan, scope customer.ScopeFilter) (int64, error) {
	cond, args := s.segmentWhere(p, scope)
	var n int64
	if err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT count(*) FROM customers c"+cond, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count segment: %w", err)
	}
	return n, nil
}

// SegmentIDs returns a keyset page of the selected customers' ids.
func (s *SegmentStore) SegmentIDs(ctx context.Context, p *segment.Plan, scope customer.ScopeFilter, after int64, limit int) ([]int64, error) {
	cond, args := s.segmentWhereBy(p, scope, false)
	args = append(args, after, limit)
	n := len(args)
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT c.id FROM customers c"+cond+" AND c.id > $"+strconv.Itoa(n-1)+
		" ORDER BY c.id LIMIT $"+strconv.Itoa(n), args...)
	if err != nil {
		return nil, fmt.Errorf("segment members: %w", err)
	}
	return collect(rows, "segment members", func(r *sql.Rows) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	})
}

// Snapshot replaces the members of segment id by the plan's selection.
func (s *SegmentStore) Snapshot(ctx context.Context, id int64, p *segment.Plan, scope customer.ScopeFilter, at time.Time) (int64, error) {
	q := s.db.writer(ctx)
	if _, err := q.ExecContext(ctx, "DELETE FROM segment_members WHERE segment_id = $1", id); err != nil {
		return 0, fmt.Errorf("snapshot segment %d: %w", id, err)
	}
	cond, args := s.segmentWhere(p, scope)
	args = append(args, id)
	res, err := q.ExecContext(ctx, "INSERT INTO segment_members (segment_id, customer_id) SELECT $"+strconv.Itoa(len(args))+
		", c.id FROM customers c"+cond, args...)
	if err != nil {
		return 0, fmt.Errorf("snapshot segment %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if _, err := q.ExecContext(ctx, "UPDATE segments SET snapshot_at = $1, member_count = $2 WHERE id = $3",
		at.UTC(), n, id); err != nil {
		return 0, fmt.Errorf("snapshot segment %d: %w", id, err)
	}
	return n, nil
}

// ClearSnapshot removes a segment's members.
func (s *SegmentStore) ClearSnapshot(ctx context.Context, id int64) error {
	q := s.db.writer(ctx)
	if _, err := q.ExecContext(ctx, "DELETE FROM segment_members WHERE segment_id = $1", id); err != nil {
		return fmt.Errorf("clear segment %d: %w", id, err)
	}
	_, err := q.ExecContext(ctx, "UPDATE segments SET snapshot_at = NULL, member_count = NULL WHERE id = $1", id)
	return err
}

// CustomersByID reads customers (opened, unmasked: the service masks) in
// the order of ids.
func (s *SegmentStore) CustomersByID(ctx context.Context, ids []int64) ([]customer.Customer, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	k, err := s.db.keyring()
	if err != nil {
		return nil, err
	}
	ps := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ps[i], args[i] = "$"+strconv.Itoa(i+1), id
	}
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT "+customerColumns+" FROM customers c WHERE c.id IN ("+
		strings.Join(ps, ", ")+") ORDER BY c.id", args...)
	if err != nil {
		return nil, fmt.Errorf("segment customers: %w", err)
	}
	defer rows.Close()
	var out []customer.Customer
	for rows.Next() {
		c, err := scanCustomer(k, rows)
		if err != nil {
			return nil, fmt.Errorf("segment customers: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// OrgPath returns an organisation's materialised path.
func (s *SegmentStore) OrgPath(ctx context.Context, id int64) (string, error) {
	var p string
	if err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT path FROM orgs WHERE id = $1", id).Scan(&p); err != nil {
		return "", notFound(err, "organisation")
	}
	return p, nil
}
