package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"kehu/internal/access"
	"kehu/internal/sales"
	"kehu/internal/store"
	"kehu/internal/task"
	"kehu/internal/testkit"
)

// seedWork gives rm_a an overdue churn alert on a1, the lobby managers of
// outlet A a lobby alert on a3, and rm_a a lead on a1.
func seedWork(t *testing.T, a *app) {
	t.Helper()
	ctx := context.Background()
	_, err := a.TaskService().Create(ctx, []task.New{
		{Kind: task.ChurnAlert, Title: "90 天未登录未交易", Actions: []string{"电话问候"}, CustomerID: a.Customers["a1"].ID,
			DueAt: a.Clock.Now().Add(-time.Hour), Priority: task.High, SourceKind: task.SourceJourney, SourceID: 7},
		{Kind: task.LobbyAlert, Title: "客户到店请接待", CustomerID: a.Customers["a3"].ID, SourceKind: task.SourceJourney, SourceID: 8,
			Queue: task.Queue{Role: access.LobbyManager, OrgID: a.OutletA.ID}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.LeadService().Create(ctx, []sales.NewLead{{CustomerID: a.Customers["a1"].ID, SourceKind: task.SourceCampaign,
		SourceID: 3}}); err != nil {
		t.Fatal(err)
	}
}

// TestTaskPages: the RM's list links the customer, marks the overdue task,
// carries the nav badge and completes with an outcome (an empty one is
// refused); the lobby manager claims from the queue, and a second claim is
// a conflict; the lead moves on.
func TestTaskPages(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		seedWork(t, a)
		rm := a.login(t, "rm_a")
		page := rm.get("/tasks")
		if page.status != http.StatusOK {
			t.Fatalf("/tasks: %d", page.status)
		}
		a1 := strconv.FormatInt(a.Customers["a1"].ID, 10)
		mustContain(t, page.body, "我的待办", "90 天未登录未交易", `href="/customers/`+a1+`"`, "张伟", "已逾期", "电话问候",
			"流失预警", `id="nav-badge-tasks">1<`)
		p, _ := a.TaskService().List(a.As("rm_a"), task.Filter{})
		id := strconv.FormatInt(p.Items[0].ID, 10)
		res := rm.post("/tasks/"+id+"/complete", url.Values{"csrf": {rm.csrf(page)}, "outcome": {" "}})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("empty outcome: %d", res.status)
		}
		mustContain(t, res.body, "请填写处理结果")
		res = rm.post("/tasks/"+id+"/complete", url.Values{"csrf": {rm.csrf(page)}, "outcome": {"已电话联系"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("complete: %d %s", res.status, res.body)
		}
		mustContain(t, rm.get(res.location).body, "已完成，处理结果已记录。", "没有待办。")
		mustContain(t, rm.get("/tasks?status=done").body, "已电话联系")

		lobby := a.login(t, "lobby_a")
		page = lobby.get("/tasks?view=queue")
		mustContain(t, page.body, "客户到店请接待", "领取", `id="count-queue">1<`)
		q, _ := a.TaskService().List(a.As("lobby_a"), task.Filter{View: task.ViewQueue})
		qid := strconv.FormatInt(q.Items[0].ID, 10)
		if res := lobby.post("/tasks/"+qid+"/claim", url.Values{"csrf": {lobby.csrf(page)}}); res.status != http.StatusSeeOther {
			t.Fatalf("claim: %d", res.status)
		}
		res = lobby.post("/tasks/"+qid+"/claim", url.Values{"csrf": {lobby.csrf(page)}})
		if res.status != http.StatusConflict {
			t.Fatalf("second claim: %d", res.status)
		}
		mustContain(t, res.body, "该待办已被他人领取或已关闭")
		mustContain(t, lobby.get("/tasks").body, "客户到店请接待", "完成")

		page = rm.get("/leads")
		mustContain(t, page.body, "线索", "张伟", "新建", "营销活动 #3")
		l, _ := a.LeadService().List(a.As("rm_a"), sales.Filter{})
		lid := strconv.FormatInt(l.Items[0].ID, 10)
		res = rm.post("/leads/"+lid, url.Values{"csrf": {rm.csrf(page)}, "view": {"mine"}, "status": {"qualified"}, "note": {"有意向"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("lead: %d", res.status)
		}
		mustContain(t, rm.get(res.location).body, "线索已更新。", `value="有意向"`)
		res = rm.post("/leads/"+lid, url.Values{"csrf": {rm.csrf(page)}, "view": {"mine"}, "status": {"new"}, "note": {""}})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("lead backwards: %d", res.status)
		}
		if res := a.login(t, "rm_b").get("/tasks?view=team"); res.status != http.StatusForbidden {
			t.Errorf("an RM's team view: %d", res.status)
		}
		en := a.login(t, "branch_manager")
		en.lang = "en"
		mustContain(t, en.get("/tasks?view=team").body, "My tasks", "Branch visit alert", "Team")

		// The branch manager cancels an open task of the team with a
		// reason; without one the page says what is missing. An RM may not
		// cancel a colleague's task.
		seedCancel, err := a.TaskService().Create(context.Background(), []task.New{{Kind: task.FollowUp, Title: "跟进理财到期",
			CustomerID: a.Customers["a1"].ID, SourceKind: task.SourceManual, DedupKey: "cancel-me"}})
		if err != nil || seedCancel != 1 {
			t.Fatalf("seed: %d %v", seedCancel, err)
		}
		mgr := a.login(t, "branch_manager")
		page = mgr.get("/tasks?view=team")
		mustContain(t, page.body, "跟进理财到期", "取消待办")
		open, _ := a.TaskService().List(a.As("rm_a"), task.Filter{})
		var cid string
		for _, it := range open.Items {
			if it.Title == "跟进理财到期" {
				cid = strconv.FormatInt(it.ID, 10)
			}
		}
		rmB := a.login(t, "rm_b")
		if res := rmB.post("/tasks/"+cid+"/cancel", url.Values{"csrf": {rmB.csrf(rmB.get("/tasks"))}, "reason": {"x"}}); res.status != http.StatusForbidden && res.status != http.StatusNotFound {
			t.Errorf("another RM cancels: %d", res.status)
		}
		res = mgr.post("/tasks/"+cid+"/cancel", url.Values{"csrf": {mgr.csrf(page)}, "reason": {""}})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("cancel without a reason: %d", res.status)
		}
		mustContain(t, res.body, "请填写取消原因")
		res = mgr.post("/tasks/"+cid+"/cancel", url.Values{"csrf": {mgr.csrf(page)}, "reason": {"客户已到店办理"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("cancel: %d %s", res.status, res.body)
		}
		mustContain(t, mgr.get(res.location).body, "已取消，原因已记录。")
		n, _ := strconv.ParseInt(cid, 10, 64)
		if got, err := a.TaskService().Get(a.As("branch_manager"), n); err != nil || got.Status != task.Cancelled || got.Outcome != "客户已到店办理" {
			t.Errorf("after cancelling: %+v %v", got, err)
		}
	})
}
