package campaign_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"kehu/internal/campaign"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// BenchmarkCampaignLaunch measures a launch end to end at the store: an
// approved SMS campaign offering a wealth product (R2) with a 10% control
// group, over a segment of every individual, run by the server's runner in
// batches of 2,000 — audience page, holdout, contact policy (every rule),
// contact log, suppression tally, outbox rows, members and checkpoint, one
// transaction per batch.
//
//	KEHU_TEST_POSTGRES=... KEHU_BENCH_CUSTOMERS=1000000 go test ./internal/campaign -run '^$' -bench CampaignLaunch -benchtime 1x -timeout 2h -v
//
// KEHU_BENCH_BATCH sets the batch size (default 2,000).
// KEHU_BENCH_CUSTOMERS (default 100,000) synthetic customers are built with
// set-based SQL: risk C0–C5 (a sixth never assessed), SMS consent for four
// fifths (one in nine of those withdrawn), do-not-call for one in eleven.
func BenchmarkCampaignLaunch(b *testing.B) {
	n := 100_000
	if s := os.Getenv("KEHU_BENCH_CUSTOMERS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			b.StopTimer() // only the launch is timed
			benchLaunch(b, testkit.NewDB(b, engine), n)
		})
	}
}

func benchLaunch(b *testing.B, db *store.DB, n int) {
	ctx := context.Background()
	bank := testkit.NewBank(b, db)
	began := time.Now()
	wealth, err := synthesizeAudience(ctx, bank, n)
	if err != nil {
		b.Fatal(err)
	}
	batch := 0 // the default, 2,000
	if s := os.Getenv("KEHU_BENCH_BATCH"); s != "" {
		batch, _ = strconv.Atoi(s)
	}
	r := &rig{b: bank, svc: bank.CampaignService(batch, nil)}
	r.segment, r.template = benchSegmentAndTemplate(b, bank)
	r.wealth = wealth
	b.Logf("%s: %d customers ready in %s", db.Dialect().Name, n, time.Since(began).Round(time.Millisecond))
	for i := range b.N {
		in := r.input(10)
		in.Name = fmt.Sprintf("基准活动 %d", i)
		mk := bank.As("hq_marketing")
		c, err := r.svc.Create(mk, in)
		if err == nil {
			_, err = r.svc.Submit(mk, c.ID)
		}
		if err == nil {
			_, err = r.svc.Approve(bank.As("branch_manager"), c.ID)
		}
		if err == nil {
			_, err = r.svc.Launch(mk, c.ID)
		}
		if err != nil {
			b.Fatal(err)
		}
		load0, cpu0, srv0 := loadAverage(), cpuTime(), serverCPU(ctx, db)
		b.StartTimer()
		t0 := time.Now()
		if _, err := r.svc.RunDue(ctx); err != nil {
			b.Fatal(err)
		}
		wall := time.Since(t0)
		b.StopTimer()
		runs, err := r.svc.Runs(mk, c.ID)
		if err != nil || len(runs) != 1 || runs[0].Status != campaign.RunDone {
			b.Fatalf("runs %+v %v", runs, err)
		}
		x := runs[0]
		b.ReportMetric(float64(x.Audience)/wall.Seconds(), "customers/s")
		server := "-"
		if srv0 >= 0 {
			if srv := serverCPU(ctx, db); srv >= 0 {
				server = (srv - srv0).Round(time.Millisecond).String()
			}
		}
		b.Logf("%s: launch to %d customers in %s (process CPU %s, server backends CPU %s; load %s → %s): control %d, queued %d, deferred %d, suppressed %d",
			db.Dialect().Name, x.Audience, wall.Round(time.Millisecond), (cpuTime() - cpu0).Round(time.Millisecond),
			server, load0, loadAverage(), x.Control, x.Queued, x.Deferred, x.Suppressed)
	}
}

// synthesizeAudience adds n individuals at outlet A with their policy facts
// and a wealth product rated R2; it returns the product id.
func synthesizeAudience(ctx context.Context, bank *testkit.Bank, n int) (int64, error) {
	var product int64
	at := bank.Clock.Now()
	err := bank.DB.InTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRow(`INSERT INTO products (code, name, name_en, type, risk_level)
			VALUES ('BENCH-WM-R2', '稳盈理财', 'Bench wealth', 'wealth', 2) RETURNING id`).Scan(&product); err != nil {
			return err
		}
		// n is a number from the environment, not user input.
		steps := []struct {
			q    string
			args []any
		}{
			{fmt.Sprintf(`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %d)
				INSERT INTO customers (type, name, id_type, id_number, id_number_bidx, org_id, status, risk_level, risk_assessed_at, created_at, updated_at)
				SELECT 'individual', 'B' || i, 'passport', 'B' || i, 'B' || i, $1, 'active', i %% 6, $2, $3, $3 FROM seq`, n),
				[]any{bank.OutletA.ID, at.AddDate(0, -3, 0), at}},
			{`INSERT INTO customer_consents (customer_id, channel, granted, changed_at, source)
				SELECT id, 'sms', id % 9 <> 0, $1, 'counter' FROM customers WHERE id % 5 <> 0`, []any{at}},
			{`INSERT INTO customer_preferences (customer_id, contact_from, contact_to, contact_days, do_not_call, updated_at)
				SELECT id, '', '', '', TRUE, $1 FROM customers WHERE id % 11 = 0`, []any{at}},
		}
		for _, s := range steps {
			if _, err := tx.Exec(s.q, s.args...); err != nil {
				return fmt.Errorf("%.60s: %w", s.q, err)
			}
		}
		return nil
	})
	if err == nil && bank.DB.Dialect().IsPostgres() {
		err = bank.DB.InTx(ctx, func(tx *sql.Tx) error { _, err := tx.Exec("ANALYZE"); return err })
	}
	return product, err
}

// cpuTime is the user and system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU is the user and system CPU time so far of the PostgreSQL
// backends serving this process's connections, or -1 on SQLite or when
// the server's processes are not visible here (another host). The pool
// keeps its connections for the whole launch, so the difference of two
// readings is the server's work for it; other sessions' backends on the
// same server are not counted. Backends are matched to this process by
// the client port of each of its TCP sockets.
func serverCPU(ctx context.Context, db *store.DB) time.Duration {
	if !db.Dialect().IsPostgres() {
		return -1
	}
	ports := localPorts()
	if len(ports) == 0 {
		return -1
	}
	var pids []int64
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.Query("SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1)", ports)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var pid int64
			if err := rows.Scan(&pid); err != nil {
				return err
			}
			pids = append(pids, pid)
		}
		return rows.Err()
	})
	if err != nil || len(pids) == 0 {
		return -1
	}
	var total time.Duration
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return -1
		}
		// Fields after the command's closing parenthesis: state is the
		// 3rd field of stat, utime the 14th and stime the 15th.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) < 13 {
			return -1
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(u+st) * time.Second / 100 // USER_HZ is 100 on Linux
	}
	return total
}

// localPorts are the local ports of this process's TCP sockets.
func localPorts() []int64 {
	inodes := map[string]bool{}
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		l, err := os.Readlink("/proc/self/fd/" + fd.Name())
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	var ports []int64
	for _, table := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			if i := strings.LastIndexByte(f[1], ':'); i >= 0 {
				if p, err := strconv.ParseInt(f[1][i+1:], 16, 64); err == nil {
					ports = append(ports, p)
				}
			}
		}
	}
	return ports
}

// loadAverage is the one-minute load average of the machine.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}
