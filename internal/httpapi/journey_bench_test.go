package httpapi_test

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"kehu/internal/ingest"
	"kehu/internal/journey"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
	"kehu/internal/policy"
	"kehu/internal/sales"
	"kehu/internal/segment"
	"kehu/internal/task"
)

// BenchmarkJourneyLatency measures, on SQLite (KEHU_BENCH_ENGINE=postgres:
// PostgreSQL), the delay from an ingested
// event to the task and message a journey makes of it, while channel events
// are fed as fast as two sources can post them (the target is
// 20,000 events/s, p99 under 1 s). The stream is the ingest benchmark's
// (logins, page views, product views) plus, in every batch of 1,000, five
// branch visits of customers who viewed a product earlier in the batch: a
// viewed-not-bought journey alerts the lobby managers of the outlet (a task)
// and sends an app push through the contact policy. The latency of a firing
// is from the visit's occurred_at (stamped when the batch is built, before
// it is posted) to the commit of its task. Sub-benchmarks: "without" (no
// subscriber, no journey: the ingest rate before this issue) and "with".
// Each reports events/s, CPU seconds and the load average; "with" adds the
// firings and their p50/p99/max latency. docs/BENCHMARKS.md, "Journeys":
//
//	go test ./internal/httpapi -run '^$' -bench JourneyLatency -benchtime 300x -timeout 30m -v
func BenchmarkJourneyLatency(b *testing.B) {
	var relay atomic.Pointer[journey.Engine]
	k := newBenchKit(b, func(ctx context.Context, c ingest.Committed) {
		if e := relay.Load(); e != nil {
			e.Notify(ctx, c)
		}
	})
	var seq atomic.Int64
	seq.Store(time.Now().UnixMicro() * 1000)
	rate := 0.0 // events/s to pace at; 0: as fast as two sources can post
	if s := os.Getenv("KEHU_BENCH_RATE"); s != "" {
		rate, _ = strconv.ParseFloat(s, 64)
	}
	var lat *latencies
	run := func(b *testing.B) {
		cpu0 := benchCPU()
		start, slot := time.Now(), atomic.Int64{}
		b.SetParallelism(1)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if rate > 0 { // batch n is due at start + n·1000/rate
					due := start.Add(time.Duration(float64(slot.Add(1)-1) * 1000 / rate * float64(time.Second)))
					time.Sleep(time.Until(due))
				}
				body, visitAt := visitBatch(&seq, k.customers, k.products, 1000)
				postBatch(b, k.h, k.token, body)
				if lat != nil {
					lat.committed(visitAt, time.Now())
				}
			}
		})
		b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric((benchCPU() - cpu0).Seconds(), "CPU-s")
		b.ReportMetric((benchCPU()-cpu0).Seconds()*1000/float64(b.N), "CPU-ms/batch")
		b.Logf("load average: %s", loadAvg())
	}
	b.Run("without", run)

	eng, l := journeyBenchEngine(b, k)
	lat = l
	relay.Store(eng)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { eng.Run(ctx); close(done) }()
	b.Run("with", func(b *testing.B) {
		lat.reset()
		run(b)
		time.Sleep(2 * time.Second) // the last batches' firings
		n, p50, p99, worst := lat.summary(false)
		b.ReportMetric(float64(n), "firings")
		b.ReportMetric(p50.Seconds()*1000, "p50-ms")
		b.ReportMetric(p99.Seconds()*1000, "p99-ms")
		b.ReportMetric(worst.Seconds()*1000, "max-ms")
		_, p50, p99, worst = lat.summary(true)
		b.ReportMetric(p50.Seconds()*1000, "commit-p50-ms")
		b.ReportMetric(p99.Seconds()*1000, "commit-p99-ms")
		b.ReportMetric(worst.Seconds()*1000, "commit-max-ms")
	})
	cancel()
	<-done
}

// latencies collects the firings' delays: from the visit's occurred_at
// (the event as the channel stamped it, before the batch was posted) and
// from the commit of its batch (the feed's answer).
type latencies struct {
	mu     sync.Mutex
	n      int                     // firings
	fired  map[time.Time]time.Time // visit time → when its last firing committed
	commit map[time.Time]time.Time // visit time → when its batch committed
}

func (l *latencies) reset() {
	l.mu.Lock()
	l.fired, l.commit, l.n = map[time.Time]time.Time{}, map[time.Time]time.Time{}, 0
	l.mu.Unlock()
}

func (l *latencies) add(fs []journey.Firing) {
	now := time.Now()
	l.mu.Lock()
	for _, f := range fs { // a batch's visits share a time: keep its last firing
		l.fired[f.OccurredAt] = now
		l.n++
	}
	l.mu.Unlock()
}

func (l *latencies) committed(visitAt, at time.Time) {
	l.mu.Lock()
	l.commit[visitAt] = at
	l.mu.Unlock()
}

// summary returns the count, p50, p99 and max delay, from the commit of the
// batch when fromCommit.
func (l *latencies) summary(fromCommit bool) (int, time.Duration, time.Duration, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var d []time.Duration
	for visit, fired := range l.fired {
		from := visit
		if fromCommit {
			c, ok := l.commit[visit]
			if !ok {
				continue
			}
			from = c
		}
		d = append(d, max(0, fired.Sub(from)))
	}
	if len(d) == 0 {
		return 0, 0, 0, 0
	}
	slices.Sort(d)
	return l.n, d[len(d)/2], d[(len(d)*99)/100], d[len(d)-1]
}

// journeyBenchEngine wires the engine over the bench bank like `kehu serve`
// and saves the viewed-not-bought journey (a lobby alert and an app push).
func journeyBenchEngine(b *testing.B, k benchKit) (*journey.Engine, *latencies) {
	ctx := context.Background()
	db, clock := k.db, k.clock
	u, err := db.Users().UserByUsername(ctx, "admin")
	if err != nil {
		b.Fatal(err)
	}
	admin := kehu.WithActor(ctx, kehu.Actor{UserID: u.ID, Username: u.Username, Role: u.Role, OrgID: u.OrgID, SessionID: 1})
	tmpl := msgtemplate.NewService(msgtemplate.Deps{Store: db.Templates(), Clock: clock, Audit: k.trail, Tx: db})
	tm, err := tmpl.Create(admin, msgtemplate.Input{Name: "到店关怀" + strconv.FormatInt(time.Now().UnixNano(), 36),
		Channel: msgtemplate.Push, Purpose: msgtemplate.Marketing,
		Content: msgtemplate.Content{Subject: "欢迎光临", Body: "{{salutation}}，您关注的{{product_name}}今日可在网点办理。"}})
	if err != nil {
		b.Fatal(err)
	}
	pol := policy.NewService(policy.Deps{Store: db.Policy(), Customers: k.people, Clock: clock, Audit: k.trail, Tx: db})
	segs := segment.NewService(segment.Deps{Store: db.Segments(), Customers: k.people, Clock: clock, Audit: k.trail, Tx: db})
	tasks := task.NewService(task.Deps{Store: db.Tasks(), Customers: k.people, Clock: clock, Audit: k.trail, Tx: db})
	leads := sales.NewService(sales.Deps{Store: db.Leads(), Customers: k.people, Clock: clock, Audit: k.trail, Tx: db})
	o := journey.Options{}
	if s := os.Getenv("KEHU_BENCH_GAP"); s != "" { // the engine's Gap (default 100 ms; -1ns: none)
		var err error
		if o.Gap, err = time.ParseDuration(s); err != nil {
			b.Fatal(err)
		}
	}
	if db.Dialect().IsPostgres() {
		o.Overlap = 10_000 // as kehu serve sets it
	}
	eng := journey.NewEngine(journey.Deps{Store: db.Journeys(), Tx: db, Clock: clock, Policy: pol,
		Queue: outbox.NewQueue(db.Outbox(), clock), Templates: db.Templates(), Tags: db.Tags(),
		Segments: journey.SegmentsOf(segs, db.Segments()), Work: journey.WorkOf(tasks, leads), Options: o})
	if _, err := eng.Pass(ctx); err != nil { // the cursors start at the end of the history
		b.Fatal(err)
	}
	svc := journey.NewService(journey.ServiceDeps{Store: db.Journeys(), Refs: db.Journeys(), Customers: k.people,
		Clock: clock, Audit: k.trail, Tx: db})
	def, _ := json.Marshal(map[string]any{"trigger": "viewed_not_bought", "conditions": map[string]any{"view_days": 7},
		"actions": []any{
			map[string]any{"kind": "task", "task_kind": "lobby_alert", "title": "客户到店：推荐浏览过的产品"},
			map[string]any{"kind": "message", "channel": "push", "template_id": tm.ID}}})
	if _, err := svc.Create(admin, journey.Input{Name: "看了没买-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		Definition: def}); err != nil {
		b.Fatal(err)
	}
	lat := &latencies{}
	lat.reset()
	eng.Fired = lat.add
	return eng, lat
}

// visitBatch is n events: the ingest benchmark's mix, and every 200th a
// branch visit of the customer whose product view came just before it. The
// visits of a batch share one occurred_at (microseconds, as stored), which
// it returns.
func visitBatch(seq *atomic.Int64, customers []int64, products []string, n int) ([]byte, time.Time) {
	buf := make([]byte, 0, n*230)
	now := time.Now().UTC().Truncate(time.Microsecond)
	viewed := now.Add(-time.Second).Format(time.RFC3339Nano)
	visit := now.Format(time.RFC3339Nano)
	last := int64(0)
	for j := range n {
		i := seq.Add(1)
		c := customers[uint64(i)*7919%uint64(len(customers))]
		buf = append(buf, `{"event_id":"jb-`...)
		buf = strconv.AppendInt(buf, i, 10)
		at := viewed
		switch {
		case j%200 == 199 && last != 0:
			c, at = last, visit
			buf = append(buf, `","channel":"branch","kind":"branch_visit","detail":{"service":"理财咨询"}`...)
		case i%4 == 2:
			buf = append(buf, `","channel":"mobile_app","kind":"product_view","product_code":"`...)
			buf = append(buf, products[uint64(i)%uint64(len(products))]...)
			buf = append(buf, `","detail":{"source":"home_banner"}`...)
			last = c
		case i%4 == 0:
			buf = append(buf, `","channel":"mobile_app","kind":"app_login","detail":{"device":"iPhone 15"}`...)
		default:
			buf = append(buf, `","channel":"online_banking","kind":"page_view","detail":{"page":"/wealth/list"}`...)
		}
		buf = append(buf, `,"occurred_at":"`...)
		buf = append(buf, at...)
		buf = append(buf, `","customer_id":`...)
		buf = strconv.AppendInt(buf, c, 10)
		buf = append(buf, "}\n"...)
	}
	return buf, now
}

// benchCPU is the process's user and system CPU time.
func benchCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAvg is the machine's 1, 5 and 15 minute load average.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}
