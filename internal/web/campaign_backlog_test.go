package web_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"kehu/internal/campaign"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// A completed campaign whose throttled messages are still queued says so
// and offers pause (in both languages); pausing holds them, resuming makes
// it completed again; once nothing is queued the button is gone. The page
// shows the campaign's hold validity, and the editor refuses one out of
// range in the page's language.
func TestCampaignPageCompletedBacklog(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		seg, tmpl := campaignSetup(t, a)
		svc := a.CampaignService(0, nil)
		mk := a.As("hq_marketing")
		c, err := svc.Create(mk, campaign.Input{Name: "限速推送", SegmentID: seg, Channel: campaign.SMS, TemplateID: &tmpl,
			ThrottlePerMinute: 1, HoldHours: 48})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Submit(mk, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Approve(a.As("branch_manager"), c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Launch(mk, c.ID); err != nil {
			t.Fatal(err)
		}
		if n, err := svc.RunDue(context.Background()); n != 1 || err != nil {
			t.Fatalf("run: %d %v", n, err)
		}
		cur, err := svc.Get(mk, c.ID)
		if err != nil || cur.Status != campaign.Completed || cur.QueuedMessages == 0 {
			t.Fatalf("after the run: %s, %d queued (%v)", cur.Status, cur.QueuedMessages, err)
		}
		n := strconv.FormatInt(cur.QueuedMessages, 10)
		page := "/campaigns/" + strconv.FormatInt(c.ID, 10)
		zh := a.login(t, "hq_marketing")
		p := zh.get(page)
		mustContain(t, p.body, `data-queued="`+n+`"`, "活动已执行完毕，仍有 "+n+" 条限速排队的消息未发出", `id="campaign-pause"`,
			"暂停消息有效期（小时）", `id="campaign-hold-hours">48<`)
		en := a.login(t, "hq_marketing")
		en.lang = "en"
		mustContain(t, en.get(page).body, "The campaign has finished its run, but "+n+" throttled messages are still queued",
			`id="campaign-pause"`, "Held message validity (hours)")
		if r := zh.post(page+"/pause", url.Values{"csrf": {zh.csrf(p)}}); r.status != http.StatusSeeOther {
			t.Fatalf("pause: %d %s", r.status, r.body)
		}
		mustContain(t, zh.get(page).body, `data-held="`+n+`"`, "原定时间已过 48 小时以上的不再发送，计为已过期")
		if r := zh.post(page+"/resume", url.Values{"csrf": {zh.csrf(p)}}); r.status != http.StatusSeeOther {
			t.Fatalf("resume: %d", r.status)
		}
		p = zh.get(page)
		mustContain(t, p.body, `data-status="completed"`, `data-queued="`+n+`"`)
		if err := db.InTx(context.Background(), func(tx *sql.Tx) error {
			_, err := tx.Exec("UPDATE outbox_messages SET status = 'sent' WHERE source_id = $1", c.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		p = zh.get(page)
		mustNotContain(t, p.body, `id="campaign-pause"`, `id="campaign-backlog"`)

		// The editor: a validity out of range is named in the page's language.
		form := url.Values{"csrf": {zh.csrf(p)}, "name": {"有效期过长"}, "segment_id": {strconv.FormatInt(seg, 10)},
			"channel": {"sms"}, "template_id": {strconv.FormatInt(tmpl, 10)}, "schedule_kind": {"once"},
			"control_pct": {"0"}, "throttle_per_minute": {"0"}, "conversion_days": {"30"}, "hold_hours": {"721"},
			"cost_per_message": {"0"}, "value_per_conversion": {"0"}}
		r := zh.post("/campaigns", form)
		mustContain(t, r.body, "暂停消息有效期（小时）：须在 1 至 720 小时之间")
		form.Set("csrf", en.csrf(en.get("/campaigns/new")))
		mustContain(t, en.post("/campaigns", form).body, "must be between 1 and 720")
	})
}
