package web_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kehu/internal/privacy"
	"kehu/internal/testkit"
)

// TestBrowserPrivacy drives Chromium through the data-subject pages: an RM
// sees 张伟's SMS consent in the 个人信息 panel (loaded by htmx under the
// CSP), withdraws it with one click and sees it withdrawn in place, and the
// marketing check agrees at once; then compliance (hq_compliance) files a
// withdraw-consent request for 王芳 from her panel, follows it to the
// request page, starts it and completes it, and every channel of hers is
// withdrawn. Set KEHU_SCREENSHOT_DIR to keep the screenshots.
func TestBrowserPrivacy(t *testing.T) {
	a := newApp(t, testkit.NewDB(t, "sqlite"))
	a.AddPortfolio(t)
	ps := privacyService(a.Bank, 0)
	a1, a2 := a.Customers["a1"].ID, a.Customers["a2"].ID
	for _, id := range []int64{a1, a2} {
		if _, err := ps.SetConsents(a.As("rm_a"), id, []privacy.ConsentChange{{Channel: privacy.ChannelSMS, Granted: true},
			{Channel: privacy.ChannelWeChat, Granted: true}}, "written"); err != nil {
			t.Fatal(err)
		}
	}
	consented := func(id int64, ch string) bool {
		t.Helper()
		m, err := ps.Consented(a.As("hq_marketing"), ch, []int64{id})
		if err != nil {
			t.Fatal(err)
		}
		return m[id]
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	ctx := testkit.Browser(t)
	shot := screenshotter(t, ctx)
	do, text := browserSteps(t, ctx)
	signIn := func(user string) {
		t.Helper()
		do("sign in as "+user, signInActions(a.srv.URL+"/login", user, "#q")...)
	}

	signIn("rm_a")
	do("open 张伟 and wait for the panel",
		chromedp.Navigate(a.srv.URL+"/customers/"+strconv.FormatInt(a1, 10)+"#preferences"), // the 偏好与授权 tab
		chromedp.WaitVisible(css("#consent-sms .badge-granted")))
	if s := text("#consent-sms"); !strings.Contains(s, "短信") || !strings.Contains(s, "书面") {
		t.Errorf("SMS row %q", s)
	}
	do("scroll to the panel", chromedp.ScrollIntoView(css("#privacy")))
	shot("privacy-1-panel")
	do("withdraw SMS",
		chromedp.Click(css(`#consent-sms button.withdraw`)),
		chromedp.WaitVisible(css("#consent-sms .badge-withdrawn")))
	if n := text("#panel-notice"); !strings.Contains(n, "已撤回") {
		t.Errorf("notice %q", n)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`)); !strings.HasPrefix(loc, "/customers/") || strings.HasSuffix(loc, "/privacy") {
		t.Errorf("the withdrawal left the customer page: %s", loc)
	}
	if consented(a1, privacy.ChannelSMS) || !consented(a1, privacy.ChannelWeChat) {
		t.Error("SMS not withdrawn, or WeChat withdrawn too")
	}
	shot("privacy-2-withdrawn")

	do("sign out", chromedp.Click(css("#logout")), chromedp.WaitVisible(css("#username")))
	signIn("hq_compliance")
	do("open 王芳 and file a withdraw-consent request",
		chromedp.Navigate(a.srv.URL+"/customers/"+strconv.FormatInt(a2, 10)+"#preferences"),
		chromedp.WaitVisible(css("#file-form")),
		chromedp.SetValue(css("#file-kind"), privacy.KindWithdrawConsent),
		chromedp.SendKeys(css("#file-notes"), "客户来电：不要再发任何营销"),
		chromedp.Click(css("#file-button")),
		chromedp.WaitVisible(css("#panel-notice a")))
	shot("privacy-3-filed")
	do("open the request", chromedp.Click(css("#panel-notice a")), chromedp.WaitVisible(css("#start-button")))
	if due := text("main"); !strings.Contains(due, "2026-03-23") || !strings.Contains(due, "撤回同意") {
		t.Error("the request page does not show the kind and the deadline")
	}
	do("start", chromedp.Click(css("#start-button")), chromedp.WaitVisible(css("#privacy-notice")))
	if s := text("#request-status"); s != "处理中" {
		t.Errorf("status after start %q", s)
	}
	shot("privacy-4-started")
	do("complete (all channels)", chromedp.Click(css("#complete-button")))
	// The click navigates (a form post and its redirect): poll across the
	// page change, whose moment chromedp cannot see.
	for i := 0; ; i++ {
		if done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`location.search.includes("done=complete") && document.readyState === "complete"`)); err == nil && done {
			break
		}
		if i == 100 {
			t.Fatal("the completion did not arrive")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s := text("#request-status"); s != "已完成" {
		t.Errorf("status after completion %q", s)
	}
	shot("privacy-5-completed")
	if consented(a2, privacy.ChannelSMS) || consented(a2, privacy.ChannelWeChat) {
		t.Error("王芳's consents are not withdrawn")
	}
	do("the list from the navigation", chromedp.Click(css(`.sidenav a[href="/privacy"]`)), chromedp.WaitVisible(css("#requests")))
	if s := text("#requests"); !strings.Contains(s, "已完成") {
		t.Errorf("list %q", s)
	}
	shot("privacy-6-list")
}
