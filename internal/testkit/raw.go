package testkit

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"kehu/internal/store"
)

// EachEngineRaw is EachEngine with a second, plain database/sql handle on
// the same database, for tests that compare whole row sets or plant rows
// the services would refuse. Writes through raw bypass the store's sealing:
// use it for reads, or for columns that hold no personal data.
func EachEngineRaw(t *testing.T, fn func(t *testing.T, db *store.DB, raw *sql.DB)) {
	for _, e := range Engines {
		t.Run(e, func(t *testing.T) {
			db, raw := NewRawDB(t, e)
			fn(t, db, raw)
		})
	}
}

// NewRawDB is NewDB plus a plain handle on the same database.
func NewRawDB(t testing.TB, engine string) (*store.DB, *sql.DB) {
	t.Helper()
	url := DBURL(t, engine)
	db, err := store.OpenWith(context.Background(), url, store.Options{Keys: Keys(t)})
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
	driver, dsn := "pgx", url
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		driver, dsn = "sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_time_format=sqlite"
	}
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("open raw %s: %v", engine, err)
	}
	t.Cleanup(func() { raw.Close() })
	return db, raw
}
