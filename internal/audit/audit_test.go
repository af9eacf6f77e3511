package audit_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// raw runs SQL straight on the database, bypassing Kehu, as an attacker with
// database access would.
func raw(t *testing.T, db *store.DB, q string, args ...any) error {
	t.Helper()
	return db.InTx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(q, args...)
		return err
	})
}

// disableTriggers turns the append-only triggers off, the first step of a
// tamperer with full database access.
func disableTriggers(t *testing.T, db *store.DB) {
	t.Helper()
	stmts := []string{"DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"}
	if db.Dialect().IsPostgres() {
		stmts = []string{"ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"}
	}
	for _, s := range stmts {
		if err := raw(t, db, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func verify(t *testing.T, b *testkit.Bank) audit.VerifyResult {
	t.Helper()
	res, err := b.Audit.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func record(t *testing.T, b *testkit.Bank, n int) {
	t.Helper()
	for i := range n {
		if err := b.Audit.Record(b.As("rm_a"), audit.Entry{Action: audit.CustomerRead, CustomerID: int64(i + 1),
			Object: fmt.Sprintf("customer:%d", i+1)}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestChainVerifies(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		record(t, b, 5)
		res := verify(t, b)
		if !res.OK() || res.Records < 10 { // the bank's customers were created with records too
			t.Fatalf("verify = %+v", res)
		}
	})
}

func TestTamperedRowIsNamed(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		record(t, b, 5)
		disableTriggers(t, db)
		var id int64
		if err := raw(t, db, "UPDATE audit_log SET username = 'someone_else' WHERE id = (SELECT max(id) - 2 FROM audit_log)"); err != nil {
			t.Fatal(err)
		}
		page, err := b.Audit.Search(b.As("hq_compliance"), audit.Filter{Actor: "someone_else"})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("search tampered: %v %+v", err, page)
		}
		id = page.Items[0].ID
		if res := verify(t, b); res.BrokenID != id {
			t.Fatalf("verify = %+v, want broken %d", res, id)
		}
	})
}

func TestDeletedRowIsDetected(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		record(t, b, 5)
		disableTriggers(t, db)
		if err := raw(t, db, "DELETE FROM audit_log WHERE id = 3"); err != nil {
			t.Fatal(err)
		}
		if res := verify(t, b); res.BrokenID != 4 {
			t.Fatalf("verify = %+v, want broken 4", res)
		}
	})
}

func TestTriggersRefuseChanges(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		record(t, b, 1)
		for _, q := range []string{"UPDATE audit_log SET reason = 'x' WHERE id = 1", "DELETE FROM audit_log WHERE id = 1",
			"UPDATE audit_chain SET appends = 0"} {
			err := raw(t, db, q)
			if q == "UPDATE audit_chain SET appends = 0" {
				continue // the lock row is not part of the evidence
			}
			if err == nil {
				t.Errorf("%s: accepted", q)
			}
		}
		if db.Dialect().IsPostgres() {
			if err := raw(t, db, "TRUNCATE audit_log"); err == nil {
				t.Error("TRUNCATE accepted")
			}
		}
		if res := verify(t, b); !res.OK() {
			t.Fatalf("verify = %+v", res)
		}
	})
}

func TestRollbackLeavesNoRecord(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		before := count(t, b)
		boom := errors.New("boom")
		err := db.WithTx(b.As("admin"), func(ctx context.Context) error {
			if err := b.Audit.Record(ctx, audit.Entry{Action: audit.CustomerUpdate, CustomerID: 1}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		// A failed update (duplicate identity number) leaves no record either.
		svc := b.CustomerService()
		a2 := b.Customers["a2"]
		_, err = svc.Create(b.As("admin"), customer.New{Type: customer.Individual, Name: "重复", IDNumber: a2.IDNumber,
			OrgID: b.OutletA.ID})
		if kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Fatalf("duplicate create: %v", err)
		}
		if after := count(t, b); after != before {
			t.Fatalf("records %d → %d after rollbacks", before, after)
		}
		if res := verify(t, b); !res.OK() {
			t.Fatalf("verify = %+v", res)
		}
	})
}

func count(t *testing.T, b *testkit.Bank) int64 {
	t.Helper()
	n, err := b.DB.CountRows(context.Background(), "audit_log")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestConcurrentAppendsKeepTheChain(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		before := count(t, b)
		var wg sync.WaitGroup
		errs := make(chan error, 80)
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 10 {
					errs <- b.Audit.Record(b.As("rm_a"), audit.Entry{Action: audit.CustomerRead,
						Object: fmt.Sprintf("customer:%d", g*100+i)})
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := count(t, b); n != before+80 {
			t.Fatalf("records = %d, want %d", n, before+80)
		}
		if res := verify(t, b); !res.OK() {
			t.Fatalf("verify = %+v", res)
		}
	})
}

func TestPurgeKeepsTheChainVerifiable(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		old := count(t, b)
		b.Clock.Advance(200 * 24 * time.Hour)
		record(t, b, 3)
		if _, err := b.Audit.Purge(context.Background(), 179*24*time.Hour); kehu.ErrorCode(err) != kehu.EINVALID {
			t.Fatalf("purge under 180 days: %v", err)
		}
		cp, err := b.Audit.Purge(context.Background(), 180*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Purged != old {
			t.Fatalf("purged %d, want %d", cp.Purged, old)
		}
		if n := count(t, b); n != 4 { // 3 new + the purge's own record
			t.Fatalf("after purge %d records", n)
		}
		record(t, b, 2)
		if res := verify(t, b); !res.OK() {
			t.Fatalf("verify after purge = %+v", res)
		}
		// Newer rows still cannot be deleted.
		for _, q := range []string{"DELETE FROM audit_log", "DELETE FROM audit_checkpoint", "UPDATE audit_checkpoint SET last_id = 0"} {
			if err := raw(t, db, q); err == nil {
				t.Fatalf("%s after purge accepted", q)
			}
		}
	})
}

func TestSearch(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		svc := b.CustomerService()
		a1 := b.Customers["a1"]
		if _, err := svc.Get(b.As("rm_a"), a1.ID); err != nil {
			t.Fatal(err)
		}
		mobile := "13912345678"
		if _, err := svc.Update(b.As("rm_a"), a1.ID, customer.Update{Mobile: &mobile}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Audit.Search(b.As("rm_a"), audit.Filter{}); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Fatalf("rm search: %v", err)
		}
		denied, err := b.Audit.Search(b.As("admin"), audit.Filter{Actor: "rm_a", Action: audit.AuditSearch})
		if err != nil || len(denied.Items) != 1 || denied.Items[0].Outcome != "denied" {
			t.Fatalf("the refused search is not recorded as denied: %v %+v", err, denied.Items)
		}
		p, err := b.Audit.Search(b.As("hq_compliance"), audit.Filter{CustomerID: a1.ID, Actor: "rm_a"})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 2 || p.Items[0].Action != audit.CustomerUpdate || p.Items[1].Action != audit.CustomerRead {
			t.Fatalf("items = %+v", p.Items)
		}
		ch := p.Items[0].Changes
		if len(ch) != 1 || ch[0].Field != "mobile" || ch[0].Old != "138****0001" || ch[0].New != "139****5678" {
			t.Fatalf("changes = %+v (want masked old → new)", ch)
		}
		if p.Items[0].Role != "relationship_manager" || p.Items[0].ActorID != b.Users["rm_a"].ID {
			t.Fatalf("actor = %+v", p.Items[0])
		}
		// Paging, action and time filters; the searches themselves are recorded.
		p1, err := b.Audit.Search(b.As("admin"), audit.Filter{Action: audit.AuditSearch, Limit: 1})
		if err != nil || len(p1.Items) != 1 || p1.NextCursor.AfterID == 0 {
			t.Fatalf("page 1: %v %+v", err, p1)
		}
		p2, err := b.Audit.Search(b.As("admin"), audit.Filter{Action: audit.AuditSearch, Limit: 1, After: p1.NextCursor})
		if err != nil || len(p2.Items) != 1 || p2.Items[0].ID >= p1.Items[0].ID {
			t.Fatalf("page 2: %v %+v", err, p2)
		}
		future, err := b.Audit.Search(b.As("admin"), audit.Filter{From: b.Clock.Now().Add(time.Hour)})
		if err != nil || len(future.Items) != 0 {
			t.Fatalf("from the future: %v %+v", err, future)
		}
		past, err := b.Audit.Search(b.As("admin"), audit.Filter{To: b.Clock.Now().Add(-time.Hour)})
		if err != nil || len(past.Items) != 0 {
			t.Fatalf("to the past: %v %+v", err, past)
		}
	})
}
