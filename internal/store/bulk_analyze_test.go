package store_test

import (
	"context"
	"database/sql"
	"strconv"
	"testing"

	"kehu/internal/store"
)

// TestBulkLoadAnalyzesOnPostgres checks a bulk load leaves PostgreSQL with
// statistics of what it loaded (pg_class.reltuples is -1 for a table never
// analysed), so the first searches of a fresh bank use their indexes.
func TestBulkLoadAnalyzesOnPostgres(t *testing.T) {
	eachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		ctx := context.Background()
		l, err := db.NewBulkLoader(ctx, store.BulkOptions{})
		must(t, err)
		orgs, _, customers, _, _ := bulkTables(t, l)
		must(t, orgs.Add(1, nil, "HO", "总行", "head_office", "/1/", bulkNow))
		const n = 300
		for i := 1; i <= n; i++ {
			must(t, customers.Add(i, "individual", "客户"+strconv.Itoa(i), "passport", "E"+strconv.Itoa(i), "bidx"+strconv.Itoa(i),
				"", nil, 1, nil, 0, nil, "active", bulkNow, bulkNow))
		}
		must(t, l.Close())
		if !db.Dialect().IsPostgres() {
			return // SQLite keeps no statistics (store/bulk.go)
		}
		var tuples float64
		must(t, raw.QueryRow(`SELECT reltuples FROM pg_class WHERE relname = 'customers'
			AND relnamespace = to_regnamespace(current_schema())`).Scan(&tuples))
		if tuples != n {
			t.Errorf("customers has %v tuples in its statistics, want %d", tuples, n)
		}
		// The pieces of the company names come from a trigger, not the loader.
		must(t, raw.QueryRow(`SELECT reltuples FROM pg_class WHERE relname = 'customer_name_grams'
			AND relnamespace = to_regnamespace(current_schema())`).Scan(&tuples))
		if tuples < 0 {
			t.Errorf("customer_name_grams was not analysed after the load (reltuples %v)", tuples)
		}
	})
}
