package outbox_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// benchCustomers inserts n minimal customers straight into the table (the
// enqueue needs only their ids, for the foreign key) and returns their ids.
// With sealed true each gets a sealed mobile, as the dispatcher reads them.
func benchCustomers(b *testing.B, db *store.DB, raw *sql.DB, n int, sealed bool) []int64 {
	b.Helper()
	ctx := context.Background()
	var org int64
	now := time.Now().UTC()
	if err := raw.QueryRowContext(ctx, `INSERT INTO orgs (code, name, name_en, level, path, created_at, region_code, city)
		VALUES ('BENCH', '压测支行', 'bench', 'sub_branch', '/', $1, '330100', '杭州') RETURNING id`, now).Scan(&org); err != nil {
		b.Fatalf("org: %v", err)
	}
	if !sealed {
		q := `INSERT INTO customers (type, name, id_type, id_number, id_number_bidx, org_id, created_at, updated_at)
			SELECT 'individual', '客户' || i, 'resident_id', 'bench-' || i, 'bench-' || i, $1, $2, $2 FROM generate_series(1, $3) AS g(i)`
		if !db.Dialect().IsPostgres() {
			q = `INSERT INTO customers (type, name, id_type, id_number, id_number_bidx, org_id, created_at, updated_at)
				WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < $3)
				SELECT 'individual', '客户' || i, 'resident_id', 'bench-' || i, 'bench-' || i, $1, $2, $2 FROM g`
		}
		if _, err := raw.ExecContext(ctx, q, org, now, n); err != nil {
			b.Fatalf("customers: %v", err)
		}
	} else {
		tx, err := raw.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			s, err := db.SealCustomer("bench-"+strconv.Itoa(i), fmt.Sprintf("139%08d", i), "", "")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO customers (type, name, id_type, id_number, id_number_bidx, mobile,
				mobile_bidx, gender, org_id, created_at, updated_at) VALUES ('individual', $1, 'resident_id', $2, $3, $4, $5, 'F', $6, $7, $7)`,
				"王芳"+strconv.Itoa(i), s.IDNumber, s.IDNumberIndex, s.Mobile, s.MobileIndex, org, now); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	ids := make([]int64, 0, n)
	rows, err := raw.QueryContext(ctx, `SELECT id FROM customers WHERE org_id = $1 ORDER BY id`, org)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func benchEngines(b *testing.B, fn func(b *testing.B, db *store.DB, raw *sql.DB)) {
	for _, e := range testkit.Engines {
		b.Run(e, func(b *testing.B) {
			db, raw := testkit.NewRawDB(b, e)
			fn(b, db, raw)
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchSize is the campaign size (KEHU_BENCH_MESSAGES, default 1,000,000).
func benchSize(def int) int {
	if n, err := strconv.Atoi(os.Getenv("KEHU_BENCH_MESSAGES")); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkEnqueueCampaign queues one message per customer for a campaign
// over 1,000,000 customers, in calls of 10,000 rows (each its own
// transaction, as a launch recording its contacts would make), with a
// template and per-customer data. relaunch_s is the same launch again:
// every row a duplicate, nothing queued.
func BenchmarkEnqueueCampaign(b *testing.B) {
	benchEngines(b, func(b *testing.B, db *store.DB, raw *sql.DB) {
		n := benchSize(1_000_000)
		ids := benchCustomers(b, db, raw, n, false)
		q := outbox.NewQueue(db.Outbox(), nil)
		ctx := context.Background()
		const chunk = 10_000
		launch := func(source int64) (outbox.Result, time.Duration) {
			start := time.Now()
			var total outbox.Result
			rows := make([]outbox.New, 0, chunk)
			for i := 0; i < len(ids); i += chunk {
				rows = rows[:0]
				for j, id := range ids[i:min(len(ids), i+chunk)] {
					amt := int64(100_000_00 + j)
					rows = append(rows, outbox.New{SourceKind: "campaign", SourceID: source, CustomerID: id, Channel: msgtemplate.SMS,
						TemplateID: 1, TemplateVersion: 1, Data: &msgtemplate.Data{ProductName: "稳盈90天", Amount: &amt}})
				}
				res, err := q.Enqueue(ctx, rows)
				if err != nil {
					b.Fatal(err)
				}
				total.Queued += res.Queued
				total.Duplicates += res.Duplicates
			}
			return total, time.Since(start)
		}
		b.ResetTimer()
		var relaunch, cpu time.Duration
		for i := range b.N {
			before := cpuTime()
			res, _ := launch(int64(i + 1))
			cpu += cpuTime() - before
			if res.Queued != len(ids) {
				b.Fatalf("queued %d of %d", res.Queued, len(ids))
			}
			b.StopTimer()
			again, d := launch(int64(i + 1))
			if again.Queued != 0 || again.Duplicates != len(ids) {
				b.Fatalf("relaunch queued %d", again.Queued)
			}
			relaunch += d
			b.StartTimer()
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/launch")
		b.ReportMetric(relaunch.Seconds()/float64(b.N), "relaunch_s")
		// The process's own CPU (user + system, all threads): on SQLite the
		// whole work, on PostgreSQL the client's share only.
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu_s/launch")
	})
}

// BenchmarkDispatchFile sends queued SMS through the file gateway: claim,
// open the customers' sealed mobiles, render the template, append and fsync
// the batch, record the outcomes. 100,000 messages over 10,000 customers.
func BenchmarkDispatchFile(b *testing.B) {
	benchEngines(b, func(b *testing.B, db *store.DB, raw *sql.DB) {
		ctx := context.Background()
		ids := benchCustomers(b, db, raw, 10_000, true)
		n := benchSize(100_000)
		var user int64
		if err := raw.QueryRowContext(ctx, `INSERT INTO users (username, display_name, role, org_id, password_hash, created_at, updated_at)
			SELECT 'bench', '压测', 'admin', id, 'x', $1, $1 FROM orgs WHERE code = 'BENCH' RETURNING id`, time.Now().UTC()).Scan(&user); err != nil {
			b.Fatal(err)
		}
		var tmpl msgtemplate.Template
		tmpl.Name, tmpl.Channel, tmpl.Purpose, tmpl.Version, tmpl.CreatedBy, tmpl.UpdatedBy = "bench", msgtemplate.SMS, msgtemplate.Notice, 1, user, user
		tmpl.Content.Body = "【客户银行】尊敬的{{salutation}}，您的{{product_name}}将于{{date}}到期，金额{{amount}}。"
		tmpl.CreatedAt, tmpl.UpdatedAt = time.Now().UTC(), time.Now().UTC()
		if err := db.Templates().CreateTemplate(ctx, &tmpl); err != nil {
			b.Fatal(err)
		}
		q := outbox.NewQueue(db.Outbox(), nil)
		gw, err := outbox.NewFileGateway(b.TempDir(), false, nil)
		if err != nil {
			b.Fatal(err)
		}
		x := outbox.NewDispatcher(outbox.DispatcherDeps{Store: db.Outbox(), Gateways: map[outbox.Channel]outbox.Gateway{msgtemplate.SMS: gw},
			Templates: db.Templates(), Owner: "bench", Config: outbox.Config{Batch: 500, Rates: map[outbox.Channel]float64{}}})
		b.ResetTimer()
		for i := range b.N {
			b.StopTimer()
			rows := make([]outbox.New, 0, n)
			for j := range n {
				amt := int64(5_000_000 + j)
				rows = append(rows, outbox.New{SourceKind: "bench", SourceID: int64(i), CustomerID: ids[j%len(ids)], Channel: msgtemplate.SMS,
					DedupKey: fmt.Sprintf("bench:%d:%d", i, j), TemplateID: tmpl.ID, TemplateVersion: 1,
					Data: &msgtemplate.Data{ProductName: "稳盈90天", Amount: &amt, Date: date(2026, 12, 2)}})
			}
			if _, err := q.Enqueue(ctx, rows); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			sent := 0
			for sent < n {
				k, _, err := x.Dispatch(ctx, msgtemplate.SMS)
				if err != nil {
					b.Fatal(err)
				}
				if k == 0 {
					b.Fatalf("dispatched %d of %d", sent, n)
				}
				sent += k
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}
