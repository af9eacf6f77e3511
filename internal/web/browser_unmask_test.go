package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"kehu/internal/audit"
	"kehu/internal/testkit"
)

// TestBrowserUnmask drives Chromium through 显示 on the customer page: a
// teller sees a1's mobile and ID number masked, opens the reason form next to
// the mobile, is refused in Chinese without a reason, gives one and sees the
// clear mobile marked as audited; the audit trail holds the customer.unmask
// record with that reason. 取消 closes a form and brings the link back; an
// account number in the accounts table is revealed the same way. A
// lobby manager, without customer.unmask, gets no 显示 link at all.
func TestBrowserUnmask(t *testing.T) {
	a := newApp(t, testkit.NewDB(t, "sqlite"))
	a.AddPortfolio(t)
	a1 := a.Customers["a1"]
	page := a.srv.URL + "/customers/" + strconv.FormatInt(a1.ID, 10)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	signIn := func(user string) (context.Context, func(string, ...chromedp.Action[chromedp.Void]), func(string) string) {
		ctx := testkit.Browser(t)
		do, text := browserStepsAs(t, ctx, user)
		do("sign in", signInActions(a.srv.URL+"/login", user, "#q")...)
		return ctx, do, text
	}
	is := func(ctx context.Context, js string) bool {
		t.Helper()
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return ok
	}
	poll := func(ctx context.Context, step, js string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js)); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}

	ctx, do, text := signIn("teller_a")
	shot := screenshotter(t, ctx)
	do("open a1", chromedp.Navigate(page), chromedp.WaitVisible(css("#f-mobile a.unmask")))
	maskedID := a1.IDNumber[:3] + strings.Repeat("*", len(a1.IDNumber)-7) + a1.IDNumber[len(a1.IDNumber)-4:]
	if m := text("#f-mobile"); !strings.HasPrefix(m, "138****0001") || strings.Contains(m, a1.Mobile) {
		t.Errorf("mobile shows %q, want it masked", m)
	}
	if id := text("#f-id_number"); !strings.HasPrefix(id, maskedID) || strings.Contains(id, a1.IDNumber) {
		t.Errorf("ID number shows %q, want %s…", id, maskedID)
	}
	if l := text("#f-mobile a.unmask"); l != "显示" {
		t.Errorf("the link reads %q", l)
	}
	shot("unmask-1-masked")

	do("取消 closes a form", chromedp.Click(css("#f-id_number a.unmask")),
		chromedp.WaitVisible(css("#u-id_number input[name=reason]")))
	if is(ctx, `getComputedStyle(document.querySelector("#f-id_number a.unmask")).display !== "none"`) {
		t.Error("the 显示 link stays visible while its form is open")
	}
	do("cancel", chromedp.Click(css("#u-id_number .unmask-cancel")), chromedp.WaitVisible(css("#f-id_number a.unmask")))
	poll(ctx, "the form is gone after 取消", `document.querySelector("#u-id_number").childElementCount === 0`)
	if id := text("#f-id_number"); !strings.HasPrefix(id, maskedID) {
		t.Errorf("after 取消 the ID number shows %q", id)
	}

	do("open the reason form next to the mobile", chromedp.Click(css("#f-mobile a.unmask")),
		chromedp.WaitVisible(css("#u-mobile input[name=reason]")))
	// htmx focuses the autofocus field once the swap settles.
	poll(ctx, "the reason field takes the focus",
		`document.activeElement === document.querySelector("#u-mobile input[name=reason]")`)
	if b := text("#u-mobile button.primary"); b != "显示" {
		t.Errorf("confirm button %q", b)
	}
	if c := text("#u-mobile .unmask-cancel"); c != "取消" {
		t.Errorf("cancel button %q", c)
	}
	shot("unmask-2-form")

	do("submit without a reason", chromedp.Click(css("#u-mobile button.primary")),
		chromedp.WaitVisible(css("#u-mobile .unmask-error")))
	if e := text("#u-mobile .unmask-error"); e != "请说明原因（2–200 字）" {
		t.Errorf("error %q", e)
	}
	if !is(ctx, `document.querySelector("#u-mobile input[name=reason]").getAttribute("aria-invalid") === "true"`) {
		t.Error("the reason field is not marked invalid")
	}
	if m := text("#f-mobile"); strings.Contains(m, a1.Mobile) {
		t.Fatal("the clear mobile is shown without a reason")
	}
	shot("unmask-3-no-reason")

	const reason = "客户来电核实身份"
	do("give a reason and confirm", chromedp.SendKeys(css("#u-mobile input[name=reason]"), reason),
		chromedp.Click(css("#u-mobile button.primary")), chromedp.WaitVisible(css("#f-mobile .unmasked")))
	if m := text("#f-mobile .unmasked"); m != a1.Mobile {
		t.Errorf("unmasked mobile %q, want %s", m, a1.Mobile)
	}
	if n := text("#f-mobile .audited"); n != "已记录审计" {
		t.Errorf("audit note %q", n)
	}
	if is(ctx, `document.querySelector("#f-mobile a.unmask, #f-mobile form") !== null`) {
		t.Error("the link or the form stays after the value is shown")
	}
	if id := text("#f-id_number"); strings.Contains(id, a1.IDNumber) {
		t.Error("unmasking the mobile revealed the ID number")
	}
	shot("unmask-4-shown")

	recs, err := a.Audit.Search(a.As("hq_compliance"), audit.Filter{Action: audit.CustomerUnmask, CustomerID: a1.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs.Items) != 1 {
		t.Fatalf("%d customer.unmask records, want 1 (the refused form must not leave one): %+v", len(recs.Items), recs.Items)
	}
	r := recs.Items[0]
	if r.Username != "teller_a" || r.Reason != reason || r.Outcome != "" && r.Outcome != "ok" ||
		len(r.Changes) != 1 || r.Changes[0].Field != "mobile" {
		t.Errorf("audit record %+v", r)
	}
	if c := r.Changes[0]; c.Old != "" || c.New != "" {
		t.Errorf("the audit record holds values: %+v", c)
	}

	do("显示 an account number in the accounts table", chromedp.Click(css(`.c360-tabs a[href="#assets"]`)), // the 资产 tab
		chromedp.ScrollIntoView(css("#f-account_no-1")),
		chromedp.Click(css("#f-account_no-1 a.unmask")), chromedp.WaitVisible(css("#u-account_no-1 input[name=reason]")))
	shot("unmask-5-account-form")
	do("confirm with a reason", chromedp.SendKeys(css("#u-account_no-1 input[name=reason]"), "客户核对代发工资账号"),
		chromedp.Click(css("#u-account_no-1 button.primary")), chromedp.WaitVisible(css("#f-account_no-1 .unmasked")))
	if n := text("#f-account_no-1 .unmasked"); n != testkit.AccountNo(1) {
		t.Errorf("account number %q, want %s", n, testkit.AccountNo(1))
	}
	if n := text("#f-account_no-2"); !strings.HasPrefix(n, "6222 **** **** 0002") {
		t.Errorf("the second account shows %q", n)
	}
	shot("unmask-6-account-shown")

	lctx, ldo, ltext := signIn("lobby_a")
	ldo("open a1 as the lobby manager", chromedp.Navigate(page), chromedp.WaitVisible(css("#f-mobile")))
	if m := ltext("#f-mobile"); m != "138****0001" {
		t.Errorf("lobby manager sees the mobile as %q", m)
	}
	if is(lctx, `document.querySelectorAll("a.unmask, .unmask-slot").length !== 0`) {
		t.Error("the lobby manager is offered 显示")
	}
}
