package store_test

import (
	"context"
	"database/sql"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"kehu/internal/customer"
	"kehu/internal/segment"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// benchRule is the two-condition segment: risk tolerance C3 or
// above and at least ¥100,000 flowing in over the last 7 days.
const benchRule = `{"all":[{"field":"risk_level","op":">=","value":3},
	{"field":"inflow_sum","window_days":7,"op":">=","value":100000}]}`

// benchHand is the best hand-written SQL for the same question: the
// postings of the window from the covering index (occurred_at, customer_id,
// amount), summed per customer, joined to the customers by primary key.
const benchHand = `SELECT count(*) FROM customers c JOIN (SELECT t.customer_id FROM transactions t
	WHERE t.occurred_at >= $1 AND t.occurred_at <= $2 AND t.amount > 0 GROUP BY t.customer_id
	HAVING SUM(t.amount) >= $3) x ON x.customer_id = c.id WHERE c.risk_level >= 3 AND c.merged_into IS NULL`

// BenchmarkSegmentCount counts benchRule bank-wide three ways: the
// compiler's SQL and the hand-written SQL on the same plain connection
// (compiled and hand: their ratio is the compiler's overhead), and through
// SegmentStore.CountSegment (store: the pooled reader the service uses).
//
// Without KEHU_BENCH_DB it builds the demo bank of KEHU_BENCH_CUSTOMERS
// (default 20,000) customers on each engine. With it, it opens that database
// — a SQLite file (a copy: Migrate adds migration 0015's indexes) or a
// PostgreSQL URL:
//
//	cp /work/data/demo-1m.db* /tmp/seg/ && KEHU_BENCH_DB=/tmp/seg/demo-1m.db \
//	  go test ./internal/store -run '^$' -bench SegmentCount -benchtime 5x -timeout 1h
func BenchmarkSegmentCount(b *testing.B) {
	path := os.Getenv("KEHU_BENCH_DB")
	if path == "" {
		n := 20000
		if s := os.Getenv("KEHU_BENCH_CUSTOMERS"); s != "" {
			var err error
			if n, err = strconv.Atoi(s); err != nil {
				b.Fatal(err)
			}
		}
		for _, engine := range testkit.Engines {
			b.Run(engine, func(b *testing.B) {
				db, raw := testkit.NewRawDB(b, engine)
				testkit.NewDemoBank(b, db, n)
				benchSegmentCount(b, db, raw)
			})
		}
		return
	}
	ctx := context.Background()
	url, driver, dsn := "sqlite:"+path, "sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_time_format=sqlite"
	if strings.HasPrefix(path, "postgres://") || strings.HasPrefix(path, "postgresql://") {
		url, driver, dsn = path, "pgx", path
	}
	db, err := store.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	applied, err := db.Migrate(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("migrations %v applied in %s", applied, time.Since(start).Round(time.Millisecond))
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	benchSegmentCount(b, db, raw)
}

func benchSegmentCount(b *testing.B, db *store.DB, raw *sql.DB) {
	ctx := context.Background()
	// The bank's "now" is its latest posting, so the window holds a week
	// of history whatever day the demo was generated.
	var now time.Time
	if err := raw.QueryRowContext(ctx, "SELECT occurred_at FROM transactions ORDER BY occurred_at DESC LIMIT 1").Scan(&now); err != nil {
		b.Fatal(err)
	}
	var customers, postings int64
	if err := raw.QueryRowContext(ctx, "SELECT count(*) FROM customers").Scan(&customers); err != nil {
		b.Fatal(err)
	}
	if err := raw.QueryRowContext(ctx, "SELECT count(*) FROM transactions").Scan(&postings); err != nil {
		b.Fatal(err)
	}
	r, err := segment.Parse([]byte(benchRule))
	if err != nil {
		b.Fatal(err)
	}
	p, err := segment.NewPlan(ctx, r, segment.Env{Now: now})
	if err != nil {
		b.Fatal(err)
	}
	compiled, args := db.Segments().CountSQL(p, customer.ScopeFilter{})
	handArgs := []any{now.AddDate(0, 0, -7).UTC(), now.UTC(), int64(100000 * 100)}
	count := func(q string, args []any) int64 {
		var n int64
		if err := raw.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}
	// Warm the caches and check the two queries answer the same.
	want := count(benchHand, handArgs)
	if got := count(compiled, args); got != want {
		b.Fatalf("compiled SQL counts %d, hand-written %d\n%s", got, want, compiled)
	}
	b.Logf("%d customers, %d postings, latest %s: %d customers match\ncompiled: %s", customers, postings,
		now.Format(time.RFC3339), want, compiled)
	b.Run("compiled", func(b *testing.B) {
		for b.Loop() {
			count(compiled, args)
		}
	})
	b.Run("hand", func(b *testing.B) {
		for b.Loop() {
			count(benchHand, handArgs)
		}
	})
	// The pool's first query pays for its connection (schema load); time
	// the service's path warm, as a running server is.
	if _, err := db.Segments().CountSegment(ctx, p, customer.ScopeFilter{}); err != nil {
		b.Fatal(err)
	}
	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			if n, err := db.Segments().CountSegment(ctx, p, customer.ScopeFilter{}); err != nil || n != want {
				b.Fatalf("CountSegment: %d %v", n, err)
			}
		}
	})
}
