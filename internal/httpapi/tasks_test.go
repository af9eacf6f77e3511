package httpapi_test

import (
	"context"
	"testing"

	"kehu/internal/access"
	"kehu/internal/sales"
	"kehu/internal/task"
)

// seedTasks gives the walk a task of rm_a (a1), one waiting in outlet A's
// lobby queue (a3), one of rm_b (b1), and a lead of rm_a.
func seedTasks(t *testing.T, e *env) (mine, queued, other, lead int64) {
	t.Helper()
	b := e.bank
	rows := []task.New{
		{Kind: task.ChurnAlert, Title: "90 天未交易", CustomerID: b.Customers["a1"].ID, SourceKind: task.SourceJourney, SourceID: 1},
		{Kind: task.LobbyAlert, Title: "到店接待", CustomerID: b.Customers["a3"].ID, SourceKind: task.SourceJourney, SourceID: 2,
			Queue: task.Queue{Role: access.LobbyManager, OrgID: b.OutletA.ID}},
		{Kind: task.Call, Title: "回访", CustomerID: b.Customers["b1"].ID, SourceKind: task.SourceManual},
	}
	if _, err := b.TaskService().Create(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
	if _, err := b.LeadService().Create(context.Background(), []sales.NewLead{{CustomerID: b.Customers["a1"].ID,
		SourceKind: task.SourceCampaign, SourceID: 3}}); err != nil {
		t.Fatal(err)
	}
	get := func(who string, f task.Filter) int64 {
		p, err := b.TaskService().List(b.As(who), f)
		if err != nil || len(p.Items) != 1 {
			t.Fatalf("%s: %+v %v", who, p, err)
		}
		return p.Items[0].ID
	}
	l, err := b.LeadService().List(b.As("rm_a"), sales.Filter{})
	if err != nil || len(l.Items) != 1 {
		t.Fatalf("lead: %+v %v", l, err)
	}
	return get("rm_a", task.Filter{}), get("lobby_a", task.Filter{View: task.ViewQueue}), get("rm_b", task.Filter{}), l.Items[0].ID
}

// walkTasks drives every documented response of the task and lead routes
// (the conformance walk), asserting each status on the way.
func walkTasks(t *testing.T, e *env) {
	mine, queued, other, lead := seedTasks(t, e)
	rm, lobby, mgr, integ := e.login("rm_a"), e.login("lobby_a"), e.login("branch_manager"), e.login("hq_integration")
	plain := map[string]string{"Content-Type": "text/plain"}
	path := func(n int64, tail string) string { return "/api/v1/tasks/" + id(n) + tail }

	r := e.expect(call{method: "GET", path: "/api/v1/tasks?limit=1", token: rm.token}, 200)
	var p struct {
		Items []task.Task `json:"items"`
	}
	r.decode(t, &p)
	if len(p.Items) != 1 || p.Items[0].ID != mine || p.Items[0].CustomerName != "张伟" {
		t.Errorf("rm_a's list: %+v", p)
	}
	e.expect(call{method: "GET", path: "/api/v1/tasks?view=team&source=journey", token: mgr.token}, 200)
	e.expect(call{method: "GET", path: "/api/v1/tasks?cursor=nope&customer_id=x", token: rm.token}, 400)
	e.expect(call{method: "GET", path: "/api/v1/tasks?view=everything", token: rm.token}, 422)
	e.expect(call{method: "GET", path: "/api/v1/tasks?view=team", token: rm.token}, 403)
	e.expect(call{method: "GET", path: "/api/v1/tasks", token: integ.token}, 403)
	e.expect(call{method: "GET", path: "/api/v1/tasks"}, 401)

	r = e.expect(call{method: "GET", path: "/api/v1/tasks/counts", token: lobby.token}, 200)
	var c task.Counts
	r.decode(t, &c)
	if c.Queue != 1 || c.Mine != 0 {
		t.Errorf("lobby counts: %+v", c)
	}
	e.expect(call{method: "GET", path: "/api/v1/tasks/counts", token: integ.token}, 403)
	e.expect(call{method: "GET", path: "/api/v1/tasks/counts"}, 401)

	e.expect(call{method: "GET", path: path(mine, ""), token: rm.token}, 200)
	e.expect(call{method: "GET", path: path(other, ""), token: rm.token}, 404)
	e.expect(call{method: "GET", path: path(mine, ""), token: integ.token}, 403)
	e.expect(call{method: "GET", path: path(mine, "")}, 401)

	e.expect(call{method: "POST", path: path(queued, "/claim"), token: rm.token}, 404)  // not rm_a's customer nor queue
	e.expect(call{method: "POST", path: path(queued, "/claim"), token: mgr.token}, 403) // a manager sees it; not their queue
	e.expect(call{method: "POST", path: path(queued, "/claim"), token: lobby.token}, 200)
	e.expect(call{method: "POST", path: path(queued, "/claim"), token: lobby.token}, 409)
	e.expect(call{method: "POST", path: path(queued, "/claim")}, 401)

	done := map[string]string{"outcome": "已电话联系，客户下周来行"}
	e.expect(call{method: "POST", path: path(mine, "/complete"), token: rm.token, body: map[string]string{"outcome": " "}}, 422)
	e.expect(call{method: "POST", path: path(mine, "/complete"), token: rm.token, body: `{}{}`}, 400)
	e.expect(call{method: "POST", path: path(mine, "/complete"), token: rm.token, body: "x", header: plain}, 415)
	e.expect(call{method: "POST", path: path(mine, "/complete"), token: mgr.token, body: done}, 403)
	e.expect(call{method: "POST", path: path(other, "/complete"), token: rm.token, body: done}, 404)
	e.expect(call{method: "POST", path: path(mine, "/complete"), body: done}, 401)
	e.expect(call{method: "POST", path: path(mine, "/complete"), token: rm.token, body: done}, 200)
	e.expect(call{method: "POST", path: path(mine, "/complete"), token: rm.token, body: done}, 409)

	to := func(user int64) map[string]any { return map[string]any{"assignee_id": user} }
	e.expect(call{method: "POST", path: path(other, "/reassign"), token: mgr.token, body: map[string]any{}}, 422)
	e.expect(call{method: "POST", path: path(other, "/reassign"), token: mgr.token, body: `{"assignee_id":"x"}`}, 400)
	e.expect(call{method: "POST", path: path(other, "/reassign"), token: mgr.token, body: "x", header: plain}, 415)
	e.expect(call{method: "POST", path: path(other, "/reassign"), token: lobby.token, body: to(e.bank.Users["rm_a"].ID)}, 404)
	e.expect(call{method: "POST", path: path(queued, "/reassign"), token: rm.token, body: to(e.bank.Users["rm_a"].ID)}, 404)
	e.expect(call{method: "POST", path: path(mine, "/reassign"), token: rm.token, body: to(e.bank.Users["rm_a2"].ID)}, 409)
	e.expect(call{method: "POST", path: path(other, "/reassign"), token: mgr.token, body: map[string]any{"queue": map[string]any{"role": "lobby_manager", "org_id": e.bank.HeadOffice.ID}}}, 403)
	e.expect(call{method: "POST", path: path(other, "/reassign"), body: to(1)}, 401)
	e.expect(call{method: "POST", path: path(other, "/reassign"), token: mgr.token, body: to(e.bank.Users["rm_b"].ID)}, 200)

	why := map[string]string{"reason": "客户已销户"}
	e.expect(call{method: "POST", path: path(other, "/cancel"), token: mgr.token, body: map[string]string{}}, 422)
	e.expect(call{method: "POST", path: path(other, "/cancel"), token: mgr.token, body: `[]`}, 400)
	e.expect(call{method: "POST", path: path(other, "/cancel"), token: mgr.token, body: "x", header: plain}, 415)
	e.expect(call{method: "POST", path: path(other, "/cancel"), token: rm.token, body: why}, 404)
	e.expect(call{method: "POST", path: path(queued, "/cancel"), token: e.login("teller_a").token, body: why}, 403)
	e.expect(call{method: "POST", path: path(other, "/cancel"), body: why}, 401)
	e.expect(call{method: "POST", path: path(other, "/cancel"), token: mgr.token, body: why}, 200)
	e.expect(call{method: "POST", path: path(other, "/cancel"), token: mgr.token, body: why}, 409)

	e.expect(call{method: "GET", path: "/api/v1/leads?status=new&source=campaign:3", token: rm.token}, 200)
	e.expect(call{method: "GET", path: "/api/v1/leads?limit=0", token: rm.token}, 400)
	e.expect(call{method: "GET", path: "/api/v1/leads?status=won", token: rm.token}, 422)
	e.expect(call{method: "GET", path: "/api/v1/leads?view=team", token: rm.token}, 403)
	e.expect(call{method: "GET", path: "/api/v1/leads"}, 401)
	lp := "/api/v1/leads/" + id(lead)
	e.expect(call{method: "PATCH", path: lp, token: rm.token, body: map[string]string{"status": "qualified"}}, 200)
	e.expect(call{method: "PATCH", path: lp, token: rm.token, body: map[string]string{"status": "new"}}, 422)
	e.expect(call{method: "PATCH", path: lp, token: rm.token, body: `{"status":1}`}, 400)
	e.expect(call{method: "PATCH", path: lp, token: rm.token, body: "x", header: plain}, 415)
	e.expect(call{method: "PATCH", path: lp, token: e.login("rm_b").token, body: map[string]string{"note": "x"}}, 404)
	e.expect(call{method: "PATCH", path: lp, token: e.login("teller_a").token, body: map[string]string{"note": "x"}}, 403)
	e.expect(call{method: "PATCH", path: lp, body: map[string]string{"note": "x"}}, 401)
	e.expect(call{method: "PATCH", path: lp, token: mgr.token, body: map[string]string{"status": "lost", "note": "客户无意向"}}, 200)
	e.expect(call{method: "PATCH", path: lp, token: rm.token, body: map[string]string{"note": "再试"}}, 409)
}
