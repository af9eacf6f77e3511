package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"kehu/internal/access/entitlement"
	"kehu/internal/audit"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestUnmaskWithoutJavaScript walks 显示 as plain pages, as a browser without
// JavaScript does: the link opens the reason page, a missing reason
// re-renders it with the message (422), a reason shows the clear value on a
// page of its own, and 取消 goes back to the customer. The htmx answers differ
// only where the page needs them to: 取消 empties the form's slot and a
// refusal is retargeted to the slot.
func TestUnmaskWithoutJavaScript(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		a1 := a.Customers["a1"]
		page := "/customers/" + strconv.FormatInt(a1.ID, 10)
		c := a.login(t, "teller_a")
		mustContain(t, c.get(page).body, `href="`+page+`/unmask?field=mobile"`)

		form := c.get(page + "/unmask?field=mobile")
		if form.status != http.StatusOK {
			t.Fatalf("reason page: %d", form.status)
		}
		mustContain(t, form.body, "<html", "查看完整信息", "手机号", `hx-disable`, `method="post" action="`+page+`/unmask"`,
			`name="reason"`, `href="`+page+`"`, "取消")
		mustNotContain(t, form.body, a1.Mobile)
		token := c.csrf(form)

		res := c.post(page+"/unmask", url.Values{"csrf": {token}, "field": {"mobile"}, "reason": {""}})
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("no reason: %d", res.status)
		}
		mustContain(t, res.body, "<html", "请说明原因（2–200 字）", `aria-invalid="true"`)
		mustNotContain(t, res.body, a1.Mobile)
		if h := res.header.Get("HX-Retarget"); h != "#u-mobile" {
			t.Errorf("HX-Retarget %q", h) // harmless without htmx, needed with it
		}

		res = c.post(page+"/unmask", url.Values{"csrf": {token}, "field": {"mobile"}, "reason": {"客户到柜面核实"}})
		if res.status != http.StatusOK {
			t.Fatalf("unmask: %d", res.status)
		}
		mustContain(t, res.body, "<html", `<span class="unmasked">`+a1.Mobile+`</span>`, "已记录审计", `href="`+page+`"`)
		mustNotContain(t, res.body, `name="reason"`, a1.IDNumber)

		if res = c.get(page + "/unmask?field=mobile&cancel=1"); res.status != http.StatusSeeOther || res.location != page {
			t.Errorf("取消 without JavaScript: %d → %q", res.status, res.location)
		}
		res = c.get(page+"/unmask?field=mobile&cancel=1", "HX-Request", "true")
		if res.status != http.StatusOK || strings.TrimSpace(res.body) != "" {
			t.Errorf("取消 with htmx: %d %q", res.status, res.body)
		}
		if res = a.login(t, "lobby_a").get(page + "/unmask?field=mobile&cancel=1"); res.status != http.StatusForbidden {
			t.Errorf("取消 by a role without customer.unmask: %d", res.status)
		}
	})
}

// TestMaskingOnPages checks what the list and the customer page show per
// role, as customer.Service masks it: a marketing operator sees no name
// (张*), no mobile and no ID number; a relationship manager sees their own
// customer's mobile in clear (no 显示 for it) but the ID number masked, and
// another RM's customer masked, whether opened through an approved access
// request or seen by a branch manager.
func TestMaskingOnPages(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		a1, a3, b1 := a.Customers["a1"], a.Customers["a3"], a.Customers["b1"]
		pageOf := func(id int64) string { return "/customers/" + strconv.FormatInt(id, 10) }
		maskedID := func(id string) string { return id[:3] + strings.Repeat("*", len(id)-7) + id[len(id)-4:] }

		mkt := a.login(t, "hq_marketing").get("/customers")
		if mkt.status != http.StatusOK {
			t.Fatalf("marketing list: %d", mkt.status)
		}
		mustContain(t, mkt.body, ">张*</a>", ">王*</a>", ">李*</a>", ">刘*</a>", "138****0001", "138****0004",
			maskedID(a1.IDNumber), "杭州西湖茶叶有限公司") // a company's name is public
		mustNotContain(t, mkt.body, "张伟", "刘洋", a1.Mobile, b1.Mobile, a1.IDNumber, b1.IDNumber)
		res := a.login(t, "hq_marketing").get(pageOf(a1.ID))
		mustContain(t, res.body, "张*", "138****0001")
		mustNotContain(t, res.body, "张伟", a1.Mobile, "/unmask?field=") // marketing may not unmask

		rm := a.login(t, "rm_a")
		list := rm.get("/customers")
		mustContain(t, list.body, ">张伟</a>", a1.Mobile, maskedID(a1.IDNumber))
		mustNotContain(t, list.body, a1.IDNumber, "李娜") // a3 is rm_a2's
		res = rm.get(pageOf(a1.ID))
		mustContain(t, res.body, `id="f-mobile">`+a1.Mobile, maskedID(a1.IDNumber), "/unmask?field=id_number")
		mustNotContain(t, res.body, "/unmask?field=mobile", a1.IDNumber)

		// rm_a asks for a3 (rm_a2's customer, same outlet); the branch
		// manager approves; the grant opens the customer, not its fields.
		ents := a.EntitlementService()
		req, err := ents.Request(a.As("rm_a"), entitlement.NewRequest{CustomerID: a3.ID, Scope: entitlement.GrantCustomer,
			Reason: "客户委托办理业务", Hours: 4})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ents.Approve(a.As("branch_manager"), req.ID, "同意"); err != nil {
			t.Fatal(err)
		}
		res = rm.get(pageOf(a3.ID))
		if res.status != http.StatusOK {
			t.Fatalf("granted customer: %d", res.status)
		}
		mustContain(t, res.body, "李娜", `id="f-mobile">138****0003`, "/unmask?field=mobile", maskedID(a3.IDNumber))
		mustNotContain(t, res.body, a3.Mobile, a3.IDNumber)
		list = rm.get("/customers")
		mustContain(t, list.body, a1.Mobile, "138****0003")
		mustNotContain(t, list.body, a3.Mobile)

		mgr := a.login(t, "branch_manager")
		res = mgr.get(pageOf(a1.ID))
		mustContain(t, res.body, "张伟", `id="f-mobile">138****0001`, "/unmask?field=mobile")
		mustNotContain(t, res.body, a1.Mobile, a1.IDNumber)
		list = mgr.get("/customers")
		mustContain(t, list.body, "138****0001", "138****0004")
		mustNotContain(t, list.body, a1.Mobile, b1.Mobile)
	})
}

// TestUnmaskAccountNo reveals one account number on the customer page
// through account.Service (customer.unmask rules, one audit record naming the
// account, never the number); another customer's account is a 404 and a role
// without customer.unmask gets 403 and a denied record.
func TestUnmaskAccountNo(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		a.AddPortfolio(t)
		a1 := a.Customers["a1"]
		page := "/customers/" + strconv.FormatInt(a1.ID, 10)
		c := a.login(t, "teller_a")
		res := c.get(page)
		mustContain(t, res.body, `id="f-account_no-1">6222 **** **** 0001`, `hx-get="`+page+`/unmask?field=account_no&amp;account=1"`,
			`id="u-account_no-1"`)
		mustNotContain(t, res.body, testkit.AccountNo(1))

		form := c.get(page+"/unmask?field=account_no&account=1", "HX-Request", "true")
		mustContain(t, form.body, `name="account" value="1"`, `hx-target="#f-account_no-1"`, `hx-target="#u-account_no-1"`)
		token := c.csrf(form)
		post := func(cl *client, account, reason string) response {
			return cl.post(page+"/unmask", url.Values{"csrf": {token}, "field": {"account_no"}, "account": {account},
				"reason": {reason}}, "HX-Request", "true")
		}
		res = post(c, "1", "")
		if res.status != http.StatusUnprocessableEntity || res.header.Get("HX-Retarget") != "#u-account_no-1" {
			t.Errorf("no reason: %d, retarget %q", res.status, res.header.Get("HX-Retarget"))
		}
		res = post(c, "1", "客户核对代发工资账号")
		if res.status != http.StatusOK {
			t.Fatalf("unmask account: %d %s", res.status, res.body)
		}
		mustContain(t, res.body, `<span class="unmasked">`+testkit.AccountNo(1)+`</span>`, "已记录审计")
		for _, account := range []string{"4", "999", "x"} { // 4 is b1's
			if res = post(c, account, "客户核对代发工资账号"); res.status != http.StatusNotFound {
				t.Errorf("account %s: %d", account, res.status)
			}
			mustNotContain(t, res.body, testkit.AccountNo(4))
		}

		lobby := a.login(t, "lobby_a")
		mustNotContain(t, lobby.get(page).body, "/unmask?field=")
		res = lobby.post(page+"/unmask", url.Values{"csrf": {lobby.csrf(lobby.get(page))}, "field": {"account_no"},
			"account": {"1"}, "reason": {"看看"}})
		if res.status != http.StatusForbidden {
			t.Errorf("lobby: %d", res.status)
		}
		mustNotContain(t, res.body, testkit.AccountNo(1))

		recs, err := a.Audit.Search(a.As("hq_compliance"), audit.Filter{Action: audit.CustomerUnmask, CustomerID: a1.ID})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range recs.Items {
			got = append(got, r.Username+" "+r.Object+" "+r.Reason+" "+r.Outcome)
			for _, ch := range r.Changes {
				if ch.Field != "account_no" || ch.Old != "" || ch.New != "" {
					t.Errorf("change %+v", ch)
				}
			}
		}
		want := []string{"lobby_a account:1 看看 denied", "teller_a account:1 客户核对代发工资账号 "}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("customer.unmask records (newest first):\n got %q\nwant %q", got, want)
		}
	})
}
