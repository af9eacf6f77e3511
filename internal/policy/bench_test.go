package policy_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/policy"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// BenchmarkDecideMany measures the contact policy over a campaign's whole
// audience: one DecideMany of every customer for a marketing SMS offering a
// rated wealth product (every rule applies: status, do-not-call, consent,
// suitability, the refusal quiet period, both caps, quiet hours).
//
//	KEHU_TEST_POSTGRES=... KEHU_BENCH_CUSTOMERS=1000000 go test ./internal/policy -run '^$' -bench DecideMany -benchtime 1x -timeout 1h -v
//	KEHU_BENCH_DB=sqlite:/tmp/copy/demo-1m.db go test ./internal/policy -run '^$' -bench DecideMany/demo -benchtime 1x -timeout 1h -v
//
// Without KEHU_BENCH_DB it builds KEHU_BENCH_CUSTOMERS (default 100,000)
// synthetic customers on each engine with set-based SQL: a sixth never
// assessed, a third assessed 14 months ago, preferences for a quarter,
// SMS consent for four fifths (one in ten of those withdrawn), a contact
// logged for a third and a refusal of the product for one in twenty.
// KEHU_BENCH_DB points at a copy of the demo bank instead (the run adds a
// product and contact-policy rows).
func BenchmarkDecideMany(b *testing.B) {
	if url := os.Getenv("KEHU_BENCH_DB"); url != "" {
		b.Run("demo", func(b *testing.B) {
			db, err := store.Open(context.Background(), url)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			if _, err := db.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			benchDecide(b, db, 0)
		})
		return
	}
	n := 100_000
	if s := os.Getenv("KEHU_BENCH_CUSTOMERS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			db := testkit.NewDB(b, engine)
			benchDecide(b, db, n)
		})
	}
}

// benchDecide fills db with n synthetic customers (0: use the customers it
// has) and times DecideMany over all of them.
func benchDecide(b *testing.B, db *store.DB, n int) {
	ctx := context.Background()
	now := time.Now().UTC()
	// 10:30 in Shanghai today: outside the bank's quiet hours, so the
	// customers' own hours decide the deferrals.
	sh := now.In(kehu.LoadShanghai())
	at := time.Date(sh.Year(), sh.Month(), sh.Day(), 10, 30, 0, 0, sh.Location()).UTC()
	began := time.Now()
	product, err := synthesize(ctx, db, n, at)
	if err != nil {
		b.Fatal(err)
	}
	var ids []int64
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.Query("SELECT id FROM customers ORDER BY id")
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
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: %d customers ready in %s", db.Dialect().Name, len(ids), time.Since(began).Round(time.Millisecond))
	clock := kehu.SystemClock{}
	trail := audit.NewLog(db.Audit(), db, clock)
	svc := policy.NewService(policy.Deps{Store: db.Policy(), Customers: customer.NewService(customer.Deps{
		Store: db.Customers(), Clock: clock, Audit: trail, Tx: db}), Clock: clock, Audit: trail, Tx: db, QuietDays: 30})
	batch := policy.Batch{Channel: "sms", Purpose: policy.PurposeMarketing, ProductID: product, At: at}
	var t policy.Tally
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		ds, err := svc.DecideMany(ctx, batch, ids)
		if err != nil {
			b.Fatal(err)
		}
		t = policy.Tally{}
		t.AddAll(ds)
	}
	b.StopTimer()
	per := b.Elapsed() / time.Duration(b.N)
	cpu := (cpuTime() - cpu0) / time.Duration(b.N)
	b.ReportMetric(float64(len(ids))/per.Seconds(), "customers/s")
	// The process's CPU time (this process only: PostgreSQL's server time
	// is not in it) tells a loaded machine's waiting from the work.
	b.Logf("%s: DecideMany over %d customers in %s (process CPU %s): allowed %d, deferred %d, suppressed %v",
		db.Dialect().Name, len(ids), per.Round(time.Millisecond), cpu.Round(time.Millisecond), t.Allowed, t.Deferred,
		t.Suppressed)
}

// cpuTime is the user and system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// synthesize inserts the bench product and, for n > 0, n customers with
// their policy facts, all set-based; it returns the product id.
func synthesize(ctx context.Context, db *store.DB, n int, at time.Time) (int64, error) {
	var product int64
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRow(`INSERT INTO products (code, name, name_en, type, risk_level)
			VALUES ('BENCH-WM-R3', '稳健理财', 'Bench wealth', 'wealth', 3) RETURNING id`).Scan(&product); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		var org int64
		if err := tx.QueryRow(`INSERT INTO orgs (code, name, level, created_at) VALUES ('BENCH', '基准网点', 'sub_branch', $1)
			RETURNING id`, at).Scan(&org); err != nil {
			return err
		}
		var user int64
		if err := tx.QueryRow(`INSERT INTO users (username, display_name, role, org_id, password_hash, created_at, updated_at)
			VALUES ('bench', '基准', 'relationship_manager', $1, 'x', $2, $2) RETURNING id`, org, at).Scan(&user); err != nil {
			return err
		}
		// n is a number from the environment, not user input.
		steps := []struct {
			q    string
			args []any
		}{
			{fmt.Sprintf(`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %d)
				INSERT INTO customers (type, name, id_type, id_number, id_number_bidx, org_id, status, risk_level, created_at, updated_at)
				SELECT 'individual', 'B' || i, 'passport', 'B' || i, 'B' || i, $1,
				  CASE WHEN i %% 50 = 0 THEN 'closed' ELSE 'active' END, i %% 6, $2, $2 FROM seq`, n), []any{org, at}},
			{"UPDATE customers SET risk_assessed_at = $1 WHERE risk_level > 0 AND id % 3 <> 0", []any{at.AddDate(0, -3, 0)}},
			{"UPDATE customers SET risk_assessed_at = $1 WHERE risk_level > 0 AND id % 3 = 0", []any{at.AddDate(0, -14, 0)}},
			{`INSERT INTO customer_preferences (customer_id, contact_from, contact_to, contact_days, do_not_call, updated_at)
				SELECT id, '12:00', '20:00', '', id % 11 = 0, $1 FROM customers WHERE id % 4 = 0`, []any{at}},
			{`INSERT INTO customer_consents (customer_id, channel, granted, changed_at, source)
				SELECT id, 'sms', id % 9 <> 0, $1, 'counter' FROM customers WHERE id % 5 <> 0`, []any{at}},
			{`INSERT INTO contact_log (customer_id, channel, purpose, source_kind, source_id, contacted_at)
				SELECT id, 'email', 'marketing', 'campaign', 1, $1 FROM customers WHERE id % 3 = 0`, []any{at.Add(-48 * time.Hour)}},
			{`INSERT INTO contact_log (customer_id, channel, purpose, source_kind, source_id, contacted_at)
				SELECT id, 'sms', 'marketing', 'journey', 2, $1 FROM customers WHERE id % 7 = 0`, []any{at.Add(-2 * time.Hour)}},
			{`INSERT INTO interactions (customer_id, user_id, occurred_at, channel, purpose, response, product_id)
				SELECT id, $1, $2, 'phone', 'marketing', 'declined', $3 FROM customers WHERE id % 20 = 0`,
				[]any{user, at.AddDate(0, 0, -10), product}},
			{`INSERT INTO interaction_products (interaction_id, product_id) SELECT id, $1 FROM interactions`, []any{product}},
		}
		for _, s := range steps {
			if _, err := tx.Exec(s.q, s.args...); err != nil {
				return fmt.Errorf("%.60s: %w", s.q, err)
			}
		}
		return nil
	})
	return product, err
}
