package testkit

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"kehu/internal/store"
)

// Engines are the database engines a store test runs on.
var Engines = []string{"sqlite", "postgres"}

// PostgresURL returns KEHU_TEST_POSTGRES, skipping (or failing when strict)
// if it is not set.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("KEHU_TEST_POSTGRES")
	if u == "" {
		Skip(t, "KEHU_TEST_POSTGRES is not set; PostgreSQL tests need a database URL")
	}
	return u
}

// DBURL returns the URL of a new, empty database for this test on engine:
// a file in the test's temporary directory, or a fresh PostgreSQL schema
// that is dropped when the test ends.
func DBURL(t testing.TB, engine string) string {
	t.Helper()
	switch engine {
	case "sqlite":
		return "sqlite:" + filepath.Join(t.TempDir(), "kehu.db")
	case "postgres":
		return postgresSchemaURL(t, PostgresURL(t))
	}
	t.Fatalf("unknown engine %q", engine)
	return ""
}

func postgresSchemaURL(t testing.TB, base string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("KEHU_TEST_POSTGRES is not a URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// NewDB opens and migrates a new database on engine with the test keys
// (Keys), closed at the end.
func NewDB(t testing.TB, engine string) *store.DB {
	t.Helper()
	db, err := store.OpenWith(context.Background(), DBURL(t, engine), store.Options{Keys: Keys(t)})
	if err != nil {
		t.Fatalf("open %s: %v", engine, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", engine, err)
	}
	if err := db.RegisterKeys(context.Background(), time.Now()); err != nil {
		t.Fatalf("register keys %s: %v", engine, err)
	}
	return db
}

// EachEngine runs fn as a subtest per engine with a fresh database.
func EachEngine(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	for _, e := range Engines {
		t.Run(e, func(t *testing.T) { fn(t, NewDB(t, e)) })
	}
}
