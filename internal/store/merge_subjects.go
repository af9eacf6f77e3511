package store

import (
	"context"
	"database/sql"
	"fmt"

	"kehu/internal/identity"
)

// countedTables are the tables whose rows a reviewer sees counted per
// customer of a pair, to choose the survivor; relationships count both
// directions.
var countedTables = []struct{ name, column string }{
	{"accounts", "customer_id"},
	{"holdings", "customer_id"},
	{"transactions", "customer_id"},
	{"channel_events", "customer_id"},
	{"interactions", "customer_id"},
	{"customer_tags", "customer_id"},
	{"customer_sources", "customer_id"},
	{"relationships", "from_customer_id"},
	{"relationships", "to_customer_id"},
}

// Subjects loads customers in clear with their tombstone pointer and their
// row counts: one query for the customers and one per counted table.
func (s *MergeStore) Subjects(ctx context.Context, ids []int64) (map[int64]identity.Subject, error) {
	out := map[int64]identity.Subject{}
	if len(ids) == 0 {
		return out, nil
	}
	k, err := s.db.keyring()
	if err != nil {
		return nil, err
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	in := " IN (" + paramList(s.db.dialect, 1, len(ids)) + ")"
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT "+customerColumns+", c.merged_into FROM customers c WHERE c.id"+in, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var into sql.NullInt64
		c, err := scanCustomer(k, extraScan{row: rows, extra: []any{&into}}) // extraScan: identity.go
		if err != nil {
			rows.Close()
			return nil, err
		}
		out[c.ID] = identity.Subject{Customer: c, MergedInto: into.Int64, Records: map[string]int{}}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, t := range countedTables {
		if err := s.count(ctx, out, t.name, t.column, in, args); err != nil {
			return nil, fmt.Errorf("count %s: %w", t.name, err)
		}
	}
	return out, nil
}

func (s *MergeStore) count(ctx context.Context, out map[int64]identity.Subject, table, column, in string, args []any) error {
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT "+column+", count(*) FROM "+table+" WHERE "+column+in+
		" GROUP BY "+column, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		if sub, ok := out[id]; ok {
			sub.Records[table] += n
		}
	}
	return rows.Err()
}
