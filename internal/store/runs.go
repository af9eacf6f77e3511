package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// runTable is a table of batch runs (level_runs, quality_runs, tag_runs): one
// run at a time may be running, and a running row whose heartbeat went stale
// belongs to a process that died (kehu.RunStaleAfter).
type runTable struct {
	name string // the table
	// lockKey is the PostgreSQL advisory lock that serialises claims of the
	// table (SQLite's one writer already does).
	lockKey int64
	what    string // what a run is, for the conflict message: "a level recompute"
}

// The run tables. Their lock keys are fixed: two servers must agree on them.
var (
	levelRuns   = runTable{name: "level_runs", lockKey: 7340009, what: "a level recompute"}
	qualityRuns = runTable{name: "quality_runs", lockKey: 7340010, what: "a data-quality measurement"}
	tagRuns     = runTable{name: "tag_runs", lockKey: 7340011, what: "a tag recompute"}
)

// claim makes the caller's run the table's one running run: in a write
// transaction that no other claim of the table can interleave with, it
// refuses (ECONFLICT) while a run is alive — running, with a heartbeat at or
// after staleBefore — and otherwise calls start, which inserts a run or
// resumes one. A zero staleBefore takes over from a live run too (a tag
// recompute started with --restart). A run is claimed in the database, not in
// the process, so that servers sharing the database never run it twice.
func (t runTable) claim(ctx context.Context, db *DB, staleBefore time.Time, start func(ctx context.Context, q querier) error) error {
	return db.WithTx(ctx, func(ctx context.Context) error {
		q := db.writer(ctx)
		if db.dialect.IsPostgres() {
			if _, err := q.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", t.lockKey); err != nil {
				return fmt.Errorf("lock %s: %w", t.name, err)
			}
		}
		if !staleBefore.IsZero() {
			var id int64
			var started time.Time
			err := q.QueryRowContext(ctx, "SELECT id, started_at FROM "+t.name+
				" WHERE status = 'running' AND heartbeat_at >= $1 ORDER BY id DESC LIMIT 1", staleBefore).Scan(&id, &started)
			if err == nil {
				return conflict("%s (run %d) is in progress since %s; wait for it to finish", t.what, id,
					started.UTC().Format(time.RFC3339))
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%s: %w", t.name, err)
			}
		}
		if err := start(ctx, q); err != nil {
			return fmt.Errorf("start %s: %w", t.name, err)
		}
		return nil
	})
}

// abandon marks the table's running runs failed, for a claim's start that
// found none of them alive: their processes died, and a run that cannot be
// resumed ends where its last heartbeat left it.
func (t runTable) abandon(ctx context.Context, q querier) error {
	if _, err := q.ExecContext(ctx, "UPDATE "+t.name+" SET status = 'failed', error = 'abandoned: no progress', "+
		"finished_at = heartbeat_at WHERE status = 'running'"); err != nil {
		return fmt.Errorf("%s: %w", t.name, err)
	}
	return nil
}
