package web_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kehu/internal/testkit"
)

// TestBrowserTemplateEditor drives Chromium through 消息模板 as a marketing
// operator: open it from the navigation, type a body with a misspelt
// variable and see the live preview name it, correct it and see the
// personalised SMS with its segment count, save, and find the template in
// the list at version 1.
func TestBrowserTemplateEditor(t *testing.T) {
	a := newApp(t, testkit.NewDB(t, "sqlite"))
	ctx := testkit.Browser(t)
	shot := screenshotter(t, ctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	do, text := browserSteps(t, ctx)
	waitText := func(sel, want string) { t.Helper(); waitForText(t, ctx, sel, want, 15*time.Second) }
	do("sign in as the marketing operator", signInActions(a.srv.URL+"/login", "hq_marketing", ".sidenav")...)
	do("open 消息模板 from the navigation",
		chromedp.Click(css(`.sidenav a[href="/templates"]`)),
		chromedp.WaitVisible(css("#template-form")))
	do("type a name and a body with a misspelt variable",
		chromedp.SendKeys(css("#tmpl-name"), "理财开售"),
		chromedp.SendKeys(css("#tmpl-body"), "【客户银行】尊敬的{{salutaton}}，{{product_name}}开售，起购{{amount_wan}}。退订回T"))
	waitText("#preview-errors", "未知变量 {{salutaton}}")
	shot("templates-1-unknown-variable")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const b = document.querySelector("#tmpl-body");
		b.value = b.value.replace("salutaton", "salutation"); b.dispatchEvent(new Event("input", {bubbles: true})); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	waitText("#preview-body", "【客户银行】尊敬的张先生，稳盈90天理财开售，起购12.3万。退订回T")
	if got := text("#preview-sms"); got != "35 个字符，计 1 条短信（每条 70 字）" {
		t.Errorf("SMS length %q", got)
	}
	shot("templates-2-preview")
	do("save", chromedp.Click(css("#template-save")), chromedp.WaitVisible(css("#templates-notice")))
	if got := text("#templates-notice"); got != "模板已创建。" {
		t.Errorf("notice %q", got)
	}
	if got := text("#template-list tbody tr td:nth-child(4)"); got != "v1" {
		t.Errorf("version in the list %q", got)
	}
	if got := text("#h-edit"); got != "编辑“理财开售”（当前 v1）" {
		t.Errorf("editor heading %q", got)
	}
	shot("templates-3-saved")
}
