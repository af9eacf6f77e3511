package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"kehu/internal/customer"
	"kehu/internal/i18n"
	"kehu/internal/org"
	"kehu/internal/privacy"
	"kehu/internal/store"
	"kehu/internal/testkit"
	"kehu/internal/web"
)

// privacyService wires the privacy service over the test bank like `kehu
// serve`; threshold 0 is the default (1,000).
func privacyService(b *testkit.Bank, threshold int64) *privacy.Service {
	return privacy.NewService(privacy.Deps{Store: b.DB.Privacy(), Customers: b.CustomerService(), Clock: b.Clock,
		Audit: b.Audit, Tx: b.DB, Config: privacy.Config{BulkThreshold: threshold}})
}

// newPrivacyApp is newApp with a bulk threshold small enough to cross with
// the test bank's five customers.
func newPrivacyApp(t *testing.T, db *store.DB, threshold int64) (*app, *privacy.Service) {
	t.Helper()
	b := testkit.NewBank(t, db)
	ps := privacyService(b, threshold)
	h, err := web.New(web.Deps{Auth: b.Auth, Customers: b.CustomerService(), Orgs: org.NewService(db.Orgs()),
		Accounts: b.AccountService(), Entitlements: b.EntitlementService(), Audit: b.Audit, Clock: b.Clock,
		Privacy: ps, C360: b.C360Service(), Interactions: b.InteractionService(), Tags: b.TagService()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &app{Bank: b, srv: srv, logs: &syncBuffer{}}, ps
}

var requestLink = regexp.MustCompile(`href="/privacy/requests/(\d+)"`)

// fileRequest files a request from the customer's privacy panel and returns
// its id as the manager sees it in the panel notice.
func fileRequest(t *testing.T, c *client, customerID int64, kind, notes string) {
	t.Helper()
	path := "/customers/" + strconv.FormatInt(customerID, 10) + "/privacy"
	panel := c.get(path)
	if panel.status != http.StatusOK {
		t.Fatalf("panel: %d", panel.status)
	}
	res := c.post("/customers/"+strconv.FormatInt(customerID, 10)+"/privacy-requests",
		url.Values{"csrf": {c.csrf(panel)}, "kind": {kind}, "notes": {notes}})
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, path+"?done=filed") {
		t.Fatalf("file %s: %d %s", kind, res.status, res.location)
	}
}

// latestRequest is the newest request on the manager's list.
func latestRequest(t *testing.T, c *client) string {
	t.Helper()
	m := requestLink.FindStringSubmatch(c.get("/privacy").body)
	if m == nil {
		t.Fatal("no request on the list")
	}
	return "/privacy/requests/" + m[1]
}

// step posts a workflow form of the request page.
func step(t *testing.T, c *client, req, verb string, form url.Values) response {
	t.Helper()
	page := c.get(req)
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", c.csrf(page))
	return c.post(req+"/"+verb, form)
}

// TestPrivacyPagesByRole: the navigation offers the pages to privacy
// managers only; a teller gets the 403 page; pages render in both languages.
func TestPrivacyPagesByRole(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		comp := a.login(t, "hq_compliance")
		for _, lang := range []string{"zh-CN", "en"} {
			comp.lang = lang
			list := comp.get("/privacy")
			if list.status != http.StatusOK {
				t.Fatalf("%s /privacy: %d", lang, list.status)
			}
			mustContain(t, list.body, `href="/privacy"`, `href="/compliance"`)
			al := comp.get("/compliance")
			if al.status != http.StatusOK {
				t.Fatalf("%s /compliance: %d", lang, al.status)
			}
			if lang == "en" {
				mustContain(t, list.body, "Data-subject requests", "Overdue only")
				mustContain(t, al.body, "Bulk-export approvals", "No alerts.")
			} else {
				mustContain(t, list.body, "个人信息权利请求", "仅显示已逾期")
				mustContain(t, al.body, "合规提醒", "批量导出审批")
			}
		}
		if res := comp.get("/privacy?status=bogus"); res.status != http.StatusBadRequest {
			t.Errorf("bad status filter: %d", res.status)
		}
		teller := a.login(t, "teller_a")
		home := teller.get("/customers")
		mustNotContain(t, home.body, `href="/privacy"`, `href="/compliance"`)
		for _, p := range []string{"/privacy", "/compliance", "/privacy/requests/1"} {
			if res := teller.get(p); res.status != http.StatusForbidden {
				t.Errorf("teller %s: %d", p, res.status)
			}
		}
		// The teller still has the panel (consents, filing) on a customer.
		a1 := strconv.FormatInt(a.Customers["a1"].ID, 10)
		page := teller.get("/customers/" + a1)
		mustContain(t, page.body, `hx-get="/customers/`+a1+`/privacy"`, `href="/customers/`+a1+`/privacy"`)
		panel := teller.get("/customers/"+a1+"/privacy", "HX-Request", "true")
		if panel.status != http.StatusOK || strings.Contains(panel.body, "<html") {
			t.Fatalf("panel fragment: %d", panel.status)
		}
		mustContain(t, panel.body, `id="privacy"`, `action="/customers/`+a1+`/privacy-requests"`, "短信")
		// Outside the scope: the same 404 as the customer page.
		if res := teller.get("/customers/" + strconv.FormatInt(a.Customers["b1"].ID, 10) + "/privacy"); res.status != http.StatusNotFound {
			t.Errorf("panel of an out-of-scope customer: %d", res.status)
		}
	})
}

// TestPrivacyWorkflowForms drives each kind through the forms: a teller
// files, compliance or the branch manager starts and completes; access
// downloads the export, rectify applies corrections, erase demands the
// confirmation and then anonymises; a reject needs a reason. Hostile notes
// are escaped; a form without the token changes nothing.
func TestPrivacyWorkflowForms(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		ctx := a.As("admin")
		a1, a2, a3 := a.Customers["a1"].ID, a.Customers["a2"].ID, a.Customers["a3"].ID
		teller := a.login(t, "teller_a")
		hostile := `<script>alert(1)</script><img src=x onerror=alert(2)>`
		fileRequest(t, teller, a1, privacy.KindAccess, hostile)

		comp := a.login(t, "hq_compliance")
		list := comp.get("/privacy")
		mustContain(t, list.body, "查阅复制", "已受理", "2026-03-23")
		req := latestRequest(t, comp)
		detail := comp.get(req)
		mustContain(t, detail.body, "&lt;script&gt;alert(1)&lt;/script&gt;", `id="start-button"`)
		mustNotContain(t, detail.body, "<script>alert(1)", "<img src=x")
		// No token: refused, nothing started.
		if res := comp.post(req+"/start", url.Values{}); res.status != http.StatusForbidden {
			t.Fatalf("start without csrf: %d", res.status)
		}
		if res := step(t, comp, req, "start", nil); res.status != http.StatusSeeOther || res.location != req+"?done=start" {
			t.Fatalf("start: %d %s", res.status, res.location)
		}
		started := comp.get(req + "?done=start")
		mustContain(t, started.body, "处理中", "已开始处理")
		exp := comp.get(req + "/export")
		if exp.status != http.StatusOK || !strings.Contains(exp.header.Get("Content-Disposition"), "attachment") ||
			!strings.Contains(exp.body, privacy.ExportFormat) || !strings.Contains(exp.body, a.Customers["a1"].Mobile) {
			t.Fatalf("export: %d %s", exp.status, exp.header.Get("Content-Disposition"))
		}
		if res := step(t, comp, req, "complete", url.Values{"notes": {"已交付"}}); res.status != http.StatusSeeOther {
			t.Fatalf("complete access: %d", res.status)
		}
		mustContain(t, comp.get(req).body, "已完成")

		// Rectify: the auditor is told to hand it on; the branch manager applies it.
		fileRequest(t, teller, a2, privacy.KindRectify, "手机号变更")
		req = latestRequest(t, comp)
		mustContain(t, comp.get(req).body, "转交支行长")
		mgr := a.login(t, "branch_manager")
		if res := step(t, mgr, req, "complete", url.Values{"mobile": {"123"}}); res.status != http.StatusUnprocessableEntity {
			t.Fatalf("invalid correction: %d", res.status)
		} else {
			mustContain(t, res.body, `id="privacy-error"`, "手机号", `value="123"`)
		}
		if res := step(t, mgr, req, "complete", url.Values{"mobile": {"13900000002"}}); res.status != http.StatusSeeOther {
			t.Fatalf("rectify: %d", res.status)
		}
		if c, _ := db.Customers().GetCustomer(ctx, a2, customer.ScopeFilter{}); c.Mobile != "13900000002" {
			t.Errorf("mobile after rectification %q", c.Mobile)
		}

		// Erase: the page explains; without the tick nothing happens.
		fileRequest(t, teller, a3, privacy.KindErase, "")
		req = latestRequest(t, mgr)
		page := mgr.get(req)
		mustContain(t, page.body, "依法保留（反洗钱）", "5 年", `name="confirm" value="erase"`, "账户、交易、持仓")
		if res := step(t, mgr, req, "complete", nil); res.status != http.StatusUnprocessableEntity {
			t.Fatalf("erase without confirmation: %d", res.status)
		} else {
			mustContain(t, res.body, "请先勾选确认")
		}
		if c, _ := db.Customers().GetCustomer(ctx, a3, customer.ScopeFilter{}); c.Status == customer.StatusErased {
			t.Fatal("erased without confirmation")
		}
		if res := step(t, mgr, req, "complete", url.Values{"confirm": {"erase"}}); res.status != http.StatusSeeOther {
			t.Fatalf("erase: %d", res.status)
		}
		if c, _ := db.Customers().GetCustomer(ctx, a3, customer.ScopeFilter{}); c.Status != customer.StatusErased || c.Mobile != "" {
			t.Errorf("after erasure status %q mobile %q", c.Status, c.Mobile)
		}

		// Reject needs a reason; a finished request offers no actions.
		fileRequest(t, teller, a1, privacy.KindWithdrawConsent, "")
		req = latestRequest(t, comp)
		if res := step(t, comp, req, "reject", url.Values{"reason": {" "}}); res.status != http.StatusUnprocessableEntity {
			t.Fatalf("reject without reason: %d", res.status)
		}
		if res := step(t, comp, req, "reject", url.Values{"reason": {"身份未核实 <b>x</b>"}}); res.status != http.StatusSeeOther {
			t.Fatalf("reject: %d", res.status)
		}
		done := comp.get(req)
		mustContain(t, done.body, "已驳回", "身份未核实 &lt;b&gt;x&lt;/b&gt;")
		mustNotContain(t, done.body, `id="start-button"`, `id="complete-form"`)
		if res := step(t, comp, req, "start", nil); res.status != http.StatusConflict {
			t.Errorf("start a rejected request: %d", res.status)
		}
		// English.
		comp.lang = "en"
		mustContain(t, comp.get(req).body, "Rejected", "Withdraw consent")
		mustContain(t, comp.get("/privacy?status=completed").body, "Erasure", "Rectification")
	})
}

// TestConsentForms: an RM withdraws SMS from the panel (htmx and plain),
// effective at once for marketing's check; granting needs customer.write
// (the call centre sees no grant button and a forged grant is 403); a form
// without the token changes nothing.
func TestConsentForms(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		ps := privacyService(a.Bank, 0)
		a1 := a.Customers["a1"].ID
		path := "/customers/" + strconv.FormatInt(a1, 10)
		consented := func() bool {
			t.Helper()
			m, err := ps.Consented(a.As("hq_marketing"), privacy.ChannelSMS, []int64{a1})
			if err != nil {
				t.Fatal(err)
			}
			return m[a1]
		}
		rm := a.login(t, "rm_a")
		panel := rm.get(path + "/privacy")
		mustContain(t, panel.body, `name="grant" value="sms"`)
		res := rm.post(path+"/consents", url.Values{"csrf": {rm.csrf(panel)}, "grant": {"sms"}, "source": {"written"}})
		if res.status != http.StatusSeeOther || !consented() {
			t.Fatalf("grant: %d consented=%v", res.status, consented())
		}
		panel = rm.get(path + "/privacy")
		mustContain(t, panel.body, `name="withdraw" value="sms"`, "已同意", "书面")
		if res := rm.post(path+"/consents", url.Values{"withdraw": {"sms"}, "source": {"counter"}}); res.status != http.StatusForbidden || !consented() {
			t.Fatalf("withdraw without csrf: %d consented=%v", res.status, consented())
		}
		res = rm.post(path+"/consents", url.Values{"csrf": {rm.csrf(panel)}, "withdraw": {"sms"}, "source": {"phone"}},
			"HX-Request", "true")
		if res.status != http.StatusOK || consented() {
			t.Fatalf("withdraw: %d consented=%v", res.status, consented())
		}
		mustContain(t, res.body, `id="panel-notice"`, "已撤回")
		if strings.Contains(res.body, "<html") {
			t.Error("htmx withdrawal answered a whole page")
		}
		// The call centre reaches customers through break glass only.
		cc := a.login(t, "hq_callcenter")
		if res := cc.get(path + "/privacy"); res.status != http.StatusNotFound {
			t.Fatalf("call centre before break glass: %d", res.status)
		}
		a.BreakGlass(t, "hq_callcenter", a1)
		ccPanel := cc.get(path + "/privacy")
		if ccPanel.status != http.StatusOK {
			t.Fatalf("call centre after break glass: %d", ccPanel.status)
		}
		mustNotContain(t, ccPanel.body, `name="grant"`)
	})
}

// TestBulkExportPage: over a small threshold the 导出 button answers the
// approval-required page (403, nothing exported) and compliance gets an
// alert; the approval request reaches the branch manager's inbox (not the
// requester's own), and once approved the same export is a CSV.
func TestBulkExportPage(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a, _ := newPrivacyApp(t, db, 2)
		rm := a.login(t, "rm_a")
		list := rm.get("/customers?q=张伟")
		mustContain(t, list.body, `action="/customers/export"`, `name="q" value="张伟"`)
		one := rm.post("/customers/export", url.Values{"csrf": {rm.csrf(list)}, "q": {"张伟"}})
		if one.status != http.StatusOK || !strings.HasPrefix(one.header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(one.body, "客户号") || !strings.Contains(one.body, "张伟") {
			t.Fatalf("small export: %d %q", one.status, one.body)
		}
		all := rm.post("/customers/export", url.Values{"csrf": {rm.csrf(list)}, "q": {""}})
		if all.status != http.StatusForbidden {
			t.Fatalf("export over the threshold: %d", all.status)
		}
		mustContain(t, all.body, `id="approval-required"`, "需要审批", "阈值 2 位", `action="/bulk-export/approvals"`)
		mustNotContain(t, all.body, "王芳")
		comp := a.login(t, "hq_compliance")
		alerts := comp.get("/compliance")
		mustContain(t, alerts.body, "超阈值导出被拒", "rm_a")

		// Without a reason the form comes back.
		if res := rm.post("/bulk-export/approvals", url.Values{"csrf": {rm.csrf(all)}, "max_customers": {"3"}}); res.status != http.StatusUnprocessableEntity {
			t.Fatalf("approval without reason: %d", res.status)
		}
		res := rm.post("/bulk-export/approvals", url.Values{"csrf": {rm.csrf(all)}, "max_customers": {"3"},
			"reason": {"季度营销名单 <i>核对</i>"}})
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/bulk-export/requested?id=") {
			t.Fatalf("request approval: %d %s", res.status, res.location)
		}
		mustContain(t, rm.get(res.location).body, `id="bulk-requested"`)
		mgr := a.login(t, "branch_manager")
		inbox := mgr.get("/compliance")
		mustContain(t, inbox.body, "季度营销名单 &lt;i&gt;核对&lt;/i&gt;", "查询：*")
		m := regexp.MustCompile(`action="(/compliance/approvals/\d+/approve)"`).FindStringSubmatch(inbox.body)
		if m == nil {
			t.Fatal("no approve form")
		}
		if res := mgr.post(m[1], url.Values{"comment": {"同意"}}); res.status != http.StatusForbidden {
			t.Fatalf("approve without csrf: %d", res.status)
		}
		if res := mgr.post(m[1], url.Values{"csrf": {mgr.csrf(inbox)}, "comment": {"同意"}}); res.status != http.StatusSeeOther {
			t.Fatalf("approve: %d", res.status)
		}
		got := rm.post("/customers/export", url.Values{"csrf": {rm.csrf(list)}, "q": {""}})
		if got.status != http.StatusOK || !strings.Contains(got.body, "王芳") {
			t.Fatalf("approved export: %d", got.status)
		}
		mustContain(t, comp.get("/compliance").body, "经审批的批量导出", "已使用")

		// The approver's own request: listed without buttons.
		mgrList := mgr.get("/customers")
		if res := mgr.post("/customers/export", url.Values{"csrf": {mgr.csrf(mgrList)}}); res.status != http.StatusForbidden {
			t.Fatalf("manager export: %d", res.status)
		}
		mgr.post("/bulk-export/approvals", url.Values{"csrf": {mgr.csrf(mgrList)}, "max_customers": {"9"}, "reason": {"自用"}})
		own := mgr.get("/compliance")
		mustContain(t, own.body, "本人申请，不能自行审批")
		if regexp.MustCompile(`action="/compliance/approvals/\d+/approve"`).MatchString(own.body) {
			t.Error("the manager is offered to approve their own request")
		}
	})
}

// TestPrivacyCatalogue: every stored code the privacy pages translate has
// a string in both languages.
func TestPrivacyCatalogue(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	add := func(prefix string, codes ...string) {
		for _, c := range codes {
			keys = append(keys, prefix+c)
		}
	}
	add("privacy.kind.", privacy.Kinds...)
	add("privacy.status.", privacy.Statuses...)
	add("privacy.channel.", privacy.Channels...)
	add("privacy.source.", privacy.Sources...)
	add("privacy.complete.submit.", privacy.Kinds...)
	add("compliance.kind.", privacy.AlertBulkRefused, privacy.AlertBulkApproved)
	add("compliance.status.", privacy.ApprovalPending, privacy.ApprovalApproved, privacy.ApprovalDenied, privacy.ApprovalUsed)
	add("status.", customer.StatusErased)
	add("privacy.field.", "name", "mobile", "email", "address", "birth_date", "corrections", "notes", "reason")
	add("privacy.done.", "start", "complete", "reject")
	add("compliance.done.", "approve", "deny")
	for _, k := range keys {
		for _, lang := range b.Languages() {
			if _, ok := b.Lookup(lang, k); !ok {
				t.Errorf("%q missing from the %s catalogue", k, lang)
			}
		}
	}
}

// TestPanelWithoutPrivacy: a server without the privacy service answers the
// panel's htmx load with 204 (nothing swapped, no HX-Refresh that would
// reload the customer page forever) and the plain link with the 404 page.
func TestPanelWithoutPrivacy(t *testing.T) {
	db := testkit.NewDB(t, "sqlite")
	b := testkit.NewBank(t, db)
	h, err := web.New(web.Deps{Auth: b.Auth, Customers: b.CustomerService(), Orgs: org.NewService(db.Orgs()),
		Accounts: b.AccountService(), Audit: b.Audit, Clock: b.Clock,
		C360: b.C360Service(), Interactions: b.InteractionService(), Tags: b.TagService()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	a := &app{Bank: b, srv: srv, logs: &syncBuffer{}}
	rm := a.login(t, "rm_a")
	path := "/customers/" + strconv.FormatInt(b.Customers["a1"].ID, 10) + "/privacy"
	if res := rm.get(path, "HX-Request", "true"); res.status != http.StatusNoContent || res.header.Get("HX-Refresh") != "" {
		t.Errorf("htmx panel without privacy: %d %q", res.status, res.header.Get("HX-Refresh"))
	}
	if res := rm.get(path); res.status != http.StatusNotFound {
		t.Errorf("panel page without privacy: %d", res.status)
	}
}
