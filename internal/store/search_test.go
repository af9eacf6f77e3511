package store_test

import (
	"context"
	"database/sql"
	"strconv"
	"testing"

	"kehu/internal/search"
	"kehu/internal/store"
)

// TestMigrateBackfillsNameKeys checks customers without a name key or full
// pinyin (rows from before migrations 0010 and 0014, or a writer that forgot
// them) get them when
// Migrate runs, in batches, and that a second run has nothing to do.
func TestMigrateBackfillsNameKeys(t *testing.T) {
	eachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		ctx := context.Background()
		l, err := db.NewBulkLoader(ctx, store.BulkOptions{})
		must(t, err)
		orgs, _, customers, _, _ := bulkTables(t, l)
		must(t, orgs.Add(1, nil, "HO", "总行", "head_office", "/1/", bulkNow))
		names := []string{"张三", "单建明", "欧阳娜娜", "Smith John", "杭州恒信贸易有限公司"}
		const n = 4500 // more than one batch
		for i := 1; i <= n; i++ {
			must(t, customers.Add(i, "individual", names[i%len(names)], "passport", "E"+strconv.Itoa(i), "bidx"+strconv.Itoa(i),
				"", nil, 1, nil, 0, nil, "active", bulkNow, bulkNow))
		}
		must(t, l.Close())
		var missing, noPinyin int
		must(t, raw.QueryRow("SELECT count(*) FROM customers WHERE name_key IS NULL").Scan(&missing))
		must(t, raw.QueryRow("SELECT count(*) FROM customers WHERE name_pinyin IS NULL").Scan(&noPinyin))
		if missing != n || noPinyin != n {
			t.Fatalf("%d customers without a key and %d without pinyin before the backfill, want %d", missing, noPinyin, n)
		}
		_, err = db.Migrate(ctx)
		must(t, err)
		rows, err := raw.Query("SELECT name, name_key, name_pinyin FROM customers")
		must(t, err)
		defer rows.Close()
		count := 0
		for rows.Next() {
			var name string
			var key, py sql.NullString
			must(t, rows.Scan(&name, &key, &py))
			if !key.Valid || key.String != search.NameKey(name) {
				t.Fatalf("%s: key %v, want %q", name, key, search.NameKey(name))
			}
			if !py.Valid || py.String != search.NamePinyin(name) {
				t.Fatalf("%s: pinyin %v, want %q", name, py, search.NamePinyin(name))
			}
			count++
		}
		if count != n {
			t.Fatalf("%d customers read back", count)
		}
		done, err := db.BackfillNameKeys(ctx)
		if err != nil || done != 0 {
			t.Errorf("second backfill: %d rows, %v", done, err)
		}
	})
}
