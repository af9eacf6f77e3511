package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkCustomer360 measures GET /api/v1/customers/{id}/360 through the
// whole server `kehu serve` builds (buildHandler: middleware, bearer-token
// authentication, permission, the one audit record per view, JSON), over
// HTTP on loopback, on an existing demo bank:
//
//	KEHU_BENCH_DB=/tmp/copy-of-demo-1m.db go test ./cmd/kehu -run '^$' -bench Customer360 -benchtime 2000x
//
// The signed-in user is a relationship manager; the customers are theirs,
// individuals who have been customers for over a year (twelve months of
// history). Each is viewed once before timing, so the first-view work
// (SQLite page cache, computed tags brought up to date) is not in the
// figures; docs/BENCHMARKS.md reports both. Latency percentiles are
// reported as p50_ms, p95_ms and p99_ms.
func BenchmarkCustomer360(b *testing.B) {
	path := os.Getenv("KEHU_BENCH_DB")
	if path == "" {
		b.Skip("set KEHU_BENCH_DB to a demo bank's SQLite file (kehu demo --db sqlite:PATH)")
	}
	url := path
	if !strings.Contains(url, ":") || strings.HasPrefix(url, "/") {
		url = "sqlite:" + path
	}
	ctx := context.Background()
	e := env{stdout: io.Discard, stderr: io.Discard, getenv: os.Getenv}
	db, err := openKeyedDB(ctx, e, url, os.Getenv("KEHU_KEYS_FILE"), false, func(string) {})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	fs := flags(e, "bench")
	sec, priv, c3 := securityFlags(fs), privacyFlags(fs), c360Flags(fs)
	if err := fs.Parse([]string{"--api-rate", "0", "--login-rate", "0", "--require-totp-roles", "none"}); err != nil {
		b.Fatal(err)
	}
	if err := sec.validate(false); err != nil {
		b.Fatal(err)
	}
	pcfg, err := priv.config()
	if err != nil {
		b.Fatal(err)
	}
	if err := ensureTagCatalogue(ctx, db); err != nil {
		b.Fatal(err)
	}
	life, stop := context.WithCancel(ctx)
	defer stop()
	h, err := buildHandler(db, slog.New(slog.DiscardHandler), false, sec, pcfg, c3, newGovernanceSet(life), nil, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	user, ids := benchSample(b, db.InTx, 200)
	token := benchLogin(b, srv.URL, user)
	client := srv.Client()
	get := func(id int64) time.Duration {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/customers/"+strconv.FormatInt(id, 10)+"/360", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		d := time.Since(start)
		if res.StatusCode != http.StatusOK || n < 1000 {
			b.Fatalf("360 of %d: %d (%d bytes)", id, res.StatusCode, n)
		}
		return d
	}
	first := make([]time.Duration, 0, len(ids))
	for _, id := range ids {
		first = append(first, get(id))
	}
	reportPercentiles(b, "first view", first)
	b.ResetTimer()
	lat := make([]time.Duration, 0, b.N)
	for i := range b.N {
		lat = append(lat, get(ids[i%len(ids)]))
	}
	b.StopTimer()
	p := reportPercentiles(b, "warm", lat)
	b.ReportMetric(p[0], "p50_ms")
	b.ReportMetric(p[1], "p95_ms")
	b.ReportMetric(p[2], "p99_ms")
	// Each view commits its audit record with synchronous=FULL: one fsync of
	// the WAL. The disk's own fsync latency, measured beside the database,
	// tells how much of a tail is the disk rather than the server.
	f := benchFsync(b, filepath.Dir(strings.TrimPrefix(url, "sqlite:")), 200)
	b.ReportMetric(f[2], "fsync_p99_ms")

	// Four clients at once, as a branch's worth of staff would be.
	var mu sync.Mutex
	var par []time.Duration
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			var mine []time.Duration
			for i := range max(b.N/4, 50) {
				mine = append(mine, get(ids[(i*4+w)%len(ids)]))
			}
			mu.Lock()
			par = append(par, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	reportPercentiles(b, "4 clients", par)
}

// benchFsync times n fsyncs of a 4 KiB write in dir (an append to a WAL
// and its sync, as a commit does) and logs their percentiles.
func benchFsync(b *testing.B, dir string, n int) [3]float64 {
	f, err := os.CreateTemp(dir, "kehu-fsync-*")
	if err != nil {
		b.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	page := make([]byte, 4096)
	ds := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if _, err := f.Write(page); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	return reportPercentiles(b, "disk fsync alone", ds)
}

// reportPercentiles logs p50/p95/p99 in milliseconds and returns them.
func reportPercentiles(b *testing.B, label string, ds []time.Duration) [3]float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) float64 {
		return float64(s[min(len(s)-1, int(q*float64(len(s))))].Microseconds()) / 1000
	}
	p := [3]float64{at(0.50), at(0.95), at(0.99)}
	b.Logf("%s: n=%d p50=%.2fms p95=%.2fms p99=%.2fms max=%.2fms", label, len(s), p[0], p[1], p[2],
		float64(s[len(s)-1].Microseconds())/1000)
	return p
}

// benchSample picks the relationship manager owning the customer in the
// middle of the bank and up to n of their individual customers who have
// been customers for a year and have transactions.
func benchSample(b *testing.B, inTx func(context.Context, func(*sql.Tx) error) error, n int) (string, []int64) {
	var user string
	var ids []int64
	err := inTx(context.Background(), func(tx *sql.Tx) error {
		var owner int64
		err := tx.QueryRow(`SELECT c.owner_id FROM customers c JOIN users u ON u.id = c.owner_id
			WHERE u.role = 'relationship_manager' AND c.id >= (SELECT max(id) / 2 FROM customers)
			ORDER BY c.id LIMIT 1`).Scan(&owner)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(`SELECT username FROM users WHERE id = $1`, owner).Scan(&user); err != nil {
			return err
		}
		rows, err := tx.Query(`SELECT c.id FROM customers c WHERE c.owner_id = $1 AND c.type = 'individual'
			AND c.created_at < $2 AND EXISTS (SELECT 1 FROM transactions t WHERE t.customer_id = c.id)
			ORDER BY c.id LIMIT $3`, owner, time.Now().AddDate(-1, 0, 0).UTC(), n)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil || len(ids) == 0 {
		b.Fatalf("sample: %v (%d customers)", err, len(ids))
	}
	b.Logf("user %s, %d customers", user, len(ids))
	return user, ids
}

func benchLogin(b *testing.B, base, user string) string {
	body, _ := json.Marshal(map[string]string{"username": user, "password": defaultDemoPassword})
	res, err := http.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out.Token == "" {
		b.Fatalf("login %s: %d %v", user, res.StatusCode, err)
	}
	return out.Token
}
