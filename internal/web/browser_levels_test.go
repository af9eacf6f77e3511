package web_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kehu/internal/level"
	"kehu/internal/testkit"
)

// TestBrowserLevelRule drives Chromium through the level rule editor as an
// administrator: open 客户等级规则 from the navigation, raise the platinum
// threshold in the draft form, save and preview (the distribution against the
// rule in force, on the real data), tick the confirmation and activate.
func TestBrowserLevelRule(t *testing.T) {
	a := newApp(t, testkit.NewDB(t, "sqlite"))
	a.AddPortfolio(t)
	if _, err := a.levels.RecomputeAll(a.As("admin"), level.TriggerManual); err != nil {
		t.Fatal(err)
	}
	ctx := testkit.Browser(t)
	shot := screenshotter(t, ctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	do, text := browserSteps(t, ctx)
	do("sign in as the administrator", signInActions(a.srv.URL+"/login", "admin", ".sidenav")...)
	do("open the rule page from the navigation",
		chromedp.Click(css(`.sidenav a[href="/levels"]`)),
		chromedp.WaitVisible(css("#draft-form")))
	if h := text("#active-rule h2"); h != "现行规则（第 1 版）" {
		t.Errorf("rule in force heading %q", h)
	}
	shot("levels-1-page")
	// Empty the two platinum cells (the typing below fills the first again).
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`["c.platinum.0.aum", "c.platinum.1.aum_avg3m"].map(n =>
		document.querySelector('input[name="' + n + '"]')).filter(i => { i.value = ""; return true; }).length`)); err != nil {
		t.Fatal(err)
	}
	do("raise platinum to ¥2m and preview",
		chromedp.SendKeys(css(`input[name="c.platinum.0.aum"]`), "200万"),
		chromedp.SendKeys(css("#note"), "白金门槛提高"),
		chromedp.Click(css("#preview-draft")),
		chromedp.WaitVisible(css("#preview")))
	shot("levels-2-preview")
	if got := text("#preview-moves"); got != "升级 0 位，降级 1 位。" {
		t.Errorf("preview moves %q", got)
	}
	if got := text(`#preview tr[data-level="gold"] td:nth-child(3)`); got != "1" {
		t.Errorf("gold under the draft: %q", got)
	}
	if got := text(`#preview tr[data-level="platinum"] td:nth-child(2)`); got != "1" {
		t.Errorf("platinum under the rule in force: %q", got)
	}
	do("activate after confirming",
		chromedp.Click(css("#activate-confirm")),
		chromedp.Click(css("#activate")))
	// The preview page has a notice too: wait for the page after the redirect.
	// Evaluating while the page navigates fails, so poll by hand.
	for deadline := time.Now().Add(20 * time.Second); ; {
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`location.search.includes("done=activated") &&
			document.readyState === "complete" && document.querySelector("#levels-notice") !== null`))
		if err == nil && done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page after activation did not load: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	shot("levels-3-activated")
	if h := text("#active-rule h2"); h != "现行规则（第 2 版）" {
		t.Errorf("after activation %q", h)
	}
	if got := text("#active-rule tbody tr:nth-child(2) td:nth-child(2)"); got != "AUM ≥ ¥2,000,000.00" {
		t.Errorf("platinum condition %q", got)
	}
	v, err := a.levels.Active(a.As("admin"))
	if err != nil || v.Version != 2 || v.Note != "白金门槛提高" {
		t.Errorf("active %+v %v", v, err)
	}
}
