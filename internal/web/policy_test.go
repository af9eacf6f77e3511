package web_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"kehu/internal/store"
	"kehu/internal/testkit"
)

// policyBank gives a1 (rm_a's) the portfolio's products, a C3 assessment
// made eight months ago and SMS consent.
func policyBank(t *testing.T, a *app) string {
	t.Helper()
	a.AddPortfolio(t)
	a1 := a.Customers["a1"].ID
	err := a.DB.InTx(context.Background(), func(tx *sql.Tx) error {
		if _, err := tx.Exec("UPDATE customers SET risk_level = 3, risk_assessed_at = $1 WHERE id = $2",
			a.Clock.Now().AddDate(0, -8, 0), a1); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO customer_consents (customer_id, channel, granted, changed_at, source)
			VALUES ($1, 'sms', TRUE, $2, 'counter')`, a1, a.Clock.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return strconv.FormatInt(a1, 10)
}

// TestContactPolicyPage: an RM checks a customer (decision and reasons in
// Chinese, one audit record, an unknown id a message on the page) and sees
// the settings read-only; a marketing operator's bad settings come back with
// a sentence per field (422), good ones are saved as version 1.
func TestContactPolicyPage(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		a1 := policyBank(t, a)
		rm := a.login(t, "rm_a")
		page := rm.get("/contact-policy")
		if page.status != http.StatusOK {
			t.Fatalf("page: %d", page.status)
		}
		mustContain(t, page.body, "检查客户能否触达", "策略设置", "尚未保存过设置，当前为系统默认值", `value="21:00"`,
			"仅营销管理员和系统管理员可以修改触达策略。", `href="/contact-policy"`)
		mustNotContain(t, page.body, `id="settings-submit"`)
		csrf := rm.csrf(page)
		check := func(product string) response {
			return rm.post("/contact-policy/check", url.Values{"csrf": {csrf}, "customer_id": {a1}, "channel": {"sms"},
				"purpose": {"marketing"}, "product": {product}})
		}
		var res response
		got := newRecords(t, a, func() { res = check("WM-R2-180") })
		if res.status != http.StatusOK || got["customer.contact_check/ok"] != 1 || len(got) != 1 {
			t.Errorf("check: %d %v", res.status, got)
		}
		mustContain(t, res.body, `id="decision-outcome">可以触达`, "所有规则均通过。")
		res = check("FD-EQ01")
		mustContain(t, res.body, "不得触达", `data-code="risk_too_high">产品风险等级R4高于客户风险承受能力C3`)
		res = rm.post("/contact-policy/check", url.Values{"csrf": {csrf}, "customer_id": {"abc"}, "channel": {"sms"}, "purpose": {"marketing"}})
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("bad id: %d", res.status)
		}
		mustContain(t, res.body, "请输入客户编号（数字）。", `id="check-customer" value="abc" maxlength="19" aria-invalid="true"`)
		res = rm.post("/contact-policy/check", url.Values{"csrf": {csrf}, "customer_id": {strconv.FormatInt(a.Customers["b1"].ID, 10)},
			"channel": {"sms"}, "purpose": {"marketing"}})
		if res.status != http.StatusNotFound {
			t.Errorf("out of scope: %d", res.status)
		}
		mustContain(t, res.body, "找不到该客户，或该客户不在您的管户范围内。")
		if res := rm.post("/contact-policy", url.Values{"csrf": {csrf}, "max_marketing": {"3"}}); res.status != http.StatusForbidden {
			t.Errorf("rm saves: %d", res.status)
		}

		mkt := a.login(t, "hq_marketing")
		page = mkt.get("/contact-policy")
		mustContain(t, page.body, `id="settings-submit"`)
		form := url.Values{"csrf": {mkt.csrf(page)}, "max_marketing": {"0"}, "period_days": {"七"}, "max_per_channel_day": {"1"},
			"quiet_from": {"9pm"}, "quiet_to": {"08:00"}, "quiet_period_days": {"30"}, "assessment_validity_months": {"12"}}
		res = mkt.post("/contact-policy", form)
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("bad settings: %d", res.status)
		}
		mustContain(t, res.body, "未保存：请修改标出的项目。", "营销触达上限须为 1 到 100 之间的整数。",
			"统计周期须为 1 到 90 天之间的整数。", "免打扰开始时间须为 HH:MM 格式，例如 21:00。", `value="9pm"`)
		form.Set("max_marketing", "3")
		form.Set("period_days", "7")
		form.Set("quiet_from", "21:30")
		got = newRecords(t, a, func() { res = mkt.post("/contact-policy", form) })
		if res.status != http.StatusSeeOther || got["contact_policy.update/ok"] != 1 {
			t.Fatalf("save: %d %v", res.status, got)
		}
		res = mkt.get(res.location)
		mustContain(t, res.body, "触达策略已保存为新版本，立即生效。", "第 1 版", `value="21:30"`, `id="max-marketing" value="3"`,
			`name="base_version" value="1"`)
		// A form filled from version 0 (before the save above) is refused,
		// its input kept, and the next save is on top of version 1.
		form.Set("base_version", "0")
		form.Set("max_marketing", "4")
		got = newRecords(t, a, func() { res = mkt.post("/contact-policy", form) })
		if res.status != http.StatusConflict || len(got) != 0 {
			t.Fatalf("stale form: %d %v", res.status, got)
		}
		mustContain(t, res.body, "未保存：您编辑期间已有人保存了新版本。", `id="max-marketing" value="4"`, `name="base_version" value="1"`)
		form.Set("base_version", "1")
		if res = mkt.post("/contact-policy", form); res.status != http.StatusSeeOther {
			t.Errorf("save on version 1: %d", res.status)
		}
	})
}

// TestSuitabilityPanel: the customer page shows the assessment, its expiry
// and the products that may be offered, and still records one customer.read.
func TestSuitabilityPanel(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		a1 := policyBank(t, a)
		rm := a.login(t, "rm_a")
		var res response
		got := newRecords(t, a, func() { res = rm.get("/customers/" + a1) })
		if len(got) != 1 || got["customer.read/ok"] != 1 {
			t.Errorf("records %v", got)
		}
		mustContain(t, res.body, `id="suitability"`, "适当性", "C3 平衡型", "2026-07-02 到期", `id="suitability-valid"`,
			"在售理财、基金、保险产品中 1 / 2 个可向该客户推荐（评估有效期 12 个月）。",
			`<tr data-code="WM-R2-180" class="suitable">`, `<tr data-code="FD-EQ01" class="unsuitable">`,
			"产品风险等级R4高于客户风险承受能力C3")
		// Another customer, never assessed: re-assessment needed.
		res = rm.get("/customers/" + strconv.FormatInt(a.Customers["a2"].ID, 10))
		mustContain(t, res.body, `id="suitability-reassess"`, "客户未做风险评估，需重新评估")
	})
}

// TestBrowserContactPolicy drives Chromium as a marketing operator: open
// 触达策略 from the navigation, save a wrong quiet-hours start (the page says
// which field and why), correct and save, then check a customer whose
// product is too risky and read the reasons in Chinese.
func TestBrowserContactPolicy(t *testing.T) {
	a := newApp(t, testkit.NewDB(t, "sqlite"))
	a1 := policyBank(t, a)
	ctx := testkit.Browser(t)
	shot := screenshotter(t, ctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	do, text := browserSteps(t, ctx)
	do("sign in as the marketing operator", signInActions(a.srv.URL+"/login", "hq_marketing", ".sidenav")...)
	do("open the page from the navigation",
		chromedp.Click(css(`.sidenav a[href="/contact-policy"]`)),
		chromedp.WaitVisible(css("#settings-form")))
	do("type a wrong start of the quiet hours and save",
		chromedp.Clear(css("#quiet-from")),
		chromedp.SendKeys(css("#quiet-from"), "9点"),
		chromedp.Click(css("#settings-submit")),
		chromedp.WaitVisible(css("#policy-error")))
	shot("policy-1-error")
	if got := text(`#policy-error li[data-field="quiet_from"]`); got != "免打扰开始时间须为 HH:MM 格式，例如 21:00。" {
		t.Errorf("error message %q", got)
	}
	do("correct it and save",
		chromedp.Clear(css("#quiet-from")),
		chromedp.SendKeys(css("#quiet-from"), "22:00"),
		chromedp.Click(css("#settings-submit")),
		chromedp.WaitVisible(css("#policy-notice")))
	if got := text("#settings p.muted"); got == "" || got[:len("第 1 版")] != "第 1 版" {
		t.Errorf("version line %q", got)
	}
	do("check a1 for the equity fund by SMS",
		chromedp.SendKeys(css("#check-customer"), a1),
		chromedp.SetValue(css("#check-product"), "FD-EQ01"),
		chromedp.Click(css("#check-submit")),
		chromedp.WaitVisible(css("#decision")))
	shot("policy-2-decision")
	if got := text("#decision-outcome"); got != "不得触达" {
		t.Errorf("outcome %q", got)
	}
	if got := text(`#decision-reasons li[data-code="risk_too_high"]`); got != "产品风险等级R4高于客户风险承受能力C3" {
		t.Errorf("reason %q", got)
	}
}
