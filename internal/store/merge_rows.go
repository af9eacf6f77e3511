package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"kehu/internal/identity"
)

// fillColumns are the customers columns of each field a merge may fill,
// with the value that means "none" (what undo puts back).
var fillColumns = map[string][]struct{ column, empty string }{
	identity.FieldMobile:            {{"mobile", "''"}, {"mobile_bidx", "''"}},
	identity.FieldEmail:             {{"email", "''"}},
	identity.FieldAddress:           {{"address", "''"}},
	identity.FieldGender:            {{"gender", "''"}},
	identity.FieldBirthDate:         {{"birth_date", "NULL"}},
	identity.FieldRisk:              {{"risk_level", "0"}, {"risk_assessed_at", "NULL"}},
	identity.FieldIndustry:          {{"industry", "''"}},
	identity.FieldRegisteredCapital: {{"registered_capital", "0"}},
}

// provenanceRow is a customer_field_provenance row's values, as old_data
// keeps them.
type provenanceRow struct {
	SourceSystem string    `json:"source_system"`
	SetAt        time.Time `json:"set_at"`
	JobID        *int64    `json:"job_id"`
}

// consentRow is a customer_consents row's values.
type consentRow struct {
	Granted   bool      `json:"granted"`
	ChangedAt time.Time `json:"changed_at"`
	Source    string    `json:"source"`
	ChangedBy *int64    `json:"changed_by"`
}

// replacedData is old_data of a replaced (Old set) or inserted row: what
// the row held and what the merge wrote, so undo restores it only while it
// still holds what the merge wrote.
type replacedData[T any] struct {
	Old *T `json:"old,omitempty"`
	New T  `json:"new"`
}

func encodeData(v any) string {
	b, err := json.Marshal(v)
	if err != nil { // cannot happen: strings, times, integers
		panic(fmt.Sprintf("merge: encode: %v", err))
	}
	return string(b)
}

// fillFields copies the fields the survivor lacks from the merged customer.
// Sealed values are copied as they are (a value is bound to its column, not
// its row). Each filled field's provenance goes with it: the merged
// customer's explicit provenance of the field, else its origin record, else
// Kehu at its creation.
func (s *MergeStore) fillFields(ctx context.Context, m *identity.Merge) error {
	q := s.db.writer(ctx)
	for _, f := range m.Fields {
		cols := fillColumns[f]
		if cols == nil {
			return fmt.Errorf("field %q cannot be filled", f)
		}
		set := make([]string, len(cols))
		for i, c := range cols {
			set[i] = c.column + " = (SELECT " + c.column + " FROM customers WHERE id = $1)"
		}
		if _, err := q.ExecContext(ctx, "UPDATE customers SET "+strings.Join(set, ", ")+" WHERE id = $2",
			m.MergedID, m.SurvivorID); err != nil {
			return fmt.Errorf("fill %s: %w", f, err)
		}
		if err := s.carryProvenance(ctx, m, f); err != nil {
			return err
		}
	}
	return nil
}

// carryProvenance gives the survivor's field f the merged customer's
// provenance of it.
func (s *MergeStore) carryProvenance(ctx context.Context, m *identity.Merge, f string) error {
	q := s.db.writer(ctx)
	var p provenanceRow
	err := q.QueryRowContext(ctx, `SELECT source_system, set_at, job_id FROM customer_field_provenance
		WHERE customer_id = $1 AND field = $2`, m.MergedID, f).Scan(&p.SourceSystem, &p.SetAt, &p.JobID)
	if errors.Is(err, sql.ErrNoRows) {
		err = q.QueryRowContext(ctx, `SELECT source_system, observed_at, job_id FROM customer_sources
			WHERE customer_id = $1 AND origin ORDER BY id LIMIT 1`, m.MergedID).Scan(&p.SourceSystem, &p.SetAt, &p.JobID)
	}
	if errors.Is(err, sql.ErrNoRows) {
		p.SourceSystem = identity.SourceKehu
		err = q.QueryRowContext(ctx, `SELECT created_at FROM customers WHERE id = $1`, m.MergedID).Scan(&p.SetAt)
	}
	if err != nil {
		return fmt.Errorf("provenance of %s: %w", f, err)
	}
	p.SetAt = p.SetAt.UTC()
	var old provenanceRow
	err = q.QueryRowContext(ctx, `SELECT source_system, set_at, job_id FROM customer_field_provenance
		WHERE customer_id = $1 AND field = $2`, m.SurvivorID, f).Scan(&old.SourceSystem, &old.SetAt, &old.JobID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := q.ExecContext(ctx, `INSERT INTO customer_field_provenance (customer_id, field, source_system, set_at,
			job_id) VALUES ($1, $2, $3, $4, $5)`, m.SurvivorID, f, p.SourceSystem, p.SetAt, p.JobID); err != nil {
			return fmt.Errorf("provenance of %s: %w", f, err)
		}
		return s.record(ctx, m.ID, moveRow{table: "customer_field_provenance", action: "inserted", key: f,
			data: encodeData(replacedData[provenanceRow]{New: p})})
	case err != nil:
		return fmt.Errorf("provenance of %s: %w", f, err)
	}
	old.SetAt = old.SetAt.UTC()
	if _, err := q.ExecContext(ctx, `UPDATE customer_field_provenance SET source_system = $1, set_at = $2, job_id = $3
		WHERE customer_id = $4 AND field = $5`, p.SourceSystem, p.SetAt, p.JobID, m.SurvivorID, f); err != nil {
		return fmt.Errorf("provenance of %s: %w", f, err)
	}
	return s.record(ctx, m.ID, moveRow{table: "customer_field_provenance", action: "replaced", key: f,
		data: encodeData(replacedData[provenanceRow]{Old: &old, New: p})})
}

// moveConsents moves the consents of channels the survivor has no row for.
// Where both have one, the later statement of the customer's will wins: the
// survivor's row takes the merged customer's values when those are newer (a
// withdrawal given to either record is honoured).
func (s *MergeStore) moveConsents(ctx context.Context, m *identity.Merge) error {
	q := s.db.writer(ctx)
	_, err := q.ExecContext(ctx, `INSERT INTO customer_merge_moves (merge_id, table_name, action, row_key)
		SELECT $1, 'customer_consents', 'moved', t.channel FROM customer_consents t WHERE t.customer_id = $2
		AND NOT EXISTS (SELECT 1 FROM customer_consents x WHERE x.customer_id = $3 AND x.channel = t.channel)`,
		m.ID, m.MergedID, m.SurvivorID)
	if err != nil {
		return fmt.Errorf("record consents: %w", err)
	}
	if _, err := q.ExecContext(ctx, `UPDATE customer_consents SET customer_id = $1 WHERE customer_id = $2 AND channel IN
		(SELECT row_key FROM customer_merge_moves WHERE merge_id = $3 AND table_name = 'customer_consents')`,
		m.SurvivorID, m.MergedID, m.ID); err != nil {
		return fmt.Errorf("move consents: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT l.channel, l.granted, l.changed_at, l.source, l.changed_by,
		s.granted, s.changed_at, s.source, s.changed_by
		FROM customer_consents l JOIN customer_consents s ON s.customer_id = $2 AND s.channel = l.channel
		WHERE l.customer_id = $1 AND l.changed_at > s.changed_at ORDER BY l.channel`, m.MergedID, m.SurvivorID)
	if err != nil {
		return fmt.Errorf("newer consents: %w", err)
	}
	type newer struct {
		channel  string
		old, new consentRow
	}
	var later []newer
	for rows.Next() {
		var n newer
		if err := rows.Scan(&n.channel, &n.new.Granted, &n.new.ChangedAt, &n.new.Source, &n.new.ChangedBy,
			&n.old.Granted, &n.old.ChangedAt, &n.old.Source, &n.old.ChangedBy); err != nil {
			rows.Close()
			return err
		}
		n.old.ChangedAt, n.new.ChangedAt = n.old.ChangedAt.UTC(), n.new.ChangedAt.UTC()
		later = append(later, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, n := range later {
		if err := s.writeConsent(ctx, m.SurvivorID, n.channel, n.new); err != nil {
			return err
		}
		if err := s.record(ctx, m.ID, moveRow{table: "customer_consents", action: "replaced", key: n.channel,
			data: encodeData(replacedData[consentRow]{Old: &n.old, New: n.new})}); err != nil {
			return err
		}
	}
	return nil
}

func (s *MergeStore) writeConsent(ctx context.Context, customerID int64, channel string, c consentRow) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE customer_consents SET granted = $1, changed_at = $2, source = $3,
		changed_by = $4 WHERE customer_id = $5 AND channel = $6`, c.Granted, c.ChangedAt.UTC(), c.Source, c.ChangedBy,
		customerID, channel)
	if err != nil {
		return fmt.Errorf("consent %s: %w", channel, err)
	}
	return nil
}
