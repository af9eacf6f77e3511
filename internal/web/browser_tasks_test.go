package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"

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
