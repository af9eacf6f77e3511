package web_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"kehu/internal/testkit"
)

// TestBrowserTagCatalogue drives 标签管理 in headless Chromium as the
// marketing operator: the nav entry opens the catalogue, an emotion tag
// without a polarity comes back with the field marked, with one it is
// created and listed in red, the high-net-worth threshold is changed on
// the edit page, and the new tag is deactivated.
func TestBrowserTagCatalogue(t *testing.T) {
	a := newApp(t, testkit.NewDB(t, "sqlite"))
	ids := builtinTags(t, a.Bank)
	ctx := testkit.Browser(t)
	shot := screenshotter(t, ctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	do, text := browserSteps(t, ctx)
	do("sign in", signInActions(a.srv.URL+"/login", "hq_marketing", `a[href="/tags"]`)...)
	do("open 标签管理 from the nav", chromedp.Click(css(`a[href="/tags"]`)), chromedp.WaitVisible(css("#tag-catalogue")))
	if s := text("#tag-catalogue"); !strings.Contains(s, "金融资产不少于 ¥6,000,000.00") || !strings.Contains(s, "不满意") {
		t.Errorf("catalogue %q", s)
	}
	do("an emotion tag without polarity", chromedp.SetValue(css("#new-kind"), "emotion"),
		chromedp.SendKeys(css("#tag-name"), "焦虑"), chromedp.Click(css("#new-tag-submit")),
		chromedp.WaitVisible(css(`#tag-polarity[aria-invalid="true"]`)))
	do("with a negative polarity it is created", chromedp.SetValue(css("#tag-polarity"), "negative"),
		chromedp.SetValue(css("#tag-color"), "red"), chromedp.Click(css("#new-tag-submit")),
		chromedp.WaitVisible(css("#tags-notice")))
	if s := text("#tag-catalogue"); !strings.Contains(s, "焦虑") {
		t.Errorf("new tag not listed: %q", s)
	}
	shot("tags-1-catalogue")
	hnw := strconv.FormatInt(ids["high_net_worth"], 10)
	do("edit the high-net-worth threshold", chromedp.Click(css(`#tag-`+hnw+` a.edit-tag`)),
		chromedp.WaitVisible(css("#rule-min-aum")), chromedp.SetValue(css("#rule-min-aum"), "5000000"),
		chromedp.Click(css("#edit-tag-submit")), chromedp.WaitVisible(css("#tags-notice")))
	if s := text("#tag-" + hnw); !strings.Contains(s, "¥5,000,000.00") {
		t.Errorf("threshold after edit: %q", s)
	}
	anxious := tagByName(t, a.Bank, "焦虑")
	row := "#tag-" + strconv.FormatInt(anxious.ID, 10)
	do("deactivate the new tag", chromedp.Click(css(row+" button.toggle-tag")), chromedp.WaitVisible(css(row+".inactive")))
	if s := text(row); !strings.Contains(s, "已停用") {
		t.Errorf("after deactivation: %q", s)
	}
	shot("tags-2-deactivated")
}
