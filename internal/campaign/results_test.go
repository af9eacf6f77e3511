package campaign_test

import (
	"math"
	"testing"

	"kehu/internal/campaign"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestResults builds purchases and delivery around a launched campaign and
// checks every number of the results: conversions inside the window count
// for both groups (treatment members who were suppressed included: the
// comparison is by assignment), those before the run, after the window or
// of another product do not.
func TestResults(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, 200, 0)
		c := r.launched(r.input(20)) // launched 2026-03-02 09:30 Shanghai; window 14 days
		ms := r.members(c.ID, 1)
		var queued, suppressed, control []int64
		for _, id := range r.ids {
			switch m := ms[id]; {
			case m.Group == campaign.Control:
				control = append(control, id)
			case m.Outcome == campaign.OutcomeQueued:
				queued = append(queued, id)
			case m.Outcome == campaign.OutcomeSuppressed:
				suppressed = append(suppressed, id)
			}
		}
		if len(queued) < 45 || len(control) < 10 || len(suppressed) < 3 {
			t.Fatalf("weak data: %d queued, %d control, %d suppressed", len(queued), len(control), len(suppressed))
		}
		n := 0
		buy := func(customer, product int64, day string, holding bool) {
			n++
			sealed, index, err := r.b.DB.SealAccountNo(testkit.AccountNo(5000 + n))
			if err != nil {
				t.Fatal(err)
			}
			var account int64
			opened := day
			if holding {
				opened = "2025-01-01" // a wealth account opened long ago; the holding is the purchase
			}
			r.scanID(`INSERT INTO accounts (customer_id, product_id, account_no, account_no_bidx, org_id, opened_on)
				VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, &account, customer, product, sealed, index, r.b.OutletA.ID, opened)
			if holding {
				r.exec(`INSERT INTO holdings (customer_id, account_id, product_id, amount, cost, acquired_on)
					VALUES ($1, $2, $3, 5000000, 5000000, $4)`, customer, account, product, day)
			}
		}
		for _, id := range queued[:30] {
			buy(id, r.wealth, "2026-03-05", true)
		}
		for _, id := range suppressed[:2] {
			buy(id, r.wealth, "2026-03-03", false) // an account of the product opened: a purchase too
		}
		for _, id := range control[:5] {
			buy(id, r.wealth, "2026-03-15", true) // the window's last day
		}
		for _, id := range queued[30:33] {
			buy(id, r.wealth, "2026-03-01", true) // before the run
		}
		for _, id := range queued[33:36] {
			buy(id, r.wealth, "2026-03-16", true) // after the window
		}
		for _, id := range queued[36:40] {
			buy(id, r.deposit, "2026-03-04", false) // another product
		}
		sent := queued[:20]
		for i, id := range sent {
			q := `UPDATE outbox_messages SET status = 'delivered', sent_at = $1, delivered_at = $1 WHERE customer_id = $2 AND source_id = $3`
			if i < 8 {
				q = `UPDATE outbox_messages SET status = 'delivered', sent_at = $1, delivered_at = $1, opened_at = $1 WHERE customer_id = $2 AND source_id = $3`
			}
			if i < 3 {
				q = `UPDATE outbox_messages SET status = 'delivered', sent_at = $1, delivered_at = $1, opened_at = $1, clicked_at = $1 WHERE customer_id = $2 AND source_id = $3`
			}
			r.exec(q, r.b.Clock.Now(), id, c.ID)
		}
		r.exec(`UPDATE outbox_messages SET status = 'failed', failed_at = $1 WHERE customer_id IN ($2, $3) AND source_id = $4`,
			r.b.Clock.Now(), queued[40], queued[41], c.ID)

		res, err := r.svc.Results(r.b.As("hq_marketing"), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := res.Total
		nT, nC := int64(len(r.ids)-len(control)), int64(len(control))
		if got.Treatment != nT || got.Control != nC || got.Audience != int64(len(r.ids)) {
			t.Errorf("groups %d/%d, want %d/%d", got.Treatment, got.Control, nT, nC)
		}
		if got.Sent != 20 || got.Delivered != 20 || got.Opened != 8 || got.Clicked != 3 || got.Failed != 2 {
			t.Errorf("delivery sent %d delivered %d opened %d clicked %d failed %d", got.Sent, got.Delivered, got.Opened,
				got.Clicked, got.Failed)
		}
		if got.ConvertedTreatment != 32 || got.ConvertedControl != 5 {
			t.Errorf("converted %d/%d, want 32/5", got.ConvertedTreatment, got.ConvertedControl)
		}
		rT, rC := 32/float64(nT), 5/float64(nC)
		want := campaign.DifferenceCI(32, nT, 5, nC)
		if !near(got.RateTreatment, rT) || !near(got.RateControl, rC) || got.Lift != want || !near(got.Lift.Difference, rT-rC) {
			t.Errorf("rates %.4f/%.4f lift %+v, want %.4f/%.4f %+v", got.RateTreatment, got.RateControl, got.Lift, rT, rC, want)
		}
		incremental := (rT - rC) * float64(nT)
		value := int64(math.Round(incremental * 20_000))
		if got.Cost != 100 || got.Value != 32*20_000 || got.IncrementalValue != value || got.ROIBasis != "incremental" ||
			got.ROI == nil || !near(*got.ROI, float64(value-100)/100) {
			t.Errorf("economics cost %d value %d incremental %d roi %v (%s); want 100, %d, %d", got.Cost, got.Value,
				got.IncrementalValue, got.ROI, got.ROIBasis, 32*20_000, value)
		}
		if len(res.Runs) != 1 || res.Runs[0].Numbers.ConvertedTreatment != 32 {
			t.Errorf("per run: %+v", res.Runs)
		}
	})
}
