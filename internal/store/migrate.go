package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered schema step.
type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and _", base)
		}
		body, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// Migrate applies every migration not yet applied, each in its own
// transaction together with its row in schema_migrations, so a crash leaves
// the schema at a whole step and running it again is harmless. It returns the
// names of the migrations it applied.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	ms, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	if _, err := db.write.ExecContext(ctx, db.dialect.DDL(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at {{ts}} NOT NULL)`)); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var applied []string
	for _, m := range ms {
		done, err := db.applyMigration(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", m.name, err)
		}
		if done {
			applied = append(applied, m.name)
		}
	}
	// Keys computed in Go, not SQL, for rows a migration could not fill.
	if _, err := db.BackfillNameKeys(ctx); err != nil {
		return applied, err
	}
	// Indexes a large import deferred and did not build again (the process
	// was killed in the load) are built now.
	if err := db.healDeferredIndexes(ctx, importStaleAfter); err != nil {
		return applied, fmt.Errorf("deferred import indexes: %w", err)
	}
	return applied, nil
}

func (db *DB) applyMigration(ctx context.Context, m migration) (bool, error) {
	done := false
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		if db.dialect.IsPostgres() {
			// Serialise concurrent migrators (two servers starting at once).
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7340001)"); err != nil {
				return err
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = $1", m.version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, db.dialect.DDL(m.sql)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations(version, name, applied_at) VALUES ($1, $2, $3)",
			m.version, m.name, time.Now().UTC()); err != nil {
			return err
		}
		done = true
		return nil
	})
	return done, err
}

// SchemaVersion returns the highest applied migration, 0 for an empty database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := db.read.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&v)
	if err != nil {
		if msg := err.Error(); strings.Contains(msg, "no such table") || strings.Contains(msg, "does not exist") {
			return 0, nil // never migrated
		}
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return int(v.Int64), nil
}
