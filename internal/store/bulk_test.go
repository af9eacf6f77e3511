package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/org"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

var bulkNow = time.Date(2026, 3, 1, 8, 30, 15, 0, time.UTC)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// bulkTables registers the tables of a small load, parents first.
func bulkTables(t *testing.T, l *store.BulkLoader) (orgs, products, customers, accounts, events *store.BulkTable) {
	t.Helper()
	var err error
	table := func(name string, cols ...string) *store.BulkTable {
		var tb *store.BulkTable
		tb, err = l.Table(name, cols...)
		must(t, err)
		return tb
	}
	orgs = table("orgs", "id", "parent_id", "code", "name", "level", "path", "created_at")
	products = table("products", "id", "code", "name", "type", "risk_level")
	customers = table("customers", "id", "type", "name", "id_type", "id_number", "id_number_bidx", "gender", "birth_date",
		"org_id", "owner_id", "aum", "risk_assessed_at", "status", "created_at", "updated_at")
	accounts = table("accounts", "id", "customer_id", "product_id", "account_no", "account_no_bidx", "balance", "org_id",
		"opened_on", "matures_on")
	events = table("channel_events", "id", "customer_id", "occurred_at", "channel", "kind", "product_id", "detail")
	return
}

// eachEngineRaw is testkit.EachEngine plus a plain database/sql handle on
// the same database, to read back what the loader wrote without the store.
func eachEngineRaw(t *testing.T, fn func(t *testing.T, db *store.DB, raw *sql.DB)) {
	for _, engine := range testkit.Engines {
		t.Run(engine, func(t *testing.T) {
			url := testkit.DBURL(t, engine)
			db, err := store.OpenWith(context.Background(), url, store.Options{Keys: testkit.Keys(t)})
			must(t, err)
			t.Cleanup(func() { db.Close() })
			_, err = db.Migrate(context.Background())
			must(t, err)
			must(t, db.RegisterKeys(context.Background(), bulkNow))
			driver, dsn := "pgx", url
			if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
				driver, dsn = "sqlite", "file:"+path+"?_pragma=busy_timeout(10000)"
			}
			raw, err := sql.Open(driver, dsn)
			must(t, err)
			t.Cleanup(func() { raw.Close() })
			fn(t, db, raw)
		})
	}
}

func TestBulkLoader(t *testing.T) {
	eachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		ctx := context.Background()
		// A small CommitRows forces many commits; 5000 customers exceed one
		// full SQLite statement (32766/14 rows), so both statement paths run.
		l, err := db.NewBulkLoader(ctx, store.BulkOptions{CommitRows: 1777})
		must(t, err)
		orgs, products, customers, accounts, events := bulkTables(t, l)
		must(t, orgs.Add(int64(1), nil, "HO", "总行", org.HeadOffice, "/1/", bulkNow))
		must(t, orgs.Add(int64(2), int64(1), "HZ", "杭州西湖支行", org.SubBranch, "/1/2/", bulkNow))
		must(t, products.Add(int64(1), "CUR", "活期储蓄", "current_deposit", 0))
		const n = 5000
		birth := kehu.Date{Year: 1985, Month: 3, Day: 7}
		for i := int64(1); i <= n; i++ {
			var assessed, product, detail any
			if i%2 == 0 {
				assessed, product, detail = bulkNow.Add(-time.Duration(i)*time.Hour), int64(1), `{"page":"/wealth"}`
			}
			sc, err := db.SealCustomer(fmt.Sprintf("ID%06d", i), "", "", "")
			must(t, err)
			no, noIndex, err := db.SealAccountNo(fmt.Sprintf("6217%015d", i))
			must(t, err)
			must(t, customers.Add(i, customer.Individual, fmt.Sprintf("客户%d", i), customer.ResidentID,
				sc.IDNumber, sc.IDNumberIndex, "F", birth, int64(2), nil, i*100, assessed, customer.StatusActive, bulkNow, bulkNow))
			must(t, accounts.Add(i, i, int64(1), no, noIndex, i*100, int64(2), birth, kehu.Date{}))
			must(t, events.Add(i, i, bulkNow, "app", "page_view", product, detail))
		}
		must(t, l.Close())
		for tb, want := range map[*store.BulkTable]int64{customers: n, accounts: n, events: n, orgs: 2} {
			if tb.Loaded() != want {
				t.Errorf("loaded %d rows, want %d", tb.Loaded(), want)
			}
		}
		if c, err := db.CountRows(ctx, "accounts"); err != nil || c != n {
			t.Fatalf("CountRows(accounts) = %d, %v", c, err)
		}
		got, err := db.Customers().GetCustomer(ctx, 4242, customer.ScopeFilter{})
		must(t, err)
		if got.Name != "客户4242" || got.BirthDate != birth || got.AUM != 424200 || got.OwnerID != nil ||
			!got.CreatedAt.Equal(bulkNow) || got.RiskAssessedAt == nil || !got.RiskAssessedAt.Equal(bulkNow.Add(-4242*time.Hour)) {
			t.Fatalf("customer read back differs: %+v", got)
		}
		checkReadBack(t, raw)

		// After ResetSequences normal inserts continue after the loaded ids.
		must(t, db.ResetSequences(ctx, "orgs", "customers", "accounts", "channel_events", "users"))
		c, err := db.Customers().CreateCustomer(ctx, customer.Customer{Type: customer.Individual, Name: "新客户",
			IDType: customer.ResidentID, IDNumber: "NEW", OrgID: 2, Level: customer.LevelStandard,
			Status: customer.StatusActive, CreatedAt: bulkNow, UpdatedAt: bulkNow})
		must(t, err)
		if c.ID != n+1 {
			t.Fatalf("new customer id = %d, want %d", c.ID, n+1)
		}
		parent := int64(1)
		o, err := db.Orgs().CreateOrg(ctx, org.Org{ParentID: &parent, Code: "NEW", Name: "新网点", Level: org.SubBranch, CreatedAt: bulkNow})
		must(t, err)
		if o.ID != 3 || o.Path != "/1/3/" {
			t.Fatalf("new org = %+v", o)
		}
	})
}

// checkReadBack reads the loaded dates, NULLs and JSON back through plain SQL.
func checkReadBack(t *testing.T, db *sql.DB) {
	t.Helper()
	var opened kehu.Date
	var matures kehu.Date
	var balance int64
	must(t, db.QueryRow("SELECT opened_on, matures_on, balance FROM accounts WHERE id = 77").
		Scan(&opened, &matures, &balance))
	if opened != (kehu.Date{Year: 1985, Month: 3, Day: 7}) || !matures.IsZero() || balance != 7700 {
		t.Fatalf("account 77: opened %v matures %v balance %d", opened, matures, balance)
	}
	var detail string
	must(t, db.QueryRow("SELECT detail FROM channel_events WHERE id = 78").Scan(&detail))
	if !strings.Contains(detail, `"/wealth"`) {
		t.Fatalf("event detail = %q", detail)
	}
	var nulls int
	must(t, db.QueryRow("SELECT count(*) FROM channel_events WHERE detail IS NULL AND product_id IS NULL").Scan(&nulls))
	if nulls != 2500 {
		t.Fatalf("events with NULL detail and product = %d, want 2500", nulls)
	}
}

func TestBulkLoaderRefusesBadNames(t *testing.T) {
	db := testkit.NewDB(t, "sqlite")
	l, err := db.NewBulkLoader(context.Background(), store.BulkOptions{})
	must(t, err)
	defer l.Abort()
	for _, bad := range [][]string{{"orgs; DROP TABLE orgs", "id"}, {"orgs", "id", "name)"}, {"Orgs", "id"}, {"orgs"}, {"", "id"}, {"1orgs", "id"}} {
		if _, err := l.Table(bad[0], bad[1:]...); err == nil {
			t.Errorf("Table(%q, %q) accepted", bad[0], bad[1:])
		}
	}
	if _, err := db.CountRows(context.Background(), "orgs o, users"); err == nil {
		t.Error("CountRows accepted a non-identifier")
	}
	if err := db.ResetSequences(context.Background(), "x'y"); err == nil && db.Dialect().IsPostgres() {
		t.Error("ResetSequences accepted a non-identifier")
	}
}

// TestBulkLoaderFailure checks that a failing batch (a foreign key to a
// missing row) is rolled back whole, earlier commits stay, and the loader
// refuses further work.
func TestBulkLoaderFailure(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l, err := db.NewBulkLoader(ctx, store.BulkOptions{CommitRows: 3})
		must(t, err)
		orgs, err := l.Table("orgs", "id", "parent_id", "code", "name", "level", "path", "created_at")
		must(t, err)
		for i := int64(1); i <= 3; i++ { // one full batch: committed
			must(t, orgs.Add(i, nil, fmt.Sprint("O", i), "网点", org.SubBranch, fmt.Sprintf("/%d/", i), bulkNow))
		}
		must(t, orgs.Add(int64(4), nil, "O4", "网点", org.SubBranch, "/4/", bulkNow))
		must(t, orgs.Add(int64(5), int64(99), "O5", "网点", org.SubBranch, "/99/5/", bulkNow))
		err = orgs.Add(int64(6), nil, "O6", "网点", org.SubBranch, "/6/", bulkNow) // third row: commit fails
		if err == nil {
			t.Fatal("batch with a dangling foreign key committed")
		}
		if err := orgs.Add(int64(7), nil, "O7", "网点", org.SubBranch, "/7/", bulkNow); err == nil {
			t.Fatal("loader accepted rows after a failure")
		}
		if err := l.Close(); err == nil {
			t.Fatal("Close after a failure reported success")
		}
		if n, err := db.CountRows(ctx, "orgs"); err != nil || n != 3 {
			t.Fatalf("orgs after failure = %d, %v; want the 3 committed", n, err)
		}
		// The write connection is free again.
		must(t, db.ResetSequences(ctx, "orgs"))
		parent := int64(1)
		if _, err := db.Orgs().CreateOrg(ctx, org.Org{ParentID: &parent, Code: "AFTER", Name: "后来", Level: org.SubBranch, CreatedAt: bulkNow}); err != nil {
			t.Fatalf("write after failed load: %v", err)
		}
	})
}

func TestBulkInsert(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		i := 0
		n, err := db.BulkInsert(ctx, "tags", []string{"id", "name", "kind"}, func() ([]any, bool, error) {
			i++
			if i > 250 {
				return nil, false, nil
			}
			return []any{int64(i), fmt.Sprint("标签", i), "manual"}, true, nil
		})
		if err != nil || n != 250 {
			t.Fatalf("BulkInsert = %d, %v", n, err)
		}
		_, err = db.BulkInsert(ctx, "tags", []string{"id", "name", "kind"}, func() ([]any, bool, error) {
			return nil, false, fmt.Errorf("source broke")
		})
		if err == nil || !strings.Contains(err.Error(), "source broke") {
			t.Fatalf("BulkInsert with a failing source: %v", err)
		}
	})
}

// BenchmarkBulkTransactions measures the loader on the widest high-volume
// table: b.N transaction rows spread over 10,000 accounts, with both indexes.
func BenchmarkBulkTransactions(b *testing.B) {
	for _, engine := range testkit.Engines {
		b.Run(engine, func(b *testing.B) {
			db := testkit.NewDB(b, engine)
			ctx := context.Background()
			l, err := db.NewBulkLoader(ctx, store.BulkOptions{})
			if err != nil {
				b.Fatal(err)
			}
			orgs, _ := l.Table("orgs", "id", "code", "name", "level", "path", "created_at")
			products, _ := l.Table("products", "id", "code", "name", "type")
			customers, _ := l.Table("customers", "id", "type", "name", "id_type", "id_number", "id_number_bidx", "org_id",
				"created_at", "updated_at")
			accounts, _ := l.Table("accounts", "id", "customer_id", "product_id", "account_no", "account_no_bidx", "org_id", "opened_on")
			txns, _ := l.Table("transactions", "id", "account_id", "customer_id", "occurred_at", "amount", "balance_after",
				"kind", "channel", "counterparty", "description")
			_ = orgs.Add(int64(1), "HO", "总行", org.HeadOffice, "/1/", bulkNow)
			_ = products.Add(int64(1), "CUR", "活期", "current_deposit")
			const accts = 10_000
			for i := int64(1); i <= accts; i++ {
				_ = customers.Add(i, customer.Individual, "客户", customer.ResidentID, fmt.Sprint(i), fmt.Sprint(i), int64(1),
					bulkNow, bulkNow)
				_ = accounts.Add(i, i, int64(1), fmt.Sprint(i), fmt.Sprint(i), int64(1), kehu.Date{Year: 2020, Month: 1, Day: 1})
			}
			if err := l.Commit(); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				a := int64(i*accts/b.N) + 1
				if err := txns.Add(int64(i+1), a, a, bulkNow.Add(time.Duration(i)*time.Second), int64(-12345), int64(99999),
					"card_purchase", "pos", "美团外卖", "消费"); err != nil {
					b.Fatal(err)
				}
			}
			if err := l.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
