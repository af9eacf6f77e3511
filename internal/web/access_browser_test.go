package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"kehu/internal/testkit"
)

// TestBrowserApprovalFlow drives Chromium through the approval flow of issue
// 3: an RM opens a customer outside their scope and gets the 404 page with
// the offer, requests access with a reason; the branch manager approves it in
// the inbox (another browser); the RM then opens the customer.
func TestBrowserApprovalFlow(t *testing.T) {
	a := newApp(t, testkit.NewDB(t, "sqlite"))
	b1 := a.Customers["b1"]
	page := a.srv.URL + "/customers/" + strconv.FormatInt(b1.ID, 10)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	type browser struct {
		ctx  context.Context
		do   func(step string, actions ...chromedp.Action[chromedp.Void])
		text func(sel string) string
	}
	signIn := func(user string) browser {
		ctx := testkit.Browser(t)
		do, text := browserStepsAs(t, ctx, user)
		do("sign in", signInActions(a.srv.URL+"/login", user, "#q")...)
		return browser{ctx, do, text}
	}

	rm := signIn("rm_a")
	rm.do("open the out-of-scope customer", chromedp.Navigate(page), chromedp.WaitVisible(css("#offer-form")))
	if body := rm.text("main"); strings.Contains(body, b1.Name) {
		t.Fatal("the 404 page names the customer")
	}
	rm.do("request access", chromedp.SendKeys(css("#offer-form input[name=reason]"), "客户到我行办理业务"),
		chromedp.Click(css("#offer-form button")), chromedp.WaitVisible(css("#notice")))
	if s := rm.text("#mine .status"); s != "待审批" {
		t.Errorf("my request shows %q", s)
	}

	mgr := signIn("branch_manager")
	mgr.do("open the inbox", chromedp.Navigate(a.srv.URL+"/access"), chromedp.WaitVisible(css("#inbox button.approve")))
	if inbox := mgr.text("#inbox"); !strings.Contains(inbox, b1.Name) || !strings.Contains(inbox, "rm_a") {
		t.Errorf("inbox %q does not show the customer and requester", inbox)
	}
	// The approval lands before the confirmation shows: waiting for it (not
	// for a section the inbox page already had) orders the RM's next step
	// after the grant.
	mgr.do("approve", chromedp.SendKeys(css("#inbox input[name=comment]"), "同意"),
		chromedp.Click(css("#inbox button.approve")), chromedp.WaitVisible(css("#notice")))
	if s := mgr.text("#notice"); !strings.Contains(s, "已批准") {
		t.Errorf("approval confirmation %q", s)
	}

	rm.do("open the customer", chromedp.Navigate(page), chromedp.WaitVisible(css("#customer-name")))
	if name := rm.text("#customer-name"); !strings.HasPrefix(name, b1.Name) {
		t.Errorf("customer page heading %q", name)
	}
}
