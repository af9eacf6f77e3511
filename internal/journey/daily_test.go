package journey_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"kehu/internal/contact"
	"kehu/internal/journey"
	"kehu/internal/kehu"
	"kehu/internal/segment"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

func date(s string) kehu.Date {
	d, err := kehu.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// TestLunarConversion checks the lunar calendar against festival dates
// published by the Purple Mountain Observatory calendars: 春节 (1/1),
// 端午 (5/5) and 中秋 (8/15).
func TestLunarConversion(t *testing.T) {
	for _, c := range []struct {
		lunarYear, month, day int
		solar                 string
	}{
		{2024, 1, 1, "2024-02-10"}, {2025, 1, 1, "2025-01-29"}, {2026, 1, 1, "2026-02-17"},
		{2025, 8, 15, "2025-10-06"}, {2026, 5, 5, "2026-06-19"}, {2026, 8, 15, "2026-09-25"},
		{1990, 1, 1, "1990-01-27"}, {1990, 8, 15, "1990-10-03"},
	} {
		if got := journey.SolarOfLunar(c.lunarYear, c.month, c.day); got != date(c.solar) {
			t.Errorf("lunar %d-%d-%d: %s, want %s", c.lunarYear, c.month, c.day, got, c.solar)
		}
		if m, d := journey.LunarOf(date(c.solar)); m != c.month || d != c.day {
			t.Errorf("%s: lunar %d-%d, want %d-%d", c.solar, m, d, c.month, c.day)
		}
	}
	for _, c := range []struct {
		birth string
		lunar bool
		year  int
		want  []string
	}{
		{"1990-10-03", true, 2026, []string{"2026-09-25"}}, // born on 中秋
		{"1990-01-27", true, 2026, []string{"2026-02-17"}}, // born on 春节
		{"1990-10-03", false, 2026, []string{"2026-10-03"}},
		{"1992-02-29", false, 2026, []string{"2026-02-28"}}, // a leap day in a common year
		{"1992-02-29", false, 2028, []string{"2028-02-29"}},
	} {
		got := journey.Birthdays(date(c.birth), c.lunar, c.year)
		if len(got) != len(c.want) {
			t.Errorf("%s lunar=%v %d: %v, want %v", c.birth, c.lunar, c.year, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != date(c.want[i]) {
				t.Errorf("%s lunar=%v %d: %v, want %v", c.birth, c.lunar, c.year, got, c.want)
			}
		}
	}
}

// TestMaturityBirthdayDormancy runs the daily scan: holdings maturing within
// the days ahead (and not after), solar and lunar birthdays of the day,
// dormant customers; a second run the same day fires nothing.
func TestMaturityBirthdayDormancy(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		ctx := context.Background()
		today := kehu.DateOf(r.b.Clock.Now().In(kehu.LoadShanghai())) // 2026-03-02
		mat := r.create("到期提醒", map[string]any{"trigger": "maturity", "conditions": map[string]any{"days_ahead": 7},
			"actions": []any{map[string]any{"kind": "lead", "product_id": 3}}})
		r.exec(`INSERT INTO holdings (customer_id, account_id, product_id, amount, cost, acquired_on, matures_on) VALUES
			($1, 3, 3, 1000, 1000, '2025-09-01', $2), ($1, 3, 3, 1000, 1000, '2025-09-01', $3),
			($4, 3, 3, 1000, 1000, '2025-09-01', $5)`, r.a1, kehu.DateOf(today.Time().AddDate(0, 0, 7)),
			kehu.DateOf(today.Time().AddDate(0, 0, 8)), r.a2, today)
		bday := r.create("生日祝福", map[string]any{"trigger": "birthday",
			"actions": []any{map[string]any{"kind": "tag", "tag_id": 1, "expires_days": 1}}})
		// a1: solar birthday today; a2: lunar birthday today (born on the
		// lunar date of 2026-03-02 in 1990); a3: solar birthday tomorrow.
		m, d := journey.LunarOf(today)
		r.exec("UPDATE customers SET birth_date = $1 WHERE id = $2", date("1985-03-02"), r.a1)
		r.exec("UPDATE customers SET birth_date = $1 WHERE id = $2", journey.SolarOfLunar(1990, m, d), r.a2)
		// The customer's preference, as staff record it on the 360 page.
		if _, err := r.b.C360Service().SetPreferences(r.b.As("admin"), r.a2,
			contact.Input{BirthdayCalendar: contact.Lunar}); err != nil {
			t.Fatal(err)
		}
		r.exec("UPDATE customers SET birth_date = $1 WHERE id = $2", date("1985-03-03"), r.b.Customers["a3"].ID)

		n, err := r.eng.Daily(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// maturity: a1's holding in 7 days and a2's today (not a1's in 8);
		// birthday: a1 and a2.
		if n != 4 {
			t.Fatalf("%d firings, want 4", n)
		}
		if c := r.count("SELECT COUNT(*) FROM journey_firings WHERE journey_id = $1", mat.ID); c != 2 {
			t.Errorf("maturity fired %d", c)
		}
		if c := r.count("SELECT COUNT(*) FROM leads WHERE source_kind = 'journey' AND source_id = $1 AND product_id = 3",
			mat.ID); c != 2 {
			t.Errorf("%d leads", c)
		}
		if c := r.count("SELECT COUNT(*) FROM journey_firings WHERE journey_id = $1 AND customer_id IN ($2, $3)",
			bday.ID, r.a1, r.a2); c != 2 {
			t.Errorf("birthday fired %d for a1 and a2", c)
		}
		if n, err := r.eng.Daily(ctx); err != nil || n != 0 {
			t.Fatalf("second run: %d firings, %v", n, err)
		}

		// Dormancy: 100 days on, every customer without a login or a
		// transaction since is dormant; a1 logs in the day before.
		dormant := r.create("流失预警", map[string]any{"trigger": "dormancy",
			"actions": []any{map[string]any{"kind": "task", "task_kind": "churn_alert", "title": "客户90天未活跃",
				"suggested": []string{"电话回访", "了解是否有他行资金"}}}})
		if dormant.Definition.ReentryDays != 90 {
			t.Errorf("dormancy re-entry default %d, want 90", dormant.Definition.ReentryDays)
		}
		r.b.Clock.Advance(100 * 24 * time.Hour)
		r.exec(`INSERT INTO channel_events (customer_id, occurred_at, channel, kind) VALUES ($1, $2, 'mobile_app', 'app_login')`,
			r.a1, r.b.Clock.Now().Add(-24*time.Hour))
		if _, err := r.eng.Daily(ctx); err != nil {
			t.Fatal(err)
		}
		if c := r.count("SELECT COUNT(*) FROM journey_firings WHERE journey_id = $1 AND customer_id = $2", dormant.ID, r.a1); c != 0 {
			t.Error("a1 logged in yesterday yet is dormant")
		}
		if c := r.count(`SELECT COUNT(*) FROM tasks WHERE customer_id = $1 AND kind = 'churn_alert' AND assignee_id = $2
			AND actions LIKE '%电话回访%'`, r.a2, r.b.Users["rm_a"].ID); c != 1 {
			t.Error("no churn alert for a2's RM")
		}
		r.b.Clock.Advance(24 * time.Hour)
		if _, err := r.eng.Daily(ctx); err != nil {
			t.Fatal(err)
		}
		if c := r.count("SELECT COUNT(*) FROM journey_firings WHERE journey_id = $1 AND customer_id = $2", dormant.ID, r.a2); c != 1 {
			t.Errorf("a2 alerted %d times within the re-entry period", c)
		}
	})
}

// TestSegmentFilter: a journey limited to a segment fires only for its
// members, evaluated in memory on the live event.
func TestSegmentFilter(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		seg, err := r.b.SegmentService().Create(r.b.As("hq_marketing"), segmentInput(`{"all":[{"field":"gender","op":"=","value":"F"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		r.create("女性大额", map[string]any{"trigger": "large_inflow", "segment_id": seg.ID, "actions": []any{r.smsAction()}})
		now := r.b.Clock.Now()
		r.exec("UPDATE customers SET gender = 'M' WHERE id = $1", r.a1)
		r.exec("UPDATE customers SET gender = 'F' WHERE id = $1", r.a2)
		r.txn(r.a1, 20_000_000, "transfer_in", "", now)
		r.txn(r.a2, 20_000_000, "transfer_in", "", now)
		fs := r.pass()
		if len(fs) != 1 || fs[0].CustomerID != r.a2 {
			t.Fatalf("firings %+v, want only a2's", fs)
		}
	})
}

func segmentInput(rule string) segment.Input {
	return segment.Input{Name: "女性客户", Rule: json.RawMessage(rule), Kind: segment.Dynamic}
}
