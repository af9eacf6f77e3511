package governance_test

import (
	"context"
	"os"
	"testing"
	"time"

	"kehu/internal/audit"
	"kehu/internal/governance"
	"kehu/internal/kehu"
	"kehu/internal/org"
	"kehu/internal/store"
	"kehu/internal/testkit"
	"kehu/internal/vault"
)

// BenchmarkMeasure measures data quality over a whole bank: every customer
// (encrypted fields opened and checked), account, holding, transaction and
// channel event.
//
//	KEHU_BENCH_DB=sqlite:/path/copy.db KEHU_BENCH_KEYS=/path/kehu.keys \
//	  go test ./internal/governance -run '^$' -bench Measure -benchtime 1x -timeout 1h
//
// Without KEHU_BENCH_DB it measures the small test bank.
func BenchmarkMeasure(b *testing.B) {
	ctx := context.Background()
	var db *store.DB
	if url := os.Getenv("KEHU_BENCH_DB"); url != "" {
		keys, err := vault.LoadKeyFile(os.Getenv("KEHU_BENCH_KEYS"))
		if err != nil {
			b.Fatal(err)
		}
		if db, err = store.OpenWith(ctx, url, store.Options{Keys: keys}); err != nil {
			b.Fatal(err)
		}
		if _, err := db.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
	} else {
		db = testkit.NewDB(b, "sqlite")
		testkit.NewBank(b, db).AddPortfolio(b)
	}
	clock := kehu.SystemClock{}
	trail := audit.NewLog(db.Audit(), db, clock)
	dict := governance.NewDictionary(governance.DictionaryDeps{Store: db.Governance(), Clock: clock, Audit: trail, Tx: db})
	q := governance.NewQuality(governance.QualityDeps{Store: db.Governance(), Dictionary: dict, Orgs: org.NewService(db.Orgs()),
		Clock: clock, Audit: trail, Tx: db})
	var run governance.Run
	b.ResetTimer()
	for range b.N {
		var err error
		if run, err = q.Measure(ctx, "cli"); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	elapsed := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(run.RowsScanned)/elapsed.Seconds(), "rows/s")
	b.Logf("measured %d rows in %s", run.RowsScanned, elapsed.Round(time.Millisecond))
	admin := kehu.WithActor(ctx, kehu.Actor{UserID: 1, Username: "admin", Role: "admin"})
	began := time.Now()
	rep, err := q.Report(admin, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("the head office report (%d fields, %d children) in %s", len(rep.Fields), len(rep.Children),
		time.Since(began).Round(time.Millisecond))
}
