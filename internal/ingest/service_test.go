package ingest_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"kehu/internal/audit"
	"kehu/internal/ingest"
	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// fixture is a test bank with products and a feed service whose subscriber
// collects what each batch stored.
type fixture struct {
	raw  *sql.DB
	bank *testkit.Bank
	svc  *ingest.Service
	mu   sync.Mutex
	got  []ingest.Committed
}

func newFixture(t *testing.T, db *store.DB, raw *sql.DB, cfg ingest.Config) *fixture {
	t.Helper()
	f := &fixture{raw: raw, bank: testkit.NewBank(t, db)}
	f.bank.AddPortfolio(t)
	f.svc = f.bank.IngestService(t, cfg, func(_ context.Context, c ingest.Committed) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.got = append(f.got, c)
	})
	return f
}

// event returns one event line as a map, for a1 by id, at the bank's now.
func (f *fixture) event(id string) map[string]any {
	return map[string]any{"event_id": id, "channel": "mobile_app", "kind": "app_login",
		"occurred_at": f.bank.Clock.Now().Add(-time.Minute).Format(time.RFC3339),
		"customer_id": f.bank.Customers["a1"].ID, "detail": map[string]any{"device": "iPhone"}}
}

// ndjson joins lines: maps are marshalled, strings taken as they are.
func ndjson(t *testing.T, lines ...any) []byte {
	t.Helper()
	var b strings.Builder
	for _, l := range lines {
		if s, ok := l.(string); ok {
			b.WriteString(s)
		} else {
			raw, err := json.Marshal(l)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(raw)
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

func (f *fixture) ingest(t *testing.T, user, key string, body []byte) (ingest.Result, error) {
	t.Helper()
	return f.svc.Ingest(f.bank.As(user), ingest.Batch{Kind: ingest.Events, Key: key, Body: body})
}

func countEvents(t *testing.T, db *store.DB) int64 {
	t.Helper()
	n, err := db.CountRows(context.Background(), "channel_events")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEventsAreStoredResolvedAndAnnounced(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		f := newFixture(t, db, raw, ingest.Config{})
		a1 := f.bank.Customers["a1"]
		byID := f.event("e-1")
		byDocument := f.event("e-2")
		delete(byDocument, "customer_id")
		byDocument["id_number"] = strings.ToLower(a1.IDNumber) // a lower-case x is the same number
		view := f.event("e-3")
		view["kind"], view["product_code"] = "product_view", "WM-R2-180"
		before := countEvents(t, db)
		res, err := f.ingest(t, "admin", "", ndjson(t, byID, byDocument, view))
		if err != nil {
			t.Fatal(err)
		}
		if res.Lines != 3 || res.Accepted != 3 || res.Rejected != 0 || res.Duplicates != 0 || res.Replayed {
			t.Fatalf("result %+v", res)
		}
		if n := countEvents(t, db) - before; n != 3 {
			t.Fatalf("%d events stored, want 3", n)
		}
		if len(f.got) != 1 || len(f.got[0].Events) != 3 {
			t.Fatalf("subscriber told %+v", f.got)
		}
		for _, e := range f.got[0].Events {
			if e.ID == 0 || e.CustomerID != a1.ID || !e.ReceivedAt.Equal(f.bank.Clock.Now()) {
				t.Errorf("announced event %+v", e)
			}
		}
		if p := f.got[0].Events[2].ProductID; p == nil || *p != 3 {
			t.Errorf("product of the view: %v", p)
		}
		var detail, eventID string
		err = raw.QueryRow(`SELECT detail, event_id FROM channel_events WHERE id = $1`,
			f.got[0].Events[0].ID).Scan(&detail, &eventID)
		if err != nil || eventID != "e-1" || !strings.Contains(detail, "iPhone") {
			t.Fatalf("stored event: %q %q %v", detail, eventID, err)
		}
		recs := batchRecords(t, f.bank)
		if len(recs) != 1 || recs[0].Count != 3 || recs[0].Object != "ingest:events" || recs[0].Username != "admin" {
			t.Fatalf("audit records %+v", recs)
		}
	})
}

func TestBadLinesAreReportedOneByOne(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		f := newFixture(t, db, raw, ingest.Config{})
		now := f.bank.Clock.Now()
		with := func(id string, change map[string]any) map[string]any {
			e := f.event(id)
			for k, v := range change {
				if v == nil {
					delete(e, k)
				} else {
					e[k] = v
				}
			}
			return e
		}
		body := ndjson(t,
			f.event("ok-1"), // 1
			"",              // 2: blank, skipped but counted
			"{not json",     // 3
			with("bad-4", map[string]any{"colour": "x"}), // 4 unknown member
			with("bad-5", map[string]any{"customer_id": "42"}),
			with("", nil), // 6 no event id
			with("bad-7", map[string]any{"channel": "fax", "kind": "dance"}),
			with("bad-8", map[string]any{"occurred_at": now.Add(time.Hour).Format(time.RFC3339)}),
			with("bad-9", map[string]any{"occurred_at": "2026-03-02 09:00"}),
			with("bad-10", map[string]any{"customer_id": nil}),
			with("bad-11", map[string]any{"source_system": "core_banking", "source_id": "C1"}),
			with("bad-12", map[string]any{"customer_id": 99999999}),
			with("bad-13", map[string]any{"product_code": "NOPE"}),
			with("bad-14", map[string]any{"detail": []int{1}}),
			with("bad-15", map[string]any{"customer_id": nil, "id_number": "330106198503070010"}),
			`[1, 2]`, // 16
			f.event("ok-17"),
		)
		res, err := f.ingest(t, "admin", "", body)
		if err != nil {
			t.Fatal(err)
		}
		want := []ingest.LineError{
			{Line: 3, Reason: "the line is not valid JSON"},
			{Line: 4, Field: "colour", Reason: "is not a known field"},
			{Line: 5, Field: "customer_id", Reason: "must be an integer"},
			{Line: 6, Field: "event_id", Reason: "is required: the source's id of the event, unique per channel"},
			{Line: 7, Field: "channel", Key: "bad-7"},
			{Line: 7, Field: "kind", Key: "bad-7"},
			{Line: 8, Field: "occurred_at", Key: "bad-8"},
			{Line: 9, Field: "occurred_at", Key: "bad-9"},
			{Line: 10, Field: "customer_id", Key: "bad-10"},
			{Line: 11, Field: "customer_id", Key: "bad-11"},
			{Line: 12, Field: "customer_id", Reason: "no such customer", Key: "bad-12"},
			{Line: 13, Field: "product_code", Reason: "no such product", Key: "bad-13"},
			{Line: 14, Field: "detail", Reason: "must be a JSON object", Key: "bad-14"},
			{Line: 15, Field: "id_number", Reason: "is not a valid resident ID number", Key: "bad-15"},
			{Line: 16, Reason: "the line must be a JSON object"},
		}
		if len(res.Errors) != len(want) {
			t.Fatalf("errors %+v", res.Errors)
		}
		for i, w := range want {
			g := res.Errors[i]
			if g.Line != w.Line || g.Field != w.Field || (w.Reason != "" && g.Reason != w.Reason) || g.Key != w.Key {
				t.Errorf("error %d: got %+v, want %+v", i, g, w)
			}
		}
		if res.Lines != 16 || res.Accepted != 2 || res.Rejected != 14 || res.Duplicates != 0 {
			t.Fatalf("counts %+v", res)
		}
	})
}

func TestNothingParsedIsAnError(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		f := newFixture(t, db, raw, ingest.Config{})
		for _, body := range []string{"", "\n\n", "not json\n{{{\n", "[1]\n\"x\"\n"} {
			_, err := f.ingest(t, "admin", "", []byte(body))
			if kehu.ErrorCode(err) != kehu.EINVALID {
				t.Errorf("%q: %v, want invalid", body, err)
			}
		}
		if recs := batchRecords(t, f.bank); len(recs) != 0 {
			t.Errorf("a refused batch was audited as applied: %+v", recs)
		}
	})
}

func TestDuplicateEventsAreNotStoredTwice(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		f := newFixture(t, db, raw, ingest.Config{})
		body := ndjson(t, f.event("d-1"), f.event("d-2"), f.event("d-1"))
		res, err := f.ingest(t, "admin", "", body)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 2 || res.Duplicates != 1 || !reflect.DeepEqual(res.DuplicateLines, []int{3}) {
			t.Fatalf("first batch %+v", res)
		}
		before := countEvents(t, db)
		// A retry without a key: every event id is known.
		again := ndjson(t, f.event("d-2"), f.event("d-3"), f.event("d-1"))
		res, err = f.ingest(t, "admin", "", again)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 1 || res.Duplicates != 2 || !reflect.DeepEqual(res.DuplicateLines, []int{1, 3}) {
			t.Fatalf("retry %+v", res)
		}
		if n := countEvents(t, db) - before; n != 1 {
			t.Fatalf("retry stored %d events, want 1", n)
		}
		if last := f.got[len(f.got)-1]; len(last.Events) != 1 || last.Events[0].EventID != "d-3" {
			t.Fatalf("subscriber told %+v", last)
		}
		// The same id on another channel is another event.
		other := f.event("d-1")
		other["channel"], other["kind"] = "online_banking", "login"
		if res, err = f.ingest(t, "admin", "", ndjson(t, other)); err != nil || res.Accepted != 1 {
			t.Fatalf("same id on another channel: %+v %v", res, err)
		}
	})
}

func TestIdempotencyKeyReplaysTheAnswer(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		f := newFixture(t, db, raw, ingest.Config{KeyWindow: time.Hour})
		body := ndjson(t, f.event("k-1"), "{bad", f.event("k-2"))
		first, err := f.ingest(t, "admin", "batch-0001", body)
		if err != nil || first.Accepted != 2 || first.Rejected != 1 || first.Replayed {
			t.Fatalf("first: %+v %v", first, err)
		}
		before, told := countEvents(t, db), len(f.got)
		second, err := f.ingest(t, "admin", "batch-0001", body)
		if err != nil || !second.Replayed {
			t.Fatalf("retry: %+v %v", second, err)
		}
		second.Replayed = false
		if !reflect.DeepEqual(normalise(first), normalise(second)) {
			t.Fatalf("replay differs:\n%+v\n%+v", first, second)
		}
		if countEvents(t, db) != before || len(f.got) != told {
			t.Fatal("a replay applied the batch again")
		}
		// Another body under the same key is refused.
		if _, err := f.ingest(t, "admin", "batch-0001", ndjson(t, f.event("k-3"))); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Fatalf("reused key: %v", err)
		}
		recs := batchRecords(t, f.bank)
		if len(recs) != 2 || recs[0].Outcome != "replayed" || recs[1].Outcome != "" {
			t.Fatalf("audit %+v", recs)
		}
		// Past the window the key is free again; the events are still known.
		f.bank.Clock.Advance(time.Hour + time.Second)
		third, err := f.ingest(t, "admin", "batch-0001", body)
		if err != nil || third.Replayed || third.Duplicates != 2 || third.Accepted != 0 {
			t.Fatalf("after the window: %+v %v", third, err)
		}
		f.bank.Clock.Advance(2 * time.Hour)
		if n, err := f.svc.Purge(context.Background()); err != nil || n != 1 {
			t.Fatalf("purge: %d %v", n, err)
		}
	})
}

func TestConcurrentRetriesApplyOnce(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		f := newFixture(t, db, raw, ingest.Config{})
		var lines []any
		for i := range 200 {
			lines = append(lines, f.event(fmt.Sprintf("c-%d", i)))
		}
		body := ndjson(t, lines...)
		before := countEvents(t, db)
		results := make([]ingest.Result, 4)
		errs := make([]error, 4)
		var wg sync.WaitGroup
		for i := range results {
			wg.Go(func() { results[i], errs[i] = f.ingest(t, "admin", "same-key", body) })
		}
		wg.Wait()
		applied := 0
		for i, r := range results {
			if errs[i] != nil {
				t.Fatalf("request %d: %v", i, errs[i])
			}
			if !r.Replayed {
				applied++
			}
			if r.Accepted != 200 {
				t.Errorf("request %d answered %+v", i, r)
			}
		}
		if applied != 1 || countEvents(t, db)-before != 200 {
			t.Fatalf("%d requests applied the batch, %d events stored", applied, countEvents(t, db)-before)
		}
	})
}

func TestLimitsAndPermission(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		f := newFixture(t, db, raw, ingest.Config{MaxLines: 3, MaxLineBytes: 400})
		var le *ingest.LimitError
		if _, err := f.ingest(t, "admin", "", ndjson(t, f.event("l-1"), f.event("l-2"), f.event("l-3"), f.event("l-4"))); !asLimit(err, &le) {
			t.Fatalf("four lines over a limit of three: %v", err)
		}
		long := f.event("l-5")
		long["detail"] = map[string]any{"note": strings.Repeat("x", 500)}
		res, err := f.ingest(t, "admin", "", ndjson(t, f.event("l-6"), long))
		if err != nil || res.Accepted != 1 || len(res.Errors) != 1 || res.Errors[0].Line != 2 {
			t.Fatalf("a long line: %+v %v", res, err)
		}
		if _, err := f.ingest(t, "rm_a", "", ndjson(t, f.event("l-7"))); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Fatalf("an RM fed events: %v", err)
		}
		if _, err := f.ingest(t, "admin", "bad\x01key", ndjson(t, f.event("l-8"))); kehu.ErrorCode(err) != kehu.EINVALID {
			t.Fatalf("control character in the key: %v", err)
		}
		if _, err := f.svc.Ingest(f.bank.As("admin"), ingest.Batch{Kind: "widgets", Body: ndjson(t, f.event("l-9"))}); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Fatalf("unknown kind: %v", err)
		}
	})
}

func asLimit(err error, le **ingest.LimitError) bool {
	var ok bool
	*le, ok = err.(*ingest.LimitError)
	return ok
}

// normalise drops what JSON round trips change (time zone representation).
func normalise(r ingest.Result) ingest.Result {
	r.ReceivedAt = r.ReceivedAt.UTC()
	return r
}

// batchRecords returns the ingest.batch audit records, newest first.
func batchRecords(t *testing.T, b *testkit.Bank) []audit.Record {
	t.Helper()
	recs, err := b.DB.Audit().SearchRecords(context.Background(), audit.Filter{Action: ingest.AuditBatch}, 100)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestNothingIsRecordedAboutAnErasedCustomer: after a PIPL erasure the
// channels may still send events; they are refused with the reason.
func TestNothingIsRecordedAboutAnErasedCustomer(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		f := newFixture(t, db, raw, ingest.Config{})
		a2 := f.bank.Customers["a2"].ID
		if _, err := raw.Exec(`UPDATE customers SET status = 'erased' WHERE id = $1`, a2); err != nil {
			t.Fatal(err)
		}
		e := f.event("er-1")
		e["customer_id"] = a2
		res, err := f.ingest(t, "admin", "", ndjson(t, e, f.event("er-2")))
		if err != nil || res.Accepted != 1 || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Reason, "erased") {
			t.Fatalf("%+v %v", res, err)
		}
	})
}
