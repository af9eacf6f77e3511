package web_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"kehu/internal/testkit"
)

// TestBrowserC360 drives headless Chromium through the customer 360 as a
// relationship manager: the tabs switch without script, the relationship
// graph links the spouse (in scope) and not the sibling (another outlet),
// ticking a product the customer declined shows the quiet-period warning,
// an interaction is recorded and listed in place (htmx), and an emotion tag
// is put on with its reason and shows in red.
func TestBrowserC360(t *testing.T) {
	a := newApp(t, testkit.NewDB(t, "sqlite"))
	a.AddPortfolio(t)
	builtinTags(t, a.Bank)
	ctx := testkit.Browser(t)
	shot := screenshotter(t, ctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	do, text := browserSteps(t, ctx)
	count := func(sel string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(sel)+`).length`))
		if err != nil {
			t.Fatalf("count %s: %v", sel, err)
		}
		return n
	}
	a1, a2, b1 := a.Customers["a1"].ID, a.Customers["a2"].ID, a.Customers["b1"].ID
	page := a.srv.URL + "/customers/" + strconv.FormatInt(a1, 10)

	do("sign in", chromedp.Navigate(a.srv.URL+"/login"), chromedp.WaitVisible(css("#username")),
		chromedp.SendKeys(css("#username"), "rm_a"), chromedp.SendKeys(css("#password"), testkit.Password),
		chromedp.Click(css(".login-card button.primary")), chromedp.WaitVisible(css("#q")))
	do("open 张伟's 360", chromedp.Navigate(page), chromedp.WaitVisible(css("#kpis")))
	if s := text("#kpis"); !strings.Contains(s, "¥1,018,456.78") {
		t.Errorf("KPIs %q", s)
	}
	shot("c360-1-overview")

	do("资产 tab", chromedp.Click(css(`.c360-tabs a[href="#assets"]`)), chromedp.WaitVisible(css("#aum-trend")))
	if n := count("#aum-trend .bar"); n != 12 {
		t.Errorf("trend bars %d", n)
	}
	shot("c360-2-assets")

	do("关系 tab", chromedp.Click(css(`.c360-tabs a[href="#relationships"]`)), chromedp.WaitVisible(css("#rel-graph")))
	if n := count(`#rel-graph a.node-link[data-customer="` + strconv.FormatInt(a2, 10) + `"]`); n != 1 {
		t.Errorf("the spouse (in scope) is linked %d times in the graph", n)
	}
	if n := count(`#rel-graph a[data-customer="` + strconv.FormatInt(b1, 10) + `"]`); n != 0 {
		t.Errorf("the sibling (outside scope) is linked in the graph")
	}
	shot("c360-3-graph")
	do("follow the spouse's node", chromedp.Click(css(`#rel-graph a[data-customer="`+strconv.FormatInt(a2, 10)+`"] circle`)),
		chromedp.WaitVisible(css("#customer-name")))
	if name := text("#customer-name"); !strings.HasPrefix(name, "王芳") {
		t.Errorf("the graph link opened %q", name)
	}

	do("back to 张伟, 互动 tab", chromedp.Navigate(page+"#interactions"), chromedp.WaitVisible(css("#interaction-form")))
	do("record a declined pitch",
		chromedp.SetValue(css("#int-channel"), "branch"), chromedp.SetValue(css("#int-purpose"), "marketing"),
		chromedp.Click(css(`#int-products input[value="FD-EQ01"]`)), chromedp.SetValue(css("#int-response"), "declined"),
		chromedp.SendKeys(css("#int-note"), "客户担心净值波动"),
		chromedp.Click(css("#int-submit")), chromedp.WaitVisible(css("#interaction-notice")))
	if s := text("#interaction-list"); !strings.Contains(s, "客户担心净值波动") || !strings.Contains(s, "拒绝") {
		t.Errorf("interaction list %q", s)
	}
	if s := text("#quiet-list"); !strings.Contains(s, "2026-04-01") {
		t.Errorf("quiet list %q", s)
	}
	// Ticking the declined product again warns before a second pitch.
	do("tick the declined product", chromedp.Click(css(`#int-products input[value="FD-EQ01"]`)),
		chromedp.WaitVisible(css(`#int-products input.quiet:checked + label .quiet-warn`)))
	if s := text(`#int-products input.quiet:checked + label .quiet-warn`); !strings.Contains(s, "请勿推荐") {
		t.Errorf("quiet warning %q", s)
	}
	shot("c360-4-interactions")

	do("标签 tab", chromedp.Click(css(`.c360-tabs a[href="#tags"]`)), chromedp.WaitVisible(css("#tag-form")))
	var unhappy string
	for _, tg := range builtinTagsList(t, a) {
		if tg.code == "dissatisfied" {
			unhappy = strconv.FormatInt(tg.id, 10)
		}
	}
	do("an emotion tag without a reason is refused", chromedp.SetValue(css("#tag-pick"), unhappy),
		chromedp.Click(css("#tag-submit")), chromedp.WaitVisible(css("#tag-error")))
	do("with a reason it is added", chromedp.SetValue(css("#tag-pick"), unhappy),
		chromedp.SendKeys(css("#tag-reason"), "理财亏损，情绪激动"), chromedp.Click(css("#tag-submit")),
		chromedp.WaitVisible(css("#tag-notice")))
	if s := text("#tag-list"); !strings.Contains(s, "不满意") || !strings.Contains(s, "理财亏损，情绪激动") {
		t.Errorf("tag list %q", s)
	}
	if n := count("#tag-list .emotion-negative"); n != 1 {
		t.Errorf("negative emotion chips %d", n)
	}
	shot("c360-5-tags")
	do("reload: the header shows the tag", chromedp.Navigate(page), chromedp.WaitVisible(css("#head-tags")))
	if n := count("#head-tags .emotion-negative"); n != 1 {
		t.Errorf("header emotion chips %d", n)
	}

	do("偏好与授权 tab", chromedp.Click(css(`.c360-tabs a[href="#preferences"]`)), chromedp.WaitVisible(css("#pref-form")))
	do("half a contact window is refused in place", chromedp.SetValue(css("#pref-from"), "19:00"),
		chromedp.Click(css("#pref-submit")), chromedp.WaitVisible(css("#pref-error")))
	do("a whole window, do-not-call, saved", chromedp.SetValue(css("#pref-channel"), "wechat"),
		chromedp.SetValue(css("#pref-from"), "19:00"), chromedp.SetValue(css("#pref-to"), "21:30"),
		chromedp.SetValue(css("#pref-days"), "weekdays"), chromedp.SetValue(css("#pref-language"), "yue"),
		chromedp.Click(css("#pref-dnc")), chromedp.SendKeys(css("#pref-note"), "白天开会，晚上方便"),
		chromedp.Click(css("#pref-submit")), chromedp.WaitVisible(css("#pref-notice")))
	shot("c360-6-preferences")
	do("reload: the preferences stay", chromedp.Navigate(page+"#preferences"), chromedp.WaitVisible(css("#pref-form")))
	value := func(sel, prop string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`String(document.querySelector(`+strconv.Quote(sel)+`).`+prop+`)`))
		if err != nil {
			t.Fatalf("%s of %s: %v", prop, sel, err)
		}
		return v
	}
	channel, from, lang := value("#pref-channel", "value"), value("#pref-from", "value"), value("#pref-language", "value")
	dnc := value("#pref-dnc", "checked") == "true"
	if channel != "wechat" || from != "19:00" || lang != "yue" || !dnc {
		t.Errorf("preferences after reload: %q %q %q %v", channel, from, lang, dnc)
	}
}

type tagRef struct {
	id   int64
	code string
}

func builtinTagsList(t *testing.T, a *app) []tagRef {
	var out []tagRef
	for code, id := range builtinTags(t, a.Bank) {
		out = append(out, tagRef{id, code})
	}
	return out
}
