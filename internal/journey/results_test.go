package journey_test

import (
	"testing"
	"time"

	"kehu/internal/journey"
	"kehu/internal/kehu"
	"kehu/internal/lift"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// The holdout is a fixed function of (journey, customer), about pct percent
// of customers, nested in pct, and drawn apart for each journey.
func TestJourneyHoldout(t *testing.T) {
	in, shared := 0, 0
	for c := int64(1); c <= 10000; c++ {
		a := journey.InControl(3, c, 20)
		if a != journey.InControl(3, c, 20) || (a && !journey.InControl(3, c, 30)) || journey.InControl(3, c, 0) {
			t.Fatalf("customer %d: not a fixed, nested function", c)
		}
		if a {
			in++
			if journey.InControl(4, c, 20) {
				shared++
			}
		}
	}
	if in < 1800 || in > 2200 {
		t.Errorf("%d of 10000 held out at 20%%", in)
	}
	if shared > in/3 {
		t.Errorf("journeys 3 and 4 share %d of %d held out", shared, in)
	}
}

// TestControlGroupResults: a customer of the control group fires (outcome
// control for every action) but gets no message and no task; the results
// count firings and customers per group, suppressions by reason, the
// outbox's delivery, conversions within the window per group, the lift
// with its Newcombe interval, cost, value and ROI, over a period.
func TestControlGroupResults(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		j := r.create("大额入账对照", map[string]any{"trigger": "large_inflow", "reentry_days": 0, "control_pct": 50,
			"product_id": 3, "conversion_days": 10, "cost_per_message": 5, "value_per_conversion": 10000,
			"actions": []any{r.smsAction(), map[string]any{"kind": "task", "task_kind": "call", "title": "回访大额入账"}}})
		if j.Definition.ControlPct != 50 || j.Definition.Window() != 10 {
			t.Fatalf("definition %+v", j.Definition)
		}
		now := r.b.Clock.Now()
		today := kehu.DateOf(now.In(kehu.LoadShanghai()))
		var control, treatment []int64
		var fired []journey.Firing
		for round := range 2 { // two credits each: two firings, one customer per group
			for _, k := range []string{"a1", "a2", "a3", "b1", "corp_a"} {
				r.txn(r.b.Customers[k].ID, 20_000_000, "transfer_in", "", now.Add(time.Duration(round)*time.Minute))
			}
			fs := r.pass()
			if len(fs) != 5 {
				t.Fatalf("round %d: %d firings", round, len(fs))
			}
			fired = append(fired, fs...)
		}
		suppressed := map[string]int64{}
		var queued int64
		for i, f := range fired {
			held := journey.InControl(j.ID, f.CustomerID, 50)
			if (f.Group == journey.Control) != held || f.FiredOn != today {
				t.Errorf("firing %+v: held out %v, day %s", f, held, today)
			}
			for _, o := range f.Outcomes {
				if (o.Outcome == journey.OutControl) != held {
					t.Errorf("customer %d (control %v): %+v", f.CustomerID, held, f.Outcomes)
				}
				switch o.Outcome {
				case journey.OutSuppressed:
					suppressed[o.Reason]++
				case journey.OutQueued, journey.OutDeferred:
					queued++
				}
			}
			if i < 5 && held {
				control = append(control, f.CustomerID)
			} else if i < 5 {
				treatment = append(treatment, f.CustomerID)
			}
		}
		if len(control) == 0 || len(treatment) < 2 {
			t.Fatalf("control %v, treatment %v: the test needs both groups", control, treatment)
		}
		for _, id := range control {
			if n := r.count(`SELECT COUNT(*) FROM outbox_messages WHERE customer_id = $1`, id); n != 0 {
				t.Errorf("control customer %d got %d messages", id, n)
			}
			if n := r.count(`SELECT COUNT(*) FROM tasks WHERE customer_id = $1 AND source_kind = 'journey'`, id); n != 0 {
				t.Errorf("control customer %d got %d tasks", id, n)
			}
		}
		if queued == 0 {
			t.Fatal("no message was queued (a1 has SMS consent)")
		}
		// The gateway took every message; one was delivered.
		r.exec(`UPDATE outbox_messages SET status = 'sent', sent_at = $1 WHERE source_kind = 'journey' AND source_id = $2`,
			now, j.ID)
		r.exec(`UPDATE outbox_messages SET status = 'delivered', delivered_at = $1 WHERE id = (SELECT MIN(id)
			FROM outbox_messages WHERE source_kind = 'journey' AND source_id = $2)`, now, j.ID)
		// Conversions: a treatment and a control customer buy within the
		// 10-day window; another treatment customer buys after it.
		buy := func(customerID int64, days int) {
			r.exec(`INSERT INTO holdings (customer_id, account_id, product_id, amount, cost, acquired_on)
				VALUES ($1, 3, 3, 100, 100, $2)`, customerID, kehu.DateOf(today.Time().AddDate(0, 0, days)))
		}
		buy(treatment[0], 2)
		buy(control[0], 9)
		buy(treatment[1], 10)

		res, err := r.svc.Results(r.b.As("hq_marketing"), j.ID)
		if err != nil {
			t.Fatal(err)
		}
		nT, nC := int64(len(treatment)), int64(len(control))
		if res.Fired != 10 || res.FiredControl != 2*nC || res.FiredTreatment != 2*nT || res.Customers != 5 ||
			res.Treatment != nT || res.Control != nC || res.ControlPct != 50 || res.ConversionDays != 10 {
			t.Fatalf("groups %+v", res)
		}
		var controlActions int64
		for _, c := range res.Actions {
			if c.Outcome == journey.OutControl {
				controlActions += c.Count
			}
		}
		if controlActions != 4*nC {
			t.Errorf("control actions %d, want %d", controlActions, 4*nC)
		}
		var total int64
		for reason, n := range suppressed {
			total += n
			if res.Suppressed[reason] != n {
				t.Errorf("suppressed %s: %d, want %d", reason, res.Suppressed[reason], n)
			}
		}
		if res.SuppressedTotal != total || res.Queued+res.Deferred != queued || res.Tasks != 2*nT {
			t.Errorf("actions %+v", res)
		}
		if res.Sent != queued || res.Delivered != 1 || res.Opened != 0 || res.Failed != 0 {
			t.Errorf("delivery: sent %d delivered %d, want %d and 1", res.Sent, res.Delivered, queued)
		}
		if res.ConvertedTreatment != 1 || res.ConvertedControl != 1 || res.Converted == nil || *res.Converted != 2 ||
			res.ProductID == nil || *res.ProductID != 3 {
			t.Fatalf("conversions %+v", res)
		}
		want := lift.DifferenceCI(1, nT, 1, nC)
		if res.Lift != want || res.RateTreatment != 1/float64(nT) || res.RateControl != 1/float64(nC) {
			t.Errorf("lift %+v, want %+v", res.Lift, want)
		}
		if res.Cost != queued*5 || res.Value != 10000 || res.ROIBasis != lift.BasisIncremental || res.ROI == nil {
			t.Errorf("economics %+v", res)
		}

		// A period: the day of the firings holds them all, the next none.
		_, day, err := r.svc.ResultsIn(r.b.As("hq_marketing"), j.ID, journey.Period{From: today, To: today})
		if err != nil || day.Fired != 10 || day.Sent != queued || day.ConvertedControl != 1 {
			t.Errorf("today: %+v %v", day, err)
		}
		tomorrow := kehu.DateOf(today.Time().AddDate(0, 0, 1))
		_, next, err := r.svc.ResultsIn(r.b.As("hq_marketing"), j.ID, journey.Period{From: tomorrow})
		if err != nil || next.Fired != 0 || next.Sent != 0 || len(next.Actions) != 0 || next.ConvertedTreatment != 0 ||
			next.Lift.Defined || next.From != tomorrow {
			t.Errorf("tomorrow: %+v %v", next, err)
		}
		if _, _, err := r.svc.ResultsIn(r.b.As("hq_marketing"), j.ID, journey.Period{From: tomorrow, To: today}); kehu.ErrorCode(err) != kehu.EINVALID {
			t.Errorf("to before from: %v", err)
		}
		// Without a control group, every firing acts.
		j2 := r.create("无对照", map[string]any{"trigger": "large_inflow", "reentry_days": 0, "actions": []any{r.smsAction()}})
		r.txn(r.a1, 20_000_000, "transfer_in", "", now)
		for _, f := range r.pass() {
			if f.JourneyID == j2.ID && (f.Group != journey.Treatment || f.Outcomes[0].Outcome == journey.OutControl) {
				t.Errorf("no control group: %+v", f)
			}
		}
	})
}
