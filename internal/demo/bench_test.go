package demo_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"kehu/internal/demo"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// BenchmarkGenerate builds a demo bank on a fresh SQLite file per
// iteration and reports customers and rows per second. The size comes from
// KEHU_BENCH_CUSTOMERS (default 20,000); docs/BENCHMARKS.md records the
// 1,000,000-customer run:
//
//	KEHU_BENCH_CUSTOMERS=1000000 go test ./internal/demo -run '^$' -bench Generate -benchtime 1x -timeout 1h
func BenchmarkGenerate(b *testing.B) {
	n := 20_000
	if s := os.Getenv("KEHU_BENCH_CUSTOMERS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("KEHU_BENCH_CUSTOMERS=%q is not a positive number", s)
		}
		n = v
	}
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "demo.db")
		db, err := store.OpenWith(ctx, "sqlite:"+path, store.Options{Keys: testkit.Keys(b)})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		if err := db.RegisterKeys(ctx, testNow); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		began := time.Now()
		res, err := demo.Generate(ctx, db, demo.Options{Customers: n, Seed: int64(i + 1), Password: testPassword, Now: testNow})
		if err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(began)
		b.StopTimer()
		db.Close()
		var rows int64
		tables := make([]string, 0, len(res.Counts))
		for t, c := range res.Counts {
			rows += c
			tables = append(tables, t)
		}
		sort.Strings(tables)
		for _, t := range tables {
			b.Logf("%-15s %12d rows", t, res.Counts[t])
		}
		size := int64(0)
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if fi, err := os.Stat(path + suffix); err == nil {
				size += fi.Size()
			}
		}
		b.Logf("%d customers, %d rows in %s: %.0f customers/s, %.0f rows/s, database %.1f MiB",
			n, rows, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), float64(rows)/elapsed.Seconds(), float64(size)/(1<<20))
		b.ReportMetric(float64(n)/elapsed.Seconds(), "customers/s")
		b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
		b.StartTimer()
	}
}
