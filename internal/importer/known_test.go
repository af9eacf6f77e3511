package importer_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"kehu/internal/customer"
	"kehu/internal/identity"
	"kehu/internal/importer"
	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// lookupCount counts identity resolution's lookups of customers by
// identity document or mobile (IN-lists through the identity indexes).
type lookupCount struct {
	identity.Store
	byKey int
}

func (l *lookupCount) Customers(ctx context.Context, q identity.Lookup) (map[int64]*identity.Existing, error) {
	if len(q.Identities)+len(q.Mobiles) > 0 {
		l.byKey++
	}
	return l.Store.Customers(ctx, q)
}

// countingEngine is the harness's engine with its identity store counted.
func countingEngine(t *testing.T, h *harness, batch int) (*importer.Engine, *lookupCount, importer.EngineDeps) {
	count := &lookupCount{Store: h.db.Identity()}
	deps := h.bank.ImportEngineDeps(t, batch)
	deps.Identity = identity.NewService(identity.Deps{Store: count, Tx: h.db, Audit: h.bank.Audit,
		Customers: h.bank.CustomerService()})
	return importer.NewEngine(deps), count, deps
}

// TestKnownKeysResolveWithoutLookups: a customers job into a bank small
// enough to hold its keys resolves repeats across batches — the same
// document under another source id, the same name, mobile and birth date —
// and records matching customers stored before, all without looking a key
// up in the database (SQLite); PostgreSQL looks every key up and resolves
// the same.
func TestKnownKeysResolveWithoutLookups(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		h := newHarness(t, db, raw)
		before := [][]string{personHeader, {"L-1", "周立", rid("33010619800101001"), "13700000101", "", "HZ-A", ""}}
		if j, _ := h.run(importer.KindCustomers, "crm_legacy", "crm.csv", csvBytes(before)); j.Counts.Created != 1 {
			t.Fatalf("crm import %+v", j.Counts)
		}
		rows := [][]string{{"客户号", "姓名", "证件类型", "证件号码", "手机号码", "出生日期", "机构号"},
			{"C-1", "王芳", "居民身份证", rid("33010619900202001"), "13700000201", "", "HZ-A"},
			{"C-2", "李静", "居民身份证", rid("33010619910303001"), "13700000202", "", "HZ-A"},
			{"C-3", "赵敏", "居民身份证", rid("33010619920404001"), "13700000203", "", "HZ-A"},
			// Batch 2: the same document as C-1, the same name, mobile and
			// birth date as C-3, the crm's customer, and a new person.
			{"C-4", "王芳", "居民身份证", rid("33010619900202001"), "13700000299", "", "HZ-A"},
			{"C-5", "赵敏", "护照", "E12345678", "13700000203", "1992-04-04", "HZ-A"},
			{"C-6", "周立", "居民身份证", rid("33010619800101001"), "13700000101", "", "HZ-A"},
			{"C-7", "孙丽", "居民身份证", rid("33010619930505001"), "13700000207", "", "HZ-A"},
		}
		engine, count, _ := countingEngine(t, h, 3)
		path := h.file("core.csv", csvBytes(rows))
		j, err := engine.Run(h.operator(), h.job(importer.KindCustomers, "core_banking", path), path, nil)
		if err != nil || j.Counts.Created != 4 || j.Counts.Merged != 3 || j.Counts.Rejected != 0 {
			t.Fatalf("import: %v %+v %+v", err, j.Counts, h.rejects(j.ID))
		}
		for _, pair := range [][2]string{{"C-1", "C-4"}, {"C-3", "C-5"}} {
			if a, b := h.customerBySource("core_banking", pair[0]), h.customerBySource("core_banking", pair[1]); a.ID != b.ID {
				t.Errorf("%s and %s are one person, stored as %d and %d", pair[0], pair[1], a.ID, b.ID)
			}
		}
		if a, b := h.customerBySource("crm_legacy", "L-1"), h.customerBySource("core_banking", "C-6"); a.ID != b.ID {
			t.Errorf("C-6 is the crm's L-1: %d and %d", b.ID, a.ID)
		}
		want := 0 // SQLite knows the keys
		if db.Dialect().IsPostgres() {
			want = 3 // one lookup per batch
		}
		if count.byKey != want {
			t.Errorf("%d lookups by identity document or mobile, want %d", count.byKey, want)
		}
	})
}

// othersWrite creates, inside the first batch's transaction and after the
// import noted where the tables stood, a customer as a teller would: to
// the next batch it is a write by someone else.
type othersWrite struct {
	importer.Store
	create func(ctx context.Context)
	done   bool
}

func (o *othersWrite) SaveProgress(ctx context.Context, id int64, p importer.Progress) error {
	if !o.done {
		o.done = true
		o.create(ctx)
	}
	return o.Store.SaveProgress(ctx, id, p)
}

// TestKnownKeysGiveWayToOtherWriters: when someone else creates a customer
// during the job, the next batch notices and looks keys up, so a later row
// of the same person joins that customer instead of becoming a second one.
func TestKnownKeysGiveWayToOtherWriters(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		h := newHarness(t, db, raw)
		id := rid("33010619850606001")
		_, count, deps := countingEngine(t, h, 2)
		deps.Store = &othersWrite{Store: deps.Store, create: func(ctx context.Context) {
			a, _ := kehu.ActorFrom(h.bank.As("teller_a"))
			// Another document (a passport), the same name, mobile and
			// birth date: no unique index would catch a second customer.
			_, err := h.bank.CustomerService().Create(kehu.WithActor(ctx, a), customer.New{Type: customer.Individual,
				Name: "钱进", IDType: "passport", IDNumber: "E7654321", Mobile: "13700000301",
				BirthDate: kehu.DateOf(time.Date(1985, 6, 6, 0, 0, 0, 0, time.UTC)), OrgID: h.bank.OutletA.ID})
			if err != nil {
				t.Errorf("teller's customer: %v", err)
			}
		}}
		// More rows than the bank's five customers: the job knows its keys.
		rows := [][]string{personHeader}
		for i, name := range []string{"吴昊", "郑爽", "冯伟", "陈静", "褚强", "卫敏"} {
			rows = append(rows, []string{fmt.Sprintf("C-%d", i+1), name, rid(fmt.Sprintf("3301061986070700%d", i+1)),
				fmt.Sprintf("1370000031%d", i), "", "HZ-A", ""})
		}
		rows = append(rows, []string{"C-9", "钱进", id, "13700000301", "", "HZ-A", ""})
		path := h.file("core.csv", csvBytes(rows))
		j, err := importer.NewEngine(deps).Run(h.operator(), h.job(importer.KindCustomers, "core_banking", path), path, nil)
		if err != nil || j.Counts.Created != 6 || j.Counts.Merged != 1 {
			t.Fatalf("import: %v %+v %+v", err, j.Counts, h.rejects(j.ID))
		}
		var n int
		if err := raw.QueryRow("SELECT count(*) FROM customers WHERE name = '钱进'").Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d customers 钱进 (%v), want 1", n, err)
		}
		if count.byKey == 0 {
			t.Error("the batch after the teller's write did not look keys up")
		}
	})
}

// TestKnownKeysDeferIdentityIndexes: a large load that knows its keys
// (SQLite) runs without the identity indexes too and builds them at the
// end; a job that must look up builds them first (BuildIdentityIndexes).
func TestKnownKeysDeferIdentityIndexes(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		h := newHarness(t, db, raw)
		before := customerIndexes(t, db, raw)
		deps := h.bank.ImportEngineDeps(t, 40)
		watch := &indexWatch{Store: deps.Store, look: func() []string { return customerIndexes(t, db, raw) }}
		deps.Store, deps.DeferIndexesFrom = watch, 100
		path := writeCustomerFile(t, 150)
		j, err := importer.NewEngine(deps).Run(h.operator(), h.job(importer.KindCustomers, "core_banking", path), path, nil)
		if err != nil || j.Counts.Created != 150 {
			t.Fatalf("import: %v %+v", err, j.Counts)
		}
		present := func(list []string, name string) bool {
			return slices.ContainsFunc(list, func(s string) bool { return strings.HasPrefix(s, name+" ") })
		}
		for _, name := range store.IdentityIndexes {
			if deferred := !present(watch.during, name); deferred != !db.Dialect().IsPostgres() {
				t.Errorf("%s deferred during the load: %v (only SQLite knows its keys)", name, deferred)
			}
		}
		if after := customerIndexes(t, db, raw); !slices.Equal(after, before) {
			t.Fatalf("indexes after the load differ:\nbefore %q\nafter  %q", before, after)
		}

		// A crashed load's deferred identity indexes are built by the next
		// job that looks up, in its own transaction.
		ctx := context.Background()
		if _, err := db.Imports().DeferCustomerIndexes(ctx, j.ID, 1_000_000, 1, true); err != nil {
			t.Fatal(err)
		}
		if err := db.WithTx(ctx, db.Imports().BuildIdentityIndexes); err != nil {
			t.Fatal(err)
		}
		now := customerIndexes(t, db, raw)
		for _, name := range store.IdentityIndexes {
			if !present(now, name) {
				t.Errorf("%s not built again", name)
			}
		}
		if _, err := db.Imports().RestoreDeferredIndexes(ctx, 0); err != nil {
			t.Fatal(err)
		}
		if after := customerIndexes(t, db, raw); !slices.Equal(after, before) {
			t.Fatalf("indexes after the restore differ:\nbefore %q\nafter  %q", before, after)
		}
	})
}

// TestKnownKeysBlockNoWriter: reading the bank's keys at the start of a
// large load does not hold SQLite's write lock — a teller creates a customer
// while the keys are being read, without waiting for the read to end — and
// the mark the keys come with predates that write, so the job's first batch
// finds the bank changed and looks its keys up. SQLite only: PostgreSQL
// never reads known keys (every key is looked up there).
func TestKnownKeysBlockNoWriter(t *testing.T) {
	db, raw := testkit.NewRawDB(t, "sqlite")
	h := newHarness(t, db, raw)
	ctx := context.Background()
	a, _ := kehu.ActorFrom(h.bank.As("teller_a"))
	wrote := false
	mark, err := db.Imports().KnownKeys(ctx, "core_banking", 1_000, func(importer.KnownKey) {
		if wrote {
			return
		}
		wrote = true
		// Within the read: with the write lock held by the reader this
		// would wait until the timeout.
		wctx, cancel := context.WithTimeout(kehu.WithActor(ctx, a), 5*time.Second)
		defer cancel()
		_, err := h.bank.CustomerService().Create(wctx, customer.New{Type: customer.Individual, Name: "孙悦",
			IDType: "passport", IDNumber: "E1234567", Mobile: "13700000401", OrgID: h.bank.OutletA.ID})
		if err != nil {
			t.Errorf("a teller's write during the read: %v", err)
		}
	})
	if err != nil || !mark.Valid || !wrote {
		t.Fatalf("known keys: %v, mark %+v, keys read %v", err, mark, wrote)
	}
	var untouched bool
	err = db.WithTx(ctx, func(ctx context.Context) error {
		var err error
		untouched, err = db.Imports().Untouched(ctx, mark)
		return err
	})
	if err != nil || untouched {
		t.Fatalf("Untouched after the teller's write = %v, %v; want false", untouched, err)
	}
}
