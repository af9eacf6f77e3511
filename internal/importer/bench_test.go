package importer_test

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"syscall"
	"testing"
	"time"

	"kehu/internal/cnid"
	"kehu/internal/importer"
	"kehu/internal/testkit"
)

// benchCustomers is how many rows BenchmarkCustomerImport imports:
// KEHU_BENCH_CUSTOMERS, default 100,000 (docs/BENCHMARKS.md records the
// 1,000,000-row run).
func benchCustomers(b *testing.B) int {
	if v := os.Getenv("KEHU_BENCH_CUSTOMERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("KEHU_BENCH_CUSTOMERS=%q", v)
		}
		return n
	}
	return 100_000
}

// writeCustomerFile writes n distinct, valid customers as a core banking
// extract would: Chinese headers, resident IDs with their check digits,
// mobiles, e-mail for a third, addresses, outlet and risk level.
func writeCustomerFile(b testing.TB, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "customers.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "客户号,姓名,证件类型,证件号码,手机号码,电子邮箱,地址,机构号,风险等级,风险测评日期")
	surnames := []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
	given := []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅琳晨阳欣怡浩宇子涵思雨嘉")
	birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		// 1,000 sequence numbers per birth date keep every number distinct.
		id := cnid.BuildResident("330106", birth.AddDate(0, 0, i/1000), i%1000)
		name := string(surnames[i%len(surnames)]) + string(given[(i/7)%len(given)]) + string(given[(i/13)%len(given)])
		email := ""
		if i%3 == 0 {
			email = "c" + strconv.Itoa(i) + "@example.cn"
		}
		fmt.Fprintf(w, "CB%08d,%s,居民身份证,%s,1%d%09d,%s,浙江省杭州市西湖区文三路%d号,HZ-A,C%d,2025-0%d-15\n",
			i, name, id, 3+i%7, i, email, i%999+1, 1+i%5, 1+i%9)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkCustomerImport imports a generated file of customers into an
// empty SQLite database (the test bank's organisations, nothing else), as
// `kehu import` does: validation, encryption of the personal fields, blind
// indexes, identity resolution, batched commits with synchronous=FULL. It
// then imports the file again and reports that run too (nothing changes).
//
//	KEHU_BENCH_CUSTOMERS=1000000 go test ./internal/importer -run '^$' -bench CustomerImport -benchtime 1x -timeout 1h
func BenchmarkCustomerImport(b *testing.B) {
	n := benchCustomers(b)
	path := writeCustomerFile(b, n)
	defer debug.SetGCPercent(debug.SetGCPercent(importer.ImportGCPercent)) // as kehu import runs
	for b.Loop() {
		b.StopTimer()
		db, raw := testkit.NewRawDB(b, "sqlite")
		h := newHarness(b, db, raw)
		if testing.Verbose() { // -test.v: the engine's log lines say when each phase ended
			d := h.bank.ImportEngineDeps(b, 0)
			d.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
			h.engine = importer.NewEngine(d)
		}
		b.StartTimer()
		start, cpu := time.Now(), cpuTime()
		j, err := h.engine.Run(h.operator(), h.job(importer.KindCustomers, "core_banking", path), path, nil)
		elapsed := time.Since(start)
		// CPU seconds (user + system, all goroutines): on a shared machine
		// they say more than the wall clock, which waits for other processes.
		b.ReportMetric((cpuTime() - cpu).Seconds(), "cpu-s/import")
		if err != nil || j.Counts.Created != int64(n) {
			b.Fatalf("import: %v %+v %+v", err, j.Counts, h.rejects(j.ID)[:min(5, len(h.rejects(j.ID)))])
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "rows/s")
		b.ReportMetric(elapsed.Seconds(), "s/import")
		start = time.Now()
		again, err := h.engine.Run(h.operator(), h.job(importer.KindCustomers, "core_banking", path), path, nil)
		if err != nil || again.Counts.Changes() != 0 {
			b.Fatalf("re-import: %v %+v", err, again.Counts)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/re-import")
	}
}

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
