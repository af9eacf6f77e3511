package governance_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"kehu/internal/auth"
	"kehu/internal/governance"
	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/testkit"
	"kehu/internal/vault"
)

// TestDictionaryCoversCustomerColumns: every column the database has in
// customers is described, every description is of a real column, the
// security metadata is the vault's, and every shipped entry is complete.
func TestDictionaryCoversCustomerColumns(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		dict := b.DictionaryService()
		ctx := context.Background()
		for _, table := range governance.Tables {
			cols, err := dict.Columns(ctx, table)
			if err != nil || len(cols) == 0 {
				t.Fatalf("columns of %s: %v %v", table, cols, err)
			}
			for _, e := range governance.Catalogue() {
				if e.Table == table && !slices.Contains(cols, e.Column) {
					t.Errorf("the dictionary describes %s.%s, which the database does not have", table, e.Column)
				}
			}
		}
		cols, _ := dict.Columns(ctx, "customers")
		for _, c := range cols {
			if _, ok := governance.Lookup("customers", c); !ok {
				t.Errorf("customers.%s has no dictionary entry: add it to internal/governance/catalogue.go", c)
			}
		}
		missing, err := dict.Undocumented(ctx)
		if err != nil || len(missing) > 0 {
			t.Errorf("undocumented columns: %v %v", missing, err)
		}
	})
}

func TestCatalogueEntriesAreComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range governance.Catalogue() {
		key := e.Table + "." + e.Column
		if seen[key] {
			t.Errorf("%s is listed twice", key)
		}
		seen[key] = true
		if e.DefinitionZH == "" || e.DefinitionEN == "" || !slices.Contains(governance.SourceSystems, e.SourceSystem) ||
			!slices.Contains(governance.Owners, e.Owner) || e.Type == "" {
			t.Errorf("%s is incomplete: %+v", key, e)
		}
		if e.Class != vault.C1 && e.Class != vault.C2 {
			t.Errorf("%s has class %q", key, e.Class)
		}
		if f, ok := vault.Lookup(e.Table, e.Column); ok && (f.Class != e.Class || f.Mask != e.Mask || f.Encrypted != e.Encrypted) {
			t.Errorf("%s: security metadata differs from the vault", key)
		}
		var v kehu.Validation
		r := e.Rule
		r.Validate(&v, "", e.Column, e.Type)
		if err := v.Err(); err != nil {
			t.Errorf("%s: shipped rule is invalid: %v", key, err)
		}
	}
	for _, f := range vault.Dictionary() {
		if slices.Contains(governance.Tables, f.Table) && !seen[f.Table+"."+f.Column] {
			t.Errorf("vault classifies %s.%s but the dictionary does not describe it", f.Table, f.Column)
		}
	}
}

func TestDictionaryEditsAreVersionedAndAudited(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		dict := b.DictionaryService()
		admin := b.As("admin")
		e, vs, err := dict.Entry(b.As("teller_a"), "customers", "mobile")
		if err != nil || e.Version != 0 || len(vs) != 0 || e.Class != vault.C2 || !e.Encrypted {
			t.Fatalf("%+v %v", e, err)
		}
		edit := governance.Edit{Metadata: e.Metadata(), Note: "客户经理部接管联系方式"}
		edit.Owner = "wealth_management"
		edit.Rule.AppliesTo = ""
		if _, err := dict.Update(b.As("branch_manager"), "customers", "mobile", edit); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Fatalf("a branch manager edits: %v", err)
		}
		bad := edit
		bad.Owner, bad.DefinitionEN = "nobody", " "
		bad.Rule.Min = new(int64)
		bad.Rule.FreshDays = 30
		_, err = dict.Update(admin, "customers", "mobile", bad)
		if got := names(err); !slices.Equal(got, []string{"definition_en", "owner", "quality_rule.fresh_days", "quality_rule.min"}) {
			t.Fatalf("bad edit: %v (%v)", got, err)
		}
		if _, err := dict.Update(admin, "customers", "nope", edit); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Fatalf("unknown column: %v", err)
		}
		got, err := dict.Update(admin, "customers", "mobile", edit)
		if err != nil || got.Version != 1 || got.Owner != "wealth_management" || got.Rule.AppliesTo != "" ||
			got.EditedByName == "" || got.Note != edit.Note || got.Class != vault.C2 {
			t.Fatalf("edited %+v %v", got, err)
		}
		// A second steward who loaded version 0 does not overwrite it.
		if _, err := dict.Update(admin, "customers", "mobile", edit); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Fatalf("stale edit: %v", err)
		}
		edit.BaseVersion = 1
		if _, err := dict.Update(admin, "customers", "mobile", edit); kehu.ErrorCode(err) != kehu.EINVALID {
			t.Fatalf("no change: %v", err)
		}
		edit.DefinitionZH += "（已核对）"
		if got, err = dict.Update(admin, "customers", "mobile", edit); err != nil || got.Version != 2 {
			t.Fatalf("second edit %+v %v", got, err)
		}
		_, vs, _ = dict.Entry(admin, "customers", "mobile")
		if len(vs) != 2 || vs[0].Version != 2 || vs[1].Owner != "wealth_management" {
			t.Fatalf("versions %+v", vs)
		}
		// The current dictionary carries the edit; search finds by definition.
		list, err := dict.Entries(b.As("lobby_a"), governance.Filter{Query: "已核对"})
		if err != nil || len(list) != 1 || list[0].Column != "mobile" || list[0].Version != 2 {
			t.Fatalf("search %+v %v", list, err)
		}
		list, _ = dict.Entries(admin, governance.Filter{Table: "accounts", Class: "C2"})
		for _, x := range list {
			if x.Table != "accounts" || x.Class != vault.C2 {
				t.Errorf("filter returned %s.%s %s", x.Table, x.Column, x.Class)
			}
		}
		if len(list) < 3 {
			t.Errorf("accounts C2: %d entries", len(list))
		}
		if n := auditCount(t, db, governance.ActionDictionaryUpdate); n != 2 {
			t.Errorf("%d dictionary.update records", n)
		}
		var changes string
		_ = db.InTx(context.Background(), func(tx *sql.Tx) error {
			return tx.QueryRow("SELECT changes FROM audit_log WHERE action = $1 ORDER BY id LIMIT 1",
				governance.ActionDictionaryUpdate).Scan(&changes)
		})
		if !strings.Contains(changes, "wealth_management") || !strings.Contains(changes, "quality_rule") {
			t.Errorf("the first record's changes: %s", changes)
		}
	})
}

func names(err error) []string {
	var out []string
	for _, f := range kehu.ErrorFields(err) {
		out = append(out, f.Field)
	}
	slices.Sort(out)
	return out
}

func auditCount(t *testing.T, db *store.DB, action string) int {
	t.Helper()
	var n int
	if err := db.InTx(context.Background(), func(tx *sql.Tx) error {
		return tx.QueryRow("SELECT count(*) FROM audit_log WHERE action = $1", action).Scan(&n)
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// crafted holds the clear values the crafted customers were given, so the
// test can prove none of them reaches the stored results.
type crafted struct{ secrets []string }

// craft inserts customers with known problems at outlet B, beside b1 (valid):
//
//	x1 individual: ID number with a wrong check digit, mobile 12…, bad e-mail,
//	   risk assessed 400 days ago
//	x2 individual: valid ID but birth date and gender disagree with it, region
//	   999999, risk level 9, owned by a disabled user
//	x3 corporate: bad USCC check character, no industry, no capital, no address
//	x4 individual: passport, born 1850, no mobile, no region
func craft(t *testing.T, b *testkit.Bank) crafted {
	t.Helper()
	ctx := context.Background()
	gone, err := b.Auth.AddUser(ctx, auth.NewUser{Username: "rm_gone", Password: testkit.Password, Role: "relationship_manager",
		OrgID: b.OutletB.ID})
	if err != nil {
		t.Fatal(err)
	}
	now := b.Clock.Now()
	badID := "330106199001010012"
	if fixed := testkit.ResidentID("33010619900101001"); fixed == badID {
		badID = "330106199001010013"
	}
	x2ID := testkit.ResidentID("33010619800202002") // female (even 17th digit), born 1980-02-02
	rows := []struct {
		typ, name, idType, id, mobile, email, gender, birth, address, region string
		owner                                                                any
		risk                                                                 int
		assessed                                                             any
		industry                                                             string
	}{
		{"individual", "坏号码", "resident_id", badID, "12345678901", "not-an-email", "F", "1990-01-01", "杭州市西湖区文三路1号",
			"330106", b.Users["rm_b"].ID, 3, now.AddDate(0, 0, -400), ""},
		{"individual", "生日不符", "resident_id", x2ID, "13912345678", "x2@example.cn", "M", "1981-02-02", "杭州市滨江区江南大道2号",
			"999999", gone.ID, 9, now.AddDate(0, 0, -10), ""},
		{"corporate", "坏信用代码有限公司", "uscc", "91330106MA2B3C4D5X", "", "", "", "", "", "330106", nil, 0, nil, ""},
		{"individual", "Old Passport", "passport", "E12345678", "", "", "F", "1850-05-05", "Somewhere", "", nil, 0, nil, ""},
	}
	err = b.DB.InTx(ctx, func(tx *sql.Tx) error {
		for _, r := range rows {
			s, err := b.DB.SealCustomer(r.id, r.mobile, r.email, r.address)
			if err != nil {
				return err
			}
			var birth any
			if r.birth != "" {
				birth = r.birth
			}
			if _, err := tx.Exec(`INSERT INTO customers (type, name, id_type, id_number, mobile, email, gender, birth_date,
				address, region_code, org_id, owner_id, level, aum, risk_level, risk_assessed_at, industry, registered_capital,
				status, created_at, updated_at, id_number_bidx, mobile_bidx) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
				$11, $12, 'standard', 0, $13, $14, $15, 0, 'active', $16, $16, $17, $18)`,
				r.typ, r.name, r.idType, s.IDNumber, s.Mobile, s.Email, r.gender, birth, s.Address, r.region, b.OutletB.ID,
				r.owner, r.risk, r.assessed, r.industry, now, s.IDNumberIndex, s.MobileIndex); err != nil {
				return err
			}
		}
		_, err := tx.Exec("UPDATE users SET disabled = TRUE WHERE id = $1", gone.ID)
		return err
	})
	if err != nil {
		t.Fatalf("craft: %v", err)
	}
	return crafted{secrets: []string{badID, "12345678901", "not-an-email", x2ID, "13912345678", "91330106MA2B3C4D5X", "E12345678"}}
}

func field(rep governance.Report, table, column string) governance.FieldStat {
	for _, f := range rep.Fields {
		if f.Table == table && f.Column == column {
			return f
		}
	}
	return governance.FieldStat{}
}

func TestQualityMeasurementOnCraftedData(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		b.AddPortfolio(t)
		c := craft(t, b)
		q := b.QualityService()
		run, err := q.Measure(context.Background(), "nightly")
		if err != nil || run.Status != governance.RunDone || run.RowsScanned == 0 {
			t.Fatalf("run %+v %v", run, err)
		}
		rep, err := q.Report(b.As("branch_manager"), b.OutletB.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Run == nil || rep.Run.ID != run.ID || rep.Org.ID != b.OutletB.ID || len(rep.Trail) != 2 {
			t.Fatalf("report %+v", rep)
		}
		for _, tc := range []struct {
			table, column             string
			applicable, filled, valid int64
		}{
			{"customers", "mobile", 4, 3, 2},
			{"customers", "id_number", 5, 5, 3},
			{"customers", "birth_date", 4, 4, 2},
			{"customers", "gender", 4, 4, 3},
			{"customers", "email", 5, 2, 1},
			{"customers", "region_code", 5, 4, 3},
			{"customers", "risk_level", 4, 2, 1},
			{"customers", "risk_assessed_at", 4, 2, 1},
			{"customers", "industry", 1, 0, 0},
			{"customers", "registered_capital", 1, 0, 0},
			{"customers", "owner_id", 5, 3, 2},
			{"customers", "address", 5, 3, 3},
			{"customers", "name", 5, 5, 5},
			{"accounts", "account_no", 1, 1, 1},
		} {
			f := field(rep, tc.table, tc.column)
			if f.Applicable != tc.applicable || f.Filled != tc.filled || f.Valid != tc.valid {
				t.Errorf("%s.%s at outlet B: %d/%d/%d, want %d/%d/%d", tc.table, tc.column, f.Applicable, f.Filled, f.Valid,
					tc.applicable, tc.filled, tc.valid)
			}
		}
		mobile := field(rep, "customers", "mobile")
		if mobile.Completeness() != 7500 || mobile.Validity() != 6666 || mobile.Issues != 2 || !mobile.Required {
			t.Errorf("mobile %+v %d %d", mobile, mobile.Completeness(), mobile.Validity())
		}
		// Examples are masked, and no clear value reaches the results table.
		reasons := map[string]string{}
		for _, ex := range rep.Examples {
			reasons[ex.Column+":"+ex.Reason] = ex.Value
		}
		if v, ok := reasons["mobile:format"]; !ok || v != vault.MaskMobile("12345678901") {
			t.Errorf("mobile example %q (%v)", v, reasons)
		}
		if _, ok := reasons["risk_assessed_at:stale"]; !ok {
			t.Errorf("no stale risk assessment example: %v", reasons)
		}
		if v, ok := reasons["birth_date:id_mismatch"]; !ok || v != "" {
			t.Errorf("birth date example %q: the vault withholds birth dates", v)
		}
		for _, key := range []string{"id_number:format", "gender:id_mismatch", "region_code:format", "owner_id:reference",
			"risk_level:range", "birth_date:range", "email:format", "mobile:missing", "industry:missing"} {
			if _, ok := reasons[key]; !ok {
				t.Errorf("no example %s: %v", key, reasons)
			}
		}
		var stored strings.Builder
		_ = db.InTx(context.Background(), func(tx *sql.Tx) error {
			rows, err := tx.Query("SELECT examples FROM quality_results")
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var s string
				_ = rows.Scan(&s)
				stored.WriteString(s)
			}
			return rows.Err()
		})
		for _, secret := range c.secrets {
			if strings.Contains(stored.String(), secret) {
				t.Errorf("the results hold the clear value %q", secret)
			}
		}
		// Outlet A: the test bank's customers and the portfolio, all valid where filled.
		repA, err := q.Report(b.As("branch_manager"), b.OutletA.ID)
		if err != nil {
			t.Fatal(err)
		}
		if f := field(repA, "accounts", "account_no"); f.Applicable != 3 || f.Valid != 3 {
			t.Errorf("outlet A account numbers %+v", f)
		}
		if f := field(repA, "customers", "id_number"); f.Applicable != 4 || f.Valid != 4 {
			t.Errorf("outlet A id numbers %+v", f)
		}
		if f := field(repA, "holdings", "amount"); f.Applicable != 2 || f.Valid != 2 {
			t.Errorf("outlet A holdings %+v", f)
		}
		if f := field(repA, "transactions", "occurred_at"); f.Applicable != 25 || f.Valid != 25 {
			t.Errorf("outlet A transactions %+v", f)
		}
		if n := auditCount(t, db, governance.ActionQualityRun); n != 1 {
			t.Errorf("%d quality.run records", n)
		}
	})
}

func TestQualityReportScope(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		craft(t, b)
		q := b.QualityService()
		// Before any run the page has nothing to show, but answers.
		rep, err := q.Report(b.As("admin"), 0)
		if err != nil || rep.Run != nil || rep.Org.ID != b.HeadOffice.ID || len(rep.Fields) != 0 {
			t.Fatalf("no run yet: %+v %v", rep, err)
		}
		if _, err := q.Measure(context.Background(), "manual"); err != nil {
			t.Fatal(err)
		}
		// The branch manager of the city: their subtree, drilled down by outlet.
		rep, err = q.Report(b.As("branch_manager"), 0)
		if err != nil || rep.Org.ID != b.City.ID || len(rep.Trail) != 1 {
			t.Fatalf("manager %+v %v", rep.Org, err)
		}
		var kids []int64
		for _, c := range rep.Children {
			kids = append(kids, c.Org.ID)
		}
		if !slices.Equal(kids, []int64{b.OutletA.ID, b.OutletB.ID}) {
			t.Errorf("children %v", kids)
		}
		sum := rep.Children[0].Stat.Applicable + rep.Children[1].Stat.Applicable
		if sum != rep.Total.Applicable || rep.Children[1].Issues == 0 {
			t.Errorf("children %+v total %+v", rep.Children, rep.Total)
		}
		for _, id := range []int64{b.HeadOffice.ID, b.Province.ID, 999_999} {
			if _, err := q.Report(b.As("branch_manager"), id); kehu.ErrorCode(err) != kehu.ENOTFOUND {
				t.Errorf("manager reads org %d: %v", id, err)
			}
		}
		// Head office: the whole bank, one child (the province) holding every customer.
		rep, err = q.Report(b.As("hq_compliance"), 0)
		if err != nil || rep.Org.ID != b.HeadOffice.ID || len(rep.Children) != 1 || rep.Children[0].Org.ID != b.Province.ID {
			t.Fatalf("compliance %+v %v", rep.Children, err)
		}
		if f := field(rep, "customers", "id_number"); f.Applicable != 9 || f.Valid != 7 {
			t.Errorf("bank id numbers %+v", f)
		}
		rep, err = q.Report(b.As("admin"), b.City.ID)
		if err != nil || len(rep.Trail) != 3 || rep.Trail[0].ID != b.HeadOffice.ID {
			t.Fatalf("admin trail %+v %v", rep.Trail, err)
		}
		for _, who := range []string{"rm_a", "teller_a", "hq_marketing"} {
			if _, err := q.Report(b.As(who), 0); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
				t.Errorf("%s: %v", who, err)
			}
		}
		if _, err := q.StartMeasure(b.As("branch_manager")); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Errorf("a branch manager starts a run: %v", err)
		}
	})
}

func TestQualityRunsAreExclusiveAndUseEditedRules(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		craft(t, b)
		admin := b.As("admin")
		q := b.QualityService()
		run, err := q.StartMeasure(admin)
		if err != nil || run.Status != governance.RunRunning {
			t.Fatalf("start %+v %v", run, err)
		}
		if _, err := q.Measure(context.Background(), "nightly"); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Errorf("second run: %v", err)
		}
		q.Wait()
		// A steward relaxes the freshness of risk assessments to two years:
		// the next run measures with the edited rule.
		dict := b.DictionaryService()
		e, _, _ := dict.Entry(admin, "customers", "risk_assessed_at")
		edit := governance.Edit{Metadata: e.Metadata()}
		edit.Rule.FreshDays = 730
		if _, err := dict.Update(admin, "customers", "risk_assessed_at", edit); err != nil {
			t.Fatal(err)
		}
		b.Clock.Advance(time.Minute)
		if _, err := q.Measure(context.Background(), "manual"); err != nil {
			t.Fatal(err)
		}
		rep, _ := q.Report(admin, b.OutletB.ID)
		if f := field(rep, "customers", "risk_assessed_at"); f.Filled != 2 || f.Valid != 2 {
			t.Errorf("risk_assessed_at under the edited rule %+v", f)
		}
		runs, err := q.Runs(admin, 10)
		if err != nil || len(runs) != 2 || runs[0].Trigger != "manual" || runs[1].StartedBy == nil {
			t.Errorf("runs %+v %v", runs, err)
		}
	})
}
