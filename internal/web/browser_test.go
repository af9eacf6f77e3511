package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kehu/internal/testkit"
)

// TestBrowserJourney drives real headless Chromium through what a relationship
// manager does first thing: sign in, find a customer by name, open the
// customer page, switch to English, sign out. It also proves htmx loads under
// the CSP (the search swaps results without a page load and pushes the URL).
// Set KEHU_SCREENSHOT_DIR to keep a screenshot of each step.
func TestBrowserJourney(t *testing.T) {
	a := newApp(t, testkit.NewDB(t, "sqlite"))
	a.AddPortfolio(t)
	ctx := testkit.Browser(t)
	shot := screenshotter(t, ctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	do, text := browserSteps(t, ctx)

	do("open the customer list, land on the login page",
		chromedp.Navigate(a.srv.URL+"/customers"),
		chromedp.WaitVisible(css("#username")))
	shot("1-login")
	do("sign in",
		chromedp.SendKeys(css("#username"), "rm_a"),
		chromedp.SendKeys(css("#password"), testkit.Password),
		chromedp.Click(css(".login-card button.primary")),
		chromedp.WaitVisible(css("#q")))
	if h := text("main h1"); h != "客户查询" {
		t.Errorf("heading after login %q", h)
	}

	do("search by name",
		chromedp.SendKeys(css("#q"), "张伟"),
		chromedp.Click(css(".searchbar button.primary")))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`document.querySelectorAll("#results tbody tr").length === 1 && location.search.includes("q=")`)); err != nil {
		t.Fatalf("search results: %v", err)
	}
	if loaded, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof htmx === "object"`)); !loaded {
		t.Error("htmx did not load; is the CSP blocking it?")
	}
	shot("2-search")

	do("open the customer page",
		chromedp.Click(css("#results a.strong")),
		chromedp.WaitVisible(css("#customer-name")))
	if name := text("#customer-name"); !strings.HasPrefix(name, "张伟") {
		t.Errorf("customer page heading %q", name)
	}
	do("open the 资产 tab", chromedp.Click(css(`.c360-tabs a[href="#assets"]`)), chromedp.WaitVisible(css("#h-accounts")))
	if body := text("main"); !strings.Contains(body, "6222 **** **** 0001") || !strings.Contains(body, "¥123,456.78") {
		t.Error("the customer page does not show the accounts")
	}
	do("back to 概览", chromedp.Click(css(`.c360-tabs a[href="#overview"]`)), chromedp.WaitVisible(css("#h-profile")))
	if p := text("#h-profile"); p != "客户概况" {
		t.Errorf("profile heading in Chinese %q", p)
	}
	shot("3-customer-zh")

	do("switch to English",
		chromedp.Click(css(`.langswitch button[value="en"]`)),
		chromedp.WaitVisible(css(`.langswitch button[value="en"].current`)))
	if p := text("#h-profile"); p != "Profile" {
		t.Errorf("profile heading in English %q", p)
	}
	if nav := text(".sidenav"); nav != "Customers\nMy tasks\nLeads\nAccess requests\nData dictionary\nContact policy\nSegments\nSecurity" {
		t.Errorf("navigation in English %q", nav)
	}
	if !strings.HasPrefix(text("#customer-name"), "张伟") {
		t.Error("the switch did not return to the customer page")
	}
	shot("4-customer-en")

	do("sign out",
		chromedp.Click(css("#logout")),
		chromedp.WaitVisible(css("#username")))
	if msg := text(".alert-info"); msg != "You have been signed out." {
		t.Errorf("sign-out message %q", msg)
	}
}

// browserSteps returns the two step functions every browser test uses: do
// runs actions and fails the test naming the step; text reads the trimmed
// text of the first element matching a CSS selector.
func browserSteps(t *testing.T, ctx context.Context) (do func(step string, actions ...chromedp.Action[chromedp.Void]), text func(sel string) string) {
	return browserStepsAs(t, ctx, "")
}

// browserStepsAs is browserSteps for a test that drives several browsers at
// once, one per signed-in user: who (the user) goes into every failure
// message so it says which browser failed.
func browserStepsAs(t *testing.T, ctx context.Context, who string) (do func(step string, actions ...chromedp.Action[chromedp.Void]), text func(sel string) string) {
	if who != "" {
		who = " (" + who + ")"
	}
	do = func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s%s: %v", step, who, err)
		}
	}
	text = func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s%s: %v", sel, who, err)
		}
		return strings.TrimSpace(s)
	}
	return do, text
}

// waitForText polls until the text of the first element matching sel
// contains want (content swapped in by htmx or a polling page), failing the
// test after timeout.
func waitForText(t *testing.T, ctx context.Context, sel, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector(`+"`"+sel+"`"+`) || {}).textContent || ""`))
		if err == nil && strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %q, want it to contain %q (%v)", sel, got, want, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// signInActions are the actions of signing in as user with the test password: open
// url (the login page, or a page that sends the visitor there), fill in the
// form, submit it and wait until ready, a selector of the page it lands on,
// is visible.
func signInActions(url, user, ready string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), testkit.Password),
		chromedp.Click(chromedp.CSS(".login-card button.primary")),
		chromedp.WaitVisible(chromedp.CSS(ready)),
	}
}

// screenshotter returns a function saving a PNG of the page per step into
// KEHU_SCREENSHOT_DIR, or doing nothing when it is unset.
func screenshotter(t *testing.T, ctx context.Context) func(name string) {
	dir := os.Getenv("KEHU_SCREENSHOT_DIR")
	return func(name string) {
		if dir == "" {
			return
		}
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Logf("screenshot %s: %v", name, err)
			return
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Logf("screenshot %s: %v", name, err)
		}
	}
}
