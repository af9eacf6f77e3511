package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"kehu/internal/testkit"
)

// TestBrowserAudit drives headless Chromium through a compliance review: sign
// in as the auditor, open 审计日志 from the navigation, filter by an action
// and see only matching rows, swapped in by htmx with the URL pushed so the
// filtered view can be bookmarked.
func TestBrowserAudit(t *testing.T) {
	a := newApp(t, testkit.NewDB(t, "sqlite"))
	rm := a.login(t, "rm_a") // something to review: a sign-in and a customer list
	rm.get("/customers")
	ctx := testkit.Browser(t)
	shot := screenshotter(t, ctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	do, text := browserSteps(t, ctx)

	do("sign in as the compliance auditor", signInActions(a.srv.URL+"/login", "hq_compliance", `.sidenav a[href="/audit"]`)...)
	if nav := text(`.sidenav a[href="/audit"]`); nav != "审计日志" {
		t.Errorf("navigation item %q", nav)
	}

	do("open 审计日志",
		chromedp.Click(css(`.sidenav a[href="/audit"]`)),
		chromedp.WaitVisible(css("#audit-filters")))
	if h := text("main h1"); h != "审计日志" {
		t.Errorf("heading %q", h)
	}
	if body := text("#results"); !strings.Contains(body, "rm_a") || !strings.Contains(body, "客户查询") {
		t.Errorf("the unfiltered trail does not show rm_a's customer list:\n%s", body)
	}
	shot("audit-1-all")

	do("filter by action",
		chromedp.SetValue(css("#f-action"), "auth.login"),
		chromedp.Click(css("#audit-filters button.primary")))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => {
		const rows = [...document.querySelectorAll("#results tbody tr")];
		return rows.length === 2 && rows.every(r => r.dataset.action === "auth.login") &&
			location.search.includes("action=auth.login");
	})()`)); err != nil {
		t.Fatalf("filtered rows: %v", err)
	}
	if loaded, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof htmx === "object"`)); !loaded {
		t.Error("htmx did not load; is the CSP blocking it?")
	}
	if body := text("#results tbody"); !strings.Contains(body, "登录") || !strings.Contains(body, "hq_compliance") {
		t.Errorf("filtered rows:\n%s", body)
	}
	shot("audit-2-filtered")
}
