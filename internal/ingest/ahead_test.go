package ingest_test

import (
	"context"
	"database/sql"
	"testing"

	"kehu/internal/customer"
	"kehu/internal/ingest"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// racingStore runs between, once, right after the batch's references were
// resolved ahead of its write transaction: a write racing the batch.
type racingStore struct {
	*store.IngestStore
	between func()
	aheads  int
}

func (r *racingStore) ResolveAhead(ctx context.Context, refs []ingest.CustomerRef, codes []string,
	scope customer.ScopeFilter) (ingest.Resolution, error) {
	res, err := r.IngestStore.ResolveAhead(ctx, refs, codes, scope)
	r.aheads++
	if r.between != nil {
		r.between()
		r.between = nil
	}
	return res, err
}

// A merge that commits after a batch's customers were resolved ahead and
// before its transaction must not leave the event on the merged-away record:
// the transaction sees the merge's audit entry past the mark and resolves
// again, to the survivor.
func TestAMergeBetweenResolutionAndWriteIsSeen(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		bank := testkit.NewBank(t, db)
		bank.AddPortfolio(t)
		dup, pair := bank.AddDuplicate(t, "a1", "E12345678")
		survivor := bank.Customers["a1"].ID
		rs := &racingStore{IngestStore: db.Ingest()}
		svc := ingest.NewService(ingest.Deps{Store: rs, Customers: bank.CustomerService(), Clock: bank.Clock,
			Audit: bank.Audit, Tx: db})
		rs.between = func() {
			if _, err := bank.Merger().Merge(bank.As("branch_manager"), pair, survivor, "同一人"); err != nil {
				t.Fatal(err)
			}
		}
		f := &fixture{bank: bank}
		e := f.event("race-1")
		e["customer_id"] = dup.ID
		res, err := svc.Ingest(bank.As("admin"), ingest.Batch{Kind: ingest.Events, Body: ndjson(t, e)})
		if err != nil || res.Accepted != 1 {
			t.Fatalf("%+v %v", res, err)
		}
		if rs.aheads != 1 {
			t.Fatalf("resolved ahead %d times, want 1 (the admin's scope is the whole bank)", rs.aheads)
		}
		var owner int64
		if err := raw.QueryRow(`SELECT customer_id FROM channel_events WHERE event_id = 'race-1'`).Scan(&owner); err != nil {
			t.Fatal(err)
		}
		if owner != survivor {
			t.Fatalf("the event landed on customer %d, want the survivor %d (merged-away %d)", owner, survivor, dup.ID)
		}
	})
}

// Other feeds' event batches committing in between leave the resolution
// standing (on SQLite, where the mark is checked); a merge does not.
func TestResolvedAheadStandsUntilAnIdentityChange(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		f := newFixture(t, db, raw, ingest.Config{})
		st := db.Ingest()
		ctx := context.Background()
		a1 := f.bank.Customers["a1"]
		ahead, err := st.ResolveAhead(ctx, []ingest.CustomerRef{{ID: a1.ID}, {ID: a1.ID + 1000}},
			[]string{"WM-R2-180", "NO-SUCH"}, customer.ScopeFilter{})
		if err != nil {
			t.Fatal(err)
		}
		still := func() bool {
			t.Helper()
			var ok bool
			err := db.WithTx(ctx, func(ctx context.Context) error {
				var err error
				ok, err = st.StillResolved(ctx, ahead.Mark)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if db.Dialect().IsPostgres() {
			if ahead.Mark.Valid || ahead.Customers != nil || still() {
				t.Fatalf("PostgreSQL resolves in the transaction: %+v", ahead)
			}
			return
		}
		if len(ahead.Customers) != 2 || ahead.Customers[0] != a1.ID || ahead.Customers[1] != 0 ||
			len(ahead.Products) != 1 || ahead.Products["WM-R2-180"] == 0 {
			t.Fatalf("resolved ahead %+v", ahead)
		}
		if !still() {
			t.Fatal("nothing happened, yet the resolution is stale")
		}
		if res, err := f.ingest(t, "admin", "", ndjson(t, f.event("other-1"))); err != nil || res.Accepted != 1 {
			t.Fatalf("%+v %v", res, err)
		}
		if !still() {
			t.Fatal("another feed's events made the resolution stale")
		}
		_, pair := f.bank.AddDuplicate(t, "a1", "E87654321")
		if _, err := f.bank.Merger().Merge(f.bank.As("branch_manager"), pair, a1.ID, "同一人"); err != nil {
			t.Fatal(err)
		}
		if still() {
			t.Fatal("a merge committed after the mark, yet the resolution stands")
		}
	})
}
