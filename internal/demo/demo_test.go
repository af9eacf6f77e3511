package demo_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"kehu/internal/access"
	"kehu/internal/auth"
	"kehu/internal/cnid"
	"kehu/internal/customer"
	"kehu/internal/demo"
	"kehu/internal/kehu"
	"kehu/internal/level"
	"kehu/internal/org"
	"kehu/internal/region"
	"kehu/internal/store"
	"kehu/internal/testkit"
	"kehu/internal/vault"
)

// testNow fixes "today" so generated dates are stable.
var testNow = time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)

const testPassword = "Demo-pass-2026"

// testDB is a migrated database plus a plain database/sql handle on it, to
// read back every column without going through the modules' stores.
type testDB struct {
	*store.DB
	raw *sql.DB
}

func newTestDB(t testing.TB, engine string) testDB {
	t.Helper()
	url := testkit.DBURL(t, engine)
	db, err := store.OpenWith(context.Background(), url, store.Options{Keys: testkit.Keys(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := db.RegisterKeys(context.Background(), testNow); err != nil {
		t.Fatal(err)
	}
	driver, dsn := "pgx", url
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		driver, dsn = "sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_time_format=sqlite"
	}
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return testDB{DB: db, raw: raw}
}

func eachEngine(t *testing.T, fn func(t *testing.T, engine string)) {
	for _, e := range testkit.Engines {
		t.Run(e, func(t *testing.T) { fn(t, e) })
	}
}

func generate(t *testing.T, db testDB, n int, seed int64) demo.Result {
	t.Helper()
	res, err := demo.Generate(context.Background(), db.DB, demo.Options{Customers: n, Seed: seed, Password: testPassword, Now: testNow})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return res
}

func TestGenerateBuildsAConsistentBank(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		db := newTestDB(t, engine)
		const n = 300
		var stages []string
		res, err := demo.Generate(context.Background(), db.DB, demo.Options{Customers: n, Seed: 7, Password: testPassword, Now: testNow,
			Progress: func(stage string, done, total int64) {
				stages = append(stages, fmt.Sprintf("%s %d/%d", stage, done, total))
			}})
		if err != nil {
			t.Fatal(err)
		}
		if !contains(stages, fmt.Sprintf("customers %d/%d", n, n)) {
			t.Errorf("progress never reported completion: %v", stages)
		}
		for table, want := range res.Counts {
			got, err := db.CountRows(context.Background(), table)
			if err != nil || got != want {
				t.Errorf("%s: %d rows, Result says %d (%v)", table, got, want, err)
			}
		}
		if res.Counts["customers"] != n || res.Counts["transactions"] < 10*n || res.Counts["channel_events"] == 0 ||
			res.Counts["holdings"] == 0 || res.Counts["relationships"] == 0 {
			t.Errorf("counts look wrong: %v", res.Counts)
		}
		t.Logf("%s: %v", engine, res.Counts)
		checkCustomers(t, db)
		checkAUM(t, db)
		checkBalances(t, db)
		checkUsers(t, db, res)
		checkRelationships(t, db)
		checkEmployers(t, db)
		checkInteractions(t, db)
		checkTags(t, db)
		checkSearchKeys(t, db)
	})
}

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}

// checkCustomers validates every customer's identifiers the way the
// customer service would, and checks they agree with the other columns.
func checkCustomers(t *testing.T, db testDB) {
	t.Helper()
	rows, err := db.raw.Query(`SELECT c.id, c.type, c.name, c.id_type, c.id_number, c.mobile, c.email, c.gender, c.birth_date,
		c.address, c.region_code, c.org_id, c.owner_id, c.status, c.risk_level, c.risk_assessed_at IS NULL, o.level, u.org_id,
		c.id_number_bidx, c.mobile_bidx
		FROM customers c JOIN orgs o ON o.id = c.org_id LEFT JOIN users u ON u.id = c.owner_id ORDER BY c.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	types := map[string]int{}
	statuses := map[string]int{}
	for rows.Next() {
		var id, orgID int64
		var owner, ownerOrg sql.NullInt64
		var typ, name, idType, idNumber, mobile, email, gender, address, regionCode, status, level, idIndex, mobileIndex string
		var risk int
		var noRiskDate bool
		var birth kehu.Date
		if err := rows.Scan(&id, &typ, &name, &idType, &idNumber, &mobile, &email, &gender, &birth, &address, &regionCode,
			&orgID, &owner, &status, &risk, &noRiskDate, &level, &ownerOrg, &idIndex, &mobileIndex); err != nil {
			t.Fatal(err)
		}
		// The personal columns hold ciphertext; open them with the keys.
		keys := db.Keys()
		for _, f := range []struct {
			col string
			v   *string
		}{{"id_number", &idNumber}, {"mobile", &mobile}, {"email", &email}, {"address", &address}} {
			if *f.v != "" && !strings.HasPrefix(*f.v, "v1:") {
				t.Fatalf("customer %d %s stored in clear", id, f.col)
			}
			if *f.v, err = keys.Decrypt("customers."+f.col, *f.v); err != nil {
				t.Fatalf("customer %d: %v", id, err)
			}
		}
		if idIndex != keys.BlindIndex(vault.IndexIDNumber, idNumber) || mobileIndex != keys.BlindIndex(vault.IndexMobile, mobile) {
			t.Errorf("customer %d blind indexes do not match", id)
		}
		types[typ]++
		statuses[status]++
		in := customer.New{Type: typ, Name: name, IDType: idType, IDNumber: idNumber, Mobile: mobile, Email: email,
			Gender: gender, BirthDate: birth, Address: address, OrgID: orgID}
		if err := in.Validate(); err != nil {
			t.Errorf("customer %d (%s %s) fails validation: %v", id, name, idNumber, err)
		}
		if err := cnid.ValidMobile(mobile); err != nil {
			t.Errorf("customer %d mobile %s: %v", id, mobile, err)
		}
		if !region.Exists(regionCode) || !strings.HasPrefix(address, region.FullName(regionCode)) {
			t.Errorf("customer %d region %s does not match address %s", id, regionCode, address)
		}
		if level != org.SubBranch {
			t.Errorf("customer %d is homed at a %s", id, level)
		}
		if owner.Valid && ownerOrg.Int64 != orgID {
			t.Errorf("customer %d is owned by a user of another organisation", id)
		}
		if (risk == 0) != noRiskDate || risk < 0 || risk > 5 {
			t.Errorf("customer %d risk level %d with assessment date missing=%v", id, risk, noRiskDate)
		}
		switch typ {
		case customer.Individual:
			r, err := cnid.ParseResident(idNumber)
			if err != nil {
				continue // reported by Validate
			}
			if !region.Exists(r.RegionCode) {
				t.Errorf("customer %d ID %s has an unknown region", id, idNumber)
			}
			if kehu.DateOf(r.BirthDate) != birth || r.Male != (gender == "M") {
				t.Errorf("customer %d ID %s disagrees with birth date %v / gender %s", id, idNumber, birth, gender)
			}
			if age := testNow.Year() - birth.Year; age < 18 || age > 90 {
				t.Errorf("customer %d is %d years old", id, age)
			}
		case customer.Corporate:
			if err := cnid.ValidUSCC(idNumber); err != nil || gender != "" || !birth.IsZero() {
				t.Errorf("corporate %d: USCC %s (%v), gender %q, birth %v", id, idNumber, err, gender, birth)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if types[customer.Individual] < 250 || types[customer.Corporate] == 0 {
		t.Errorf("customer types %v: want ~95%% individuals and some companies", types)
	}
	if statuses[customer.StatusDormant] == 0 || statuses[customer.StatusActive] < 250 {
		t.Errorf("statuses %v: want mostly active and some dormant", statuses)
	}
}

// checkAUM recomputes every customer's AUM from deposits and holdings, and
// checks the level engine evaluated every customer: customers.level is the
// stored evaluation's, which the default (active) rule gives for its metrics.
func checkAUM(t *testing.T, db testDB) {
	t.Helper()
	rows, err := db.raw.Query(`SELECT c.id, c.type, c.aum, c.level,
		COALESCE((SELECT SUM(a.balance) FROM accounts a JOIN products p ON p.id = a.product_id
			WHERE a.customer_id = c.id AND p.type IN ('current_deposit', 'time_deposit')), 0),
		COALESCE((SELECT SUM(h.amount) FROM holdings h WHERE h.customer_id = c.id), 0),
		cl.level, cl.aum, cl.aum_avg3m, cl.transactions_90d, cl.current_deposit, cl.time_deposit, cl.wealth, cl.fund,
		cl.insurance, cl.card_spend_90d
		FROM customers c JOIN customer_levels cl ON cl.customer_id = c.id ORDER BY c.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	levels := map[string]int{}
	n := 0
	rule := level.DefaultRule()
	for rows.Next() {
		var id, aum, deposits, holdings int64
		var typ, lvl, evaluated string
		var m level.Metrics
		if err := rows.Scan(&id, &typ, &aum, &lvl, &deposits, &holdings, &evaluated, &m.AUM, &m.AUMAvg3M,
			&m.Transactions90D, &m.CurrentDeposit, &m.TimeDeposit, &m.Wealth, &m.Fund, &m.Insurance, &m.CardSpend90D); err != nil {
			t.Fatal(err)
		}
		n++
		levels[lvl]++
		if aum != deposits+holdings || m.AUM != aum {
			t.Errorf("customer %d: aum %d (evaluated %d), deposits %d + holdings %d", id, aum, m.AUM, deposits, holdings)
		}
		if want, _ := rule.Evaluate(typ, m); lvl != evaluated || lvl != want {
			t.Errorf("customer %d: level %s, evaluated %s, the rule gives %s for %+v", id, lvl, evaluated, want, m)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var customers int
	if err := db.raw.QueryRow("SELECT count(*) FROM customers").Scan(&customers); err != nil || customers != n {
		t.Errorf("%d customers, %d evaluated (%v)", customers, n, err)
	}
	if levels[customer.LevelStandard] < levels[customer.LevelGold] || levels[customer.LevelGold] == 0 || levels[customer.LevelPlatinum] == 0 {
		t.Errorf("level distribution %v is not bank-like", levels)
	}
}

// checkBalances walks every account's transactions: each balance_after is
// the previous one plus the amount, the last is the account balance, and
// deposits never go negative.
func checkBalances(t *testing.T, db testDB) {
	t.Helper()
	rows, err := db.raw.Query(`SELECT t.account_id, t.amount, t.balance_after, a.balance, p.type
		FROM transactions t JOIN accounts a ON a.id = t.account_id JOIN products p ON p.id = a.product_id
		ORDER BY t.account_id, t.occurred_at, t.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var last, prevBalance, prevFinal int64 = -1, 0, 0
	var prevType string
	accounts := 0
	for rows.Next() {
		var account, amount, after, final int64
		var typ string
		if err := rows.Scan(&account, &amount, &after, &final, &typ); err != nil {
			t.Fatal(err)
		}
		if account != last {
			if last >= 0 && prevBalance != prevFinal {
				t.Errorf("account %d ends at %d, balance is %d", last, prevBalance, prevFinal)
			}
			last, accounts = account, accounts+1
		} else if prevBalance+amount != after {
			t.Errorf("account %d: %d + %d != %d", account, prevBalance, amount, after)
		}
		if (typ == "current_deposit" || typ == "time_deposit") && after < 0 {
			t.Errorf("deposit account %d went negative: %d", account, after)
		}
		prevBalance, prevFinal, prevType = after, final, typ
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if last >= 0 && prevBalance != prevFinal {
		t.Errorf("account %d (%s) ends at %d, balance is %d", last, prevType, prevBalance, prevFinal)
	}
	if accounts < 250 {
		t.Errorf("only %d accounts have transactions", accounts)
	}
}

// checkUsers checks the admin can log in and every role has a user.
func checkUsers(t *testing.T, db testDB, res demo.Result) {
	t.Helper()
	admin, err := db.Users().UserByUsername(context.Background(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := auth.CheckPassword(admin.PasswordHash, testPassword); !ok || err != nil || admin.Role != access.Admin {
		t.Fatalf("admin: role %s, password ok %v (%v)", admin.Role, ok, err)
	}
	ho, err := db.Orgs().GetOrg(context.Background(), admin.OrgID)
	if err != nil || ho.Level != org.HeadOffice {
		t.Fatalf("admin is at %+v (%v), want the head office", ho, err)
	}
	users, err := db.Users().ListUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]bool{}
	for _, u := range users {
		roles[u.Role] = true
	}
	shown := map[string]bool{}
	for _, l := range res.Logins {
		shown[l.Role] = true
		if l.Password != testPassword || l.OrgName == "" || l.DisplayName == "" {
			t.Errorf("login %+v is incomplete", l)
		}
	}
	for _, r := range access.Roles {
		if !roles[r] || !shown[r] {
			t.Errorf("role %s: in database %v, in the printed logins %v", r, roles[r], shown[r])
		}
	}
	if res.Logins[0].Username != "admin" {
		t.Errorf("first login is %s, want admin", res.Logins[0].Username)
	}
}

// checkRelationships checks family and company links have the right types.
func checkRelationships(t *testing.T, db testDB) {
	t.Helper()
	rows, err := db.raw.Query(`SELECT r.kind, f.type, o.type, COUNT(*) FROM relationships r
		JOIN customers f ON f.id = r.from_customer_id JOIN customers o ON o.id = r.to_customer_id
		GROUP BY r.kind, f.type, o.type`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	kinds := map[string]bool{}
	for rows.Next() {
		var kind, from, to string
		var n int
		if err := rows.Scan(&kind, &from, &to, &n); err != nil {
			t.Fatal(err)
		}
		kinds[kind] = true
		company := kind == "legal_representative" || kind == "shareholder"
		switch {
		case kind == "employer":
			// "the company is the person's employer"
			if from != customer.Corporate || to != customer.Individual {
				t.Errorf("%d employer relationships from %s to %s", n, from, to)
			}
		case from != customer.Individual || (to == customer.Corporate) != company:
			t.Errorf("%d %s relationships from %s to %s", n, kind, from, to)
		}
	}
	for _, k := range []string{"spouse", "parent", "legal_representative", "shareholder", "employer"} {
		if !kinds[k] {
			t.Errorf("no %s relationship", k)
		}
	}
}

// dump hashes the rows of a table in id order, for determinism checks.
func dump(t *testing.T, db testDB, query string) (string, int) {
	t.Helper()
	rows, err := db.raw.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	table := ""
	if _, after, ok := strings.Cut(query, "FROM "); ok {
		table, _, _ = strings.Cut(after, " ")
	}
	h := sha256.New()
	n := 0
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			// Encryption is randomised: compare what the values say.
			if sv, ok := v.(string); ok && strings.HasPrefix(sv, "v1:") {
				var err error
				if v, err = db.Keys().Decrypt(table+"."+cols[i], sv); err != nil {
					t.Fatal(err)
				}
			}
			fmt.Fprintf(h, "%v|", v)
		}
		n++
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

var dumps = []string{
	"SELECT * FROM customers ORDER BY id",
	"SELECT * FROM accounts ORDER BY id",
	"SELECT * FROM holdings ORDER BY id",
	"SELECT * FROM transactions ORDER BY id",
	"SELECT * FROM relationships ORDER BY id",
	"SELECT * FROM channel_events ORDER BY id",
	"SELECT id, parent_id, code, name, level, region_code, path FROM orgs ORDER BY id",
	"SELECT id, username, display_name, role, org_id FROM users ORDER BY id",
}

func TestGenerateIsDeterministic(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		a, b, c := newTestDB(t, engine), newTestDB(t, engine), newTestDB(t, engine)
		generate(t, a, 300, 42)
		generate(t, b, 300, 42)
		generate(t, c, 300, 43)
		for _, q := range dumps {
			ha, na := dump(t, a, q)
			hb, _ := dump(t, b, q)
			hc, _ := dump(t, c, q)
			if ha != hb {
				t.Errorf("same seed, different data: %s", q)
			}
			if ha == hc && na > 0 && strings.Contains(q, "customers") {
				t.Errorf("different seeds, same data: %s", q)
			}
		}
	})
}

func TestGenerateRefusesANonEmptyDatabase(t *testing.T) {
	db := newTestDB(t, "sqlite")
	generate(t, db, 20, 1)
	_, err := demo.Generate(context.Background(), db.DB, demo.Options{Customers: 20, Seed: 1, Password: testPassword, Now: testNow})
	if kehu.ErrorCode(err) != kehu.ECONFLICT || !strings.Contains(kehu.ErrorMessage(err), "empty database") {
		t.Fatalf("second Generate: %v, want a conflict", err)
	}
	if n, _ := db.CountRows(context.Background(), "customers"); n != 20 {
		t.Fatalf("refused Generate changed the data: %d customers", n)
	}
}

func TestGenerateValidatesOptions(t *testing.T) {
	db := newTestDB(t, "sqlite")
	for _, tc := range []struct {
		opt   demo.Options
		field string
	}{
		{demo.Options{Customers: 0, Password: testPassword}, "customers"},
		{demo.Options{Customers: -5, Password: testPassword}, "customers"},
		{demo.Options{Customers: demo.MaxCustomers + 1, Password: testPassword}, "customers"},
		{demo.Options{Customers: 10, Password: "short"}, "password"},
	} {
		_, err := demo.Generate(context.Background(), db.DB, tc.opt)
		fields := kehu.ErrorFields(err)
		if kehu.ErrorCode(err) != kehu.EINVALID || len(fields) != 1 || fields[0].Field != tc.field {
			t.Errorf("Generate(%+v) = %v, want invalid %s", tc.opt, err, tc.field)
		}
	}
	if n, _ := db.Orgs().CountOrgs(context.Background()); n != 0 {
		t.Fatal("invalid options wrote data")
	}
}
