package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kehu/internal/customer"
	"kehu/internal/identity"
)

// MergeStore implements identity.MergeStore: the merge log and the row
// moves of merging suspected duplicates and of undoing a merge.
type MergeStore struct{ db *DB }

// Merges returns the merge store.
func (db *DB) Merges() *MergeStore { return &MergeStore{db: db} }

// movedByID are the tables whose rows carry a surrogate id and one column
// naming the customer: a merge moves them all and undo moves back exactly
// those ids. customer_sources (the source links) is handled apart because
// of its origin flag.
var movedByID = []struct{ table, column string }{
	{"accounts", "customer_id"},
	{"holdings", "customer_id"},
	{"transactions", "customer_id"},
	{"channel_events", "customer_id"},
	{"interactions", "customer_id"},
	{"relationships", "from_customer_id"},
	{"relationships", "to_customer_id"},
	// The contact log moves so the survivor's frequency caps count the
	// contacts made to the merged record (internal/policy).
	{"contact_log", "customer_id"},
	// Tasks and leads follow the customer, so the survivor's RM finds the
	// work on the one record that remains (internal/task, internal/sales).
	{"tasks", "customer_id"},
	{"leads", "customer_id"},
}

// KeptByMerge names every other column that references customers and why
// a merge leaves its rows with the merged customer (the tombstone). The
// tables moved with care are customer_sources (moveSources), customer_tags,
// customer_consents and customer_preferences (one row per customer and key:
// the survivor's own rows win, a consent goes to the later statement).
// A test compares these lists with the schema, so a new table that references
// customers cannot be forgotten.
var KeptByMerge = map[string]string{
	"customers.merged_into":                 "the tombstone pointer itself",
	"customer_secondary_rms.customer_id":    "assignments of the merged record; widening who sees the survivor is a transfer",
	"customer_transfers.customer_id":        "history of the merged record",
	"access_requests.customer_id":           "history of the merged record",
	"access_grants.customer_id":             "a grant names the record that was asked for",
	"privacy_requests.customer_id":          "data-subject requests stay with the record they were filed for",
	"customer_field_provenance.customer_id": "describes the tombstone's own values; filled fields get provenance of their own",
	"duplicate_candidates.customer_id":      "the queue: the pair's status changes, nothing moves",
	"duplicate_candidates.other_id":         "the queue: the pair's status changes, nothing moves",
	"customer_levels.customer_id":           "recomputed for both customers after the merge",
	"level_changes.customer_id":             "history of the merged record",
	"customer_name_grams.customer_id":       "derived from the name by triggers",
	"customer_merges.survivor_id":           "the merge log",
	"customer_merges.merged_id":             "the merge log",
	"outbox_messages.customer_id":           "delivery history of the record the message was addressed to",
	"segment_members.customer_id":           "a static segment's snapshot is what its rule selected when taken; the next snapshot selects the survivor",
	"campaign_members.customer_id":          "who a campaign run chose and what it did to them; results count the record that was contacted",
	"journey_firings.customer_id":           "what a journey did for the record it fired on; its results count that record, and the survivor's own events fire for the survivor",
}

// MovedByMerge lists the columns referencing customers whose rows a merge
// moves to the survivor.
func MovedByMerge() []string {
	out := []string{"customer_sources.customer_id", "customer_tags.customer_id", "customer_consents.customer_id",
		"customer_preferences.customer_id"}
	for _, t := range movedByID {
		out = append(out, t.table+"."+t.column)
	}
	return out
}

// moveRow is one row of customer_merge_moves.
type moveRow struct {
	table, action, key, data string
	id                       int64
}

// MergeCustomers performs merge m in the transaction in ctx.
func (s *MergeStore) MergeCustomers(ctx context.Context, m *identity.Merge) error {
	q := s.db.writer(ctx)
	if err := s.lockLive(ctx, m.SurvivorID); err != nil {
		return err
	}
	err := q.QueryRowContext(ctx, `SELECT c.status, c.updated_at, s.updated_at FROM customers c, customers s
		WHERE c.id = $1 AND s.id = $2`, m.MergedID, m.SurvivorID).Scan(&m.MergedStatus, &m.MergedUpdatedAt, &m.SurvivorUpdatedAt)
	if err != nil {
		return notFound(err, "customer")
	}
	res, err := q.ExecContext(ctx, `UPDATE customers SET merged_into = $1, status = $2, updated_at = $3
		WHERE id = $4 AND merged_into IS NULL`, m.SurvivorID, identity.StatusMerged, m.MergedAt.UTC(), m.MergedID)
	if err != nil {
		return fmt.Errorf("tombstone customer %d: %w", m.MergedID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return conflict("customer %d was merged meanwhile", m.MergedID)
	}
	err = q.QueryRowContext(ctx, `INSERT INTO customer_merges (survivor_id, merged_id, candidate_id, status, reason,
		fields, merged_status, merged_updated_at, survivor_updated_at, merged_by, merged_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`, m.SurvivorID, m.MergedID, m.CandidateID,
		identity.MergeDone, m.Reason, strings.Join(m.Fields, ","), m.MergedStatus, m.MergedUpdatedAt.UTC(),
		m.SurvivorUpdatedAt.UTC(), m.MergedBy, m.MergedAt.UTC()).Scan(&m.ID)
	if err != nil {
		return fmt.Errorf("insert merge: %w", err)
	}
	// fillFields reads the merged customer's origin link, so it runs before
	// moveSources takes the links away.
	steps := []func(context.Context, *identity.Merge) error{s.fillFields, s.moveByID, s.moveSources, s.moveTags,
		s.moveConsents, s.movePreferences}
	for _, step := range steps {
		if err := step(ctx, m); err != nil {
			return fmt.Errorf("merge %d: %w", m.ID, err)
		}
	}
	if _, err := q.ExecContext(ctx, `UPDATE customers SET updated_at = $1 WHERE id = $2`, m.MergedAt.UTC(), m.SurvivorID); err != nil {
		return err
	}
	m.Moved, err = s.movedCounts(ctx, m.ID)
	return err
}

// lockLive takes the row of a customer that is not merged (on PostgreSQL a
// row lock until the transaction ends, so a concurrent merge of it waits),
// ECONFLICT when it is merged.
func (s *MergeStore) lockLive(ctx context.Context, id int64) error {
	res, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE customers SET updated_at = updated_at
		WHERE id = $1 AND merged_into IS NULL`, id)
	if err != nil {
		return fmt.Errorf("lock customer %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var into sql.NullInt64
		err := s.db.writer(ctx).QueryRowContext(ctx, `SELECT merged_into FROM customers WHERE id = $1`, id).Scan(&into)
		if err != nil {
			return notFound(err, "customer")
		}
		return conflict("customer %d was merged into customer %d", id, into.Int64)
	}
	return nil
}

// record inserts moves of merge id.
func (s *MergeStore) record(ctx context.Context, mergeID int64, rows ...moveRow) error {
	for _, r := range rows {
		if _, err := s.db.writer(ctx).ExecContext(ctx, `INSERT INTO customer_merge_moves (merge_id, table_name, action,
			row_id, row_key, old_data) VALUES ($1, $2, $3, $4, $5, $6)`, mergeID, r.table, r.action, r.id, r.key, r.data); err != nil {
			return fmt.Errorf("record move in %s: %w", r.table, err)
		}
	}
	return nil
}

// moveByID moves the rows of the id tables: first records which rows, then
// moves exactly those, so a row added meanwhile is never moved unrecorded.
// A relationship that would link the survivor to itself, or duplicate one
// the survivor has, stays with the tombstone.
func (s *MergeStore) moveByID(ctx context.Context, m *identity.Merge) error {
	q := s.db.writer(ctx)
	for _, t := range movedByID {
		cond, args := "", []any{m.ID, m.MergedID}
		if t.table == "relationships" {
			args = append(args, m.SurvivorID)
			other := "to_customer_id"
			if t.column == "to_customer_id" {
				other = "from_customer_id"
			}
			cond = ` AND r.` + other + ` <> $3 AND NOT EXISTS (SELECT 1 FROM relationships x WHERE x.` + t.column +
				` = $3 AND x.` + other + ` = r.` + other + ` AND x.kind = r.kind)`
		}
		_, err := q.ExecContext(ctx, `INSERT INTO customer_merge_moves (merge_id, table_name, action, row_id, row_key)
			SELECT $1, '`+t.table+`', 'moved', r.id, '`+t.column+`' FROM `+t.table+` r WHERE r.`+t.column+` = $2`+cond,
			args...)
		if err != nil {
			return fmt.Errorf("record %s: %w", t.table, err)
		}
		if err := s.moveRecorded(ctx, m.ID, t.table, t.column, m.MergedID, m.SurvivorID); err != nil {
			return err
		}
	}
	return nil
}

// moveRecorded sets column from one customer to another on the rows of
// table that merge mergeID recorded as moved under that column.
func (s *MergeStore) moveRecorded(ctx context.Context, mergeID int64, table, column string, from, to int64) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE `+table+` SET `+column+` = $1 WHERE `+column+` = $2
		AND id IN (SELECT row_id FROM customer_merge_moves WHERE merge_id = $3 AND table_name = '`+table+`'
			AND action = 'moved' AND row_key = '`+column+`')`, to, from, mergeID)
	if err != nil {
		return fmt.Errorf("move %s.%s: %w", table, column, err)
	}
	return nil
}

// moveSources moves the merged customer's source links. The survivor keeps
// its own origin record, so a moved link stops being an origin; row_key
// remembers which ones were, for undo.
func (s *MergeStore) moveSources(ctx context.Context, m *identity.Merge) error {
	q := s.db.writer(ctx)
	_, err := q.ExecContext(ctx, `INSERT INTO customer_merge_moves (merge_id, table_name, action, row_id, row_key)
		SELECT $1, 'customer_sources', 'moved', id, CASE WHEN origin THEN 'origin' ELSE '' END
		FROM customer_sources WHERE customer_id = $2`, m.ID, m.MergedID)
	if err != nil {
		return fmt.Errorf("record source links: %w", err)
	}
	_, err = q.ExecContext(ctx, `UPDATE customer_sources SET customer_id = $1, origin = FALSE WHERE customer_id = $2
		AND id IN (SELECT row_id FROM customer_merge_moves WHERE merge_id = $3 AND table_name = 'customer_sources')`,
		m.SurvivorID, m.MergedID, m.ID)
	if err != nil {
		return fmt.Errorf("move source links: %w", err)
	}
	return nil
}

// moveTags moves the tags the survivor does not carry yet.
func (s *MergeStore) moveTags(ctx context.Context, m *identity.Merge) error {
	q := s.db.writer(ctx)
	_, err := q.ExecContext(ctx, `INSERT INTO customer_merge_moves (merge_id, table_name, action, row_id)
		SELECT $1, 'customer_tags', 'moved', t.tag_id FROM customer_tags t WHERE t.customer_id = $2
		AND NOT EXISTS (SELECT 1 FROM customer_tags x WHERE x.customer_id = $3 AND x.tag_id = t.tag_id)`,
		m.ID, m.MergedID, m.SurvivorID)
	if err != nil {
		return fmt.Errorf("record tags: %w", err)
	}
	_, err = q.ExecContext(ctx, `UPDATE customer_tags SET customer_id = $1 WHERE customer_id = $2 AND tag_id IN
		(SELECT row_id FROM customer_merge_moves WHERE merge_id = $3 AND table_name = 'customer_tags')`,
		m.SurvivorID, m.MergedID, m.ID)
	if err != nil {
		return fmt.Errorf("move tags: %w", err)
	}
	return nil
}

// movePreferences moves the contact preferences when the survivor has none.
func (s *MergeStore) movePreferences(ctx context.Context, m *identity.Merge) error {
	q := s.db.writer(ctx)
	res, err := q.ExecContext(ctx, `UPDATE customer_preferences SET customer_id = $1 WHERE customer_id = $2
		AND NOT EXISTS (SELECT 1 FROM customer_preferences x WHERE x.customer_id = $1)`, m.SurvivorID, m.MergedID)
	if err != nil {
		return fmt.Errorf("move preferences: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return s.record(ctx, m.ID, moveRow{table: "customer_preferences", action: "moved"})
	}
	return nil
}

// movedCounts counts the moves of a merge per table.
func (s *MergeStore) movedCounts(ctx context.Context, mergeID int64) (map[string]int, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, `SELECT table_name, count(*) FROM customer_merge_moves
		WHERE merge_id = $1 GROUP BY table_name`, mergeID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var t string
		var n int
		if err := rows.Scan(&t, &n); err != nil {
			return nil, err
		}
		out[t] = n
	}
	return out, rows.Err()
}

// mergeColumns is what GetMerge and ListMerges read.
const mergeColumns = `m.id, m.survivor_id, m.merged_id, m.candidate_id, m.status, m.reason, m.fields, m.merged_status,
	m.merged_updated_at, m.survivor_updated_at, m.merged_by, m.merged_at, m.undone_by, m.undone_at, m.undo_reason`

func scanMerge(row interface{ Scan(...any) error }) (identity.Merge, error) {
	var m identity.Merge
	var cand, undoneBy sql.NullInt64
	var undoneAt sql.NullTime
	var fields string
	err := row.Scan(&m.ID, &m.SurvivorID, &m.MergedID, &cand, &m.Status, &m.Reason, &fields, &m.MergedStatus,
		&m.MergedUpdatedAt, &m.SurvivorUpdatedAt, &m.MergedBy, &m.MergedAt, &undoneBy, &undoneAt, &m.UndoReason)
	if cand.Valid {
		m.CandidateID = &cand.Int64
	}
	if undoneBy.Valid {
		m.UndoneBy = &undoneBy.Int64
	}
	if undoneAt.Valid {
		t := undoneAt.Time.UTC()
		m.UndoneAt = &t
	}
	if fields != "" {
		m.Fields = strings.Split(fields, ",")
	}
	m.MergedUpdatedAt, m.SurvivorUpdatedAt, m.MergedAt = m.MergedUpdatedAt.UTC(), m.SurvivorUpdatedAt.UTC(), m.MergedAt.UTC()
	return m, err
}

// mergeScope adds to w that both customers of merge alias m lie in scope.
func mergeScope(d Dialect, w *where, scope customer.ScopeFilter) {
	for _, col := range []string{"m.survivor_id", "m.merged_id"} {
		inner := where{args: w.args}
		scopeWhere(d, &inner, scope)
		if len(inner.conds) == 0 {
			return
		}
		w.args = inner.args
		w.conds = append(w.conds, col+" IN (SELECT c.id FROM customers c WHERE "+strings.Join(inner.conds, " AND ")+")")
	}
}

// GetMerge returns one merge with its move counts, both customers in scope.
func (s *MergeStore) GetMerge(ctx context.Context, id int64, scope customer.ScopeFilter) (identity.Merge, error) {
	var w where
	w.add("m.id = ?", id)
	mergeScope(s.db.dialect, &w, scope)
	m, err := scanMerge(s.db.reader(ctx).QueryRowContext(ctx, "SELECT "+mergeColumns+" FROM customer_merges m"+w.sql(), w.args...))
	if err != nil {
		return m, notFound(err, "merge")
	}
	m.Moved, err = s.movedCounts(ctx, m.ID)
	return m, err
}

// ListMerges returns merges newest first (customer_merges primary key, or
// the survivor and merged indexes for one customer).
func (s *MergeStore) ListMerges(ctx context.Context, f identity.MergeFilter) ([]identity.Merge, error) {
	var w where
	if f.CustomerID != 0 {
		w.add("(m.survivor_id = ? OR m.merged_id = ?)", f.CustomerID, f.CustomerID)
	}
	if f.Before > 0 {
		w.add("m.id < ?", f.Before)
	}
	mergeScope(s.db.dialect, &w, f.Scope)
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT "+mergeColumns+" FROM customer_merges m"+w.sql()+
		" ORDER BY m.id DESC LIMIT "+strconv.Itoa(f.Limit), w.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []identity.Merge
	for rows.Next() {
		m, err := scanMerge(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Moved, err = s.movedCounts(ctx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DecideDuplicate moves a queued pair from one status to another.
func (s *MergeStore) DecideDuplicate(ctx context.Context, id int64, from, to string, by int64, at time.Time) (bool, error) {
	var res sql.Result
	var err error
	if to == identity.DupPending {
		res, err = s.db.writer(ctx).ExecContext(ctx, `UPDATE duplicate_candidates SET status = $1, decided_by = NULL,
			decided_at = NULL WHERE id = $2 AND status = $3`, to, id, from)
	} else {
		res, err = s.db.writer(ctx).ExecContext(ctx, `UPDATE duplicate_candidates SET status = $1, decided_by = $2,
			decided_at = $3 WHERE id = $4 AND status = $5`, to, by, at.UTC(), id, from)
	}
	if err != nil {
		return false, fmt.Errorf("decide duplicate %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
