package campaign_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"kehu/internal/campaign"
	"kehu/internal/kehu"
	"kehu/internal/policy"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

func TestControlGroupDeterministic(t *testing.T) {
	for _, pct := range []int{0, 5, 10, 50} {
		in := 0
		for id := int64(1); id <= 100_000; id++ {
			a, b := campaign.InControl(42, id, pct), campaign.InControl(42, id, pct)
			if a != b {
				t.Fatalf("customer %d: not a function of (seed, id)", id)
			}
			if a {
				in++
			}
		}
		// 100,000 draws: the share is within 0.5 percentage points.
		if got := float64(in) / 1000; got < float64(pct)-0.5 || got > float64(pct)+0.5 {
			t.Errorf("control %d%%: %.2f%% held out", pct, got)
		}
	}
	same := 0
	for id := int64(1); id <= 10_000; id++ {
		if campaign.InControl(1, id, 10) && campaign.InControl(2, id, 10) {
			same++
		}
	}
	// Independent 10% groups overlap in about 1% of customers.
	if same < 50 || same > 150 {
		t.Errorf("two seeds share %d of 10,000 customers' holdout; want about 100", same)
	}
}

func TestLaunchThroughPolicyAndOutbox(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, 300, 64)
		// What the policy says before the campaign contacts anyone.
		dec, err := r.b.PolicyService().DecideMany(context.Background(), policy.Batch{Channel: "sms",
			Purpose: policy.PurposeMarketing, ProductID: r.wealth}, r.ids)
		if err != nil {
			t.Fatal(err)
		}
		c := r.launched(r.input(20))
		if c.Status != campaign.Completed {
			t.Fatalf("status %s, want completed", c.Status)
		}
		ms := r.members(c.ID, 1)
		if len(ms) != len(r.ids) {
			t.Fatalf("%d members, audience %d", len(ms), len(r.ids))
		}
		want := map[string]int64{}
		var control, queued int64
		for i, id := range r.ids {
			m := ms[id]
			if campaign.InControl(c.Seed, id, 20) {
				control++
				if m.Group != campaign.Control || m.Outcome != campaign.OutcomeHeldOut || m.MessageID != nil {
					t.Errorf("customer %d: %+v, want held out", id, m)
				}
				continue
			}
			d := dec[i]
			switch {
			case m.Group != campaign.Treatment:
				t.Errorf("customer %d in %s", id, m.Group)
			case d.Outcome == policy.Suppress:
				want[d.Reason()]++
				if m.Outcome != campaign.OutcomeSuppressed || m.Reason != d.Reason() || m.MessageID != nil {
					t.Errorf("customer %d: %+v, want suppressed %s", id, m, d.Reason())
				}
			default:
				queued++
				if m.Outcome != campaign.OutcomeQueued || m.MessageID == nil || m.MessageStatus != "queued" {
					t.Errorf("customer %d: %+v, want queued", id, m)
				}
			}
		}
		if control < 30 || control > 90 {
			t.Errorf("control group %d of %d, want about 20%%", control, len(r.ids))
		}
		if len(want) < 3 || queued == 0 {
			t.Fatalf("weak data: suppressions %v, queued %d", want, queued)
		}
		res, err := r.svc.Results(r.b.As("hq_marketing"), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		tot := res.Total
		if tot.Audience != int64(len(r.ids)) || tot.Control != control || tot.Queued != queued || len(tot.Suppressed) != len(want) {
			t.Errorf("results %+v; want audience %d control %d queued %d suppressed %v", tot, len(r.ids), control, queued, want)
		}
		for k, v := range want {
			if tot.Suppressed[k] != v {
				t.Errorf("suppressed %s: %d, want %d", k, tot.Suppressed[k], v)
			}
		}
		// The policy's own tally and contact log agree, and the outbox holds
		// exactly one message per queued member.
		tally, err := r.b.PolicyService().Suppressions(context.Background(), policy.SourceCampaign, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			if tally[k] != v {
				t.Errorf("stored tally %s: %d, want %d", k, tally[k], v)
			}
		}
		if n := r.count("SELECT COUNT(*) FROM outbox_messages WHERE source_kind = 'campaign' AND source_id = $1", c.ID); n != queued {
			t.Errorf("%d messages, want %d", n, queued)
		}
		if n := r.count("SELECT COUNT(*) FROM contact_log WHERE source_kind = 'campaign' AND source_id = $1", c.ID); n != queued {
			t.Errorf("%d contacts logged, want %d", n, queued)
		}
		// Launching again is a conflict and queues nothing.
		if _, err := r.svc.Launch(r.b.As("hq_marketing"), c.ID); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Errorf("second launch: %v", err)
		}
		if n, err := r.svc.RunDue(context.Background()); err != nil || n != 0 {
			t.Errorf("second RunDue ran %d: %v", n, err)
		}
		if got := r.actions("campaign:" + itoa(c.ID)); !contains(got, "campaign.run") {
			t.Errorf("audit %v: no campaign.run", got)
		}
	})
}

// killingClock cancels a context on its n-th reading, standing in for a
// process killed in the middle of a launch transaction: the outbox queue
// reads it inside the batch's transaction.
type killingClock struct {
	base   *testkit.Clock
	n      atomic.Int64
	at     int64
	cancel context.CancelFunc
}

func (k *killingClock) Now() time.Time {
	if k.n.Add(1) == k.at {
		k.cancel()
	}
	return k.base.Now()
}

func TestResumeAfterKill(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, 300, 40)
		c := r.approved(r.input(10))
		if _, err := r.svc.Launch(r.b.As("hq_marketing"), c.ID); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		// Readings: the claim, the status change, then two per batch (the
		// batch's time, and the outbox's inside the transaction): the 10th
		// is inside the fourth batch's transaction.
		clock := &killingClock{base: r.b.Clock, at: 10, cancel: cancel}
		dying := r.b.CampaignServiceAt(clock, 40, nil)
		if _, err := dying.RunDue(ctx); err == nil {
			t.Fatal("the killed launch finished")
		}
		runs, err := r.svc.Runs(r.b.As("hq_marketing"), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		done := runs[0].Checkpoint
		if runs[0].Status != campaign.RunRunning || done == 0 || done >= r.ids[len(r.ids)-1] {
			t.Fatalf("after the kill: %+v; want a running run stopped part-way", runs[0])
		}
		before := r.count("SELECT COUNT(*) FROM campaign_members WHERE campaign_id = $1", c.ID)
		if before != runs[0].Audience {
			t.Errorf("%d members committed, checkpoint counts %d", before, runs[0].Audience)
		}
		// Another server cannot take the run while its lease lasts; after
		// it, the run resumes after the checkpoint.
		if n, _ := r.svc.RunDue(context.Background()); n != 0 {
			t.Fatalf("a live run was taken over")
		}
		r.b.Clock.Advance(3 * time.Minute)
		if n, err := r.svc.RunDue(context.Background()); err != nil || n != 1 {
			t.Fatalf("resume: %d %v", n, err)
		}
		ms := r.members(c.ID, 1)
		if len(ms) != len(r.ids) {
			t.Errorf("%d members after resume, audience %d", len(ms), len(r.ids))
		}
		var queued int64
		for _, id := range r.ids {
			m, ok := ms[id]
			if !ok {
				t.Errorf("customer %d lost", id)
			}
			if (m.Group == campaign.Control) != campaign.InControl(c.Seed, id, 10) {
				t.Errorf("customer %d in %s after resume", id, m.Group)
			}
			if m.Outcome == campaign.OutcomeQueued {
				queued++
			}
		}
		if n := r.count(`SELECT COUNT(*) FROM (SELECT customer_id FROM outbox_messages WHERE source_kind = 'campaign'
			AND source_id = $1 GROUP BY customer_id HAVING COUNT(*) > 1) d`, c.ID); n != 0 {
			t.Errorf("%d customers messaged twice", n)
		}
		if n := r.count("SELECT COUNT(*) FROM outbox_messages WHERE source_kind = 'campaign' AND source_id = $1", c.ID); n != queued {
			t.Errorf("%d messages, %d members queued", n, queued)
		}
		if n := r.count("SELECT COUNT(*) FROM contact_log WHERE source_kind = 'campaign' AND source_id = $1", c.ID); n != queued {
			t.Errorf("%d contacts logged, %d members queued: a rolled-back batch left contacts", n, queued)
		}
		if cur, _ := r.svc.Get(r.b.As("hq_marketing"), c.ID); cur.Status != campaign.Completed {
			t.Errorf("status %s after resume", cur.Status)
		}
	})
}

func TestPauseResumeCancel(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, 60, 20)
		mk := r.b.As("hq_marketing")
		in := r.input(0)
		in.ThrottlePerMinute = 10
		c := r.approved(in)
		if _, err := r.svc.Launch(mk, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.Pause(mk, c.ID); err != nil {
			t.Fatal(err)
		}
		if n, _ := r.svc.RunDue(context.Background()); n != 0 {
			t.Errorf("a paused campaign ran")
		}
		if _, err := r.svc.Resume(mk, c.ID); err != nil {
			t.Fatal(err)
		}
		if n, err := r.svc.RunDue(context.Background()); n != 1 || err != nil {
			t.Fatalf("resumed: %d %v", n, err)
		}
		// Throttled: ten a minute from the run's start.
		var first, last time.Time
		r.scanTime(`SELECT next_attempt_at FROM outbox_messages WHERE source_id = $1 ORDER BY next_attempt_at LIMIT 1`, c.ID, &first)
		r.scanTime(`SELECT next_attempt_at FROM outbox_messages WHERE source_id = $1 ORDER BY next_attempt_at DESC LIMIT 1`, c.ID, &last)
		queued := r.count("SELECT COUNT(*) FROM outbox_messages WHERE source_kind = 'campaign' AND source_id = $1", c.ID)
		if span := last.Sub(first); queued < 10 || span < time.Duration(queued-1)*6*time.Second-time.Second ||
			span > time.Duration(queued-1)*6*time.Second+time.Second {
			t.Errorf("%d messages spread over %s; want 6 s apart", queued, span)
		}
		// Completed with its throttled backlog queued: a pause holds it and
		// the resume makes it completed again (TestPauseCompletedCampaignBacklog);
		// with nothing left to send, pausing is a conflict.
		if p, err := r.svc.Pause(mk, c.ID); err != nil || p.HeldMessages != queued {
			t.Errorf("pause a completed campaign with %d queued: %+v %v", queued, p.HeldMessages, err)
		}
		if p, err := r.svc.Resume(mk, c.ID); err != nil || p.Status != campaign.Completed {
			t.Errorf("resume it: %s %v", p.Status, err)
		}
		r.exec("UPDATE outbox_messages SET status = 'sent' WHERE source_id = $1", c.ID)
		if _, err := r.svc.Pause(mk, c.ID); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Errorf("pause a completed campaign with nothing queued: %v", err)
		}
		// Cancelling a second, launched campaign withdraws its queued messages.
		in.Name = "第二次"
		c2 := r.approved(in)
		if _, err := r.svc.Launch(mk, c2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.RunDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.Cancel(mk, c2.ID, "产品额度已售罄"); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Errorf("cancel a completed campaign: %v", err)
		}
		in.Name = "第三次"
		c3 := r.approved(in)
		if _, err := r.svc.Launch(mk, c3.ID); err != nil {
			t.Fatal(err)
		}
		if c3, err := r.svc.Cancel(mk, c3.ID, "产品额度已售罄"); err != nil || c3.Status != campaign.Cancelled {
			t.Fatalf("cancel: %+v %v", c3, err)
		}
		runs, _ := r.svc.Runs(mk, c3.ID)
		if n, _ := r.svc.RunDue(context.Background()); n != 0 || runs[0].Status != campaign.RunCancelled {
			t.Errorf("cancelled campaign: ran %d, run %+v", n, runs[0])
		}
	})
}

func TestRecurringRuns(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, 20, 0)
		mk := r.b.As("hq_marketing")
		start := r.b.Clock.Now().Add(time.Hour)
		end := start.Add(48*time.Hour + time.Minute)
		in := r.input(0)
		in.Schedule = campaign.Schedule{Kind: campaign.Daily, StartAt: &start, EndAt: &end}
		c := r.approved(in)
		if _, err := r.svc.Launch(mk, c.ID); err != nil {
			t.Fatal(err)
		}
		if n, _ := r.svc.RunDue(context.Background()); n != 0 {
			t.Fatal("a run started before its time")
		}
		for day := 1; day <= 3; day++ {
			r.b.Clock.Advance(24 * time.Hour)
			if day == 1 {
				r.b.Clock.Advance(-23 * time.Hour) // first run: an hour after launch
			}
			if n, err := r.svc.RunDue(context.Background()); n != 1 || err != nil {
				t.Fatalf("day %d: ran %d, %v", day, n, err)
			}
		}
		runs, _ := r.svc.Runs(mk, c.ID)
		if len(runs) != 3 {
			t.Fatalf("%d runs, want 3: %+v", len(runs), runs)
		}
		per := r.count("SELECT COUNT(*) FROM campaign_members WHERE campaign_id = $1 AND run = 1 AND outcome = 'queued'", c.ID)
		if per == 0 {
			t.Fatal("run 1 queued nothing")
		}
		// Each run messages its audience once: its own dedup keys.
		if n := r.count("SELECT COUNT(*) FROM outbox_messages WHERE source_id = $1 AND dedup_key LIKE $2", c.ID,
			"campaign:"+itoa(c.ID)+":run2:%"); n != per {
			t.Errorf("run 2 queued %d messages with its key, want %d", n, per)
		}
		for i, run := range runs {
			if want := start.AddDate(0, 0, i); !run.DueAt.Equal(want) || run.Status != campaign.RunDone {
				t.Errorf("run %d: %+v, want due %s", run.Number, run, want)
			}
		}
		if cur, _ := r.svc.Get(mk, c.ID); cur.Status != campaign.Completed {
			t.Errorf("after the last run: %s", cur.Status)
		}
	})
}

func TestTaskChannels(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, 40, 16)
		r.svc = r.b.CampaignService(16, r.b.TaskService())
		// rm_visit and phone need their own consent: grant phone to half.
		r.exec(`INSERT INTO customer_consents (customer_id, channel, granted, changed_at, source)
			SELECT id, ch.c, TRUE, $1, 'counter' FROM customers, (SELECT 'phone' AS c UNION ALL SELECT 'rm_visit') ch
			WHERE customers.id % 2 = 0`, r.b.Clock.Now())
		for _, ch := range []string{campaign.RMTask, campaign.CallList} {
			in := r.input(25)
			in.Name, in.Channel, in.TemplateID = "任务-"+ch, ch, nil
			c := r.launched(in)
			if c.Status != campaign.Completed {
				t.Fatalf("%s: %s", ch, c.Status)
			}
			ms := r.members(c.ID, 1)
			var tasks int64
			for _, m := range ms {
				if m.Outcome == campaign.OutcomeTask {
					tasks++
					if m.TaskID == nil || m.MessageID != nil {
						t.Errorf("%s member %+v: want a task id", ch, m)
					}
				}
			}
			kind := "call"
			if ch == campaign.CallList {
				kind = "campaign_call"
			}
			if n := r.count("SELECT COUNT(*) FROM tasks WHERE source_kind = 'campaign' AND source_id = $1 AND kind = $2",
				c.ID, kind); tasks == 0 || n != tasks {
				t.Errorf("%s: %d task members, %d %s tasks", ch, tasks, n, kind)
			}
			res, err := r.svc.Results(r.b.As("branch_manager"), c.ID)
			if err != nil || res.Total.Tasks != tasks || res.Total.Cost != tasks*in.CostPerMessage {
				t.Errorf("%s results: %+v %v", ch, res.Total, err)
			}
		}
		if n := r.count("SELECT COUNT(*) FROM outbox_messages"); n != 0 {
			t.Errorf("task channels queued %d messages", n)
		}
	})
}
