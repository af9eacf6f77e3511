package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"kehu/internal/identity"
)

// UndoMerge moves back what merge m moved, in the transaction in ctx, and
// restores both customer rows. A row the merge moved and that is gone
// since (a tag removed from the survivor) stays gone; a value the merge
// wrote and that someone changed since (a filled e-mail edited, a consent
// given again) keeps the newer value: undo never overwrites a later change.
func (s *MergeStore) UndoMerge(ctx context.Context, m *identity.Merge) error {
	q := s.db.writer(ctx)
	if err := s.lockLive(ctx, m.SurvivorID); err != nil {
		return fmt.Errorf("undo merge %d: the survivor %w", m.ID, err)
	}
	res, err := q.ExecContext(ctx, `UPDATE customer_merges SET status = $1, undone_by = $2, undone_at = $3,
		undo_reason = $4 WHERE id = $5 AND status = $6`, identity.MergeUndone, m.UndoneBy, m.UndoneAt.UTC(),
		m.UndoReason, m.ID, identity.MergeDone)
	if err != nil {
		return fmt.Errorf("undo merge %d: %w", m.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return conflict("merge %d was already undone", m.ID)
	}
	for _, t := range movedByID {
		if err := s.moveRecorded(ctx, m.ID, t.table, t.column, m.SurvivorID, m.MergedID); err != nil {
			return err
		}
	}
	steps := []func(context.Context, *identity.Merge) error{s.unmoveKeyed, s.unfillFields, s.restoreReplaced}
	for _, step := range steps {
		if err := step(ctx, m); err != nil {
			return fmt.Errorf("undo merge %d: %w", m.ID, err)
		}
	}
	// The tombstone comes back as it was; the survivor's update time too,
	// unless the survivor was changed after the merge.
	if _, err := q.ExecContext(ctx, `UPDATE customers SET merged_into = NULL, status = $1, updated_at = $2 WHERE id = $3`,
		m.MergedStatus, m.MergedUpdatedAt.UTC(), m.MergedID); err != nil {
		return err
	}
	if _, err := q.ExecContext(ctx, `UPDATE customers SET updated_at = $1 WHERE id = $2 AND updated_at = $3`,
		m.SurvivorUpdatedAt.UTC(), m.SurvivorID, m.MergedAt.UTC()); err != nil {
		return err
	}
	m.Moved, err = s.movedCounts(ctx, m.ID)
	return err
}

// unmoveKeyed moves back the source links (origin again where it was), the
// tags, the consents and the preferences the merge moved, unless the
// tombstone holds a row of the same key meanwhile.
func (s *MergeStore) unmoveKeyed(ctx context.Context, m *identity.Merge) error {
	q := s.db.writer(ctx)
	moved := func(table, col string) string {
		return " IN (SELECT " + col + " FROM customer_merge_moves WHERE merge_id = $3 AND table_name = '" + table +
			"' AND action = 'moved')"
	}
	stmts := []string{
		`UPDATE customer_sources SET customer_id = $1, origin = CASE WHEN id IN (SELECT row_id FROM customer_merge_moves
			WHERE merge_id = $3 AND table_name = 'customer_sources' AND row_key = 'origin') THEN TRUE ELSE origin END
			WHERE customer_id = $2 AND id` + moved("customer_sources", "row_id"),
		`UPDATE customer_tags SET customer_id = $1 WHERE customer_id = $2 AND tag_id` + moved("customer_tags", "row_id") +
			` AND NOT EXISTS (SELECT 1 FROM customer_tags x WHERE x.customer_id = $1 AND x.tag_id = customer_tags.tag_id)`,
		`UPDATE customer_consents SET customer_id = $1 WHERE customer_id = $2 AND channel` + moved("customer_consents", "row_key") +
			` AND NOT EXISTS (SELECT 1 FROM customer_consents x WHERE x.customer_id = $1 AND x.channel = customer_consents.channel)`,
		`UPDATE customer_preferences SET customer_id = $1 WHERE customer_id = $2 AND EXISTS (SELECT 1 FROM
			customer_merge_moves WHERE merge_id = $3 AND table_name = 'customer_preferences')
			AND NOT EXISTS (SELECT 1 FROM customer_preferences x WHERE x.customer_id = $1)`,
	}
	for _, stmt := range stmts {
		if _, err := q.ExecContext(ctx, stmt, m.MergedID, m.SurvivorID, m.ID); err != nil {
			return err
		}
	}
	return nil
}

// unfillFields empties the survivor's filled fields that still hold the
// merged customer's value.
func (s *MergeStore) unfillFields(ctx context.Context, m *identity.Merge) error {
	for _, f := range m.Fields {
		cols := fillColumns[f]
		set := make([]string, len(cols))
		for i, c := range cols {
			set[i] = c.column + " = " + c.empty
		}
		// The first column decides whether the value is still the copy.
		first := cols[0].column
		_, err := s.db.writer(ctx).ExecContext(ctx, "UPDATE customers SET "+strings.Join(set, ", ")+" WHERE id = $1 AND "+
			first+" = (SELECT "+first+" FROM customers WHERE id = $2)", m.SurvivorID, m.MergedID)
		if err != nil {
			return fmt.Errorf("unfill %s: %w", f, err)
		}
	}
	return nil
}

// restoreReplaced puts back the survivor rows the merge overwrote and
// deletes the rows it inserted, each only while it holds what the merge
// wrote.
func (s *MergeStore) restoreReplaced(ctx context.Context, m *identity.Merge) error {
	rows, err := s.db.writer(ctx).QueryContext(ctx, `SELECT table_name, action, row_key, old_data FROM customer_merge_moves
		WHERE merge_id = $1 AND action IN ('replaced', 'inserted') ORDER BY id`, m.ID)
	if err != nil {
		return err
	}
	var moves []moveRow
	for rows.Next() {
		var r moveRow
		if err := rows.Scan(&r.table, &r.action, &r.key, &r.data); err != nil {
			rows.Close()
			return err
		}
		moves = append(moves, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range moves {
		var err error
		switch r.table {
		case "customer_field_provenance":
			err = s.restoreProvenance(ctx, m.SurvivorID, r)
		case "customer_consents":
			err = s.restoreConsent(ctx, m.SurvivorID, r)
		default:
			err = fmt.Errorf("unknown replaced table %s", r.table)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *MergeStore) restoreProvenance(ctx context.Context, survivor int64, r moveRow) error {
	var d replacedData[provenanceRow]
	if err := json.Unmarshal([]byte(r.data), &d); err != nil {
		return fmt.Errorf("provenance move %s: %w", r.key, err)
	}
	q := s.db.writer(ctx)
	still := ` WHERE customer_id = $1 AND field = $2 AND source_system = $3 AND set_at = $4`
	args := []any{survivor, r.key, d.New.SourceSystem, d.New.SetAt.UTC()}
	var err error
	if d.Old == nil {
		_, err = q.ExecContext(ctx, `DELETE FROM customer_field_provenance`+still, args...)
	} else {
		_, err = q.ExecContext(ctx, `UPDATE customer_field_provenance SET source_system = $5, set_at = $6, job_id = $7`+still,
			append(args, d.Old.SourceSystem, d.Old.SetAt.UTC(), d.Old.JobID)...)
	}
	return err
}

func (s *MergeStore) restoreConsent(ctx context.Context, survivor int64, r moveRow) error {
	var d replacedData[consentRow]
	if err := json.Unmarshal([]byte(r.data), &d); err != nil || d.Old == nil {
		return fmt.Errorf("consent move %s: %v", r.key, err)
	}
	_, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE customer_consents SET granted = $1, changed_at = $2, source = $3,
		changed_by = $4 WHERE customer_id = $5 AND channel = $6 AND granted = $7 AND changed_at = $8`,
		d.Old.Granted, d.Old.ChangedAt.UTC(), d.Old.Source, d.Old.ChangedBy, survivor, r.key, d.New.Granted, d.New.ChangedAt.UTC())
	return err
}
