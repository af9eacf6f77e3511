package campaign_test

import (
	"context"
	"database/sql"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kehu/internal/campaign"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// stopped launches c and kills its run part-way (as TestResumeAfterKill),
// leaving it running with messages queued.
func (r *rig) stopped(c campaign.Campaign) {
	r.t.Helper()
	if _, err := r.svc.Launch(r.b.As("hq_marketing"), c.ID); err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	clock := &killingClock{base: r.b.Clock, at: 10, cancel: cancel}
	if _, err := r.b.CampaignServiceAt(clock, 40, nil).RunDue(ctx); err == nil {
		r.t.Fatal("the killed launch finished")
	}
	if cur, _ := r.svc.Get(r.b.As("hq_marketing"), c.ID); cur.Status != campaign.Running {
		r.t.Fatalf("after the kill: %s", cur.Status)
	}
}

// message is a queued message's id and due time.
type message struct {
	id  int64
	due time.Time
}

// queuedOf lists c's queued messages by due time, then id.
func (r *rig) queuedOf(id int64) []message {
	r.t.Helper()
	var out []message
	err := r.b.DB.InTx(context.Background(), func(tx *sql.Tx) error {
		rows, err := tx.Query(`SELECT id, next_attempt_at FROM outbox_messages WHERE source_kind = 'campaign'
			AND source_id = $1 AND status = 'queued' ORDER BY next_attempt_at, id`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m message
			if err := rows.Scan(&m.id, &m.due); err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

func TestPauseHoldsQueuedMessages(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, 300, 40)
		mk, ctx, ob := r.b.As("hq_marketing"), context.Background(), db.Outbox()
		in := r.input(0)
		in.ThrottlePerMinute = 60 // one a second from the run's start
		c := r.approved(in)
		r.stopped(c)
		before := r.queuedOf(c.ID)
		if len(before) < 10 {
			t.Fatalf("%d messages queued before the pause", len(before))
		}
		late := r.b.Clock.Now().Add(time.Hour) // every throttle slot has come
		// The dispatcher has three in hand when the pause comes.
		inHand, err := ob.Claim(ctx, msgtemplate.SMS, "gw", late, late.Add(2*time.Minute), 3)
		if err != nil || len(inHand) != 3 {
			t.Fatalf("claim: %d %v", len(inHand), err)
		}
		p, err := r.svc.Pause(mk, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(len(before) - 3); p.HeldMessages != want {
			t.Errorf("held %d, want %d (queued %d less the 3 being sent)", p.HeldMessages, want, len(before))
		}
		// The three finish: one sent, one failed for good, one to retry —
		// which the hold now keeps.
		err = ob.Finish(ctx, "gw", []outbox.Outcome{{ID: inHand[0].ID, Status: outbox.Sent, Attempted: true},
			{ID: inHand[1].ID, Status: outbox.Failed, Attempted: true, Error: "refused"},
			{ID: inHand[2].ID, Status: outbox.Queued, Attempted: true, Next: late.Add(time.Minute), Error: "busy"}}, late)
		if err != nil {
			t.Fatal(err)
		}
		// A batch that read the campaign before the pause queues after it.
		q := outbox.NewQueue(ob, r.b.Clock)
		if _, err := q.Enqueue(ctx, []outbox.New{{SourceKind: "campaign", SourceID: c.ID, CustomerID: r.ids[len(r.ids)-1],
			Channel: msgtemplate.SMS, DedupKey: "straggler", TemplateID: r.template, TemplateVersion: 1,
			NotBefore: late.Add(2 * time.Minute)}}); err != nil {
			t.Fatal(err)
		}
		p, _ = r.svc.Get(mk, c.ID)
		if want := int64(len(before) - 3 + 2); p.HeldMessages != want {
			t.Errorf("held %d after the retry and the straggler, want %d", p.HeldMessages, want)
		}
		for _, at := range []time.Time{late, late.Add(72 * time.Hour)} {
			if got, err := ob.Claim(ctx, msgtemplate.SMS, "gw", at, at.Add(time.Minute), 1000); err != nil || len(got) != 0 {
				t.Fatalf("claimed %d held messages at %s (%v)", len(got), at, err)
			}
		}
		if n, err := ob.Expire(ctx, late.Add(96*time.Hour), "expired", late.Add(96*time.Hour)); err != nil || n != 0 {
			t.Errorf("expired %d held messages (%v)", n, err)
		}
		// The monitor shows a held message with its own time.
		m, err := ob.GetMessage(ctx, before[5].id, customer.ScopeFilter{})
		if err != nil || !m.Held || !m.NextAttemptAt.Equal(before[5].due) {
			t.Errorf("held message reads %+v (%v); want held, due %s", m, err, before[5].due)
		}
		if n, _ := r.svc.RunDue(ctx); n != 0 {
			t.Error("a paused campaign ran")
		}

		// Resume after two hours: every slot passed; the backlog goes in
		// its order, one a second from the resume.
		r.b.Clock.Advance(2 * time.Hour)
		resumed := r.b.Clock.Now().UTC()
		if c, err := r.svc.Resume(mk, c.ID); err != nil || c.HeldMessages != 0 {
			t.Fatalf("resume: %+v %v", c, err)
		}
		after := r.queuedOf(c.ID)
		if len(after) != len(before)-3+2 {
			t.Fatalf("%d queued after the resume, want %d", len(after), len(before)-3+2)
		}
		for i, m := range after {
			if want := resumed.Add(time.Duration(i) * time.Second); !m.due.Equal(want) {
				t.Fatalf("message %d of the backlog due %s, want %s", i, m.due, want)
			}
		}
		var order, want []int64
		for _, m := range after {
			order = append(order, m.id)
		}
		for _, m := range before[3:] {
			want = append(want, m.id)
		}
		if !slices.Equal(order[:len(want)], want) {
			t.Errorf("released out of order:\n got %v\nwant %v", order[:len(want)], want)
		}
		got, err := ob.Claim(ctx, msgtemplate.SMS, "gw", resumed.Add(time.Second), resumed.Add(time.Minute), 1000)
		if err != nil || len(got) != 2 {
			t.Errorf("claimed %d just after the resume, want the 2 due by then (%v)", len(got), err)
		}
		if n := r.count("SELECT COUNT(*) FROM outbox_messages WHERE source_id = $1 AND attempts > 1", c.ID); n != 0 {
			t.Errorf("%d messages claimed twice", n)
		}
		// The run goes on after its checkpoint; its new messages are not held.
		r.b.Clock.Advance(3 * time.Minute)
		if n, err := r.svc.RunDue(ctx); n != 1 || err != nil {
			t.Fatalf("run after resume: %d %v", n, err)
		}
		if n := r.count("SELECT COUNT(*) FROM outbox_messages WHERE held_due IS NOT NULL"); n != 0 {
			t.Errorf("%d messages still parked", n)
		}
	})
}

// A resume inside the bank's quiet hours (21:00–08:00) sends the backlog
// from 08:00; cancelling a paused campaign withdraws what it held.
func TestResumeAtNightAndCancelHeld(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, 300, 40)
		mk, ctx := r.b.As("hq_marketing"), context.Background()
		in := r.input(0)
		in.ThrottlePerMinute = 120
		c := r.approved(in)
		r.stopped(c)
		n := len(r.queuedOf(c.ID))
		if _, err := r.svc.Pause(mk, c.ID); err != nil {
			t.Fatal(err)
		}
		r.b.Clock.Advance(12 * time.Hour) // 09:30 + 12 h: 21:30 in Shanghai
		if _, err := r.svc.Resume(mk, c.ID); err != nil {
			t.Fatal(err)
		}
		after := r.queuedOf(c.ID)
		sh := kehu.LoadShanghai()
		l := r.b.Clock.Now().In(sh)
		eight := time.Date(l.Year(), l.Month(), l.Day()+1, 8, 0, 0, 0, sh).UTC()
		if len(after) != n || !after[0].due.Equal(eight) || !after[n-1].due.Equal(eight.Add(time.Duration(n-1)*500*time.Millisecond)) {
			t.Errorf("night resume: %d messages from %s to %s; want %d from %s, half a second apart", len(after),
				after[0].due, after[len(after)-1].due, n, eight)
		}

		if _, err := r.svc.Cancel(mk, c.ID, "夜间测试结束"); err != nil {
			t.Fatal(err)
		}
		in.Name = "暂停后取消"
		c2 := r.approved(in)
		r.stopped(c2)
		n2 := len(r.queuedOf(c2.ID))
		if _, err := r.svc.Pause(mk, c2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.Cancel(mk, c2.ID, "额度售罄"); err != nil {
			t.Fatal(err)
		}
		if got := r.count(`SELECT COUNT(*) FROM outbox_messages WHERE source_id = $1 AND status = 'failed'
			AND held_due IS NULL AND last_error LIKE 'cancelled%'`, c2.ID); got != int64(n2) {
			t.Errorf("%d held messages withdrawn, want %d", got, n2)
		}
		if got := r.count("SELECT COUNT(*) FROM outbox_holds WHERE source_id = $1", c2.ID); got != 0 {
			t.Errorf("the cancelled campaign's hold remains")
		}
		_ = ctx
	})
}

// The dispatcher keeps claiming while the campaign is paused: every
// message is sent once or held, and no claim that starts after the pause
// returned gets one.
func TestPauseRacesTheDispatcher(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, 300, 40)
		mk, ctx, ob := r.b.As("hq_marketing"), context.Background(), db.Outbox()
		c := r.approved(r.input(0))
		r.stopped(c)
		total := len(r.queuedOf(c.ID))
		late := r.b.Clock.Now().Add(time.Hour)
		var paused atomic.Bool
		var wg sync.WaitGroup
		stop := make(chan struct{})
		errs := make(chan string, 100)
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				after := paused.Load()
				got, err := ob.Claim(ctx, msgtemplate.SMS, "gw", late, late.Add(time.Minute), 2)
				if err != nil {
					errs <- err.Error()
					return
				}
				if after && len(got) > 0 {
					errs <- "a claim after the pause got messages"
				}
				var done []outbox.Outcome
				for _, m := range got {
					done = append(done, outbox.Outcome{ID: m.ID, Status: outbox.Sent, Attempted: true})
				}
				if err := ob.Finish(ctx, "gw", done, late); err != nil {
					errs <- err.Error()
					return
				}
			}
		})
		time.Sleep(20 * time.Millisecond)
		p, err := r.svc.Pause(mk, c.ID)
		paused.Store(true)
		time.Sleep(20 * time.Millisecond)
		close(stop)
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		if err != nil {
			t.Fatal(err)
		}
		sent := r.count("SELECT COUNT(*) FROM outbox_messages WHERE source_id = $1 AND status = 'sent' AND attempts = 1", c.ID)
		held := r.count("SELECT COUNT(*) FROM outbox_messages WHERE source_id = $1 AND status = 'queued' AND held_due IS NOT NULL AND attempts = 0", c.ID)
		if sent+held != int64(total) || held != p.HeldMessages {
			t.Errorf("%d sent once + %d held, of %d (the pause counted %d held)", sent, held, total, p.HeldMessages)
		}
	})
}
