package level_test

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"kehu/internal/kehu"
	"kehu/internal/level"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

func ptr(v int64) *int64 { return &v }

// storedLevel reads customers.level and aum as stored.
func storedLevel(t *testing.T, db *store.DB, id int64) (string, int64) {
	t.Helper()
	var l string
	var aum int64
	err := db.InTx(context.Background(), func(tx *sql.Tx) error {
		return tx.QueryRow("SELECT level, aum FROM customers WHERE id = $1", id).Scan(&l, &aum)
	})
	if err != nil {
		t.Fatal(err)
	}
	return l, aum
}

// execSQL changes rows behind the services' back, as a core-banking feed would.
func execSQL(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	if err := db.InTx(context.Background(), func(tx *sql.Tx) error { _, err := tx.Exec(q, args...); return err }); err != nil {
		t.Fatal(err)
	}
}

func texts(rs []level.Reason) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Text("zh-CN"))
	}
	return out
}

// a1 of the portfolio holds ¥123,456.78 current, ¥500,000 time deposit and
// ¥395,000 of wealth and funds: ¥1,018,456.78 of AUM, platinum by the
// default rule; everybody else holds nothing.
func TestRecomputeOnChangeAndHistory(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		b.AddPortfolio(t)
		svc := b.LevelService()
		ctx := context.Background()
		a1 := b.Customers["a1"].ID
		if l, _ := storedLevel(t, db, a1); l != "standard" {
			t.Fatalf("a new customer starts at %s", l)
		}
		res, err := svc.RecomputeCustomers(ctx, []int64{a1, a1, 999_999})
		if err != nil {
			t.Fatal(err)
		}
		if res.Customers != 1 || res.Changed != 1 {
			t.Fatalf("result %+v", res)
		}
		if l, aum := storedLevel(t, db, a1); l != "platinum" || aum != 1_018_456_78 {
			t.Fatalf("stored %s %d", l, aum)
		}
		a, err := svc.Assessment(ctx, a1)
		if err != nil {
			t.Fatal(err)
		}
		m := a.Metrics
		// 25 transfers in the last day; month-end balances rebuilt from
		// balance_after: ¥118,556.78 + ¥500,000 at each month-end, plus holdings.
		if !a.Computed || a.RuleVersion != 1 || m.Transactions90D != 25 || m.AUMAvg3M != 1_013_556_78 {
			t.Fatalf("assessment %+v", a)
		}
		want := []string{"AUM ¥1,018,456.78 ≥ ¥500,000.00（白金）",
			"AUM ¥1,018,456.78 < ¥2,000,000.00（升钻石需达到）", "近3月月末平均AUM ¥1,013,556.78 < ¥2,000,000.00（升钻石需达到）"}
		if got := texts(a.Reasons); !slices.Equal(got, want) {
			t.Errorf("reasons %q", got)
		}
		// Contribution: 150 bp of ¥123,456.78, 60 bp of ¥500,000, 50 bp of ¥305,000, 80 bp of ¥90,000.
		if a.Contribution != 185_185+300_000+152_500+72_000 {
			t.Errorf("contribution %d", a.Contribution)
		}
		// Recomputing without a change changes nothing and adds no history.
		if res, err = svc.RecomputeCustomers(ctx, []int64{a1}); err != nil || res.Changed != 0 {
			t.Fatalf("again: %+v %v", res, err)
		}
		hist, err := svc.History(ctx, a1, 10)
		if err != nil || len(hist) != 1 || hist[0].From != "standard" || hist[0].To != "platinum" ||
			hist[0].Trigger != level.TriggerChange || hist[0].RuleVersion != 1 {
			t.Fatalf("history %+v %v", hist, err)
		}
		feed, err := svc.ChangesSince(ctx, 0, 10)
		if err != nil || len(feed) != 1 || feed[0].ID != hist[0].ID {
			t.Fatalf("feed %+v %v", feed, err)
		}
		// A customer never evaluated answers its stored level, uncomputed.
		a, err = svc.Assessment(ctx, b.Customers["a2"].ID)
		if err != nil || a.Computed || a.Level != "standard" || len(a.Reasons) != 0 {
			t.Fatalf("a2 %+v %v", a, err)
		}
		// The money leaves: a1 falls back to standard on the next change.
		execSQL(t, db, "DELETE FROM holdings")
		execSQL(t, db, "UPDATE accounts SET balance = 0")
		b.Clock.Advance(100 * 24 * time.Hour) // the transfers fall out of every window
		if res, err = svc.RecomputeCustomers(ctx, []int64{a1}); err != nil || res.Changed != 1 {
			t.Fatalf("after withdrawal: %+v %v", res, err)
		}
		if hist, _ = svc.History(ctx, a1, 10); len(hist) != 2 || hist[0].From != "platinum" || hist[0].To != "standard" {
			t.Fatalf("history %+v", hist)
		}
	})
}

func TestRuleVersioningPreviewAndActivation(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		b.AddPortfolio(t)
		svc := b.LevelService()
		admin, rm := b.As("admin"), b.As("rm_a")
		active, err := svc.Active(rm)
		if err != nil || active.Version != 1 || active.Status != level.StatusActive {
			t.Fatalf("seeded rule: %+v %v", active, err)
		}
		if active.Rule.JSON() != level.DefaultRule().JSON() {
			t.Errorf("the migration seeds %s, DefaultRule is %s", active.Rule.JSON(), level.DefaultRule().JSON())
		}
		draft := level.DefaultRule()
		draft.Tiers[1].Any = []level.Condition{{MinAUM: ptr(2_000_000_00)}} // platinum now needs ¥2m
		if _, err := svc.CreateDraft(rm, draft, ""); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Fatalf("an RM drafts: %v", err)
		}
		bad := level.DefaultRule()
		bad.Tiers[0].Level = "bronze"
		_, err = svc.CreateDraft(admin, bad, strings.Repeat("长", 501))
		if got := fieldNames(err); !slices.Equal(got, []string{"note", "rule.tiers[0].level"}) {
			t.Fatalf("invalid draft: %v %v", got, err)
		}
		v2, err := svc.CreateDraft(admin, draft, "tighter platinum")
		if err != nil || v2.Version != 2 || v2.Status != level.StatusDraft || v2.CreatedByName == "" {
			t.Fatalf("draft %+v %v", v2, err)
		}
		// Drafts are for rule managers only.
		vs, _ := svc.Versions(rm)
		if len(vs) != 1 {
			t.Errorf("an RM sees %d versions", len(vs))
		}
		if _, err := svc.Version(rm, 2); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Errorf("an RM reads a draft: %v", err)
		}
		draft.Tiers[0].Any = append(draft.Tiers[0].Any, level.Condition{MinTransactions90D: ptr(20), MinContribution: ptr(100_00)})
		if v2, err = svc.UpdateDraft(admin, 2, draft, "tighter platinum, active gold"); err != nil || len(v2.Rule.Tiers[0].Any) != 3 {
			t.Fatalf("update draft %+v %v", v2, err)
		}
		// Preview before any recompute: every customer's metrics are fresh.
		d, err := svc.Preview(admin, 2)
		if err != nil {
			t.Fatal(err)
		}
		if d.Customers != 5 || d.Fresh != 5 || d.ActiveVersion != 1 || d.Downgrades != 1 || d.Upgrades != 0 ||
			!slices.Equal(d.Moves, []level.Move{{From: "platinum", To: "gold", Count: 1}}) {
			t.Fatalf("preview %+v", d)
		}
		if counts := levelCounts(d); counts != "standard 4/4 gold 0/1 platinum 1/0 diamond 0/0 private 0/0" {
			t.Errorf("counts %s", counts)
		}
		// After a recompute the preview reads the stored metrics.
		if _, err := svc.RecomputeAll(admin, level.TriggerManual); err != nil {
			t.Fatal(err)
		}
		if d, err = svc.Preview(admin, 2); err != nil || d.Fresh != 0 || d.MetricsAsOf == nil || d.Downgrades != 1 {
			t.Fatalf("preview after recompute %+v %v", d, err)
		}
		if _, err := svc.Preview(rm, 2); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Errorf("an RM previews: %v", err)
		}
		// Activate: version 1 retires, version 2 is the one active rule.
		if v2, err = svc.Activate(admin, 2); err != nil || v2.Status != level.StatusActive || v2.ActivatedAt == nil {
			t.Fatalf("activate %+v %v", v2, err)
		}
		v1, _ := svc.Version(admin, 1)
		if v1.Status != level.StatusRetired || v1.RetiredAt == nil {
			t.Errorf("v1 %+v", v1)
		}
		if _, err := svc.UpdateDraft(admin, 2, draft, ""); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Errorf("edit the active rule: %v", err)
		}
		if _, err := svc.Activate(admin, 1); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Errorf("re-activate a retired rule: %v", err)
		}
		if _, err := svc.Activate(admin, 9); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Errorf("activate an unknown version: %v", err)
		}
		// Levels follow at the next recompute, recorded with the new version.
		run, err := svc.RecomputeAll(admin, level.TriggerManual)
		if err != nil || run.Status != level.RunDone || run.Customers != 5 || run.Changed != 1 || run.RuleVersion != 2 {
			t.Fatalf("run %+v %v", run, err)
		}
		hist, _ := svc.History(admin, b.Customers["a1"].ID, 5)
		if len(hist) != 2 || hist[0].To != "gold" || hist[0].RuleVersion != 2 || hist[0].Trigger != level.TriggerManual {
			t.Fatalf("history %+v", hist)
		}
		// Every step is on the audit trail.
		for action, want := range map[string]int{level.ActionRuleDraft: 2, level.ActionRuleActivate: 1,
			level.ActionRulePreview: 2, level.ActionRecompute: 2} {
			if n := countAudit(t, b, action); n != want {
				t.Errorf("%s recorded %d times, want %d", action, n, want)
			}
		}
	})
}

func levelCounts(d level.Distribution) string {
	var parts []string
	for _, l := range d.Levels {
		parts = append(parts, l.Level+" "+strconv.FormatInt(l.Active, 10)+"/"+strconv.FormatInt(l.Preview, 10))
	}
	return strings.Join(parts, " ")
}

func fieldNames(err error) []string {
	var out []string
	for _, f := range kehu.ErrorFields(err) {
		out = append(out, f.Field)
	}
	slices.Sort(out)
	return out
}

func countAudit(t *testing.T, b *testkit.Bank, action string) int {
	t.Helper()
	var n int
	err := b.DB.InTx(context.Background(), func(tx *sql.Tx) error {
		return tx.QueryRow("SELECT count(*) FROM audit_log WHERE action = $1", action).Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCustomerLevelIsScopedAndAudited(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		b.AddPortfolio(t)
		svc := b.LevelService()
		a1 := b.Customers["a1"].ID
		if _, err := svc.RecomputeCustomers(context.Background(), []int64{a1}); err != nil {
			t.Fatal(err)
		}
		before := countAudit(t, b, level.ActionRead)
		cl, err := svc.CustomerLevel(b.As("rm_a"), a1)
		if err != nil || cl.Level != "platinum" || len(cl.History) != 1 || len(cl.Reasons) == 0 {
			t.Fatalf("%+v %v", cl, err)
		}
		if n := countAudit(t, b, level.ActionRead) - before; n != 1 {
			t.Errorf("%d records", n)
		}
		for _, who := range []string{"rm_b", "teller_b", "hq_callcenter"} {
			if _, err := svc.CustomerLevel(b.As(who), a1); kehu.ErrorCode(err) != kehu.ENOTFOUND {
				t.Errorf("%s reads a1's level: %v", who, err)
			}
		}
		if _, err := svc.CustomerLevel(context.Background(), a1); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Errorf("anonymous: %v", err)
		}
	})
}

func TestRunsAreExclusive(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		svc := b.LevelService()
		admin := b.As("admin")
		now := b.Clock.Now()
		stuck, err := db.Levels().StartRun(admin, level.Run{Trigger: "cli", Status: level.RunRunning, RuleVersion: 1,
			StartedAt: now, HeartbeatAt: now}, now.Add(-10*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.RecomputeAll(admin, level.TriggerNightly); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Fatalf("second run: %v", err)
		}
		if _, err := svc.StartRecompute(admin); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Fatalf("second run: %v", err)
		}
		// Ten minutes without progress: the first run's process died.
		b.Clock.Advance(11 * time.Minute)
		if _, err := svc.StartRecompute(b.As("rm_a")); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Fatalf("an RM starts a run: %v", err)
		}
		run, err := svc.StartRecompute(admin)
		if err != nil || run.Status != level.RunRunning || run.StartedBy == nil {
			t.Fatalf("start %+v %v", run, err)
		}
		svc.Wait()
		if run, err = svc.GetRun(admin, run.ID); err != nil || run.Status != level.RunDone || run.Customers != 5 {
			t.Fatalf("run %+v %v", run, err)
		}
		if old, _ := svc.GetRun(admin, stuck.ID); old.Status != level.RunFailed || old.Error == "" {
			t.Errorf("the abandoned run %+v", old)
		}
		runs, err := svc.Runs(admin, 10)
		if err != nil || len(runs) != 2 || runs[0].ID != run.ID {
			t.Errorf("runs %+v %v", runs, err)
		}
	})
}
