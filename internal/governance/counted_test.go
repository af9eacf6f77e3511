package governance_test

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"kehu/internal/governance"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestCountedAsScanned holds the measurement, which counts most fields in
// SQL, to the row-by-row scan in Go it replaced (MeasureByScan, kept in
// export_test.go as the reference): the same counts, examples, reasons and
// masked values, and the same rows scanned, on both engines — on the test
// bank with crafted problems in every table, at the edges of the date and
// time rules, and on a small demo bank.
func TestCountedAsScanned(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		b.AddPortfolio(t)
		craft(t, b)
		roughen(t, b)
		compareMeasurements(t, b)
	})
}

func TestCountedAsScannedOnADemoBank(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewDemoBank(t, db, 150)
		roughen(t, b)
		compareMeasurements(t, b)
	})
}

// roughen writes problems the SQL expressions must judge as Go does:
// blanks (full-width and tab included), enumerations with spaces, dates and
// times exactly at and just past the limits, values before a minimum date.
func roughen(t *testing.T, b *testkit.Bank) {
	t.Helper()
	ctx := context.Background()
	now := b.Clock.Now()
	first := func(tx *sql.Tx, table string, n int) int64 {
		var id int64
		if err := tx.QueryRow(fmt.Sprintf("SELECT id FROM %s ORDER BY id LIMIT 1 OFFSET %d", table, n)).Scan(&id); err != nil {
			t.Fatalf("%s row %d: %v", table, n, err)
		}
		return id
	}
	err := b.DB.InTx(ctx, func(tx *sql.Tx) error {
		for _, u := range []struct {
			table, set string
			n          int
			arg        any
		}{
			{"transactions", "occurred_at = $1", 0, now},                                  // now: not in the future
			{"transactions", "occurred_at = $1", 1, now.Add(time.Second)},                 // just in the future
			{"transactions", "kind = $1", 2, " \t "},                                      // blank
			{"transactions", "channel = $1", 3, "\u3000"},                                 // a full-width space only
			{"transactions", "kind = $1", 4, "\u3000salary\u00a0"},                        // filled
			{"accounts", "currency = $1", 0, " CNY "},                                     // valid once trimmed
			{"accounts", "currency = $1", 1, "XYZ"},                                       // not in the list
			{"accounts", "opened_on = $1", 2, now.AddDate(0, 0, 1).Format(time.DateOnly)}, // tomorrow UTC
			{"accounts", "status = $1", 3, ""},
			{"holdings", "acquired_on = $1", 0, "1989-12-31"},                                   // before 1990-01-01
			{"holdings", "acquired_on = $1", 1, "1990-01-01"},                                   // the first valid day
			{"customers", "risk_assessed_at = $1", 0, now.Add(-365 * 24 * time.Hour)},           // just fresh
			{"customers", "risk_assessed_at = $1", 1, now.Add(-365*24*time.Hour - time.Second)}, // just stale
			{"customers", "risk_assessed_at = $1", 2, now.Add(time.Hour)},                       // future, not checked
			{"customers", "level = $1", 3, " gold "},                                            // trimmed
			{"customers", "level = $1", 4, "bronze"},                                            // not a level
			{"customers", "risk_level = $1", 5, 0},                                              // zero is empty
			{"customers", "industry = $1", 0, "\t"},                                             // blank
		} {
			id := first(tx, u.table, u.n)
			if _, err := tx.Exec("UPDATE "+u.table+" SET "+u.set+" WHERE id = $2", u.arg, id); err != nil {
				return fmt.Errorf("%s %s: %w", u.table, u.set, err)
			}
		}
		c := first(tx, "customers", 0)
		for _, e := range []struct {
			at            time.Time
			channel, kind string
		}{
			{now, "wechat", "login"},
			{now.Add(time.Minute), " branch ", "visit"}, // future; channel valid once trimmed
			{now.Add(-time.Hour), "fax", ""},            // not a channel; no kind
			{now.Add(-time.Hour), "", "login"},
		} {
			if _, err := tx.Exec(`INSERT INTO channel_events (customer_id, occurred_at, channel, kind) VALUES ($1, $2, $3, $4)`,
				c, e.at, e.channel, e.kind); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("roughen: %v", err)
	}
}

func compareMeasurements(t *testing.T, b *testkit.Bank) {
	t.Helper()
	ctx := context.Background()
	q := b.QualityService()
	want, wantRows, err := q.MeasureByScan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, gotRows, err := q.MeasureNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if gotRows != wantRows {
		t.Errorf("rows scanned %d, the scan %d", gotRows, wantRows)
	}
	key := func(r governance.Result) string { return fmt.Sprintf("%d %s.%s", r.OrgID, r.Table, r.Column) }
	order := func(a, b governance.Result) int { return strings.Compare(key(a), key(b)) }
	slices.SortFunc(want, order)
	slices.SortFunc(got, order)
	index := map[string]governance.Result{}
	for _, r := range got {
		index[key(r)] = r
	}
	examples, issues := 0, 0
	for _, w := range want {
		g, ok := index[key(w)]
		if !ok {
			t.Errorf("%s: missing (scan: %+v)", key(w), w)
			continue
		}
		delete(index, key(w))
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\n counted %+v\n scanned %+v", key(w), g, w)
		}
		examples += len(w.Examples)
		issues += int(w.Applicable - w.Valid)
	}
	for k := range index {
		t.Errorf("%s: counted but not in the scan", k)
	}
	if len(want) < 50 || examples < 10 || issues < 10 {
		t.Errorf("too little to compare: %d results, %d examples, %d issues", len(want), examples, issues)
	}
}
