package importer_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"kehu/internal/importer"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// customerIndexes lists the customers table's indexes with their
// definitions, on either engine.
func customerIndexes(t testing.TB, db *store.DB, raw *sql.DB) []string {
	t.Helper()
	q := "SELECT name || ' ' || sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'customers' AND sql IS NOT NULL ORDER BY name"
	if db.Dialect().IsPostgres() {
		q = "SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'customers' ORDER BY indexname"
	}
	rows, err := raw.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// indexWatch records the customer indexes present when the first batch
// commits.
type indexWatch struct {
	importer.Store
	look   func() []string
	during []string
	saves  int // batches committed
}

func (w *indexWatch) SaveProgress(ctx context.Context, id int64, p importer.Progress) error {
	w.saves++
	if w.during == nil {
		w.during = w.look()
	}
	return w.Store.SaveProgress(ctx, id, p)
}

// TestLargeLoadDefersIndexes: a customer load larger than the table runs
// without the search indexes (identity lookups, where they run, keep theirs) and ends with
// exactly the same indexes as before, and the rows findable through them.
func TestLargeLoadDefersIndexes(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		h := newHarness(t, db, raw)
		before := customerIndexes(t, db, raw)
		deps := h.bank.ImportEngineDeps(t, 40)
		watch := &indexWatch{Store: deps.Store, look: func() []string { return customerIndexes(t, db, raw) }}
		deps.Store, deps.DeferIndexesFrom = watch, 100
		path := writeCustomerFile(t, 150)
		j, err := importer.NewEngine(deps).Run(h.operator(), h.job(importer.KindCustomers, "core_banking", path), path, nil)
		if err != nil || j.Counts.Created != 150 {
			t.Fatalf("import: %v %+v", err, j.Counts)
		}
		// A large load commits in large batches: the 150 rows in one, not
		// four of the engine's 40.
		if watch.saves != 1 {
			t.Errorf("a large load committed %d batches, want 1", watch.saves)
		}
		if len(watch.during) == 0 || len(watch.during) >= len(before) {
			t.Fatalf("indexes during the load: %d of %d\n%s", len(watch.during), len(before), strings.Join(watch.during, "\n"))
		}
		// The identity indexes stay where the job looks keys up
		// (PostgreSQL); SQLite knows its keys and defers them too
		// (TestKnownKeysDeferIdentityIndexes).
		kept := []string{"customers_merged_into"}
		if db.Dialect().IsPostgres() {
			kept = append(kept, "customers_identity", "customers_mobile")
		}
		for _, kept := range kept {
			if !slices.ContainsFunc(watch.during, func(s string) bool { return strings.HasPrefix(s, kept+" ") }) {
				t.Errorf("%s was dropped during the load", kept)
			}
		}
		if after := customerIndexes(t, db, raw); !slices.Equal(after, before) {
			t.Fatalf("indexes after the load differ:\nbefore %q\nafter  %q", before, after)
		}
		var pending int
		if err := raw.QueryRow("SELECT count(*) FROM deferred_indexes").Scan(&pending); err != nil || pending != 0 {
			t.Fatalf("deferred_indexes left: %d %v", pending, err)
		}

		// The same file again is not a large load: nothing is dropped.
		watch.during = nil
		again, err := importer.NewEngine(deps).Run(h.operator(), h.job(importer.KindCustomers, "core_banking", path), path, nil)
		if err != nil || again.Counts.Changes() != 0 {
			t.Fatalf("re-import: %v %+v", err, again.Counts)
		}
		if !slices.Equal(watch.during, before) {
			t.Fatalf("a re-import dropped indexes: %q", watch.during)
		}
	})
}

// TestDeferredIndexesHealAtStart: a process killed in a large load leaves
// its indexes dropped; the next Migrate (every start) builds them again
// once the job's heartbeat is stale — and not while it is alive.
func TestDeferredIndexesHealAtStart(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		h := newHarness(t, db, raw)
		before := customerIndexes(t, db, raw)
		path := writeCustomerFile(t, 10)
		j := h.job(importer.KindCustomers, "core_banking", path)
		ctx := h.operator()
		// Start-up has no clock but the system's: the heartbeat is real time.
		if _, err := db.Imports().ClaimJob(ctx, j.ID, time.Now(), time.Now().Add(-2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		ok, err := db.Imports().DeferCustomerIndexes(ctx, j.ID, 1_000_000, 1, false)
		if err != nil || !ok {
			t.Fatalf("defer: %v %v", ok, err)
		}
		if during := customerIndexes(t, db, raw); len(during) >= len(before) {
			t.Fatalf("nothing dropped: %q", during)
		}
		if ok, err := db.Imports().DeferCustomerIndexes(ctx, j.ID+1, 1_000_000, 1, false); err != nil || ok {
			t.Fatalf("a second job deferred again: %v %v", ok, err)
		}
		// The job is alive (fresh heartbeat): a start leaves its indexes.
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if during := customerIndexes(t, db, raw); len(during) >= len(before) {
			t.Fatal("Migrate built the indexes of a running job")
		}
		// The process died: its heartbeat goes stale.
		if _, err := raw.Exec("UPDATE import_jobs SET heartbeat_at = $1 WHERE id = $2",
			time.Now().Add(-time.Hour).UTC(), j.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if after := customerIndexes(t, db, raw); !slices.Equal(after, before) {
			t.Fatalf("indexes after the heal differ:\nbefore %q\nafter  %q", before, after)
		}
	})
}
