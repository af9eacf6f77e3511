package campaign_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"kehu/internal/campaign"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// A resume withdraws the held messages whose own send time is more than
// the campaign's HoldHours ago (failed "expired: …", their members
// suppressed with reason expired, counted in the results and the audit
// record) and releases the rest.
func TestResumeExpiresStaleHeldMessages(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, 300, 40)
		mk, ctx := r.b.As("hq_marketing"), context.Background()
		in := r.input(0)
		in.ThrottlePerMinute = 60 // one a second
		in.HoldHours = 1
		c := r.approved(in)
		if c.HoldHours != 1 {
			t.Fatalf("hold_hours %d, want 1", c.HoldHours)
		}
		r.stopped(c)
		before := r.queuedOf(c.ID)
		if len(before) < 20 {
			t.Fatalf("%d messages queued before the pause", len(before))
		}
		if _, err := r.svc.Pause(mk, c.ID); err != nil {
			t.Fatal(err)
		}
		// Resume just over an hour after message 10's own time: 0–10 are
		// stale, 11 (a second later) is not.
		r.b.Clock.Advance(before[10].due.Add(time.Hour + time.Millisecond).Sub(r.b.Clock.Now()))
		p, err := r.svc.Resume(mk, c.ID)
		if err != nil || p.Status != campaign.Scheduled {
			t.Fatalf("resume: %s %v", p.Status, err)
		}
		if n := r.count(`SELECT COUNT(*) FROM outbox_messages WHERE source_id = $1 AND status = 'failed'
			AND last_error LIKE 'expired: held%'`, c.ID); n != 11 {
			t.Errorf("%d messages expired, want 11", n)
		}
		for i, m := range before {
			var status string
			err := r.b.DB.InTx(ctx, func(tx *sql.Tx) error {
				return tx.QueryRow("SELECT status FROM outbox_messages WHERE id = $1", m.id).Scan(&status)
			})
			if want := map[bool]string{true: "failed", false: "queued"}[i <= 10]; err != nil || status != want {
				t.Fatalf("message %d (own time %s) is %s, want %s (%v)", i, m.due, status, want, err)
			}
		}
		if n := r.count(`SELECT COUNT(*) FROM campaign_members WHERE campaign_id = $1 AND outcome = 'suppressed'
			AND reason = 'expired'`, c.ID); n != 11 {
			t.Errorf("%d members suppressed as expired, want 11", n)
		}
		res, err := r.svc.Results(mk, c.ID)
		if err != nil || res.Total.Suppressed[campaign.ReasonExpired] != 11 {
			t.Errorf("results count %d expired (%v), want 11", res.Total.Suppressed[campaign.ReasonExpired], err)
		}
		// The send monitor shows why.
		m, err := db.Outbox().GetMessage(ctx, before[0].id, customer.ScopeFilter{})
		if err != nil || m.Status != "failed" || !strings.Contains(m.LastError, "more than 1 h") || m.Held {
			t.Errorf("monitor reads %s %q held=%v (%v)", m.Status, m.LastError, m.Held, err)
		}
		if n := r.count(`SELECT COUNT(*) FROM audit_log WHERE object = $1 AND action = 'campaign.resume'
			AND CAST(changes AS TEXT) LIKE '%"expired"%' AND CAST(changes AS TEXT) LIKE '%"11"%'`, "campaign:"+itoa(c.ID)); n != 1 {
			t.Errorf("%d campaign.resume records counting 11 expired, want 1", n)
		}
		if n := r.count("SELECT COUNT(*) FROM outbox_messages WHERE held_due IS NOT NULL"); n != 0 {
			t.Errorf("%d messages still parked", n)
		}
	})
}

// A moved slot honours the customer's own contact hours as well as the
// bank's: a customer who asked for 19:00–21:00 gets the message at 19:00,
// without moving the others' throttle slots.
func TestResumeHonoursCustomerHours(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, 300, 40)
		mk := r.b.As("hq_marketing")
		in := r.input(0)
		in.ThrottlePerMinute = 60
		c := r.approved(in)
		r.stopped(c)
		before := r.queuedOf(c.ID)
		if _, err := r.svc.Pause(mk, c.ID); err != nil {
			t.Fatal(err)
		}
		var evening int64
		r.scanID("SELECT customer_id FROM outbox_messages WHERE id = $1", &evening, before[5].id)
		// The customer told the branch while the campaign was paused.
		r.exec(`INSERT INTO customer_preferences (customer_id, contact_from, contact_to, contact_days, do_not_call, updated_at)
			VALUES ($1, '19:00', '21:00', '', FALSE, $2) ON CONFLICT (customer_id) DO UPDATE
			SET contact_from = '19:00', contact_to = '21:00'`, evening, r.b.Clock.Now())
		r.b.Clock.Advance(2 * time.Hour) // 09:30 + 2 h: 11:30 in Shanghai
		resumed := r.b.Clock.Now().UTC()
		if _, err := r.svc.Resume(mk, c.ID); err != nil {
			t.Fatal(err)
		}
		sh := kehu.LoadShanghai()
		l := resumed.In(sh)
		seven := time.Date(l.Year(), l.Month(), l.Day(), 19, 0, 0, 0, sh).UTC()
		var at time.Time
		r.scanTime("SELECT next_attempt_at FROM outbox_messages WHERE id = $1", before[5].id, &at)
		if !at.Equal(seven) {
			t.Errorf("the evening customer's message is due %s, want %s", at, seven)
		}
		for _, i := range []int{4, 6} {
			r.scanTime("SELECT next_attempt_at FROM outbox_messages WHERE id = $1", before[i].id, &at)
			if want := resumed.Add(time.Duration(i) * time.Second); !at.Equal(want) {
				t.Errorf("message %d due %s, want its throttle slot %s", i, at, want)
			}
		}
	})
}

// A completed campaign whose throttled backlog is still queued can be
// paused (the backlog held) and resumed (completed again, the backlog
// released); once nothing is queued, pausing it is a conflict.
func TestPauseCompletedCampaignBacklog(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, 300, 400)
		mk, ctx := r.b.As("hq_marketing"), context.Background()
		in := r.input(0)
		in.ThrottlePerMinute = 60
		c := r.launched(in)
		queued := int64(len(r.queuedOf(c.ID)))
		if c.Status != campaign.Completed || queued < 100 || c.QueuedMessages != queued {
			t.Fatalf("launched: %s, %d queued (read %d)", c.Status, queued, c.QueuedMessages)
		}
		p, err := r.svc.Pause(mk, c.ID)
		if err != nil || p.Status != campaign.Paused || p.HeldMessages != queued {
			t.Fatalf("pause a completed campaign: %s held %d of %d (%v)", p.Status, p.HeldMessages, queued, err)
		}
		far := r.b.Clock.Now().Add(time.Hour)
		if got, err := db.Outbox().Claim(ctx, msgtemplate.SMS, "gw", far, far.Add(time.Minute), 1000); err != nil || len(got) != 0 {
			t.Fatalf("claimed %d held messages (%v)", len(got), err)
		}
		r.b.Clock.Advance(10 * time.Minute)
		p, err = r.svc.Resume(mk, c.ID)
		if err != nil || p.Status != campaign.Completed || p.QueuedMessages != queued {
			t.Fatalf("resume: %s, %d queued (%v); want completed, %d", p.Status, p.QueuedMessages, err, queued)
		}
		if n, _ := r.svc.RunDue(ctx); n != 0 {
			t.Error("a resumed completed campaign ran again")
		}
		r.exec("UPDATE outbox_messages SET status = 'sent', sent_at = $1 WHERE source_id = $2", r.b.Clock.Now(), c.ID)
		_, err = r.svc.Pause(mk, c.ID)
		var ke *kehu.Error
		if !errors.As(err, &ke) || ke.Code != kehu.ECONFLICT || !strings.Contains(ke.Message, "no queued messages") {
			t.Errorf("pausing a completed campaign with nothing queued: %v", err)
		}
		got := r.actions("campaign:" + itoa(c.ID))
		if n := strings.Count(strings.Join(got, " "), "campaign.pause"); n != 1 {
			t.Errorf("actions %v: want one campaign.pause", got)
		}
	})
}
