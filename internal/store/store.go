// Package store implements every module's Store interface on SQLite (the
// embedded default) and PostgreSQL (scale-out), with one set of hand-written
// SQL. Engine differences live in Dialect.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"kehu/internal/kehu"
	"kehu/internal/vault"
)

// DB is an open database. On SQLite writes go through a single connection (the
// engine allows one writer; queuing in Go beats busy-waiting in SQLite) and
// reads through a pool; on PostgreSQL both are the same pool.
type DB struct {
	write   *sql.DB
	read    *sql.DB
	dialect Dialect
	url     string
	keys    *vault.Keyring // nil: encrypted tables cannot be read or written
	// Prepared statements of the hot paths, per pool (stmtcache.go); nil on
	// PostgreSQL, whose driver keeps its own.
	readStmts, writeStmts *stmtCache
}

// Dialect returns the engine's dialect.
func (db *DB) Dialect() Dialect { return db.dialect }

// Open connects to a database URL: "sqlite:PATH" (or "sqlite::memory:" is
// refused: a server needs durable storage) or "postgres://...". It checks the
// connection but does not migrate.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	switch {
	case strings.HasPrefix(rawURL, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(rawURL, "sqlite:"))
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return openPostgres(ctx, rawURL)
	}
	return nil, kehu.Errorf(kehu.EINVALID, "database URL %q: use sqlite:PATH or postgres://...", redact(rawURL))
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" || strings.Contains(path, "?") || path == ":memory:" {
		return nil, kehu.Errorf(kehu.EINVALID, "sqlite database URL needs a file path, as in sqlite:data/kehu.db")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, kehu.Errorf(kehu.EUNAVAILABLE, "cannot create database directory %s: %v", dir, err)
		}
	}
	// synchronous(FULL) makes every acknowledged commit durable across power
	// loss and kill -9; WAL keeps readers off the writer's back. temp_store
	// (MEMORY) keeps statement journals in memory: every multi-row statement
	// inside a transaction opens one, and as a temporary file it cost a write
	// per page it touched (a third of an event batch's time).
	pragmas := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(FULL)&_pragma=temp_store(2)&_time_format=sqlite"
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas
	// The writer gets a 64 MiB page cache (the default is 2 MiB): a feed
	// batch touches a page of the customers table per event for its
	// foreign-key check and a leaf of every index it inserts into, and with
	// the default cache those pages were read again and spilled mid-batch.
	// It checkpoints the WAL at 40,000 pages (160 MiB) instead of 1,000: the
	// index leaves a stream of writes dirties again and again (a 1,000-event
	// batch dirties ~1,000 random leaves of channel_events_customer) are
	// copied back once per checkpoint, not every second commit. 10,000 pages
	// gave +30-45% event ingest over 1,000, 40,000 another +17% (one source)
	// and +23% (two), measured interleaved (docs/BENCHMARKS.md, "Event
	// ingest"); the checkpoint then writes each hot page once per ~40
	// batches instead of once per ~10. journal_size_limit keeps the WAL file
	// at 192 MiB after a checkpoint rather than truncating it and growing it
	// again every cycle.
	write, err := sql.Open("sqlite", dsn+"&_txlock=immediate&_pragma=cache_size(-65536)"+
		"&_pragma=wal_autocheckpoint(40000)&_pragma=journal_size_limit(201326592)")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	if err := checkSQLiteWritable(ctx, write, path); err != nil {
		write.Close()
		return nil, err
	}
	read, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	n := max(4, runtime.NumCPU()*2)
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	return &DB{write: write, read: read, dialect: sqliteDialect, url: "sqlite:" + path,
		readStmts: newStmtCache(read, stmtCacheSize), writeStmts: newStmtCache(write, stmtCacheSize)}, nil
}

// checkSQLiteWritable turns the engine's terse failures for a read-only,
// locked or non-database file into messages an operator can act on.
func checkSQLiteWritable(ctx context.Context, db *sql.DB, path string) error {
	var mode string
	err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
	if err == nil {
		_, err = db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS kehu_probe(x INTEGER); DROP TABLE kehu_probe")
	}
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "readonly") || strings.Contains(msg, "read-only") || strings.Contains(msg, "unable to open"):
		return kehu.Errorf(kehu.EUNAVAILABLE, "database %s is read-only or cannot be opened for writing: check the file and directory permissions", path)
	case strings.Contains(msg, "locked") || strings.Contains(msg, "busy"):
		return kehu.Errorf(kehu.EUNAVAILABLE, "database %s is locked by another process; stop it or wait", path)
	case strings.Contains(msg, "not a database") || strings.Contains(msg, "malformed"):
		return kehu.Errorf(kehu.EUNAVAILABLE, "%s is not a Kehu SQLite database (or it is damaged)", path)
	}
	return fmt.Errorf("sqlite %s: %w", path, err)
}

func openPostgres(ctx context.Context, rawURL string) (*DB, error) {
	if _, err := url.Parse(rawURL); err != nil {
		return nil, kehu.Errorf(kehu.EINVALID, "database URL is not a valid URL")
	}
	db, err := sql.Open("pgx", rawURL)
	if err != nil {
		return nil, kehu.Errorf(kehu.EINVALID, "postgres URL %s: %v", redact(rawURL), err)
	}
	db.SetMaxOpenConns(max(8, runtime.NumCPU()*4))
	db.SetMaxIdleConns(max(8, runtime.NumCPU()*4))
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, kehu.Errorf(kehu.EUNAVAILABLE, "cannot connect to PostgreSQL at %s: %v", redact(rawURL), err)
	}
	return &DB{write: db, read: db, dialect: postgresDialect, url: rawURL}, nil
}

// redact hides a password in a URL for messages and logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Close closes both pools.
func (db *DB) Close() error {
	var err error
	for _, c := range []*stmtCache{db.readStmts, db.writeStmts} {
		if c != nil {
			err = errors.Join(err, c.close())
		}
	}
	err = errors.Join(err, db.write.Close())
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Ping checks the database answers; used by /readyz.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return kehu.Errorf(kehu.EUNAVAILABLE, "database not reachable")
	}
	return nil
}

// InTx runs fn in a write transaction, committing when it returns nil.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// notFound maps sql.ErrNoRows to a kehu ENOTFOUND error about what.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return kehu.Errorf(kehu.ENOTFOUND, "%s not found", what)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// conflict returns an ECONFLICT error.
func conflict(format string, args ...any) error { return kehu.Errorf(kehu.ECONFLICT, format, args...) }
