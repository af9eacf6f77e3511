package customer_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/search"
	"kehu/internal/store"
	"kehu/internal/vault"
)

// BenchmarkSearch measures customer search through customer.Service (scope,
// masking and the audit record included) on a large demo bank, per query
// class and per kind of user, and reports p50/p99 latencies. It needs the
// database and its key file:
//
//	KEHU_BENCH_DB=/work/data/demo-1m.db go test ./internal/customer -run '^$' -bench Search -benchtime 1x -timeout 30m
//	KEHU_BENCH_DB='postgres://…/bank' KEHU_BENCH_KEYS=kehu.keys go test ./internal/customer -run '^$' -bench Search …
//
// KEHU_BENCH_DB is a SQLite file or a PostgreSQL URL. The key file defaults
// to kehu.keys beside a SQLite database (KEHU_BENCH_KEYS overrides; needed
// for PostgreSQL). Queries are drawn from the data: the mobile, ID number and
// an account number of customers in the user's scope, name prefixes
// (surname, surname and first given character), pinyin initials of names (2
// and 3 letters), full pinyin of names (whole, with a space after the
// surname, and cut short after the given name's first letter), a
// two-character word from the middle of company names, and a few queries
// that find nothing. Each search appends one audit record.
func BenchmarkSearch(b *testing.B) {
	path := os.Getenv("KEHU_BENCH_DB")
	if path == "" {
		b.Skip("set KEHU_BENCH_DB to a demo database (kehu demo --customers 1000000) to run the search benchmark")
	}
	postgres := strings.HasPrefix(path, "postgres://") || strings.HasPrefix(path, "postgresql://")
	keysPath := os.Getenv("KEHU_BENCH_KEYS")
	if keysPath == "" {
		keysPath = filepath.Join(filepath.Dir(path), "kehu.keys")
	}
	keys, err := vault.LoadKeyFile(keysPath)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	url, driver, dsn := "sqlite:"+path, "sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)&_time_format=sqlite"
	if postgres {
		url, driver, dsn = path, "pgx", path
	}
	db, err := store.OpenWith(ctx, url, store.Options{Keys: keys})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	// A server that has been serving has the customers table in the page
	// cache; a benchmark straight after the load or beside other I/O would
	// measure the disk instead. One pass over the table warms it.
	var warm int64
	if err := raw.QueryRow("SELECT sum(length(name) + length(id_number) + length(mobile)) FROM customers").Scan(&warm); err != nil {
		b.Fatal(err)
	}
	svc := customer.NewService(customer.Deps{Store: db.Customers(), Clock: kehu.SystemClock{},
		Audit: audit.NewLog(db.Audit(), db, kehu.SystemClock{}), Tx: db})
	perClass := 200
	if n, err := strconv.Atoi(os.Getenv("KEHU_BENCH_QUERIES")); err == nil && n > 0 {
		perClass = n
	}
	var lines []string
	for _, who := range []string{"admin", "zj_manager", "hz01_manager", "hz01_rm1"} {
		actx := actorContext(b, db, who)
		// The user's own scope decides which customers the queries come from,
		// so exact searches find something.
		scope, err := svc.ReadScope(actx)
		if err != nil {
			b.Fatal(err)
		}
		qs := benchQueries(b, raw, keys, scope, perClass)
		for _, class := range benchClasses {
			// search: the store's ranked query in the user's scope, what
			// the index design decides; request: customer.Service.List,
			// adding scope resolution, masking and the audit append (a
			// write transaction with an fsync).
			// The two run in turns, so neither always meets the pages the
			// other just read.
			var search, request []time.Duration
			hits := 0
			for i, q := range qs[class] {
				var p customer.Page
				for k := range 2 {
					began := time.Now()
					if (i+k)%2 == 0 {
						if _, err := db.Customers().ListCustomers(actx, customer.Filter{Query: q, Scope: scope, Limit: kehu.DefaultPageSize}); err != nil {
							b.Fatalf("%s %s %q: %v", who, class, q, err)
						}
						search = append(search, time.Since(began))
						continue
					}
					if p, err = svc.List(actx, customer.Filter{Query: q}); err != nil {
						b.Fatalf("%s %s %q: %v", who, class, q, err)
					}
					request = append(request, time.Since(began))
				}
				if d := search[len(search)-1]; d > 50*time.Millisecond {
					b.Logf("slow search: %s %s %q took %s", who, class, q, d.Round(time.Millisecond))
				}
				if len(p.Items) > 0 {
					hits++
				}
			}
			if len(search) == 0 {
				continue
			}
			slices.Sort(search)
			slices.Sort(request)
			lines = append(lines, fmt.Sprintf("| %s | %s | %d | %d | %.1f | %.1f | %.1f | %.1f | %.1f |", who, class, len(search), hits,
				ms(pct(search, 50)), ms(pct(search, 99)), ms(search[len(search)-1]), ms(pct(request, 50)), ms(pct(request, 99))))
			b.ReportMetric(ms(pct(search, 99)), "p99-ms-"+who+"-"+class)
		}
	}
	b.Logf("\n| User | Class | Queries | With hits | search p50 ms | search p99 ms | search max ms | request p50 ms | request p99 ms |\n"+
		"|---|---|--:|--:|--:|--:|--:|--:|--:|\n%s", strings.Join(lines, "\n"))
}

// pct is the p-th percentile of sorted durations.
func pct(sorted []time.Duration, p int) time.Duration { return sorted[(len(sorted)-1)*p/100] }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

var benchClasses = []string{"mobile", "id_number", "account_no", "name_prefix", "initials", "pinyin_full", "pinyin_spaced",
	"pinyin_prefix", "company_word", "no_match"}

// actorContext signs in nobody: it puts the demo user on the context the
// way the HTTP layer does after authentication.
func actorContext(b *testing.B, db *store.DB, username string) context.Context {
	ctx := context.Background()
	u, err := db.Users().UserByUsername(ctx, username)
	if err != nil {
		b.Fatalf("demo user %s: %v", username, err)
	}
	o, err := db.Orgs().GetOrg(ctx, u.OrgID)
	if err != nil {
		b.Fatal(err)
	}
	return kehu.WithActor(ctx, kehu.Actor{UserID: u.ID, Username: u.Username, Role: u.Role, OrgID: u.OrgID, OrgPath: o.Path})
}

// benchQueries draws n queries per class from customers in scope.
func benchQueries(b *testing.B, raw *sql.DB, keys *vault.Keyring, scope customer.ScopeFilter, n int) map[string][]string {
	where, args := "1 = 1", []any{}
	switch {
	case scope.OwnerID != 0:
		where, args = "c.owner_id = $1", []any{scope.OwnerID}
	case scope.OrgID != 0:
		where, args = "c.org_id = $1", []any{scope.OrgID}
	case scope.OrgPath != "":
		where, args = "c.org_id IN (SELECT id FROM orgs WHERE path >= $1 AND path < $2)", []any{scope.OrgPath, scope.OrgPath + "\U0010FFFF"}
	}
	// The ids in scope come from an index; 3,000 of them, drawn at random,
	// are read in full.
	idRows, err := raw.Query(`SELECT c.id FROM customers c WHERE `+where, args...)
	if err != nil {
		b.Fatal(err)
	}
	var ids []string
	for idRows.Next() {
		var id int64
		if err := idRows.Scan(&id); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, strconv.FormatInt(id, 10))
	}
	idRows.Close()
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	rows, err := raw.Query(`SELECT c.type, c.name, c.id_number, c.mobile,
		(SELECT a.account_no FROM accounts a WHERE a.customer_id = c.id ORDER BY a.id LIMIT 1)
		FROM customers c WHERE c.id IN (` + strings.Join(ids[:min(len(ids), 3000)], ",") + `)`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	add := func(class, q string) {
		if q != "" && len(out[class]) < n {
			out[class] = append(out[class], q)
		}
	}
	for rows.Next() {
		var typ, name, idNumber, mobile string
		var account sql.NullString
		if err := rows.Scan(&typ, &name, &idNumber, &mobile, &account); err != nil {
			b.Fatal(err)
		}
		open := func(col, v string) string {
			clear, err := keys.Decrypt(col, v)
			if err != nil {
				b.Fatal(err)
			}
			return clear
		}
		add("id_number", open("customers.id_number", idNumber))
		if mobile != "" {
			add("mobile", open("customers.mobile", mobile))
		}
		if account.Valid {
			add("account_no", open("accounts.account_no", account.String))
		}
		runes := []rune(name)
		key := search.NameKey(name)
		if typ == customer.Corporate {
			// A word from the middle of the name: the brand after the city.
			if len(runes) > 6 {
				k := 2 + r.IntN(len(runes)-6)
				add("company_word", string(runes[k:k+2]))
			}
			continue
		}
		add("name_prefix", string(runes[:1+r.IntN(min(2, len(runes)))]))
		add("initials", key[:min(len(key), 2+r.IntN(2))])
		// Full pinyin: 张伟 as "zhangwei", "zhang wei" and "zhangw". The
		// surname's syllables are what the whole name's pinyin has before
		// the given name's.
		full := search.NamePinyin(name)
		given := search.NamePinyin(string(runes[1:]))
		if surname, ok := strings.CutSuffix(full, given); ok && surname != "" && given != "" && strings.ContainsAny(full, "aeiouv") {
			add("pinyin_full", full)
			add("pinyin_spaced", surname+" "+given)
			add("pinyin_prefix", surname+given[:1])
		}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	for i := range n / 4 {
		add("no_match", fmt.Sprintf("199%08d", i))
		add("no_match", "qxz")
		add("no_match", "无此客户")
		add("no_match", fmt.Sprintf("62305800000%08d", i))
	}
	return out
}
