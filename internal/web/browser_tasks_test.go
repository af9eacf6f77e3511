package web_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"kehu/internal/task"
	"kehu/internal/testkit"
)

// TestBrowserTasks drives Chromium through 我的待办: the lobby manager sees
// the badge in the navigation, claims the lobby alert from 待领取, finds it
// under 我的 and completes it with the outcome; the badge is gone.
func TestBrowserTasks(t *testing.T) {
	a := newApp(t, testkit.NewDB(t, "sqlite"))
	seedWork(t, a)
	ctx := testkit.Browser(t)
	shot := screenshotter(t, ctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	do, text := browserSteps(t, ctx)
	do("sign in as the lobby manager", signInActions(a.srv.URL+"/login", "lobby_a", ".sidenav")...)
	if got := text("#nav-badge-tasks"); got != "1" {
		t.Errorf("navigation badge %q", got)
	}
	do("open 我的待办 and its queue",
		chromedp.Click(css(`.sidenav a[href="/tasks"]`)),
		chromedp.WaitVisible(css("#task-views")),
		chromedp.Click(css(`#task-views a[data-view="queue"]`)),
		chromedp.WaitVisible(css("#tasks button.claim")))
	if got := text("#tasks .task-title"); got != "客户到店请接待" {
		t.Errorf("queued task %q", got)
	}
	shot("tasks-1-queue")
	do("claim it", chromedp.Click(css("#tasks button.claim")), chromedp.WaitVisible(css("#tasks-notice")))
	if got := text("#tasks-notice"); got != "已领取，待办已移到「我的」。" {
		t.Errorf("notice %q", got)
	}
	do("complete it with the outcome",
		chromedp.SendKeys(css("#tasks .complete-form input[name=outcome]"), "已接待，客户咨询大额存单"),
		chromedp.Click(css("#tasks button.complete")),
		chromedp.WaitVisible(css("#tasks-empty")))
	if got := text("#tasks-notice"); got != "已完成，处理结果已记录。" {
		t.Errorf("notice %q", got)
	}
	shot("tasks-2-done")
	badges, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#nav-badge-tasks").length`))
	if err != nil {
		t.Fatal(err)
	}
	if badges != 0 {
		t.Error("the navigation still shows a badge")
	}
}

// TestBrowserTaskReassign drives Chromium through the team view of 我的待办:
// the branch manager gives rm_a's churn alert to a user outside the
// branch's subtree (a forged choice) and reads why it was refused, then
// picks rm_a2 with a reason and sees the task move.
func TestBrowserTaskReassign(t *testing.T) {
	a := newApp(t, testkit.NewDB(t, "sqlite"))
	seedWork(t, a)
	ctx := testkit.Browser(t)
	shot := screenshotter(t, ctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	do, text := browserSteps(t, ctx)
	do("sign in as the branch manager", signInActions(a.srv.URL+"/login", "branch_manager", ".sidenav")...)
	row := `#tasks tr[data-id]:has(.task-title)`
	do("open the team view",
		chromedp.Navigate(a.srv.URL+"/tasks?view=team"),
		chromedp.WaitVisible(css(row+" .reassign-form select")))
	shot("tasks-reassign-1-team")
	hq := strconv.FormatInt(a.Users["hq_marketing"].ID, 10)
	forge := `(() => { const s = document.querySelector("#tasks .reassign-form select");
		s.add(new Option("总行", "` + hq + `")); s.value = "` + hq + `"; return 0 })()`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](forge)); err != nil {
		t.Fatal(err)
	}
	do("reassign outside the subtree",
		chromedp.Click(css("#tasks .reassign-form button.reassign")),
		chromedp.WaitVisible(css("#tasks-error")))
	if got := text("#tasks-error"); !strings.HasPrefix(got, "不能转派：只能转派给本机构及下级机构的客户经理") {
		t.Errorf("refusal %q", got)
	}
	shot("tasks-reassign-2-refused")
	rmA2 := strconv.FormatInt(a.Users["rm_a2"].ID, 10)
	do("reassign to rm_a2 with a reason",
		chromedp.SetValue(css("#tasks .reassign-form select"), rmA2),
		chromedp.SendKeys(css("#tasks .reassign-form input[name=reason]"), "客户改由同组跟进"),
		chromedp.Click(css("#tasks .reassign-form button.reassign")),
		chromedp.WaitVisible(css("#tasks-notice")))
	if got := text("#tasks-notice"); got != "已转派，新的负责人会在「我的」中看到这条待办。" {
		t.Errorf("notice %q", got)
	}
	shot("tasks-reassign-3-done")
	p, err := a.TaskService().List(a.As("rm_a2"), task.Filter{})
	if err != nil || len(p.Items) != 1 || p.Items[0].Title != "90 天未登录未交易" {
		t.Errorf("rm_a2's tasks after the reassign: %+v %v", p.Items, err)
	}
}
