package web_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"kehu/internal/store"
	"kehu/internal/task"
	"kehu/internal/testkit"
)

// TestTaskReassignPage: the branch manager's team view offers each open
// task a picker of the RMs of the manager's subtree; reassigning with a
// reason moves the task and records the reason; no RM picked, or a user
// outside the subtree, is refused with a sentence in the page's language;
// an RM's own list has no picker.
func TestTaskReassignPage(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		ctx := context.Background()
		if _, err := a.TaskService().Create(ctx, []task.New{{Kind: task.FollowUp, Title: "跟进理财到期",
			CustomerID: a.Customers["a1"].ID, SourceKind: task.SourceManual, DedupKey: "reassign-me"}}); err != nil {
			t.Fatal(err)
		}
		open, err := a.TaskService().List(a.As("rm_a"), task.Filter{})
		if err != nil || len(open.Items) != 1 {
			t.Fatalf("rm_a's tasks: %+v %v", open, err)
		}
		tid := open.Items[0].ID
		path := "/tasks/" + strconv.FormatInt(tid, 10) + "/reassign"
		rmA2 := a.Users["rm_a2"].ID

		mgr := a.login(t, "branch_manager")
		page := mgr.get("/tasks?view=team")
		mustContain(t, page.body, `class="reassign-form"`, `<option value="`+strconv.FormatInt(rmA2, 10)+`">`, "转派",
			"转派原因（可选）")
		// rm_a holds the task: not offered to itself.
		mustNotContain(t, page.body, `<option value="`+strconv.FormatInt(a.Users["rm_a"].ID, 10)+`">`)
		if rm := a.login(t, "rm_a").get("/tasks"); rm.status != http.StatusOK {
			t.Fatalf("rm_a: %d", rm.status)
		} else {
			mustNotContain(t, rm.body, `class="reassign-form"`)
		}

		res := mgr.post(path, url.Values{"csrf": {mgr.csrf(page)}, "assignee_id": {""}})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("no RM picked: %d", res.status)
		}
		mustContain(t, res.body, "请选择一位在职的客户经理再转派。")
		hq := strconv.FormatInt(a.Users["hq_marketing"].ID, 10)
		res = mgr.post(path, url.Values{"csrf": {mgr.csrf(page)}, "assignee_id": {hq}})
		if res.status != http.StatusForbidden {
			t.Fatalf("a user outside the subtree: %d", res.status)
		}
		mustContain(t, res.body, "不能转派：只能转派给本机构及下级机构的客户经理")
		en := a.login(t, "branch_manager")
		en.lang = "en"
		res = en.post(path, url.Values{"csrf": {en.csrf(en.get("/tasks?view=team"))}, "assignee_id": {hq}})
		mustContain(t, res.body, "Not reassigned: you may give tasks only to RMs of your organisation and below")
		mustContain(t, en.get("/tasks?view=team").body, "Reassign", "Choose an RM")

		res = mgr.post(path, url.Values{"csrf": {mgr.csrf(page)}, "assignee_id": {strconv.FormatInt(rmA2, 10)},
			"reason": {"张经理休假，由同组接手"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("reassign: %d %s", res.status, res.body)
		}
		mustContain(t, mgr.get(res.location).body, "已转派，新的负责人会在「我的」中看到这条待办。")
		got, err := a.TaskService().Get(a.As("branch_manager"), tid)
		if err != nil || got.AssigneeID != rmA2 {
			t.Errorf("after reassigning: %+v %v", got, err)
		}
		var reason string
		if err := db.InTx(ctx, func(tx *sql.Tx) error {
			return tx.QueryRow(`SELECT reason FROM audit_log WHERE action = 'task.reassign' ORDER BY id DESC LIMIT 1`).Scan(&reason)
		}); err != nil || reason != "张经理休假，由同组接手" {
			t.Errorf("audit reason %q (%v)", reason, err)
		}
	})
}
