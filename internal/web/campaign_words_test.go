package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"kehu/internal/campaign"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// A refused campaign is explained in the page's language, naming the field:
// the editor's validation (the service's and the form's own), and the
// lifecycle's refusals on the campaign's page.
func TestCampaignRefusalsInThePagesLanguage(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		seg, tmpl := campaignSetup(t, a)
		want := map[string][]string{
			"zh-CN": {"活动名称：需要 1 至 100 个字", "对照组比例：须在 0 至 50% 之间", "转化窗口（天）：须在 1 至 365 天之间"},
			"en": {"Name：must have 1 to 100 characters", "Control group：must be between 0 and 50",
				"Conversion window (days)：must be between 1 and 365"},
		}
		notWant := map[string][]string{"zh-CN": {"must have", "must be between"}, "en": {"需要 1 至 100", "须在"}}
		money := map[string]string{"zh-CN": "单次转化价值（元）：须为以元为单位的金额", "en": "must be an amount in yuan"}
		// admin holds campaign.manage and campaign.approve: maker-checker
		// still refuses its own campaign.
		c, err := a.CampaignService(0, nil).Create(a.As("admin"), campaign.Input{Name: "春季问候", SegmentID: seg,
			Channel: campaign.SMS, TemplateID: &tmpl, Schedule: campaign.Schedule{Kind: campaign.Once}})
		if err != nil {
			t.Fatal(err)
		}
		page := "/campaigns/" + strconv.FormatInt(c.ID, 10)
		if _, err := a.CampaignService(0, nil).Submit(a.As("admin"), c.ID); err != nil {
			t.Fatal(err)
		}
		action := map[string][]string{
			"zh-CN": {"制作人与复核人须分离：活动 " + strconv.FormatInt(c.ID, 10) + " 由您编写或提交，需由其他用户审批",
				"活动 " + strconv.FormatInt(c.ID, 10) + " 当前为「待审批」，只有「已排期」或「执行中」的活动（或仍有排队消息的已完成活动）可以暂停"},
			"en": {"maker-checker: you wrote or submitted campaign " + strconv.FormatInt(c.ID, 10) + ", so another user must approve it",
				"campaign " + strconv.FormatInt(c.ID, 10) + " is submitted; only a campaign that is scheduled or running (or completed with messages still queued) can be paused"},
		}
		forbidden := map[string]string{"zh-CN": "您的角色无权执行此操作", "en": "Your role may not do this"}
		for _, lang := range []string{"zh-CN", "en"} {
			mk := a.login(t, "hq_marketing")
			mk.lang = lang
			form := mk.get("/campaigns/new")
			fields := url.Values{"csrf": {mk.csrf(form)}, "name": {" "}, "segment_id": {strconv.FormatInt(seg, 10)},
				"channel": {"sms"}, "template_id": {strconv.FormatInt(tmpl, 10)}, "schedule_kind": {"once"},
				"control_pct": {"70"}, "throttle_per_minute": {"0"}, "conversion_days": {"400"}, "cost_per_message": {"0.05"},
				"value_per_conversion": {"1"}}
			r := mk.post("/campaigns", fields)
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("%s: bad campaign: %d", lang, r.status)
			}
			mustContain(t, r.body, want[lang]...)
			mustContain(t, r.body, `data-field="name"`, `data-field="control_pct"`, `data-field="conversion_days"`)
			mustNotContain(t, r.body, notWant[lang]...)
			fields.Set("value_per_conversion", "abc")
			r = mk.post("/campaigns", fields)
			mustContain(t, r.body, money[lang], `data-field="value_per_conversion"`)

			ad := a.login(t, "admin")
			ad.lang = lang
			p := ad.get(page)
			if r := ad.post(page+"/approve", url.Values{"csrf": {ad.csrf(p)}}); r.status != http.StatusForbidden {
				t.Errorf("%s: the maker approves: %d", lang, r.status)
			} else {
				mustContain(t, r.body, action[lang][0])
			}
			p = mk.get(page)
			if r := mk.post(page+"/approve", url.Values{"csrf": {mk.csrf(p)}}); r.status != http.StatusForbidden {
				t.Errorf("%s: approve without the permission: %d", lang, r.status)
			} else {
				mustContain(t, r.body, forbidden[lang])
			}
			if r := mk.post(page+"/pause", url.Values{"csrf": {mk.csrf(p)}}); r.status != http.StatusConflict {
				t.Errorf("%s: pause a submitted campaign: %d", lang, r.status)
			} else {
				mustContain(t, r.body, action[lang][1])
			}
		}
	})
}

// A paused campaign's page says how many of its messages are held.
func TestCampaignPageShowsHeldMessages(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		seg, tmpl := campaignSetup(t, a)
		svc := a.CampaignService(0, nil)
		mk := a.As("hq_marketing")
		start := a.Clock.Now()
		end := start.Add(72 * time.Hour)
		// Daily: after its first run it is scheduled again, its messages
		// still queued (no dispatcher runs here).
		c, err := svc.Create(mk, campaign.Input{Name: "每日问候", SegmentID: seg, Channel: campaign.SMS, TemplateID: &tmpl,
			Schedule: campaign.Schedule{Kind: campaign.Daily, StartAt: &start, EndAt: &end}})
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
		page := "/campaigns/" + strconv.FormatInt(c.ID, 10)
		zh := a.login(t, "hq_marketing")
		p := zh.get(page)
		mustNotContain(t, p.body, `id="campaign-held"`)
		if r := zh.post(page+"/pause", url.Values{"csrf": {zh.csrf(p)}}); r.status != http.StatusSeeOther {
			t.Fatalf("pause: %d %s", r.status, r.body)
		}
		cur, err := svc.Get(mk, c.ID)
		if err != nil || cur.HeldMessages == 0 {
			t.Fatalf("held after the pause: %+v %v", cur, err)
		}
		n := strconv.FormatInt(cur.HeldMessages, 10)
		mustContain(t, zh.get(page+"?done=pause").body, `data-held="`+n+`"`, "活动已暂停："+n+" 条已排队的消息暂扣不发",
			"已暂停，未发送的消息暂扣。")
		en := a.login(t, "hq_marketing")
		en.lang = "en"
		mustContain(t, en.get(page).body, `data-held="`+n+`"`, "Paused: "+n+" queued messages are held and not sent.")
		// The send monitor marks them held.
		mustContain(t, a.login(t, "admin").get("/outbox?status=queued").body, `data-held="true"`, "暂扣（活动已暂停）")
		if r := zh.post(page+"/resume", url.Values{"csrf": {zh.csrf(p)}}); r.status != http.StatusSeeOther {
			t.Fatalf("resume: %d", r.status)
		}
		mustNotContain(t, zh.get(page).body, `id="campaign-held"`)
	})
}
