package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"kehu/internal/audit"
	"kehu/internal/auth"
	"kehu/internal/customer"
	"kehu/internal/demo"
	"kehu/internal/httpapi"
	"kehu/internal/ingest"
	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/testkit"
	"kehu/internal/vault"
)

// BenchmarkIngestEvents measures sustained event ingest through the whole
// HTTP stack (middleware, API-token authentication, route permission, NDJSON
// parsing, validation, customer and product resolution, the insert with its
// dedup, the audit record, the commit) on SQLite, with batches of 1,000
// events from a demo bank. KEHU_BENCH_CUSTOMERS sets the bank's size
// (default 20,000); KEHU_BENCH_DB names an existing demo database file
// instead, with its key file beside it (or KEHU_BENCH_KEYS);
// KEHU_BENCH_ENGINE=postgres builds the bank in a fresh schema of the
// KEHU_TEST_POSTGRES server instead. The run writes
// events into it: point it at a copy (VACUUM INTO, or cp while unused).
// docs/BENCHMARKS.md, "Event ingest":
//
//	go test ./internal/httpapi -run '^$' -bench IngestEvents -benchtime 600x -v
//	KEHU_BENCH_DB=/tmp/demo-1m-copy.db go test ./internal/httpapi -run '^$' -bench IngestEvents -benchtime 600x -timeout 1h -v
//
// KEHU_BENCH_ACTIVE=0.2 draws the events from a fifth of the customers
// (those who use the app), spread over the whole table.
func BenchmarkIngestEvents(b *testing.B) {
	h, token, customers, products := ingestBench(b)
	customers = activeCustomers(b, customers)
	var seq atomic.Int64 // numbers the events over every run, so none is a duplicate
	// A database reused from an earlier run holds its event ids: start past them.
	seq.Store(time.Now().UnixMicro() * 1000)
	b.Run("serial", func(b *testing.B) {
		cpu0 := benchCPU()
		for b.Loop() {
			postBatch(b, h, token, eventBatch(&seq, customers, products, 1000))
		}
		b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
		reportCPU(b, cpu0)
	})
	// Two sources posting at once: parsing and validation of one batch
	// overlap the other's write.
	b.Run("two-sources", func(b *testing.B) {
		cpu0 := benchCPU()
		b.SetParallelism(1) // GOMAXPROCS goroutines: two on the benchmark machine
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				postBatch(b, h, token, eventBatch(&seq, customers, products, 1000))
			}
		})
		b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
		reportCPU(b, cpu0)
	})
}

// reportCPU reports the process's CPU time per 1,000-event batch since cpu0
// and the load average: on a shared machine the events/s depend on what
// else runs, the CPU a batch costs much less.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric((benchCPU()-cpu0).Seconds()*1000/float64(b.N), "CPU-ms/batch")
	b.Logf("load average: %s", loadAvg())
}

func postBatch(b *testing.B, h http.Handler, token string, body []byte) {
	req := httptest.NewRequest("POST", "/api/v1/ingest/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", strconv.FormatInt(time.Now().UnixNano(), 36))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var res ingest.Result
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || res.Accepted != 1000 {
		b.Fatalf("batch not fully accepted: %s", rec.Body)
	}
}

// activeCustomers keeps the customers who use the channels: every k-th of
// the bank, so they lie all over the table, where KEHU_BENCH_ACTIVE is the
// share (default 1: every customer, the worst case for the caches).
func activeCustomers(b *testing.B, ids []int64) []int64 {
	share := 1.0
	if s := os.Getenv("KEHU_BENCH_ACTIVE"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 || v > 1 {
			b.Fatalf("KEHU_BENCH_ACTIVE=%q: want a share in (0, 1]", s)
		}
		share = v
	}
	step := max(1, int(1/share))
	out := make([]int64, 0, len(ids)/step+1)
	for i := 0; i < len(ids); i += step {
		out = append(out, ids[i])
	}
	b.Logf("events of %d active customers", len(out))
	return out
}

// eventBatch is n events of random customers, as a channel system sends
// them: logins, page views and product views with a small detail object.
func eventBatch(seq *atomic.Int64, customers []int64, products []string, n int) []byte {
	buf := make([]byte, 0, n*220)
	now := time.Now().UTC().Add(-time.Second).Format(time.RFC3339)
	for range n {
		i := seq.Add(1)
		c := customers[uint64(i)*7919%uint64(len(customers))]
		buf = append(buf, `{"event_id":"bench-`...)
		buf = strconv.AppendInt(buf, i, 10)
		switch i % 4 {
		case 0:
			buf = append(buf, `","channel":"mobile_app","kind":"app_login","detail":{"device":"iPhone 15"}`...)
		case 1:
			buf = append(buf, `","channel":"online_banking","kind":"page_view","detail":{"page":"/wealth/list"}`...)
		case 2:
			buf = append(buf, `","channel":"wechat","kind":"product_view","product_code":"`...)
			buf = append(buf, products[uint64(i)%uint64(len(products))]...)
			buf = append(buf, `","detail":{"source":"wechat_menu"}`...)
		default:
			buf = append(buf, `","channel":"mobile_app","kind":"page_view","detail":{"page":"home"}`...)
		}
		buf = append(buf, `,"occurred_at":"`...)
		buf = append(buf, now...)
		buf = append(buf, `","customer_id":`...)
		buf = strconv.AppendInt(buf, c, 10)
		buf = append(buf, "}\n"...)
	}
	return buf
}

// ingestBench builds (or copies) the demo bank and the API handler, and
// returns it with an API token of the bank's admin carrying data.ingest.
func ingestBench(b *testing.B) (http.Handler, string, []int64, []string) {
	k := newBenchKit(b)
	return k.h, k.token, k.customers, k.products
}

// benchKit is the demo bank of the feed benchmarks with its API handler;
// subs are told what each batch stored (the journey benchmark's engine).
type benchKit struct {
	db        *store.DB
	clock     kehu.Clock
	trail     *audit.Log
	people    *customer.Service
	h         http.Handler
	token     string
	customers []int64
	products  []string
}

func newBenchKit(b *testing.B, subs ...ingest.Subscriber) benchKit {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "bench.db")
	keys := testkit.Keys(b)
	if src := os.Getenv("KEHU_BENCH_DB"); src != "" {
		path = src
		keysPath := os.Getenv("KEHU_BENCH_KEYS")
		if keysPath == "" {
			keysPath = filepath.Join(filepath.Dir(src), "kehu.keys")
		}
		var err error
		if keys, err = vault.LoadKeyFile(keysPath); err != nil {
			b.Fatal(err)
		}
	}
	url := "sqlite:" + path
	if os.Getenv("KEHU_BENCH_ENGINE") == "postgres" { // a fresh schema of KEHU_TEST_POSTGRES
		url = testkit.DBURL(b, "postgres")
	}
	db, err := store.OpenWith(ctx, url, store.Options{Keys: keys})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if err := db.RegisterKeys(ctx, time.Now()); err != nil {
		b.Fatal(err)
	}
	if os.Getenv("KEHU_BENCH_DB") == "" {
		n := 20_000
		if s := os.Getenv("KEHU_BENCH_CUSTOMERS"); s != "" {
			if n, err = strconv.Atoi(s); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := demo.Generate(ctx, db, demo.Options{Customers: n, Seed: 1, Password: "Bench-pass-2026"}); err != nil {
			b.Fatal(err)
		}
	}
	clock := kehu.SystemClock{}
	trail := audit.NewLog(db.Audit(), db, clock)
	cfg := testkit.FastAuth
	cfg.Audit, cfg.Tx = trail, db
	as, err := auth.NewService(db.Users(), clock, cfg)
	if err != nil {
		b.Fatal(err)
	}
	customers := customer.NewService(customer.Deps{Store: db.Customers(), Clock: clock, Audit: trail, Tx: db})
	feeds := ingest.NewService(ingest.Deps{Store: db.Ingest(), Customers: customers, Clock: clock, Audit: trail, Tx: db,
		Subscribers: subs})
	h := httpapi.Middleware(httpapi.New(httpapi.Deps{Auth: as, Customers: customers, Clock: clock, Audit: trail,
		Ingest: feeds}), nil, nil)
	token := benchToken(b, db, as)
	ids, codes := benchRefs(b, db)
	b.Logf("bank: %d customers, %d products", len(ids), len(codes))
	return benchKit{db: db, clock: clock, trail: trail, people: customers, h: h, token: token, customers: ids,
		products: codes}
}

// benchToken makes the admin's data.ingest token through the auth service,
// acting as a signed-in admin (the token call needs a session actor).
func benchToken(b *testing.B, db *store.DB, as *auth.Service) string {
	ctx := context.Background()
	u, err := db.Users().UserByUsername(ctx, "admin")
	if err != nil {
		b.Fatal(err)
	}
	actor := kehu.Actor{UserID: u.ID, Username: u.Username, Role: u.Role, OrgID: u.OrgID, SessionID: 1}
	secret, _, err := as.CreateAPIToken(kehu.WithActor(ctx, actor), auth.NewAPIToken{Name: "bench",
		Scopes: []string{"data.ingest"}, ExpiresAt: time.Now().Add(24 * time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	return secret
}

// benchRefs returns the customer ids of the demo bank (it numbers its
// customers from 1) and the codes of its wealth products and funds.
func benchRefs(b *testing.B, db *store.DB) ([]int64, []string) {
	ctx := context.Background()
	n, err := db.CountRows(ctx, "customers")
	if err != nil || n == 0 {
		b.Fatalf("customers: %d %v", n, err)
	}
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	codes := []string{"WM-R1-CASH", "WM-R2-90D", "WM-R2-1Y", "WM-R3-FI", "WM-R4-MIX", "WM-R5-EQ", "FD-MMF-A",
		"FD-BOND", "FD-BAL", "FD-CSI300", "FD-NEV"}
	found, err := db.Ingest().ProductIDs(ctx, codes)
	if err != nil || len(found) != len(codes) {
		b.Fatalf("the demo bank lacks products: %v %v", found, err)
	}
	return ids, codes
}
