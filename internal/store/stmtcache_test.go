package store_test

import (
	"context"
	"sync"
	"testing"

	"kehu/internal/audit"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestStatementCacheHotPaths checks the hot paths run prepared statements on
// SQLite: a customer read (scope check, read, one audit record appended in a
// transaction) prepares its statements once, and the next read prepares
// nothing. The audit append is first met inside a transaction, where it
// cannot be prepared on the single writer connection: it runs unprepared
// and is prepared after the transaction, so the second append is a hit.
func TestStatementCacheHotPaths(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		cs := b.CustomerService()
		ctx := b.As("rm_a")
		if _, err := cs.Get(ctx, b.Customers["a1"].ID); err != nil {
			t.Fatal(err)
		}
		r1, w1 := db.StatementCacheStats()
		if db.Dialect().IsPostgres() {
			if r1 != (store.StmtCacheStats{}) || w1 != (store.StmtCacheStats{}) {
				t.Fatalf("PostgreSQL keeps no cache of its own (pgx does): %+v %+v", r1, w1)
			}
			return
		}
		for range 3 {
			if _, err := cs.Get(ctx, b.Customers["a2"].ID); err != nil {
				t.Fatal(err)
			}
		}
		r2, w2 := db.StatementCacheStats()
		if r2.Prepares != r1.Prepares || w2.Prepares != w1.Prepares {
			t.Errorf("repeated reads prepared again: read %d→%d, write %d→%d", r1.Prepares, r2.Prepares,
				w1.Prepares, w2.Prepares)
		}
		if r2.Hits < r1.Hits+3 {
			t.Errorf("customer reads did not hit the read cache: %d→%d", r1.Hits, r2.Hits)
		}
		// LockChain's two statements and the insert, three times.
		if w2.Hits < w1.Hits+9 {
			t.Errorf("audit appends did not hit the write cache: %d→%d", w1.Hits, w2.Hits)
		}
		if w2.Entries < 3 {
			t.Errorf("write cache holds %d statements, want the audit append's 3", w2.Entries)
		}
		// The trail the prepared appends wrote is intact.
		if v, err := b.Audit.Verify(context.Background()); err != nil || !v.OK() {
			t.Fatalf("audit chain after prepared appends: %+v %v", v, err)
		}
	})
}

// TestStatementCacheConcurrent reads and appends from many goroutines at
// once (run with -race): the pool's connections each prepare their own copy
// and nothing is shared unsafely.
func TestStatementCacheConcurrent(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		cs := b.CustomerService()
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for w := range 8 {
			wg.Go(func() {
				ctx := b.As("rm_a")
				for i := range 10 {
					key := []string{"a1", "a2", "corp_a"}[(w+i)%3]
					if _, err := cs.Get(ctx, b.Customers[key].ID); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		n, err := db.Audit().SearchRecords(context.Background(), audit.Filter{Actor: "rm_a", Action: audit.CustomerRead}, 1000)
		if err != nil || len(n) != 80 {
			t.Fatalf("%d records, %v; want 80", len(n), err)
		}
		if v, err := b.Audit.Verify(context.Background()); err != nil || !v.OK() {
			t.Fatalf("audit chain: %+v %v", v, err)
		}
	})
}
