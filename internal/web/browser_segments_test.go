package web_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kehu/internal/testkit"
)

// TestBrowserSegmentBuilder drives 客群 in headless Chromium as the
// marketing operator: from the nav to a new segment, two conditions built
// with the visual builder (individual customers, and a gender picked from
// the enum), the live count following each change, and the segment saved.
func TestBrowserSegmentBuilder(t *testing.T) {
	a := newApp(t, testkit.NewDB(t, "sqlite"))
	ctx := testkit.Browser(t)
	shot := screenshotter(t, ctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	do, text := browserSteps(t, ctx)
	waitCount := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#segment-count").getAttribute("data-count") || ""`))
			if err != nil {
				t.Fatalf("read the count: %v", err)
			}
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("live count %q (%s), want %s", got, text("#segment-count"), want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// choose sets a select of the builder as a user does: the value, then
	// the change event its listener waits for.
	choose := func(sel, value string) {
		t.Helper()
		js := `(function(){var e=document.querySelector(` + strconv.Quote(sel) + `); e.value=` + strconv.Quote(value) +
			`; e.dispatchEvent(new Event("change")); return e.value})()`
		if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](js)); err != nil || got != value {
			t.Fatalf("choose %s in %s: %q %v", value, sel, got, err)
		}
	}
	do("sign in", signInActions(a.srv.URL+"/login", "hq_marketing", `a[href="/segments"]`)...)
	do("open 客群 from the nav", chromedp.Click(css(`a[href="/segments"]`)), chromedp.WaitVisible(css("#new-segment")))
	do("new segment", chromedp.Click(css("#new-segment")), chromedp.WaitVisible(css("#rule-builder .seg-add-cond")))
	waitCount("5") // an empty AND group: everyone in scope

	do("add a first condition", chromedp.Click(css("#rule-builder .seg-add-cond")), chromedp.WaitVisible(css(".seg-cond .seg-field")))
	choose(".seg-cond:nth-child(1) .seg-field", "customer_type")
	choose(".seg-cond:nth-child(1) .seg-value", "individual")
	waitCount("4")
	do("add a second condition", chromedp.Click(css("#rule-builder .seg-add-cond")),
		chromedp.WaitVisible(css(".seg-cond:nth-child(2) .seg-field")))
	choose(".seg-cond:nth-child(2) .seg-field", "gender")
	choose(".seg-cond:nth-child(2) .seg-value", "F")
	waitCount("2") // 王芳 and 李娜
	if s := text("#segment-count"); !strings.Contains(s, "2 人") {
		t.Errorf("count text %q", s)
	}
	shot("segments-1-builder")
	rule, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#segment-rule").value`))
	if err != nil {
		t.Fatal(err)
	}
	if rule != `{"all":[{"field":"customer_type","op":"=","value":"individual"},{"field":"gender","op":"=","value":"F"}]}` {
		t.Errorf("rule %s", rule)
	}
	do("save", chromedp.SendKeys(css("#segment-name"), "女性个人客户"), chromedp.Click(css("#kind-static")),
		chromedp.Click(css("#segment-save")), chromedp.WaitVisible(css("#segment-notice")))
	if s := text("#segment-meta"); !strings.Contains(s, "静态") || text("#segment-member-count") != "2" {
		t.Errorf("saved segment: %q", s)
	}
	waitCount("2") // the builder loads the saved rule again
	shot("segments-2-saved")
	do("back to the list", chromedp.Click(css(`a[href="/segments"]`)), chromedp.WaitVisible(css("#segment-list")))
	if s := text("#segment-list"); !strings.Contains(s, "女性个人客户") {
		t.Errorf("list %q", s)
	}
}
