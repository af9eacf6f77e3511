package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"kehu/internal/kehu"
)

// BulkLoader loads many rows into several tables fast, for the bulk paths
// (demo generation, imports): PostgreSQL through COPY, SQLite through
// multi-row prepared INSERTs. Rows are buffered per table and written, all
// tables in the order they were registered (parents before children, so
// foreign keys hold), in one transaction per batch of CommitRows rows. Each
// commit is therefore a consistent prefix of the load.
//
// A loader holds the database's write connection until Close or Abort: on
// SQLite no other write can run meanwhile. It is not safe for concurrent use.
type BulkLoader struct {
	db         *DB
	ctx        context.Context
	conn       *sql.Conn
	tables     []*BulkTable
	pending    int // rows buffered over all tables
	commitRows int
	restore    []string // SQLite pragmas that undo the bulk session's settings
	err        error    // the first failure; the loader is unusable after it
	closed     bool
	deferIdx   bool     // BulkOptions.DeferIndexes on SQLite
	dropped    bool     // the deferred indexes were dropped (first commit)
	rebuild    []string // CREATE INDEX statements to run at Close
}

// BulkOptions tunes a BulkLoader; zero values get sensible defaults.
type BulkOptions struct {
	// CommitRows is how many buffered rows, over all tables, trigger a write
	// and commit. Default 100,000.
	CommitRows int
	// CacheMiB is the SQLite page cache for the load session, in MiB.
	// Default 512; it is set back when the loader closes.
	CacheMiB int
	// DeferIndexes (SQLite) drops the secondary indexes of the registered
	// tables that are empty at the first commit and builds them again at
	// Close or Abort: one sort per index instead of a random B-tree insert
	// per row. Only for loads into a database that is thrown away when the
	// load fails (the demo bank): a process killed mid-load leaves the
	// tables without those indexes, and uniqueness is checked only at the
	// end. PostgreSQL ignores it.
	DeferIndexes bool
}

// sqliteMaxVariables is SQLite's limit on parameters in one statement
// (SQLITE_MAX_VARIABLE_NUMBER since 3.32).
const sqliteMaxVariables = 32766

// NewBulkLoader takes the write connection and prepares a bulk session.
func (db *DB) NewBulkLoader(ctx context.Context, opts BulkOptions) (*BulkLoader, error) {
	if opts.CommitRows <= 0 {
		opts.CommitRows = 100_000
	}
	if opts.CacheMiB <= 0 {
		opts.CacheMiB = 512
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("bulk load: %w", err)
	}
	l := &BulkLoader{db: db, ctx: ctx, conn: conn, commitRows: opts.CommitRows,
		deferIdx: opts.DeferIndexes && !db.dialect.IsPostgres()}
	if !db.dialect.IsPostgres() {
		if err := l.tuneSQLite(opts.CacheMiB); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return l, nil
}

// tuneSQLite sets up the session for a large load: a big page cache, so
// random inserts into large indexes (names, ID numbers, mobiles) stay in
// memory, and a checkpoint every 256 MiB of WAL instead of every 4 MiB, so
// hot index pages are copied back to the database file less often. Durability
// settings (WAL, synchronous=FULL) are left alone: every commit of the load is
// as safe as any other. release restores the settings and truncates the WAL.
func (l *BulkLoader) tuneSQLite(cacheMiB int) error {
	for _, p := range []struct {
		name string
		bulk int64
	}{{"cache_size", int64(-cacheMiB * 1024)}, {"wal_autocheckpoint", 65536}} {
		var old int64
		if err := l.conn.QueryRowContext(l.ctx, "PRAGMA "+p.name).Scan(&old); err != nil {
			return fmt.Errorf("bulk load: read %s: %w", p.name, err)
		}
		if _, err := l.conn.ExecContext(l.ctx, "PRAGMA "+p.name+" = "+strconv.FormatInt(p.bulk, 10)); err != nil {
			return fmt.Errorf("bulk load: set %s: %w", p.name, err)
		}
		l.restore = append(l.restore, "PRAGMA "+p.name+" = "+strconv.FormatInt(old, 10))
	}
	l.restore = append(l.restore, "PRAGMA wal_checkpoint(TRUNCATE)")
	return nil
}

// BulkTable is one table of a load; get it from BulkLoader.Table.
type BulkTable struct {
	l       *BulkLoader
	name    string
	columns []string
	buf     []any             // buffered rows, flattened
	loaded  int64             // rows committed
	perStmt int               // SQLite: rows per full INSERT statement
	stmts   map[int]*sql.Stmt // SQLite: prepared INSERTs by number of rows
}

// Table registers a table and its columns. Tables are written in the order
// they are registered, so register parents before the tables that reference
// them. Names must be plain SQL identifiers (they are code constants, never
// input); anything else is refused.
func (l *BulkLoader) Table(name string, columns ...string) (*BulkTable, error) {
	if err := l.usable(); err != nil {
		return nil, err
	}
	if !isIdentifier(name) || len(columns) == 0 {
		return nil, fmt.Errorf("bulk load: bad table %q or no columns", name)
	}
	for _, c := range columns {
		if !isIdentifier(c) {
			return nil, fmt.Errorf("bulk load: bad column name %q in %s", c, name)
		}
	}
	t := &BulkTable{l: l, name: name, columns: columns, perStmt: sqliteMaxVariables / len(columns)}
	l.tables = append(l.tables, t)
	return t, nil
}

// isIdentifier reports whether s is a lower-case SQL identifier that needs
// no quoting: the only shape of name the loader splices into SQL.
func isIdentifier(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Add buffers one row, values in the order of the table's columns. When the
// loader holds CommitRows rows it writes and commits them all.
func (t *BulkTable) Add(values ...any) error {
	if err := t.l.usable(); err != nil {
		return err
	}
	if len(values) != len(t.columns) {
		return fmt.Errorf("bulk load %s: %d values for %d columns", t.name, len(values), len(t.columns))
	}
	t.buf = append(t.buf, values...)
	t.l.pending++
	if t.l.pending >= t.l.commitRows {
		return t.l.Commit()
	}
	return nil
}

// Loaded returns how many rows of the table have been committed.
func (t *BulkTable) Loaded() int64 { return t.loaded }

func (t *BulkTable) rows() int { return len(t.buf) / len(t.columns) }

func (l *BulkLoader) usable() error {
	if l.err != nil {
		return l.err
	}
	if l.closed {
		return errors.New("bulk load: loader is closed")
	}
	return nil
}

// Commit writes every buffered row, in table order, in one transaction.
func (l *BulkLoader) Commit() error {
	if err := l.usable(); err != nil {
		return err
	}
	if l.pending == 0 {
		return nil
	}
	var err error
	if l.db.dialect.IsPostgres() {
		err = l.commitPostgres()
	} else {
		err = l.commitSQLite()
	}
	if err != nil {
		l.err = err
		return err
	}
	for _, t := range l.tables {
		t.loaded += int64(t.rows())
		clear(t.buf) // drop references so the strings can be collected
		t.buf = t.buf[:0]
	}
	l.pending = 0
	return nil
}

// Close commits what is buffered (unless an earlier call failed), restores
// the session settings and gives the connection back.
func (l *BulkLoader) Close() error {
	if l.closed {
		return l.err
	}
	err := l.Commit()
	if l.err != nil {
		err = l.err
	}
	err = errors.Join(err, l.buildIndexes())
	if err == nil {
		err = l.analyze()
	}
	return errors.Join(err, l.release())
}

// analyze gives PostgreSQL's planner the statistics of the loaded tables.
// Without them a freshly loaded bank is planned as if empty: a search by
// mobile walked customers in id order instead of its index, 3 s for no hit
// at 100,000 customers (docs/BENCHMARKS.md), until autovacuum got round to
// it — and nothing does where autovacuum is off. SQLite is left without
// statistics: its plans are chosen by the query shapes (store/search.go).
// Tables that triggers fill from a loaded table are analysed too: the
// company-word search plans on customer_name_grams.
func (l *BulkLoader) analyze() error {
	if !l.db.dialect.IsPostgres() {
		return nil
	}
	var names []string
	for _, t := range l.tables {
		names = append(names, t.name)
		names = append(names, triggerFilled[t.name]...)
	}
	for _, name := range names {
		if _, err := l.conn.ExecContext(context.WithoutCancel(l.ctx), "ANALYZE "+name); err != nil {
			return fmt.Errorf("bulk load: analyze %s: %w", name, err)
		}
	}
	return nil
}

// triggerFilled names, per table, the tables its triggers write (migration
// 0010: every corporate name's two-character pieces).
var triggerFilled = map[string][]string{"customers": {"customer_name_grams"}}

// Abort drops the buffered rows and gives the connection back; rows already
// committed stay.
func (l *BulkLoader) Abort() error {
	if l.closed {
		return nil
	}
	return errors.Join(l.buildIndexes(), l.release())
}

// dropIndexes drops the secondary indexes of the tables that are still
// empty, remembering their definitions (DeferIndexes). Indexes SQLite made
// for UNIQUE and PRIMARY KEY constraints have no SQL and stay.
func (l *BulkLoader) dropIndexes() error {
	l.dropped = true
	for _, t := range l.tables {
		var rows int
		if err := l.conn.QueryRowContext(l.ctx, "SELECT count(*) FROM (SELECT 1 FROM "+t.name+" LIMIT 1) x").Scan(&rows); err != nil {
			return fmt.Errorf("bulk load %s: %w", t.name, err)
		}
		if rows > 0 {
			continue
		}
		rs, err := l.conn.QueryContext(l.ctx, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL", t.name)
		if err != nil {
			return fmt.Errorf("bulk load %s: %w", t.name, err)
		}
		var names []string
		for rs.Next() {
			var name, def string
			if err := rs.Scan(&name, &def); err != nil {
				rs.Close()
				return fmt.Errorf("bulk load %s: %w", t.name, err)
			}
			// IF NOT EXISTS: the drop may have been rolled back with a
			// failed first commit.
			def = strings.Replace(def, " INDEX ", " INDEX IF NOT EXISTS ", 1)
			names, l.rebuild = append(names, name), append(l.rebuild, def)
		}
		rs.Close()
		for _, n := range names {
			if _, err := l.conn.ExecContext(l.ctx, `DROP INDEX "`+n+`"`); err != nil {
				return fmt.Errorf("bulk load %s: drop index %s: %w", t.name, n, err)
			}
		}
	}
	return nil
}

// buildIndexes creates the indexes dropIndexes dropped, in one transaction.
func (l *BulkLoader) buildIndexes() error {
	if len(l.rebuild) == 0 {
		return nil
	}
	ctx := context.WithoutCancel(l.ctx)
	if _, err := l.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("bulk load: build indexes: %w", err)
	}
	for _, def := range l.rebuild {
		if _, err := l.conn.ExecContext(ctx, def); err != nil {
			_, _ = l.conn.ExecContext(ctx, "ROLLBACK")
			return fmt.Errorf("bulk load: build index (%s): %w", def, err)
		}
	}
	l.rebuild = nil
	if _, err := l.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("bulk load: build indexes: %w", err)
	}
	return nil
}

func (l *BulkLoader) release() error {
	l.closed = true
	var errs []error
	for _, t := range l.tables {
		t.buf = nil
		for _, st := range t.stmts {
			errs = append(errs, st.Close())
		}
	}
	for _, p := range l.restore {
		if _, err := l.conn.ExecContext(context.WithoutCancel(l.ctx), p); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, l.conn.Close())
	return errors.Join(errs...)
}

// BulkInsert loads the rows next yields into one table and returns how many
// it loaded. next returns ok=false when there are no more rows. It is the
// one-table form of BulkLoader.
func (db *DB) BulkInsert(ctx context.Context, table string, columns []string, next func() ([]any, bool, error)) (int64, error) {
	l, err := db.NewBulkLoader(ctx, BulkOptions{})
	if err != nil {
		return 0, err
	}
	t, err := l.Table(table, columns...)
	if err != nil {
		return 0, errors.Join(err, l.Abort())
	}
	for {
		row, ok, err := next()
		if err != nil {
			return t.Loaded(), errors.Join(fmt.Errorf("bulk load %s: %w", table, err), l.Abort())
		}
		if !ok {
			break
		}
		if err := t.Add(row...); err != nil {
			return t.Loaded(), errors.Join(err, l.Abort())
		}
	}
	err = l.Close()
	return t.Loaded(), err
}

// ResetSequences moves the PostgreSQL identity sequence of each table past
// its largest id, so normal INSERTs after a load with explicit ids do not
// collide. SQLite needs nothing: it continues after max(rowid).
func (db *DB) ResetSequences(ctx context.Context, tables ...string) error {
	if !db.dialect.IsPostgres() {
		return nil
	}
	for _, t := range tables {
		if !isIdentifier(t) {
			return fmt.Errorf("reset sequence: bad table name %q", t)
		}
		q := "SELECT setval(pg_get_serial_sequence('" + t + "', 'id'), GREATEST(max(id), 1), max(id) IS NOT NULL) FROM " + t
		if _, err := db.write.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("reset sequence of %s: %w", t, err)
		}
	}
	return nil
}

// CountRows returns the number of rows in a table (a code constant).
func (db *DB) CountRows(ctx context.Context, table string) (int64, error) {
	if !isIdentifier(table) {
		return 0, fmt.Errorf("count rows: bad table name %q", table)
	}
	var n int64
	if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	return n, nil
}

// commitSQLite inserts every buffered row in one IMMEDIATE transaction.
// BEGIN and COMMIT are plain statements on the held connection so the
// prepared INSERTs are reused across batches.
func (l *BulkLoader) commitSQLite() error {
	if _, err := l.conn.ExecContext(l.ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("bulk load: begin: %w", err)
	}
	if l.deferIdx && !l.dropped {
		if err := l.dropIndexes(); err != nil {
			_, _ = l.conn.ExecContext(context.WithoutCancel(l.ctx), "ROLLBACK")
			return err
		}
	}
	for _, t := range l.tables {
		if err := t.insertSQLite(); err != nil {
			_, _ = l.conn.ExecContext(context.WithoutCancel(l.ctx), "ROLLBACK")
			return err
		}
	}
	if _, err := l.conn.ExecContext(l.ctx, "COMMIT"); err != nil {
		_, _ = l.conn.ExecContext(context.WithoutCancel(l.ctx), "ROLLBACK")
		return fmt.Errorf("bulk load: commit: %w", err)
	}
	return nil
}

// insertSQLite writes the buffer with prepared statements of perStmt rows,
// then of sqliteSmallStmt rows, then of one row, so no statement is ever
// parsed twice however the batch divides.
func (t *BulkTable) insertSQLite() error {
	n, rows, off := len(t.columns), t.rows(), 0
	for _, size := range []int{t.perStmt, sqliteSmallStmt, 1} {
		if rows-off < size {
			continue
		}
		st, err := t.stmt(size)
		if err != nil {
			return err
		}
		for ; rows-off >= size; off += size {
			if _, err := st.ExecContext(t.l.ctx, t.buf[off*n:(off+size)*n]...); err != nil {
				return fmt.Errorf("bulk load %s: %w", t.name, err)
			}
		}
	}
	return nil
}

// sqliteSmallStmt is the size of the middle statement that writes most of a
// batch's remainder.
const sqliteSmallStmt = 64

// stmt returns the prepared INSERT of size rows, preparing it once.
func (t *BulkTable) stmt(size int) (*sql.Stmt, error) {
	if st, ok := t.stmts[size]; ok {
		return st, nil
	}
	st, err := t.l.conn.PrepareContext(t.l.ctx, t.insertSQL(size))
	if err != nil {
		return nil, fmt.Errorf("bulk load %s: prepare: %w", t.name, err)
	}
	if t.stmts == nil {
		t.stmts = map[int]*sql.Stmt{}
	}
	t.stmts[size] = st
	return st, nil
}

// insertSQL returns "INSERT INTO t (cols) VALUES (?,?),(?,?)..." for rows rows.
func (t *BulkTable) insertSQL(rows int) string {
	var b strings.Builder
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(t.columns)), ",") + ")"
	b.Grow(32 + len(t.name) + rows*(len(one)+1))
	b.WriteString("INSERT INTO " + t.name + " (" + strings.Join(t.columns, ", ") + ") VALUES ")
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(one)
	}
	return b.String()
}

// commitPostgres copies every buffered table in one transaction on the
// underlying pgx connection.
func (l *BulkLoader) commitPostgres() error {
	return l.conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("bulk load: unexpected driver connection %T", dc)
		}
		tx, err := sc.Conn().Begin(l.ctx)
		if err != nil {
			return fmt.Errorf("bulk load: begin: %w", err)
		}
		defer tx.Rollback(context.WithoutCancel(l.ctx)) //nolint:errcheck // a no-op after Commit
		for _, t := range l.tables {
			if t.rows() == 0 {
				continue
			}
			src := &flatRows{buf: t.buf, width: len(t.columns), at: -1}
			if _, err := tx.CopyFrom(l.ctx, pgx.Identifier{t.name}, t.columns, src); err != nil {
				return fmt.Errorf("bulk load %s: %w", t.name, err)
			}
		}
		if err := tx.Commit(l.ctx); err != nil {
			return fmt.Errorf("bulk load: commit: %w", err)
		}
		return nil
	})
}

// flatRows feeds a flattened row buffer to CopyFrom without copying it.
type flatRows struct {
	buf   []any
	width int
	at    int
	row   []any
}

func (f *flatRows) Next() bool {
	f.at++
	return (f.at+1)*f.width <= len(f.buf)
}

// Values returns the current row, with kehu.Date turned into the DATE value
// pgx encodes natively.
func (f *flatRows) Values() ([]any, error) {
	row := f.buf[f.at*f.width : (f.at+1)*f.width]
	if f.row == nil {
		f.row = make([]any, f.width)
	}
	for i, v := range row {
		switch d := v.(type) {
		case kehu.Date:
			if d.IsZero() {
				f.row[i] = nil
			} else {
				f.row[i] = d.Time()
			}
		case driver.Valuer:
			dv, err := d.Value()
			if err != nil {
				return nil, err
			}
			f.row[i] = dv
		default:
			f.row[i] = v
		}
	}
	return f.row, nil
}

func (f *flatRows) Err() error { return nil }
