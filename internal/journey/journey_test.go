package journey_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"kehu/internal/ingest"
	"kehu/internal/journey"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/policy"
	"kehu/internal/privacy"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// rig is a bank with a1's portfolio, SMS consent for a1 (not a2), an SMS
// marketing template and an engine whose cursors start at the portfolio's
// history (which must not fire).
type rig struct {
	t      *testing.T
	b      *testkit.Bank
	svc    *journey.Service
	eng    *journey.Engine
	tmpl   int64
	a1, a2 int64
}

func newRig(t *testing.T, db *store.DB) *rig {
	t.Helper()
	b := testkit.NewBank(t, db)
	b.AddPortfolio(t)
	r := &rig{t: t, b: b, svc: b.JourneyService(), a1: b.Customers["a1"].ID, a2: b.Customers["a2"].ID}
	if _, err := b.PrivacyService().SetConsents(b.As("admin"), r.a1,
		[]privacy.ConsentChange{{Channel: "sms", Granted: true}}, "counter"); err != nil {
		t.Fatal(err)
	}
	tm, err := b.TemplateService().Create(b.As("hq_marketing"), msgtemplate.Input{Name: "大额入账", Channel: msgtemplate.SMS,
		Purpose: msgtemplate.Marketing, Content: msgtemplate.Content{
			Body: "【客户银行】{{salutation}}，您的账户到账{{amount_wan}}，理财经理{{rm_name}}为您服务。退订回T"}})
	if err != nil {
		t.Fatal(err)
	}
	r.tmpl = tm.ID
	r.eng = b.JourneyEngine(journey.Options{})
	r.pass() // first start: the cursors take the history's end
	return r
}

func (r *rig) exec(q string, args ...any) {
	r.t.Helper()
	if err := r.b.DB.InTx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(q, args...)
		return err
	}); err != nil {
		r.t.Fatalf("%s: %v", q, err)
	}
}

func (r *rig) count(q string, args ...any) int {
	r.t.Helper()
	var n int
	if err := r.b.DB.InTx(context.Background(), func(tx *sql.Tx) error {
		return tx.QueryRow(q, args...).Scan(&n)
	}); err != nil {
		r.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// txn stores a transaction on a1's current account (account 1) or, for
// another customer, on an account of theirs created on first use.
func (r *rig) txn(customerID int64, amount int64, kind, desc string, at time.Time) {
	r.t.Helper()
	account := int64(1)
	if customerID != r.a1 {
		account = 4 // b1's; the journey only reads the customer
	}
	r.exec(`INSERT INTO transactions (account_id, customer_id, occurred_at, amount, balance_after, kind, channel,
		counterparty, description) VALUES ($1, $2, $3, $4, 0, $5, 'mobile', '', $6)`, account, customerID, at.UTC(),
		amount, kind, desc)
}

func (r *rig) pass() []journey.Firing {
	r.t.Helper()
	fs, err := r.eng.Pass(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return fs
}

func (r *rig) create(name string, def map[string]any) journey.Journey {
	r.t.Helper()
	raw, _ := json.Marshal(def)
	j, err := r.svc.Create(r.b.As("hq_marketing"), journey.Input{Name: name, Definition: raw})
	if err != nil {
		r.t.Fatalf("create journey %s: %v", name, err)
	}
	return j
}

func (r *rig) smsAction() map[string]any {
	return map[string]any{"kind": "message", "channel": "sms", "template_id": r.tmpl}
}

func TestLargeInflow(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		j := r.create("大额入账", map[string]any{"trigger": "large_inflow", "actions": []any{r.smsAction()},
			"reentry_days": 0})
		if got := j.Definition.Conditions.MinAmount; got != journey.DefaultInflowFen {
			t.Fatalf("default threshold %d", got)
		}
		now := r.b.Clock.Now()
		r.txn(r.a1, 9_999_999, "transfer_in", "", now)                     // ¥99,999.99: under
		r.txn(r.a1, -20_000_000, "transfer_out", "", now)                  // a debit
		r.txn(r.a1, 20_000_000, "transfer_in", "", now.Add(-80*time.Hour)) // not live (older than 72 h)
		if fs := r.pass(); len(fs) != 0 {
			t.Fatalf("fired on %+v", fs)
		}
		r.txn(r.a1, 10_000_000, "transfer_in", "", now) // exactly ¥100,000
		fs := r.pass()
		if len(fs) != 1 || fs[0].CustomerID != r.a1 || fs[0].Outcomes[0].Outcome != journey.OutQueued {
			t.Fatalf("firings %+v", fs)
		}
		if n := r.count(`SELECT COUNT(*) FROM outbox_messages WHERE source_kind = 'journey' AND source_id = $1
			AND customer_id = $2 AND data LIKE '%10000000%'`, j.ID, r.a1); n != 1 {
			t.Fatalf("%d messages queued with the amount", n)
		}
		if n := r.count("SELECT COUNT(*) FROM contact_log WHERE source_kind = 'journey' AND source_id = $1", j.ID); n != 1 {
			t.Fatalf("%d contacts logged", n)
		}
		// Policy suppression: a2 gave no SMS consent.
		r.txn(r.a2, 50_000_000, "transfer_in", "", now)
		fs = r.pass()
		if len(fs) != 1 || fs[0].Outcomes[0].Outcome != journey.OutSuppressed || fs[0].Outcomes[0].Reason != "no_consent" {
			t.Fatalf("a2 firing %+v", fs)
		}
		res, err := r.svc.Results(r.b.As("hq_marketing"), j.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []journey.Count{{Kind: "message", Outcome: "queued", Count: 1},
			{Kind: "message", Outcome: "suppressed", Reason: "no_consent", Count: 1}}
		if res.Fired != 2 || res.Customers != 2 || fmt.Sprint(res.Actions) != fmt.Sprint(want) {
			t.Fatalf("results %+v", res)
		}
		if n := r.count(`SELECT count FROM contact_suppressions WHERE source_kind = 'journey' AND source_id = $1
			AND reason = 'no_consent'`, j.ID); n != 1 {
			t.Fatalf("suppression tally %d", n)
		}
	})
}

func TestInflowWindowAndReentry(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		r.create("一周累计入账", map[string]any{"trigger": "large_inflow", "actions": []any{r.smsAction()},
			"conditions": map[string]any{"min_amount": 10_000_000, "window_days": 7}, "reentry_days": 30})
		now := r.b.Clock.Now()
		r.txn(r.a1, 6_000_000, "transfer_in", "", now.Add(-2*time.Hour))
		if fs := r.pass(); len(fs) != 0 {
			t.Fatalf("fired below the window's sum: %+v", fs)
		}
		r.txn(r.a1, 4_000_000, "transfer_in", "", now) // 60k + 40k = 100k: crosses
		if fs := r.pass(); len(fs) != 1 {
			t.Fatalf("crossing: %d firings", len(fs))
		}
		r.txn(r.a1, 50_000_000, "transfer_in", "", now) // a new crossing is impossible; and re-entry blocks
		if fs := r.pass(); len(fs) != 0 {
			t.Fatalf("fired again within the window: %+v", fs)
		}
		// 31 days later a fresh window crosses again and re-entry allows it.
		r.b.Clock.Advance(31 * 24 * time.Hour)
		r.txn(r.a1, 12_000_000, "transfer_in", "", r.b.Clock.Now())
		if fs := r.pass(); len(fs) != 1 {
			t.Fatalf("after the re-entry period: %d firings", len(fs))
		}
	})
}

func TestReentryBlocksWithinDays(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		r.create("大额", map[string]any{"trigger": "large_inflow", "actions": []any{r.smsAction()}, "reentry_days": 7})
		now := r.b.Clock.Now()
		r.txn(r.a1, 10_000_000, "transfer_in", "", now)
		r.txn(r.a1, 10_000_000, "transfer_in", "", now)
		if fs := r.pass(); len(fs) != 1 {
			t.Fatalf("two credits in one pass: %d firings, want 1", len(fs))
		}
		r.b.Clock.Advance(6*24*time.Hour + 23*time.Hour)
		r.txn(r.a1, 10_000_000, "transfer_in", "", r.b.Clock.Now())
		if fs := r.pass(); len(fs) != 0 {
			t.Fatal("fired inside the 7 days")
		}
		r.b.Clock.Advance(2 * time.Hour)
		r.txn(r.a1, 10_000_000, "transfer_in", "", r.b.Clock.Now())
		if fs := r.pass(); len(fs) != 1 {
			t.Fatal("did not fire after the 7 days")
		}
	})
}

// TestReplayAndCatchUp: a restarted engine catches up from the stored
// cursor; rewinding the cursor (a replay) fires nothing twice.
func TestReplayAndCatchUp(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		j := r.create("大额", map[string]any{"trigger": "large_inflow", "actions": []any{r.smsAction()}})
		now := r.b.Clock.Now()
		// Stored while no engine ran ("the server was down").
		for range 3 {
			r.txn(r.a1, 10_000_000, "transfer_in", "", now)
		}
		restarted := r.b.JourneyEngine(journey.Options{Batch: 2}) // two ids a pass: catch-up in chunks
		fs, err := restarted.Pass(context.Background())
		if err != nil || len(fs) != 3 {
			t.Fatalf("catch-up: %d firings, %v", len(fs), err)
		}
		ctx := context.Background()
		// The bank's cap of one marketing SMS a day lets the first through.
		msgs, contacts := r.count("SELECT COUNT(*) FROM outbox_messages WHERE source_id = $1", j.ID),
			r.count("SELECT COUNT(*) FROM contact_log WHERE source_id = $1", j.ID)
		if msgs != 1 || contacts != 1 || r.count(`SELECT COUNT(*) FROM journey_actions WHERE journey_id = $1
			AND outcome = 'suppressed' AND reason LIKE 'frequency_cap%'`, j.ID) != 2 {
			t.Fatalf("%d messages, %d contacts; want 1, 1 and two capped", msgs, contacts)
		}
		pos, _, _ := db.Journeys().Cursor(ctx, journey.SourceTransactions)
		if err := db.Journeys().SetCursor(ctx, journey.SourceTransactions, pos-3, now); err != nil {
			t.Fatal(err)
		}
		if fs, err := restarted.Pass(ctx); err != nil || len(fs) != 0 {
			t.Fatalf("replay fired %d (%v)", len(fs), err)
		}
		if n := r.count("SELECT COUNT(*) FROM outbox_messages WHERE source_id = $1", j.ID); n != msgs {
			t.Fatalf("%d messages after the replay, want %d", n, msgs)
		}
		if n := r.count("SELECT COUNT(*) FROM contact_log WHERE source_id = $1", j.ID); n != contacts {
			t.Fatalf("%d contacts after the replay, want %d", n, contacts)
		}
	})
}

func TestSalaryAndPause(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		tagID := int64(1) // 代发工资, a manual tag of the portfolio
		j := r.create("代发工资客户", map[string]any{"trigger": "salary",
			"actions": []any{map[string]any{"kind": "tag", "tag_id": tagID, "expires_days": 30}}})
		now := r.b.Clock.Now()
		r.txn(r.a2, 800_000, "transfer_in", "转账", now)
		if fs := r.pass(); len(fs) != 0 {
			t.Fatal("a plain transfer fired the salary journey")
		}
		r.txn(r.a2, 800_000, "transfer_in", "代发工资 3月", now)
		fs := r.pass()
		if len(fs) != 1 || fs[0].Outcomes[0].Outcome != journey.OutTagged {
			t.Fatalf("salary by narrative: %+v", fs)
		}
		if n := r.count("SELECT COUNT(*) FROM customer_tags WHERE customer_id = $1 AND tag_id = $2 AND expires_at IS NOT NULL",
			r.a2, tagID); n != 1 {
			t.Fatal("a2 not tagged with an expiry")
		}
		if _, err := r.svc.SetStatus(r.b.As("hq_marketing"), j.ID, journey.Paused); err != nil {
			t.Fatal(err)
		}
		r.txn(r.a1, 900_000, "salary", "", now)
		if fs := r.pass(); len(fs) != 0 {
			t.Fatal("a paused journey fired")
		}
		if _, err := r.svc.SetStatus(r.b.As("hq_marketing"), j.ID, journey.Active); err != nil {
			t.Fatal(err)
		}
		if fs := r.pass(); len(fs) != 0 {
			t.Fatal("a resumed journey fired on an event stored while paused")
		}
		r.txn(r.a1, 900_000, "salary", "", now)
		if fs := r.pass(); len(fs) != 1 {
			t.Fatal("salary by kind did not fire")
		}
	})
}

func TestLevelChange(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		up := r.create("升级", map[string]any{"trigger": "level_change", "conditions": map[string]any{"direction": "up"},
			"actions": []any{r.smsAction()}})
		r.create("降级", map[string]any{"trigger": "level_change", "conditions": map[string]any{"direction": "down"},
			"actions": []any{map[string]any{"kind": "task", "task_kind": "call", "title": "降级客户回访",
				"suggested": []string{"了解资金去向", "介绍定期产品"}}}})
		now := r.b.Clock.Now()
		r.exec(`INSERT INTO level_changes (customer_id, from_level, to_level, rule_version, trigger, changed_at)
			VALUES ($1, 'standard', 'gold', 1, 'feed', $2), ($3, 'platinum', 'gold', 1, 'feed', $2)`, r.a1, now, r.a2)
		fs := r.pass()
		if len(fs) != 2 {
			t.Fatalf("%d firings", len(fs))
		}
		for _, f := range fs {
			if (f.JourneyID == up.ID) != (f.CustomerID == r.a1) {
				t.Errorf("journey %d fired for customer %d", f.JourneyID, f.CustomerID)
			}
			if f.JourneyID != up.ID && f.Outcomes[0].Outcome != journey.OutTaskCreated {
				t.Errorf("down: %+v", f.Outcomes)
			}
		}
		rmA := r.b.Users["rm_a"].ID
		if n := r.count(`SELECT COUNT(*) FROM tasks WHERE customer_id = $1 AND assignee_id = $2 AND kind = 'call'
			AND source_kind = 'journey' AND actions LIKE '%了解资金去向%'`, r.a2, rmA); n != 1 {
			t.Fatal("no call task for a2's RM")
		}
	})
}

// TestViewedNotBought: a product viewed in the app and not bought alerts the
// lobby managers of the outlet on the next branch visit; a bought one does
// not.
func TestViewedNotBought(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		r.create("看了没买", map[string]any{"trigger": "viewed_not_bought", "conditions": map[string]any{"view_days": 14},
			"actions": []any{map[string]any{"kind": "task", "task_kind": "lobby_alert", "title": "客户到店：推荐其浏览过的理财",
				"suggested": []string{"问候客户", "介绍浏览过的产品"}}}})
		now := r.b.Clock.Now()
		ev := func(cust int64, kind string, product any, at time.Time, detail string) {
			r.exec(`INSERT INTO channel_events (customer_id, occurred_at, channel, kind, product_id, detail)
				VALUES ($1, $2, 'mobile_app', $3, $4, $5)`, cust, at.UTC(), kind, product, detail)
		}
		ev(r.a1, "product_view", 3, now.Add(-20*24*time.Hour), "{}") // too long ago
		ev(r.a1, "branch_visit", nil, now, `{"outlet":"HZ-B"}`)
		if fs := r.pass(); len(fs) != 0 {
			t.Fatal("fired on a view older than 14 days")
		}
		ev(r.a1, "product_view", 3, now.Add(-3*24*time.Hour), "{}")
		ev(r.a2, "product_view", 4, now.Add(-3*24*time.Hour), "{}")
		r.exec(`INSERT INTO holdings (customer_id, account_id, product_id, amount, cost, acquired_on)
			VALUES ($1, 3, 4, 100, 100, $2)`, r.a2, kehu.DateOf(now))
		ev(r.a2, "branch_visit", nil, now.Add(time.Minute), `{"outlet":"HZ-A"}`) // bought since: no alert
		ev(r.a1, "branch_visit", nil, now.Add(time.Minute), `{"outlet":"HZ-B"}`)
		fs := r.pass()
		if len(fs) != 1 || fs[0].CustomerID != r.a1 || fs[0].Outcomes[0].Outcome != journey.OutTaskCreated {
			t.Fatalf("firings %+v", fs)
		}
		if n := r.count(`SELECT COUNT(*) FROM tasks WHERE customer_id = $1 AND kind = 'lobby_alert'
			AND queue_role = 'lobby_manager' AND queue_org_id = $2 AND product_id = 3`, r.a1, r.b.OutletB.ID); n != 1 {
			t.Fatal("no lobby alert at the visited outlet HZ-B for the viewed product")
		}
	})
}

func TestValidation(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		cases := []struct {
			def  string
			want string
		}{
			{`{"trigger":"moon","actions":[{"kind":"tag","tag_id":1}]}`, "definition.trigger"},
			{`{"trigger":"salary","actions":[]}`, "definition.actions"},
			{`{"trigger":"salary","actions":[{"kind":"message","channel":"email","template_id":` +
				fmt.Sprint(r.tmpl) + `}]}`, "definition.actions[0].template_id"},
			{`{"trigger":"salary","actions":[{"kind":"tag","tag_id":999}]}`, "definition.actions[0].tag_id"},
			{`{"trigger":"dormancy","conditions":{"inactive_days":3},"actions":[{"kind":"tag","tag_id":1}]}`,
				"definition.conditions.inactive_days"},
			{`{"trigger":"salary","bogus":1,"actions":[{"kind":"tag","tag_id":1}]}`, "definition"},
			{`{"trigger":"salary","segment_id":77,"actions":[{"kind":"tag","tag_id":1}]}`, "definition.segment_id"},
			{`{"trigger":"salary","control_pct":51,"actions":[{"kind":"tag","tag_id":1}]}`, "definition.control_pct"},
			{`{"trigger":"salary","control_pct":-1,"actions":[{"kind":"tag","tag_id":1}]}`, "definition.control_pct"},
			{`{"trigger":"salary","conversion_days":366,"actions":[{"kind":"tag","tag_id":1}]}`, "definition.conversion_days"},
			{`{"trigger":"salary","cost_per_message":-5,"actions":[{"kind":"tag","tag_id":1}]}`, "definition.cost_per_message"},
			{`{"trigger":"salary","value_per_conversion":-5,"actions":[{"kind":"tag","tag_id":1}]}`,
				"definition.value_per_conversion"},
		}
		for _, c := range cases {
			_, err := r.svc.Create(r.b.As("hq_marketing"), journey.Input{Name: "x", Definition: json.RawMessage(c.def)})
			var e *kehu.Error
			if !errors.As(err, &e) || e.Code != kehu.EINVALID || len(e.Fields) == 0 || e.Fields[0].Field != c.want {
				t.Errorf("%s: %v, want a 422 naming %s", c.def, err, c.want)
			}
		}
		// An RM may read but not manage journeys.
		_, err := r.svc.Create(r.b.As("rm_a"), journey.Input{Name: "x",
			Definition: json.RawMessage(`{"trigger":"salary","actions":[{"kind":"tag","tag_id":1}]}`)})
		if kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Errorf("rm create: %v", err)
		}
	})
}

// TestDeferralConversionAndOverlap: a message decided in quiet hours is
// queued for their end (deferred, with the reason); a later holding of the
// journey's product counts as a conversion; an engine re-reading ids below
// its cursor (the PostgreSQL overlap) fires nothing twice.
func TestDeferralConversionAndOverlap(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		r.eng = r.b.JourneyEngine(journey.Options{Overlap: 1000})
		j := r.create("夜间入账", map[string]any{"trigger": "large_inflow", "product_id": 3,
			"actions": []any{r.smsAction()}})
		// 23:30 in Shanghai: inside the bank's default quiet hours.
		r.b.Clock.Advance(14 * time.Hour)
		now := r.b.Clock.Now()
		r.txn(r.a1, 10_000_000, "transfer_in", "", now)
		fs := r.pass()
		if len(fs) != 1 || fs[0].Outcomes[0].Outcome != journey.OutDeferred || fs[0].Outcomes[0].Reason != "quiet_hours" {
			t.Fatalf("firings %+v", fs)
		}
		if n := r.count("SELECT COUNT(*) FROM outbox_messages WHERE source_id = $1 AND next_attempt_at > $2", j.ID, now); n != 1 {
			t.Fatal("the deferred message is not held back")
		}
		for range 2 { // the overlap re-reads the credit: no second firing
			if fs := r.pass(); len(fs) != 0 {
				t.Fatalf("overlap fired again: %+v", fs)
			}
		}
		res, err := r.svc.Results(r.b.As("hq_marketing"), j.ID)
		if err != nil || res.Converted == nil || *res.Converted != 0 {
			t.Fatalf("before the purchase: %+v %v", res, err)
		}
		r.exec(`INSERT INTO holdings (customer_id, account_id, product_id, amount, cost, acquired_on)
			VALUES ($1, 3, 3, 100, 100, $2)`, r.a1, kehu.DateOf(now.AddDate(0, 0, 2)))
		res, _ = r.svc.Results(r.b.As("hq_marketing"), j.ID)
		if res.Converted == nil || *res.Converted != 1 {
			t.Fatalf("after the purchase: %+v", res)
		}
	})
}

// failingWork fails every task of one customer as a broken database would.
type failingWork struct {
	journey.Work
	customer int64
}

func (w failingWork) CreateTask(ctx context.Context, r journey.TaskRequest) (bool, error) {
	if r.CustomerID == w.customer {
		return false, errors.New("disk I/O error")
	}
	return w.Work.CreateTask(ctx, r)
}

// TestPoisonEventDoesNotBlock: when one candidate's action fails with a
// database error, the chunk is fired candidate by candidate: the others
// fire, the failing one is recorded as failed (internal_error), the cursor
// moves on and nothing is retried for ever.
func TestPoisonEventDoesNotBlock(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		d := r.b.JourneyDeps(journey.Options{})
		d.Work = failingWork{Work: d.Work, customer: r.a2}
		r.eng = journey.NewEngine(d)
		j := r.create("大额回访", map[string]any{"trigger": "large_inflow",
			"actions": []any{map[string]any{"kind": "task", "task_kind": "call", "title": "大额入账回访"}}})
		now := r.b.Clock.Now()
		r.txn(r.a2, 10_000_000, "transfer_in", "", now)
		r.txn(r.a1, 10_000_000, "transfer_in", "", now)
		fs := r.pass()
		if len(fs) != 2 {
			t.Fatalf("%d firings", len(fs))
		}
		for _, f := range fs {
			want := journey.OutTaskCreated
			if f.CustomerID == r.a2 {
				want = journey.OutFailed
			}
			if f.Outcomes[0].Outcome != want {
				t.Errorf("customer %d: %+v", f.CustomerID, f.Outcomes)
			}
		}
		if fs := r.pass(); len(fs) != 0 {
			t.Fatalf("retried: %+v", fs)
		}
		res, _ := r.svc.Results(r.b.As("hq_marketing"), j.ID)
		if fmt.Sprint(res.Actions) != fmt.Sprint([]journey.Count{{Kind: "task", Outcome: "failed", Reason: "internal_error", Count: 1},
			{Kind: "task", Outcome: "task_created", Count: 1}}) {
			t.Errorf("results %+v", res.Actions)
		}
	})
}

// racingPolicy commits a contact of another source (a campaign launch
// running beside the engine) right after the engine's decisions, before its
// write transaction.
type racingPolicy struct {
	journey.Policy
	between func(ctx context.Context) error
}

func (p *racingPolicy) DecideMany(ctx context.Context, b policy.Batch, ids []int64) ([]policy.Decision, error) {
	ds, err := p.Policy.DecideMany(ctx, b, ids)
	if err == nil && p.between != nil {
		err, p.between = p.between(ctx), nil
	}
	return ds, err
}

// TestCapHoldsAcrossDecisionAndCommit: the engine decides its messages on
// the read pool before its write transaction; a campaign that contacts the
// same customer in between (the bank's cap is one marketing SMS a day) must
// not let both through. The journey's message is suppressed by the cap in
// the transaction, nothing is queued, and the contact log holds the
// campaign's contact alone.
func TestCapHoldsAcrossDecisionAndCommit(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		d := r.b.JourneyDeps(journey.Options{})
		pol := d.Policy
		now := r.b.Clock.Now()
		d.Policy = &racingPolicy{Policy: pol, between: func(ctx context.Context) error {
			return db.WithTx(ctx, func(ctx context.Context) error {
				return pol.RecordContacts(ctx, []policy.Contact{{CustomerID: r.a1, Channel: "sms",
					Purpose: policy.PurposeMarketing, SourceKind: policy.SourceCampaign, SourceID: 99, At: now}})
			})
		}}
		r.eng = journey.NewEngine(d)
		j := r.create("大额", map[string]any{"trigger": "large_inflow", "actions": []any{r.smsAction()}})
		r.txn(r.a1, 10_000_000, "transfer_in", "", now)
		fs := r.pass()
		if len(fs) != 1 || fs[0].Outcomes[0].Outcome != journey.OutSuppressed ||
			!strings.HasPrefix(fs[0].Outcomes[0].Reason, "frequency_cap") {
			t.Fatalf("firings %+v", fs)
		}
		if n := r.count("SELECT COUNT(*) FROM outbox_messages WHERE source_kind = 'journey' AND source_id = $1", j.ID); n != 0 {
			t.Fatalf("%d messages queued over the cap", n)
		}
		if n := r.count("SELECT COUNT(*) FROM contact_log WHERE customer_id = $1", r.a1); n != 1 {
			t.Fatalf("%d contacts logged, want the campaign's one", n)
		}
		if n := r.count(`SELECT count FROM contact_suppressions WHERE source_kind = 'journey' AND source_id = $1
			AND reason LIKE 'frequency_cap%'`, j.ID); n != 1 {
			t.Fatalf("suppression tally %d", n)
		}
	})
}

// TestTwoFiringsOfOnePassShareTheCap: two journeys fire on one credit of a1
// in one pass; both messages were decided before the transaction, when a1
// had no contact, but the bank's cap of one marketing SMS a day lets one
// through: the second is decided again in the transaction and suppressed.
func TestTwoFiringsOfOnePassShareTheCap(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		j1 := r.create("大额一", map[string]any{"trigger": "large_inflow", "actions": []any{r.smsAction()}})
		j2 := r.create("大额二", map[string]any{"trigger": "large_inflow", "actions": []any{r.smsAction()}})
		r.txn(r.a1, 10_000_000, "transfer_in", "", r.b.Clock.Now())
		fs := r.pass()
		if len(fs) != 2 {
			t.Fatalf("firings %+v", fs)
		}
		outcomes := map[string]int{}
		for _, f := range fs {
			o := f.Outcomes[0]
			if o.Outcome == journey.OutSuppressed && !strings.HasPrefix(o.Reason, "frequency_cap") {
				t.Fatalf("suppressed for %q", o.Reason)
			}
			outcomes[o.Outcome]++
		}
		if outcomes[journey.OutQueued] != 1 || outcomes[journey.OutSuppressed] != 1 {
			t.Fatalf("outcomes %v", outcomes)
		}
		if n := r.count(`SELECT COUNT(*) FROM outbox_messages WHERE source_kind = 'journey' AND source_id IN ($1, $2)`,
			j1.ID, j2.ID); n != 1 {
			t.Fatalf("%d messages", n)
		}
		if n := r.count("SELECT COUNT(*) FROM contact_log WHERE customer_id = $1", r.a1); n != 1 {
			t.Fatalf("%d contacts", n)
		}
	})
}

// countingPolicy counts the engine's bulk decisions.
type countingPolicy struct {
	journey.Policy
	calls int
}

func (p *countingPolicy) DecideMany(ctx context.Context, b policy.Batch, ids []int64) ([]policy.Decision, error) {
	p.calls++
	return p.Policy.DecideMany(ctx, b, ids)
}

// TestOverlapDoesNotDecideAgain: with Overlap (PostgreSQL) every pass
// re-reads ids below its cursor; a credit that already fired is dropped
// before its message is prepared, so the policy is not asked again and
// nothing fires twice.
func TestOverlapDoesNotDecideAgain(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		d := r.b.JourneyDeps(journey.Options{Overlap: 1000})
		counting := &countingPolicy{Policy: d.Policy}
		d.Policy = counting
		r.eng = journey.NewEngine(d)
		r.create("大额", map[string]any{"trigger": "large_inflow", "actions": []any{r.smsAction()}})
		r.txn(r.a1, 10_000_000, "transfer_in", "", r.b.Clock.Now())
		if fs := r.pass(); len(fs) != 1 || counting.calls != 1 {
			t.Fatalf("%d firings, %d decisions", len(fs), counting.calls)
		}
		r.txn(r.a2, 100, "transfer_in", "", r.b.Clock.Now()) // moves the cursor; under the threshold
		for range 2 {
			if fs := r.pass(); len(fs) != 0 {
				t.Fatalf("the overlap fired again: %+v", fs)
			}
		}
		if counting.calls != 1 {
			t.Fatalf("%d decisions: the re-read credit was decided again", counting.calls)
		}
	})
}

// While the feeds notify the worker batch after batch, its passes start at
// least Gap apart: a notification during the gap waits for its end, and the
// rows it announced are evaluated then, not lost.
func TestPassesKeepTheirGap(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		r.create("大额入账", map[string]any{"trigger": "large_inflow", "actions": []any{r.smsAction()},
			"reentry_days": 0})
		const gap = 400 * time.Millisecond
		eng := r.b.JourneyEngine(journey.Options{Gap: gap, Tick: time.Hour})
		fired := make(chan time.Time, 4)
		eng.Fired = func(fs []journey.Firing) {
			for range fs {
				fired <- time.Now()
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { eng.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		time.Sleep(gap + 100*time.Millisecond) // the first pass's gap is over
		wait := func(what string) time.Time {
			t.Helper()
			select {
			case at := <-fired:
				return at
			case <-time.After(10 * time.Second):
				t.Fatalf("%s never fired", what)
				return time.Time{}
			}
		}
		now := r.b.Clock.Now()
		r.txn(r.a1, 10_000_000, "transfer_in", "", now)
		first := time.Now()
		eng.Notify(ctx, ingest.Committed{})
		wait("the first inflow")
		r.txn(r.a1, 20_000_000, "transfer_in", "", now)
		eng.Notify(ctx, ingest.Committed{})
		// The second pass begins no earlier than Gap after the first, which
		// began after the first notification.
		if at := wait("the second inflow"); at.Sub(first) < gap {
			t.Fatalf("the second pass fired %s after the first notification, inside the %s gap", at.Sub(first), gap)
		}
	})
}

// Rows that fire nothing move the cursor in memory only, for at most
// CursorEvery: they take no write transaction of their own. A chunk that
// fires writes its cursor with its firings, a stopped engine writes what it
// holds, and an engine started after a crash re-reads the held rows
// without firing any twice.
func TestRowsWithoutCandidatesHoldTheCursorInMemory(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := newRig(t, db)
		j := r.create("大额入账", map[string]any{"trigger": "large_inflow", "actions": []any{r.smsAction()},
			"reentry_days": 0})
		stored := func() int64 {
			t.Helper()
			pos, ok, err := db.Journeys().Cursor(ctx, journey.SourceTransactions)
			if err != nil || !ok {
				t.Fatalf("cursor: %d %v %v", pos, ok, err)
			}
			return pos
		}
		top := func() int64 {
			return int64(r.count("SELECT COALESCE(MAX(id), 0) FROM transactions"))
		}
		eng := r.b.JourneyEngine(journey.Options{CursorEvery: time.Minute})
		r.txn(r.a1, 100, "transfer_in", "", r.b.Clock.Now())
		if fs, err := eng.Pass(ctx); err != nil || len(fs) != 0 { // a restarted engine writes its first chunk
			t.Fatalf("%d firings, %v", len(fs), err)
		}
		written := stored()
		if written != top() {
			t.Fatalf("stored cursor %d after the first chunk, want %d", written, top())
		}
		r.txn(r.a2, 200, "transfer_in", "", r.b.Clock.Now())
		if fs, err := eng.Pass(ctx); err != nil || len(fs) != 0 {
			t.Fatalf("%d firings, %v", len(fs), err)
		}
		if got := stored(); got != written {
			t.Fatalf("a chunk without candidates wrote the cursor (%d → %d)", written, got)
		}
		// The held position is the engine's: the small credit is not read
		// again, and a large one fires and writes the cursor with it.
		r.txn(r.a1, 10_000_000, "transfer_in", "", r.b.Clock.Now())
		if fs, err := eng.Pass(ctx); err != nil || len(fs) != 1 {
			t.Fatalf("%d firings, %v; want the large credit's", len(fs), err)
		}
		if got := stored(); got != top() {
			t.Fatalf("stored cursor %d after a firing, want %d", got, top())
		}

		// Held for at most CursorEvery: the next pass after it writes, even
		// with nothing new to read.
		r.txn(r.a2, 300, "transfer_in", "", r.b.Clock.Now())
		held := top()
		if _, err := eng.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		if stored() == held {
			t.Fatal("written before CursorEvery passed")
		}
		r.b.Clock.Advance(time.Minute)
		if _, err := eng.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		if got := stored(); got != held {
			t.Fatalf("stored cursor %d a CursorEvery later, want %d", got, held)
		}

		// A crash loses what was held; the next engine reads those rows
		// again and fires none twice.
		r.txn(r.a1, 20_000_000, "transfer_in", "", r.b.Clock.Now())
		if fs, err := eng.Pass(ctx); err != nil || len(fs) != 1 {
			t.Fatalf("%d firings, %v", len(fs), err)
		}
		firedAt := stored()
		r.txn(r.a2, 400, "transfer_in", "", r.b.Clock.Now())
		if _, err := eng.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.Journeys().SetCursor(ctx, journey.SourceTransactions, firedAt-1, r.b.Clock.Now()); err != nil {
			t.Fatal(err) // as if the firing's chunk had been the last written, one row earlier
		}
		after := r.b.JourneyEngine(journey.Options{CursorEvery: time.Minute})
		if fs, err := after.Pass(ctx); err != nil || len(fs) != 0 {
			t.Fatalf("the re-read fired %d (%v)", len(fs), err)
		}
		if n := r.count("SELECT COUNT(*) FROM journey_firings WHERE journey_id = $1", j.ID); n != 2 {
			t.Fatalf("%d firings stored, want 2", n)
		}

		// Run writes the held position when it stops.
		r.txn(r.a2, 500, "transfer_in", "", r.b.Clock.Now())
		if _, err := after.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		if stored() == top() {
			t.Fatal("the small credit's position was written at once")
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { after.Run(runCtx); close(done) }()
		cancel()
		<-done
		if got := stored(); got != top() {
			t.Fatalf("stored cursor %d after Run stopped, want %d", got, top())
		}
	})
}
