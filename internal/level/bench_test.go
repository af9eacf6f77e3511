package level_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"kehu/internal/audit"
	"kehu/internal/demo"
	"kehu/internal/kehu"
	"kehu/internal/level"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// BenchmarkRecomputeAll measures the batch recompute of every customer's
// level (the nightly job) and the preview of a draft over the stored metrics.
//
//	KEHU_BENCH_DB=sqlite:/path/copy-of-demo.db go test ./internal/level -run '^$' -bench . -benchtime 1x -timeout 1h
//
// Without KEHU_BENCH_DB it builds a demo bank of KEHU_BENCH_CUSTOMERS
// (default 20,000) customers first. Point KEHU_BENCH_DB at a copy: the run
// writes levels, metrics and history.
func BenchmarkRecomputeAll(b *testing.B) {
	ctx := context.Background()
	db := benchDB(b)
	clock := kehu.SystemClock{}
	svc := level.NewService(level.Deps{Store: db.Levels(), Clock: clock, Audit: audit.NewLog(db.Audit(), db, clock), Tx: db})
	var run level.Run
	b.ResetTimer()
	for range b.N {
		var err error
		if run, err = svc.RecomputeAll(ctx, level.TriggerCLI); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	elapsed := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(run.Customers)/elapsed.Seconds(), "customers/s")
	b.Logf("recomputed %d customers in %s (%d levels changed)", run.Customers, elapsed.Round(time.Millisecond), run.Changed)

	// The preview of a draft reads the stored metrics, not the transactions.
	admin := kehu.WithActor(ctx, kehu.Actor{UserID: 1, Username: "admin", Role: "admin"})
	r := level.DefaultRule()
	two := int64(2_000_000_00)
	r.Tiers[1].Any = []level.Condition{{MinAUM: &two}}
	v, err := svc.CreateDraft(admin, r, "bench")
	if err != nil {
		b.Fatal(err)
	}
	began := time.Now()
	d, err := svc.Preview(admin, v.Version)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("previewed version %d over %d customers in %s (%d would move down)", v.Version, d.Customers,
		time.Since(began).Round(time.Millisecond), d.Downgrades)
}

func benchDB(b *testing.B) *store.DB {
	if url := os.Getenv("KEHU_BENCH_DB"); url != "" {
		// The level engine reads no encrypted column: no keys needed.
		db, err := store.Open(context.Background(), url)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.Migrate(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		return db
	}
	n := 20_000
	if s := os.Getenv("KEHU_BENCH_CUSTOMERS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	db := testkit.NewDB(b, "sqlite")
	if _, err := demo.Generate(context.Background(), db, demo.Options{Customers: n, Seed: 1, Password: "Bench-pass-2026",
		Now: time.Now()}); err != nil {
		b.Fatal(err)
	}
	return db
}
