package tag_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/tag"
	"kehu/internal/testkit"
)

// flakyTags fails LoadBatch after a number of batches, as a process killed
// mid-run would stop.
type flakyTags struct {
	*store.TagStore
	left int
}

func (f *flakyTags) LoadBatch(ctx context.Context, after int64, limit int, now time.Time, w tag.Windows) (tag.Batch, error) {
	if f.left == 0 {
		return tag.Batch{}, errors.New("disk unplugged")
	}
	f.left--
	return f.TagStore.LoadBatch(ctx, after, limit, now, w)
}

// TestRecomputeBank: the set-based batches reach the same tags as the
// per-customer evaluation of the 360 (a per-customer recompute afterwards
// changes nothing), a run that dies resumes after its last committed batch
// with its counts, a live run refuses a second one, and --restart starts
// afresh.
func TestRecomputeBank(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		b.AddPortfolio(t)
		ctx := context.Background()
		exec := func(q string, args ...any) {
			t.Helper()
			if err := db.InTx(ctx, func(tx *sql.Tx) error { _, err := tx.Exec(q, args...); return err }); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		// The portfolio's manual 代发工资 would block the built-in's name.
		exec("UPDATE tags SET name = '代发工资（手工）' WHERE name = '代发工资'")
		now := b.Clock.Now()
		a1, a2, b1 := b.Customers["a1"].ID, b.Customers["a2"].ID, b.Customers["b1"].ID
		exec(`UPDATE customers SET aum = 700000000 WHERE id = $1`, a1)
		exec(`UPDATE customers SET created_at = $1 WHERE id IN ($2, $3)`, now.AddDate(-2, 0, 0), a2, b1)
		for _, days := range []int{70, 40, 10} {
			exec(`INSERT INTO transactions (account_id, customer_id, occurred_at, amount, balance_after, kind, channel)
				VALUES (1, $1, $2, 800000, 0, 'salary', 'batch')`, a1, now.AddDate(0, 0, -days))
		}
		// b1 was active 20 days ago in the app: not dormant.
		exec(`INSERT INTO channel_events (customer_id, occurred_at, channel, kind) VALUES ($1, $2, 'app', 'login')`,
			b1, now.AddDate(0, 0, -20))

		flaky := &flakyTags{TagStore: db.Tags(), left: 2}
		broken := tag.NewService(tag.Deps{Store: flaky, Customers: b.CustomerService(), Clock: b.Clock,
			Audit: b.Audit, Tx: db})
		run, err := broken.RecomputeBank(ctx, tag.RunOptions{BatchSize: 2}, nil)
		if err == nil || run.Status != tag.RunFailed || run.Customers != 4 || run.AfterID == 0 {
			t.Fatalf("dying run: %+v %v", run, err)
		}
		// Run again: the dead run resumes after its last batch, counts kept.
		svc := newService(b)
		var batches int
		res, err := svc.RecomputeBank(ctx, tag.RunOptions{BatchSize: 2}, func(tag.Run) { batches++ })
		if err != nil || res.ID != run.ID || !res.Resumed || res.Status != tag.RunDone ||
			res.Customers != int64(len(b.Customers)) || batches != 1 {
			t.Fatalf("resume: %+v %v (%d batches)", res, err, batches)
		}
		// A second process while another run is alive is refused; once its
		// heartbeat is ten minutes old, it died and is resumed.
		live, err := db.Tags().CreateRun(ctx, tag.Run{Status: tag.RunRunning, Trigger: "other", StartedAt: now,
			HeartbeatAt: now, AsOf: now})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.RecomputeBank(ctx, tag.RunOptions{}, nil); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Fatalf("second live run: %v, want conflict", err)
		}
		// Two processes that both saw no live run: the store admits one.
		if _, err := db.Tags().CreateRun(ctx, tag.Run{Status: tag.RunRunning, Trigger: "racer", StartedAt: now,
			HeartbeatAt: now, AsOf: now}); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Fatalf("a second running run was stored: %v", err)
		}
		b.Clock.Advance(11 * time.Minute)
		res, err = svc.RecomputeBank(ctx, tag.RunOptions{BatchSize: 2}, nil)
		if err != nil || res.ID != live.ID || !res.Resumed || res.Status != tag.RunDone {
			t.Fatalf("resumed dead run: %+v %v", res, err)
		}
		// --restart: the whole bank again, nothing left to change.
		res, err = svc.RecomputeBank(ctx, tag.RunOptions{Restart: true, BatchSize: 2}, nil)
		if err != nil || res.Resumed || res.Customers != int64(len(b.Customers)) || res.Added+res.Removed+res.Changed != 0 {
			t.Fatalf("restart: %+v %v", res, err)
		}
		// The per-customer evaluation (the 360's) agrees with every batch.
		for key, c := range b.Customers {
			if r, err := svc.Recompute(ctx, c.ID); err != nil || r.Added+r.Removed+r.Changed != 0 {
				t.Errorf("%s: per-customer recompute after the batch changed %+v %v", key, r, err)
			}
		}
		got := names(mustOf(t, svc, b, a1))
		if got["高净值"].Reason != "AUM ¥7,000,000 ≥ ¥6,000,000" || got["代发工资"].Reason != "3 salary/pension credits in 3 months" {
			t.Errorf("a1: %+v", got)
		}
		if got := names(mustOf(t, svc, b, a2)); got["沉睡客户"].Reason != "no activity in 90 days" {
			t.Errorf("a2: %+v", got)
		}
		if got := names(mustOf(t, svc, b, b1)); got["沉睡客户"].Tag.ID != 0 {
			t.Errorf("b1 is active: %+v", got)
		}
	})
}
