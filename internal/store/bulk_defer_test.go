package store_test

import (
	"context"
	"database/sql"
	"testing"

	"kehu/internal/store"
)

// TestBulkLoaderDefersIndexes checks DeferIndexes drops the secondary
// indexes of empty tables for the load and builds every one of them again,
// on Close and on Abort, while tables that already had rows keep theirs.
// PostgreSQL ignores the option and keeps its indexes throughout.
func TestBulkLoaderDefersIndexes(t *testing.T) {
	eachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		ctx := context.Background()
		pg := db.Dialect().IsPostgres()
		indexes := func(table string) int {
			q := "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL"
			if pg {
				q = "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1"
			}
			var n int
			must(t, raw.QueryRow(q, table).Scan(&n))
			return n
		}
		before := indexes("customers")
		for _, abort := range []bool{false, true} {
			l, err := db.NewBulkLoader(ctx, store.BulkOptions{CommitRows: 1, DeferIndexes: true})
			must(t, err)
			tb, err := l.Table("products", "id", "code", "name", "type")
			must(t, err)
			_, err = l.Table("customers", "id", "type", "name", "id_type", "id_number", "org_id", "created_at", "updated_at")
			must(t, err)
			code := "P1"
			if abort {
				code = "P2"
			}
			must(t, tb.Add(map[bool]int{false: 1, true: 2}[abort], code, "产品", "fund"))
			if during := indexes("customers"); !abort && (during != 0) != pg {
				t.Errorf("customers has %d secondary indexes during the load", during)
			}
			if abort {
				must(t, l.Abort())
			} else {
				must(t, l.Close())
			}
			if got := indexes("customers"); got != before {
				t.Errorf("abort %v: customers has %d secondary indexes after the load, had %d", abort, got, before)
			}
		}
	})
}
