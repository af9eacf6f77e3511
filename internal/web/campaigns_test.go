package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"kehu/internal/campaign"
	"kehu/internal/msgtemplate"
	"kehu/internal/privacy"
	"kehu/internal/segment"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// campaignSetup saves a segment of every individual and an SMS template,
// grants SMS consent to a1, a2 and a3, and returns the ids.
func campaignSetup(t *testing.T, a *app) (segmentID, templateID int64) {
	t.Helper()
	mk := a.As("hq_marketing")
	g, err := a.SegmentService().Create(mk, segment.Input{Name: "个人客户", Kind: segment.Dynamic,
		Rule: json.RawMessage(`{"field":"customer_type","op":"=","value":"individual"}`)})
	if err != nil {
		t.Fatal(err)
	}
	tm, err := a.TemplateService().Create(mk, msgtemplate.Input{Name: "春季问候", Channel: msgtemplate.SMS,
		Purpose: msgtemplate.Marketing, Content: msgtemplate.Content{Body: "【客户银行】{{salutation}}您好，春季专享活动开始了，详询{{rm_name}}。退订回T"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a1", "a2", "a3"} {
		if _, err := a.PrivacyService().SetConsents(a.As("admin"), a.Customers[k].ID,
			[]privacy.ConsentChange{{Channel: "sms", Granted: true}}, "counter"); err != nil {
			t.Fatal(err)
		}
	}
	return g.ID, tm.ID
}

func TestCampaignPages(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		seg, tmpl := campaignSetup(t, a)
		mk, bm := a.login(t, "hq_marketing"), a.login(t, "branch_manager")
		if r := a.login(t, "teller_a").get("/campaigns"); r.status != http.StatusForbidden {
			t.Errorf("teller: %d", r.status)
		}
		list := mk.get("/campaigns")
		mustContain(t, list.body, `href="/campaigns"`, "还没有营销活动", `id="new-campaign"`)
		form := mk.get("/campaigns/new")
		mustContain(t, form.body, "春季问候", "个人客户")
		if r := mk.get("/campaigns/segment-count?segment_id="+strconv.FormatInt(seg, 10), "HX-Request", "true"); r.status != 200 {
			t.Errorf("count: %d", r.status)
		} else {
			mustContain(t, r.body, `data-count="4"`)
		}
		r := mk.get("/campaigns/preview?template_id="+strconv.FormatInt(tmpl, 10), "HX-Request", "true")
		mustContain(t, r.body, "【客户银行】张先生您好，春季专享活动开始了，详询李明。退订回T")
		fields := url.Values{"csrf": {mk.csrf(form)}, "name": {"春季问候活动"}, "segment_id": {strconv.FormatInt(seg, 10)},
			"channel": {"sms"}, "template_id": {strconv.FormatInt(tmpl, 10)}, "schedule_kind": {"once"},
			"control_pct": {"70"}, "throttle_per_minute": {"0"}, "conversion_days": {"30"}, "cost_per_message": {"0.05"},
			"value_per_conversion": {"abc"}}
		r = mk.post("/campaigns", fields)
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("bad form: %d", r.status)
		}
		mustContain(t, r.body, `data-field="value_per_conversion"`)
		fields.Set("value_per_conversion", "500")
		r = mk.post("/campaigns", fields)
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("control 70%%: %d", r.status)
		}
		mustContain(t, r.body, `data-field="control_pct"`, "对照组比例")
		fields.Set("control_pct", "25")
		r = mk.post("/campaigns", fields)
		if r.status != http.StatusSeeOther {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		page := mk.get(r.location)
		mustContain(t, page.body, "活动已创建（草稿）", `id="campaign-submit"`, "张先生您好", "25%", "¥500.00")
		act := func(c *client, action string, extra url.Values) response {
			t.Helper()
			p := c.get("/campaigns/1")
			f := url.Values{"csrf": {c.csrf(p)}}
			for k, v := range extra {
				f[k] = v
			}
			return c.post("/campaigns/1/"+action, f)
		}
		if r := act(mk, "submit", nil); r.status != http.StatusSeeOther {
			t.Fatalf("submit: %d", r.status)
		}
		if r := act(mk, "approve", nil); r.status != http.StatusForbidden {
			t.Errorf("maker approves: %d", r.status)
		}
		page = bm.get("/campaigns/1")
		mustContain(t, page.body, `id="campaign-approve"`, `id="reject-form"`, "复核人不能是活动的制作人")
		if r := act(bm, "approve", nil); r.status != http.StatusSeeOther {
			t.Fatalf("approve: %d", r.status)
		}
		if r := act(mk, "launch", nil); r.status != http.StatusSeeOther {
			t.Fatalf("launch: %d", r.status)
		}
		if r := act(mk, "launch", nil); r.status != http.StatusConflict {
			t.Errorf("launch twice: %d", r.status)
		}
		page = mk.get("/campaigns/1")
		mustContain(t, page.body, `hx-trigger="every 2s"`, `data-status="scheduled"`)
		if n, err := a.CampaignService(0, nil).RunDue(context.Background()); n != 1 || err != nil {
			t.Fatalf("run: %d %v", n, err)
		}
		r = mk.get("/campaigns/1/progress", "HX-Request", "true")
		mustContain(t, r.body, `id="r-audience">4<`, `data-status="completed"`)
		// b1 never consented: suppressed with the reason worded, unless the
		// random 25% holdout took it.
		c, err := a.CampaignService(0, nil).Get(a.As("hq_marketing"), 1)
		if err != nil {
			t.Fatal(err)
		}
		if !campaign.InControl(c.Seed, a.Customers["b1"].ID, 25) {
			mustContain(t, r.body, "未同意营销")
		}
		if r.status != 200 || strings.Contains(r.body, "every 2s") {
			t.Errorf("a completed campaign still polls: %d", r.status)
		}
	})
}
