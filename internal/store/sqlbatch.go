package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// maxBatchParams keeps a multi-row statement under both engines' limits on
// bound parameters (SQLite 32,766; PostgreSQL 65,535).
const maxBatchParams = 30_000

// params returns the placeholders of n parameters numbered from from:
// "$from, $from+1, ..." on PostgreSQL, "?, ?, ..." on SQLite. SQLite
// resolves each "$n" by a linear search of the statement's named
// parameters, so a statement with thousands of them is quadratic to
// prepare; an anonymous "?" takes the next number, which is the same one
// when the list comes after every "$n" of the statement.
func (d Dialect) params(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		if d.IsPostgres() {
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(from + i))
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

// valuesClause returns "($1, ..., $w), ($w+1, ...)" for rows rows of width w.
func (d Dialect) valuesClause(rows, width int) string {
	var b strings.Builder
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		b.WriteString(d.params(r*width+1, width))
		b.WriteByte(')')
	}
	return b.String()
}

// insertRows writes rows (each of len(cols) values) with multi-row INSERTs
// of at most maxBatchParams parameters: head is "INSERT INTO t (cols)" and
// tail what follows VALUES (an ON CONFLICT clause or ""). table and column
// names are code constants.
func insertRows(ctx context.Context, d Dialect, q querier, head, tail string, width int, rows [][]any) error {
	return insertRowsPer(ctx, d, q, head, tail, width, maxBatchParams/width, rows)
}

// insertRowsPer is insertRows with at most per rows in one statement.
func insertRowsPer(ctx context.Context, d Dialect, q querier, head, tail string, width, per int, rows [][]any) error {
	return insertChunks(ctx, d, q, q, head, tail, width, per, rows)
}

// insertRowsHot is insertRowsPer for the bulk paths an import runs batch
// after batch: every full chunk has the same SQL text, so it runs as a
// cached prepared statement (db.hotWriter) instead of being parsed again —
// on SQLite the parse of a hundred-row INSERT costs as much as a tenth of
// its execution. The last, shorter chunk runs unprepared, so the cache
// holds one entry per bulk statement, not one per length.
func (db *DB) insertRowsHot(ctx context.Context, head, tail string, width, per int, rows [][]any) error {
	return insertChunks(ctx, db.dialect, db.hotWriter(ctx), db.writer(ctx), head, tail, width, per, rows)
}

// insertFail begins an INSERT that stops at the first row breaking a
// constraint without undoing the statement's earlier rows: INSERT OR FAIL
// on SQLite, which then needs no statement journal, plain INSERT on
// PostgreSQL. For statements whose error rolls the whole transaction back.
func (d Dialect) insertFail() string {
	if d.IsPostgres() {
		return "INSERT INTO"
	}
	return "INSERT OR FAIL INTO"
}

// insertChunks writes rows per at a time: full chunks through full, the
// rest through q.
func insertChunks(ctx context.Context, d Dialect, full, q querier, head, tail string, width, per int, rows [][]any) error {
	per = max(1, min(per, maxBatchParams/width))
	var fullSQL string // built once: an import's batch is dozens of full chunks of tens of kilobytes of SQL
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(len(rows), start+per)]
		args := make([]any, 0, len(chunk)*width)
		for _, r := range chunk {
			args = append(args, r...)
		}
		run, query := q, ""
		if len(chunk) == per {
			if fullSQL == "" {
				fullSQL = head + " VALUES " + d.valuesClause(per, width) + " " + tail
			}
			run, query = full, fullSQL
		} else {
			query = head + " VALUES " + d.valuesClause(len(chunk), width) + " " + tail
		}
		if _, err := run.ExecContext(ctx, query, args...); err != nil {
			return err
		}
	}
	return nil
}

// chunkReader is the querier for one chunk of an IN-list lookup run batch
// after batch: a full chunk (of size) through the statement cache, as
// insertRowsHot does for inserts; a shorter one plain.
func (db *DB) chunkReader(ctx context.Context, n, size int) querier {
	if n == size {
		return db.hotReader(ctx)
	}
	return db.reader(ctx)
}

// insertReturning is insertRows for an INSERT ... RETURNING: scan is called
// for every returned row.
func insertReturning(ctx context.Context, d Dialect, q querier, head, returning string, width int, rows [][]any,
	scan func(*sql.Rows) error) error {
	per := max(1, maxBatchParams/width)
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(len(rows), start+per)]
		args := make([]any, 0, len(chunk)*width)
		for _, r := range chunk {
			args = append(args, r...)
		}
		res, err := q.QueryContext(ctx, head+" VALUES "+d.valuesClause(len(chunk), width)+" RETURNING "+returning, args...)
		if err != nil {
			return err
		}
		for res.Next() {
			if err := scan(res); err != nil {
				res.Close()
				return err
			}
		}
		if err := res.Close(); err != nil {
			return err
		}
		if err := res.Err(); err != nil {
			return err
		}
	}
	return nil
}

// inChunks runs fn over keys in chunks small enough for an IN list.
func inChunks[T any](keys []T, size int, fn func(chunk []T) error) error {
	for start := 0; start < len(keys); start += size {
		if err := fn(keys[start:min(len(keys), start+size)]); err != nil {
			return err
		}
	}
	return nil
}

// anySlice converts keys to query arguments.
func anySlice[T any](keys []T) []any {
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}

// queryEach runs a query and calls scan for every row.
func queryEach(ctx context.Context, q querier, what, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// uniqueStrings returns the distinct non-empty strings of xs.
func uniqueStrings(xs []string) []string {
	seen := make(map[string]bool, len(xs))
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// uniqueIDs returns the distinct positive ids of xs.
func uniqueIDs(xs []int64) []int64 {
	seen := make(map[int64]bool, len(xs))
	out := make([]int64, 0, len(xs))
	for _, x := range xs {
		if x > 0 && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
