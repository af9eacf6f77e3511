package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"kehu/internal/importer"
)

// Large customer imports build the customers' search and scope indexes
// after the load (docs/IMPORT.md "Large loads"). Each index of customers
// costs a random B-tree insert per imported row — a dozen of them, most of
// the import's database time — while CREATE INDEX over the loaded table is
// one sort. The indexes identity resolution reads while the job runs stay:
// the primary key, every UNIQUE index (the identity document) and the
// mobile blind index; partial indexes (merged_into) stay too, as they hold
// almost nothing. Everything else is dropped when a job starts a load
// larger than the table, and its definition is kept in
// deferred_indexes so the job — or, after a crash, the next start of Kehu —
// creates exactly those indexes again.

// importStaleAfter is how long a running import may go without a heartbeat
// before start-up treats it as dead (importer's staleAfter).
const importStaleAfter = 2 * time.Minute

// keptDuringLoad names the non-unique customer indexes an import reads.
var keptDuringLoad = map[string]bool{"customers_mobile": true}

// IdentityIndexes are the indexes identity resolution reads: an initial
// load that looks nothing up (importer, "initial loads") defers them too.
var IdentityIndexes = []string{"customers_identity", "customers_mobile"}

// DeferIndexesFrom is the smallest expected number of rows for which an
// import defers the customer indexes: below it the rebuild costs more
// than the inserts it saves.
const DeferIndexesFrom = 100_000

// DeferCustomerIndexes drops the customers' deferrable indexes for import
// job jobID when expectRows is at least minRows and more than the number of
// customers already stored (a re-run of the same file is not a large load),
// and reports whether it did. Nothing is dropped
// while another job's indexes are still deferred. With identityToo the
// identity document and mobile indexes go too (IdentityIndexes): for an
// initial load, which does not read them, on SQLite only.
func (s *ImportStore) DeferCustomerIndexes(ctx context.Context, jobID, expectRows, minRows int64, identityToo bool) (bool, error) {
	if expectRows < minRows {
		return false, nil
	}
	deferred := false
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		q := s.db.writer(ctx)
		var pending, customers int64
		if err := q.QueryRowContext(ctx, "SELECT count(*) FROM deferred_indexes").Scan(&pending); err != nil {
			return err
		}
		if pending > 0 {
			return nil
		}
		if err := q.QueryRowContext(ctx, "SELECT count(*) FROM customers").Scan(&customers); err != nil {
			return err
		}
		if expectRows <= customers {
			return nil
		}
		defs, err := s.deferrable(ctx, q, identityToo && !s.db.dialect.IsPostgres())
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		for _, d := range defs {
			if _, err := q.ExecContext(ctx, `INSERT INTO deferred_indexes (name, table_name, definition, job_id, dropped_at)
				VALUES ($1, 'customers', $2, $3, $4)`, d.name, d.sql, jobID, now); err != nil {
				return err
			}
			// The name comes from the catalogue, not from input.
			if _, err := q.ExecContext(ctx, `DROP INDEX "`+d.name+`"`); err != nil {
				return err
			}
		}
		deferred = len(defs) > 0
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("defer customer indexes: %w", err)
	}
	return deferred, nil
}

type indexDef struct{ name, sql string }

// deferrable lists the customer indexes a large load may drop, with the
// statements that create them again.
func (s *ImportStore) deferrable(ctx context.Context, q querier, identityToo bool) ([]indexDef, error) {
	query := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'customers' AND sql IS NOT NULL
		ORDER BY name`
	if s.db.dialect.IsPostgres() {
		query = `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'customers'
			ORDER BY indexname`
	}
	var out []indexDef
	err := queryEach(ctx, q, "customer indexes", query, nil, func(rows *sql.Rows) error {
		var d indexDef
		if err := rows.Scan(&d.name, &d.sql); err != nil {
			return err
		}
		upper := strings.ToUpper(d.sql)
		kept := keptDuringLoad[d.name] || strings.Contains(upper, "UNIQUE") || strings.Contains(upper, " WHERE ")
		if kept && !(identityToo && slices.Contains(IdentityIndexes, d.name)) {
			return nil
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// RestoreDeferredIndexes creates again the indexes imports deferred — of job
// jobID, or of every job when jobID is 0 (start-up, after a crash) — and
// reports how many it built. Each index is built and forgotten in its own
// transaction, so a crash in the middle leaves the rest for the next call.
func (s *ImportStore) RestoreDeferredIndexes(ctx context.Context, jobID int64) (int, error) {
	ctx = context.WithoutCancel(ctx) // an ended job's indexes are built even when its context is done
	var defs []indexDef
	query, args := "SELECT name, definition FROM deferred_indexes ORDER BY name", []any(nil)
	if jobID != 0 {
		query, args = "SELECT name, definition FROM deferred_indexes WHERE job_id = $1 ORDER BY name", []any{jobID}
	}
	err := queryEach(ctx, s.db.write, "deferred indexes", query, args, func(rows *sql.Rows) error {
		var d indexDef
		if err := rows.Scan(&d.name, &d.sql); err != nil {
			return err
		}
		defs = append(defs, d)
		return nil
	})
	if err != nil {
		return 0, err
	}
	if len(defs) > 0 && !s.db.dialect.IsPostgres() {
		// SQLite's sorter works in memory blocks it spills to temporary
		// files as sorted runs, which helper threads (one per CPU) sort
		// while the next run fills, then merges them. With temp_store=MEMORY
		// (the connection's setting, for statement journals) it does none of
		// that: it mallocs every key on its own and sorts one linked list of
		// a million on one thread, then frees them one by one — about 45%
		// slower per index on 1M rows. So the builds run with temporary files.
		// The sorter's runs are as large as the page cache (up to 512 MiB),
		// so with an import's cache a million keys were one run, sorted in
		// memory far larger than the CPU's caches and grown by reallocating
		// and copying; with a small cache the runs are a few MiB each and an
		// index of a million customers builds about 40% faster (1.5 instead
		// of 2.5 s, docs/BENCHMARKS.md). The table is read through the
		// memory map, so the small cache costs the scan nothing.
		// The write connection is the pool's only one, so the settings hold
		// for these statements and are reset after.
		// The small cache needs the table in the database file: a page whose
		// latest version is still in the WAL is read into the cache, not
		// through the memory map, and a few MiB of cache would read the
		// load's last quarter-gigabyte of WAL again for every index. So the
		// WAL is copied back first (the end of the import does it anyway) —
		// PASSIVE, which waits for no reader: on a live server a long read
		// only leaves its pages in the WAL, where they are read as before.
		if _, err := s.db.write.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
			return 0, fmt.Errorf("deferred indexes: checkpoint: %w", err)
		}
		var cache int64
		if err := s.db.write.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err != nil {
			return 0, fmt.Errorf("deferred indexes: %w", err)
		}
		for _, p := range []string{fmt.Sprintf("PRAGMA threads = %d", runtime.GOMAXPROCS(0)), "PRAGMA temp_store = FILE",
			fmt.Sprintf("PRAGMA cache_size = %d", -sorterCacheKiB)} {
			if _, err := s.db.write.ExecContext(ctx, p); err != nil {
				return 0, fmt.Errorf("deferred indexes: %w", err)
			}
		}
		defer func() {
			_, _ = s.db.write.ExecContext(ctx, "PRAGMA threads = 0")
			_, _ = s.db.write.ExecContext(ctx, "PRAGMA temp_store = MEMORY")
			_, _ = s.db.write.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = %d", cache))
		}()
	}
	for i, d := range defs {
		err := s.db.WithTx(ctx, func(ctx context.Context) error {
			q := s.db.writer(ctx)
			def := d.sql
			if !strings.Contains(strings.ToUpper(def), "IF NOT EXISTS") {
				def = strings.Replace(def, " INDEX ", " INDEX IF NOT EXISTS ", 1)
			}
			if _, err := q.ExecContext(ctx, def); err != nil {
				return err
			}
			_, err := q.ExecContext(ctx, "DELETE FROM deferred_indexes WHERE name = $1", d.name)
			return err
		})
		if err != nil {
			return i, fmt.Errorf("build deferred index %s: %w", d.name, err)
		}
	}
	return len(defs), nil
}

// sorterCacheKiB is the write connection's page cache while it builds
// deferred indexes: SQLite sizes its sorter's in-memory runs by it.
const sorterCacheKiB = 4096

// BuildIdentityIndexes creates again, in the transaction of ctx, the
// identity indexes a job deferred (IdentityIndexes; none: a no-op): a job
// that must look keys up — one that knows too few, or another job running
// beside it — needs them at once.
func (s *ImportStore) BuildIdentityIndexes(ctx context.Context) error {
	q := s.db.writer(ctx)
	for _, name := range IdentityIndexes {
		var def string
		err := q.QueryRowContext(ctx, "SELECT definition FROM deferred_indexes WHERE name = $1", name).Scan(&def)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("build deferred index %s: %w", name, err)
		}
		if _, err := q.ExecContext(ctx, def); err != nil {
			return fmt.Errorf("build deferred index %s: %w", name, err)
		}
		if _, err := q.ExecContext(ctx, "DELETE FROM deferred_indexes WHERE name = $1", name); err != nil {
			return fmt.Errorf("build deferred index %s: %w", name, err)
		}
	}
	return nil
}

// healDeferredIndexes builds the indexes of imports that are no longer
// running — a process killed in a large load — when the database is opened
// for migration. A job that is still running elsewhere (its heartbeat is
// recent) keeps its indexes deferred.
func (db *DB) healDeferredIndexes(ctx context.Context, stale time.Duration) error {
	var jobs []int64
	err := queryEach(ctx, db.write, "deferred indexes", `SELECT DISTINCT d.job_id FROM deferred_indexes d
		LEFT JOIN import_jobs j ON j.id = d.job_id
		WHERE j.id IS NULL OR j.status <> 'running' OR j.heartbeat_at IS NULL OR j.heartbeat_at < $1`,
		[]any{time.Now().UTC().Add(-stale)}, func(rows *sql.Rows) error {
			var id sql.NullInt64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			jobs = append(jobs, id.Int64)
			return nil
		})
	if err != nil {
		return err
	}
	s := db.Imports()
	var errs []error
	for _, id := range jobs {
		_, err := s.RestoreDeferredIndexes(ctx, id) // 0 (no job): every deferred index
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// identityChanges are the audit actions of every write that adds, changes,
// merges or removes a customer or a source link outside an import's own
// batch: every customer write is audited (docs/AUDIT.md), so none can slip
// past Untouched.
var identityChanges = []string{"customer.create", "customer.update", "customer.merge", "customer.unmerge",
	"privacy.rectify", "privacy.erase", "import.rollback", "ingest.batch"}

// MarkLoad returns the current mark, in the transaction of ctx. On
// PostgreSQL, where concurrent transactions commit ids out of order, the
// mark is never valid and an initial load looks every key up.
func (s *ImportStore) MarkLoad(ctx context.Context) (importer.LoadMark, error) {
	if s.db.dialect.IsPostgres() {
		return importer.LoadMark{}, nil
	}
	return markLoad(ctx, s.db.writer(ctx))
}

// markLoad reads the mark through q.
func markLoad(ctx context.Context, q querier) (importer.LoadMark, error) {
	var m importer.LoadMark
	err := q.QueryRowContext(ctx, `SELECT (SELECT COALESCE(max(id), 0) FROM customers),
		(SELECT COALESCE(max(id), 0) FROM customer_sources), (SELECT COALESCE(max(id), 0) FROM audit_log)`).
		Scan(&m.Customers, &m.Sources, &m.Audit)
	if err != nil {
		return m, fmt.Errorf("mark load: %w", err)
	}
	m.Valid = true
	return m, nil
}

// Untouched reports, in the transaction of ctx, whether nobody has added a
// customer or source link, or recorded a change of one, since m. On SQLite
// the batch's transaction holds the only write lock, so nothing can come
// between this check and the batch's own writes.
func (s *ImportStore) Untouched(ctx context.Context, m importer.LoadMark) (bool, error) {
	if !m.Valid {
		return false, nil
	}
	now, err := s.MarkLoad(ctx)
	if err != nil || now.Customers != m.Customers || now.Sources != m.Sources {
		return false, err
	}
	if now.Audit == m.Audit {
		return true, nil
	}
	changed, err := auditedSince(ctx, s.db, m.Audit, identityChanges, "")
	if err != nil {
		return false, fmt.Errorf("mark load: %w", err)
	}
	return !changed, nil
}

// auditedSince reports, through the transaction of ctx or the writer,
// whether an audit entry after id records one of actions (or matches the
// further condition or, a fixed SQL fragment over audit_log's columns).
// Every customer write records its entry in its own transaction, so the
// entries past a mark are the writes committed since.
func auditedSince(ctx context.Context, db *DB, id int64, actions []string, or string) (bool, error) {
	args := []any{id}
	for _, a := range actions {
		args = append(args, a)
	}
	cond := "action IN (" + db.dialect.params(2, len(actions)) + ")"
	if or != "" {
		cond = "(" + cond + " OR " + or + ")"
	}
	var found bool
	err := db.writer(ctx).QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM audit_log WHERE id > $1 AND "+cond+")",
		args...).Scan(&found)
	return found, err
}

// KnownKeys hands fn every key identity resolution could find in the store
// — each customer's identity document and mobile blind indexes, each source
// link of sourceSystem — and returns the mark they were read at. It reads
// one snapshot in a read transaction on the read pool, so reading the keys
// of millions of customers blocks no writer: a write committed meanwhile is
// after the mark, and the job's first batch (Untouched) sees it and looks
// every key up instead. When more than limit customers are stored it reads
// nothing and returns an invalid mark (the job looks keys up instead); on
// PostgreSQL too.
func (s *ImportStore) KnownKeys(ctx context.Context, sourceSystem string, limit int64,
	fn func(importer.KnownKey)) (importer.LoadMark, error) {
	var mark importer.LoadMark
	if s.db.dialect.IsPostgres() {
		return mark, nil
	}
	tx, err := s.db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return mark, fmt.Errorf("known keys: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	// The snapshot starts at the first read: the mark, then the keys.
	if mark, err = markLoad(ctx, tx); err != nil {
		return importer.LoadMark{}, err
	}
	var n int64
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM customers").Scan(&n); err != nil {
		return importer.LoadMark{}, fmt.Errorf("known keys: %w", err)
	}
	if n > limit {
		return importer.LoadMark{}, nil
	}
	err = queryEach(ctx, tx, "known keys", "SELECT id, id_type, id_number_bidx, mobile_bidx FROM customers", nil,
		func(rows *sql.Rows) error {
			var k importer.KnownKey
			err := rows.Scan(&k.Customer, &k.IDType, &k.IDIndex, &k.Mobile)
			fn(k)
			return err
		})
	if err != nil {
		return importer.LoadMark{}, err
	}
	err = queryEach(ctx, tx, "known keys", "SELECT source_id FROM customer_sources WHERE source_system = $1",
		[]any{sourceSystem}, func(rows *sql.Rows) error {
			var k importer.KnownKey
			err := rows.Scan(&k.SourceID)
			fn(k)
			return err
		})
	if err != nil {
		return importer.LoadMark{}, err
	}
	return mark, nil
}
