package importer_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"kehu/internal/importer"
	"kehu/internal/kehu"
	"kehu/internal/search"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// crashingStore makes the process "die" in the middle of a batch: the
// n-th progress save cancels the context and fails, so that batch's
// transaction rolls back as it would when the process is killed.
type crashingStore struct {
	importer.Store
	n, calls int
	crash    context.CancelFunc
}

func (c *crashingStore) SaveProgress(ctx context.Context, id int64, p importer.Progress) error {
	if c.calls++; c.calls == c.n {
		c.crash()
		return context.Canceled
	}
	return c.Store.SaveProgress(ctx, id, p)
}

func TestResumeAfterCrash(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		h := newHarness(t, db, raw)
		rows := [][]string{personHeader}
		for i := range 10 {
			rows = append(rows, []string{fmt.Sprintf("R%d", i), fmt.Sprintf("续传%d", i), rid(fmt.Sprintf("33010619930303%03d", i)),
				"", "", "HZ-A", ""})
		}
		rows = append(rows, []string{"R1", "续传1", rows[2][2], "", "", "HZ-A", ""}) // line 12 repeats line 3
		path := h.file("r.csv", csvBytes(rows))
		job := h.job(importer.KindCustomers, "core_banking", path)
		ctx, crash := context.WithCancel(h.operator())
		sealer, _ := db.ImportSealer()
		dying := importer.NewEngine(importer.EngineDeps{Store: &crashingStore{Store: db.Imports(), n: 2, crash: crash},
			Identity: h.bank.IdentityService(), Tx: db, Audit: h.bank.Audit, Clock: h.bank.Clock, Sealer: sealer,
			NameKey: search.NameKey, BatchSize: 3, Workers: 1})
		if _, err := dying.Run(ctx, job, path, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("the crashing run: %v", err)
		}
		stored, _ := db.Imports().Job(context.Background(), job.ID)
		if stored.Status != importer.StatusRunning || stored.CheckpointLine != 4 || stored.Counts.Created != 3 {
			t.Fatalf("after the crash: %+v", stored)
		}
		if n := h.count("customer_sources"); n != 3 {
			t.Fatalf("%d links after the crash: the second batch must have rolled back", n)
		}
		// While the heartbeat is fresh, the job counts as running elsewhere.
		if _, err := h.engine.Run(h.operator(), stored, path, nil); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Errorf("resume of a live job: %v", err)
		}
		if !stored.Interrupted(h.bank.Clock.Now().Add(3 * time.Minute)) {
			t.Error("a job without heartbeat for 3 minutes is not interrupted")
		}
		h.bank.Clock.Advance(3 * time.Minute)
		done, err := h.engine.Run(h.operator(), stored, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if done.Status != importer.StatusDone || done.Counts.Total != 11 || done.Counts.Created != 10 ||
			done.Counts.Rejected != 1 || done.CheckpointLine != 12 {
			t.Errorf("resumed job %+v", done)
		}
		mustReject(t, h.rejects(done.ID), 12, "source_id", "line 3")
		if n := h.count("customer_sources"); n != 10 {
			t.Errorf("%d links, want 10", n)
		}
	})
}
