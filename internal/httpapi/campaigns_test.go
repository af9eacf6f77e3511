package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"kehu/internal/msgtemplate"
	"kehu/internal/privacy"
	"kehu/internal/segment"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// campaignFixture saves a segment of every individual and an SMS template,
// and returns a campaign body using them.
func campaignFixture(t *testing.T, e *env) map[string]any {
	t.Helper()
	mk := e.bank.As("hq_marketing")
	g, err := e.bank.SegmentService().Create(mk, segment.Input{Name: "活动客群", Kind: segment.Dynamic,
		Rule: json.RawMessage(`{"field":"customer_type","op":"=","value":"individual"}`)})
	if err != nil {
		t.Fatal(err)
	}
	tm, err := e.bank.TemplateService().Create(mk, msgtemplate.Input{Name: "活动短信", Channel: msgtemplate.SMS,
		Purpose: msgtemplate.Marketing, Content: msgtemplate.Content{Body: "【客户银行】{{salutation}}您好，春季专享活动开始了。退订回T"}})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"name": "春季活动", "segment_id": g.ID, "channel": "sms", "template_id": tm.ID,
		"schedule": map[string]any{"kind": "once"}, "control_pct": 10, "conversion_days": 30,
		"cost_per_message": 4, "value_per_conversion": 50000}
}

func walkCampaigns(t *testing.T, e *env) {
	// admin is the maker here (hq_marketing has a second factor by now in
	// the walk); admin holds campaign.approve too, and maker-checker still
	// refuses its own approval.
	mk, bm, teller := e.login("admin"), e.login("branch_manager"), e.login("teller_a")
	body := campaignFixture(t, e)
	big := `{"name":"` + strings.Repeat("x", 1<<20) + `"}`
	plain := map[string]string{"Content-Type": "text/plain"}
	bad := map[string]any{"name": "坏", "segment_id": 999999, "channel": "sms", "control_pct": 70}

	list := "/api/v1/campaigns"
	e.expect(call{method: "GET", path: list, token: mk.token}, 200)
	e.expect(call{method: "GET", path: list}, 401)
	e.expect(call{method: "GET", path: list, token: teller.token}, 403)
	e.expect(call{method: "GET", path: list + "?status=bogus", token: mk.token}, 422)

	r := e.expect(call{method: "POST", path: list, token: mk.token, body: body}, 201)
	var c struct{ ID int64 }
	r.decode(t, &c)
	one := list + "/" + id(c.ID)
	e.expect(call{method: "POST", path: list, token: mk.token, body: `{"name":`}, 400)
	e.expect(call{method: "POST", path: list, body: body}, 401)
	e.expect(call{method: "POST", path: list, token: bm.token, body: body}, 403)
	e.expect(call{method: "POST", path: list, token: mk.token, body: big}, 413)
	e.expect(call{method: "POST", path: list, token: mk.token, body: "x", header: plain}, 415)
	// The problem keeps its stable English, naming each field (the pages
	// word the same refusal in the user's language).
	var p struct {
		Detail string
		Errors []struct{ Field, Message string }
	}
	e.expect(call{method: "POST", path: list, token: mk.token, body: bad}, 422).decode(t, &p)
	if p.Detail != "validation failed" || !slices.ContainsFunc(p.Errors, func(f struct{ Field, Message string }) bool {
		return f.Field == "control_pct" && f.Message == "must be between 0 and 50"
	}) {
		t.Errorf("validation problem: %+v", p)
	}

	body["hold_hours"] = 721
	e.expect(call{method: "POST", path: list, token: mk.token, body: body}, 422).decode(t, &p)
	if len(p.Errors) != 1 || p.Errors[0].Field != "hold_hours" || p.Errors[0].Message != "must be between 1 and 720" {
		t.Errorf("hold_hours problem: %+v", p)
	}
	body["hold_hours"] = 48

	e.expect(call{method: "GET", path: one, token: bm.token}, 200)
	e.expect(call{method: "GET", path: one}, 401)
	e.expect(call{method: "GET", path: one, token: teller.token}, 403)
	e.expect(call{method: "GET", path: list + "/999999", token: mk.token}, 404)

	e.expect(call{method: "PUT", path: one, token: mk.token, body: body}, 200)
	e.expect(call{method: "PUT", path: one, token: mk.token, body: `{"name":`}, 400)
	e.expect(call{method: "PUT", path: one, body: body}, 401)
	e.expect(call{method: "PUT", path: one, token: bm.token, body: body}, 403)
	e.expect(call{method: "PUT", path: list + "/999999", token: mk.token, body: body}, 404)
	e.expect(call{method: "PUT", path: one, token: mk.token, body: bad}, 422)

	act := func(verb string, s session, want int, payload any) {
		t.Helper()
		e.expect(call{method: "POST", path: one + "/" + verb, token: s.token, body: payload}, want)
	}
	for _, verb := range []string{"submit", "approve", "reject", "launch", "pause", "resume", "cancel"} {
		e.expect(call{method: "POST", path: one + "/" + verb, body: map[string]any{"reason": "x"}}, 401)
		e.expect(call{method: "POST", path: list + "/999999/" + verb, token: mk.token, body: map[string]any{"reason": "x"}}, 404)
		if verb == "approve" || verb == "reject" {
			e.expect(call{method: "POST", path: list + "/999999/" + verb, token: bm.token, body: map[string]any{"reason": "x"}}, 404)
		}
	}
	act("approve", bm, 409, nil) // a draft
	act("submit", bm, 403, nil)
	act("submit", mk, 200, nil)
	act("submit", mk, 409, nil)
	act("approve", mk, 403, nil) // its maker
	act("reject", mk, 403, map[string]any{"reason": "x"})
	act("reject", bm, 400, `{"reason":`)
	act("reject", bm, 422, map[string]any{"reason": ""})
	act("reject", bm, 200, map[string]any{"reason": "请补充风险提示"})
	act("reject", bm, 409, map[string]any{"reason": "again"})
	act("submit", mk, 200, nil)
	act("launch", mk, 409, nil) // not approved yet
	act("approve", bm, 200, nil)
	act("launch", bm, 403, nil)
	act("resume", mk, 409, nil) // not paused
	act("launch", mk, 200, nil)
	act("launch", mk, 409, nil)
	e.expect(call{method: "PUT", path: one, token: mk.token, body: body}, 409)
	act("pause", bm, 403, nil)
	act("pause", mk, 200, nil)
	act("pause", mk, 409, nil)
	act("resume", bm, 403, nil)
	act("resume", mk, 200, nil)
	act("cancel", bm, 403, map[string]any{})
	act("cancel", mk, 400, `{"reason":`)
	act("cancel", mk, 422, map[string]any{"reason": strings.Repeat("长", 501)})
	act("cancel", mk, 200, map[string]any{"reason": "额度已满"})
	act("cancel", mk, 409, map[string]any{})

	for _, sub := range []string{"/runs", "/members", "/results"} {
		e.expect(call{method: "GET", path: one + sub, token: mk.token}, 200)
		e.expect(call{method: "GET", path: one + sub}, 401)
		e.expect(call{method: "GET", path: one + sub, token: teller.token}, 403)
		e.expect(call{method: "GET", path: list + "/999999" + sub, token: mk.token}, 404)
	}
	e.expect(call{method: "GET", path: one + "/members?run=0", token: mk.token}, 400)
}

// TestCampaignsAPI launches an SMS campaign through the API and reads its
// members (one audit record) and results.
func TestCampaignsAPI(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mk, bm := e.login("hq_marketing"), e.login("branch_manager")
		for _, k := range []string{"a1", "a2"} {
			if _, err := e.bank.PrivacyService().SetConsents(e.bank.As("admin"), e.bank.Customers[k].ID,
				[]privacy.ConsentChange{{Channel: "sms", Granted: true}}, "counter"); err != nil {
				t.Fatal(err)
			}
		}
		body := campaignFixture(t, e)
		body["control_pct"] = 0
		r := e.expect(call{method: "POST", path: "/api/v1/campaigns", token: mk.token, body: body}, 201)
		var c struct {
			ID     int64
			Status string
		}
		r.decode(t, &c)
		one := "/api/v1/campaigns/" + id(c.ID)
		e.expect(call{method: "POST", path: one + "/submit", token: mk.token}, 200)
		r = e.expect(call{method: "POST", path: one + "/approve", token: bm.token}, 200)
		var approved struct {
			TemplateVersion int `json:"template_version"`
		}
		r.decode(t, &approved)
		if approved.TemplateVersion != 1 {
			t.Errorf("approved without pinning the template: %s", r.Body)
		}
		e.expect(call{method: "POST", path: one + "/launch", token: mk.token}, 200)
		if n, err := e.bank.CampaignService(0, nil).RunDue(context.Background()); n != 1 || err != nil {
			t.Fatalf("run: %d %v", n, err)
		}
		before := auditCount(t, db)
		r = e.expect(call{method: "GET", path: one + "/members", token: mk.token}, 200)
		if n := auditCount(t, db) - before; n != 1 {
			t.Errorf("members wrote %d audit records, want 1", n)
		}
		var page struct {
			Items []struct {
				CustomerID int64  `json:"customer_id"`
				Outcome    string `json:"outcome"`
				Reason     string `json:"reason"`
			}
		}
		r.decode(t, &page)
		outcomes := map[string]int{}
		for _, m := range page.Items {
			outcomes[m.Outcome+":"+m.Reason]++
		}
		// The four individuals: a1 and a2 consented; a3 and b1 never did.
		if len(page.Items) != 4 || outcomes["queued:"] != 2 || outcomes["suppressed:no_consent"] != 2 {
			t.Errorf("members %s", r.Body)
		}
		r = e.expect(call{method: "GET", path: one + "/results", token: bm.token}, 200)
		var res struct {
			Status string
			Total  struct {
				Audience   int64
				Queued     int64
				Suppressed map[string]int64
			}
		}
		r.decode(t, &res)
		if res.Status != "completed" || res.Total.Audience != 4 || res.Total.Queued != 2 || res.Total.Suppressed["no_consent"] != 2 {
			t.Errorf("results %s", r.Body)
		}
		// Completed with its two messages still queued (no dispatcher here):
		// the backlog is counted, a pause holds it, the resume releases it
		// and the campaign is completed again.
		var got struct {
			Status         string
			HoldHours      int   `json:"hold_hours"`
			HeldMessages   int64 `json:"held_messages"`
			QueuedMessages int64 `json:"queued_messages"`
		}
		e.expect(call{method: "GET", path: one, token: mk.token}, 200).decode(t, &got)
		if got.Status != "completed" || got.QueuedMessages != 2 || got.HoldHours != 72 {
			t.Errorf("completed campaign reads %+v; want 2 queued, hold_hours 72", got)
		}
		e.expect(call{method: "POST", path: one + "/pause", token: mk.token}, 200).decode(t, &got)
		if got.Status != "paused" || got.HeldMessages != 2 {
			t.Errorf("paused backlog reads %+v", got)
		}
		e.expect(call{method: "POST", path: one + "/resume", token: mk.token}, 200).decode(t, &got)
		if got.Status != "completed" || got.QueuedMessages != 2 {
			t.Errorf("resumed backlog reads %+v", got)
		}
		// An RM (customer.read only) may not see campaigns.
		if r := e.do(call{method: "GET", path: one + "/results", token: e.login("rm_a").token}); r.Code != http.StatusForbidden {
			t.Errorf("rm reads results: %d", r.Code)
		}
	})
}
