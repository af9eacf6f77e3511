package web_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"kehu/internal/customer"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

var rowLink = regexp.MustCompile(`<td><a class="strong" href="/customers/(\d+)">`)

var nextPageLink = regexp.MustCompile(`id="next-page" href="([^"]+)"`)

// walkCustomerPages reads a customer list from first through its next-page
// links with get, and returns the customers it listed and the pages it read
// (at most ten, so a link that leads back ends the walk). A customer listed
// on two pages fails the test.
func walkCustomerPages(t *testing.T, first string, get func(path string) response) (seen map[string]bool, pages int) {
	t.Helper()
	seen = map[string]bool{}
	for next := first; next != "" && pages < 10; pages++ {
		res := get(next)
		if res.status != http.StatusOK {
			t.Fatalf("%s: %d", next, res.status)
		}
		for _, m := range rowLink.FindAllStringSubmatch(res.body, -1) {
			if seen[m[1]] {
				t.Errorf("customer %s on two pages", m[1])
			}
			seen[m[1]] = true
		}
		next = ""
		if m := nextPageLink.FindStringSubmatch(res.body); m != nil {
			next = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	return seen, pages
}

func TestListPaging(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		svc := a.CustomerService()
		owner := a.Users["rm_a"].ID
		for i := range 45 {
			_, err := svc.Create(a.As("admin"), customer.New{Type: customer.Individual, Name: fmt.Sprintf("测试%02d", i),
				IDNumber: testkit.ResidentID(fmt.Sprintf("33010619900101%03d", i)), OrgID: a.OutletA.ID, OwnerID: &owner})
			if err != nil {
				t.Fatal(err)
			}
		}
		c := a.login(t, "rm_a")
		seen, pages := walkCustomerPages(t, "/customers", func(path string) response { return c.get(path) })
		if len(seen) != 48 || pages != 3 {
			t.Errorf("saw %d customers on %d pages, want 48 on 3", len(seen), pages)
		}
		// htmx asks for the results fragment only.
		res := c.get("/customers?q=%E6%B5%8B%E8%AF%95", "HX-Request", "true", "HX-Target", "results")
		if !strings.HasPrefix(res.body, `<section id="results"`) || strings.Contains(res.body, "<html") {
			t.Errorf("fragment response: %.80q", res.body)
		}
		if n := len(rowLink.FindAllString(res.body, -1)); n != 20 {
			t.Errorf("fragment rows: %d", n)
		}
		// Search by name prefix, mobile and ID number.
		for q, want := range map[string]string{"张": "张伟", "13800000002": "王芳", a.Customers["a1"].IDNumber: "张伟"} {
			res := c.get("/customers?q=" + url.QueryEscape(q))
			if n := len(rowLink.FindAllString(res.body, -1)); n != 1 || !strings.Contains(res.body, want) {
				t.Errorf("search %q: %d rows", q, n)
			}
		}
		if res := c.get("/customers?after=garbage"); res.status != http.StatusBadRequest {
			t.Errorf("bad cursor: %d", res.status)
		}
	})
}

func TestScopeAndErrors(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		rm := a.login(t, "rm_a")
		for _, path := range []string{
			"/customers/" + strconv.FormatInt(a.Customers["b1"].ID, 10), // another outlet
			"/customers/" + strconv.FormatInt(a.Customers["a3"].ID, 10), // a colleague's customer
			"/customers/999999", "/customers/abc", "/no/such/page",
		} {
			res := rm.get(path)
			if res.status != http.StatusNotFound {
				t.Errorf("%s: %d", path, res.status)
			}
			mustContain(t, res.body, "未找到", "不在您的管户范围内")
			mustNotContain(t, res.body, "刘洋", "李娜", "goroutine", "sql")
		}
		if res := rm.get("/orgs"); res.status != http.StatusForbidden {
			t.Errorf("rm /orgs: %d", res.status)
		}
		bm := a.login(t, "branch_manager")
		res := bm.get("/customers/" + strconv.FormatInt(a.Customers["b1"].ID, 10))
		if res.status != http.StatusOK {
			t.Errorf("branch manager sees outlet B: %d", res.status)
		}
		res = bm.get("/orgs")
		if res.status != http.StatusOK {
			t.Fatalf("branch manager /orgs: %d", res.status)
		}
		mustContain(t, res.body, `href="/orgs"`, "总行", "西湖支行", "滨江支行", "支行/网点", `class="depth-3"`)
	})
}

func TestCustomerPage(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		a.AddPortfolio(t)
		c := a.login(t, "rm_a")
		res := c.get("/customers/" + strconv.FormatInt(a.Customers["a1"].ID, 10))
		if res.status != http.StatusOK {
			t.Fatalf("status %d", res.status)
		}
		mustContain(t, res.body,
			"<title>张伟 · Kehu 客户</title>", "居民身份证", "西湖支行",
			"6222 **** **** 0001", "¥123,456.78", "整存整取一年", "2026-09-01", // accounts
			"稳盈180天理财", "R2 中低风险", "&#43;¥5,000.00", "-¥10,000.00", // holdings
			"2026-03-02 08:30", "&#43;¥100.00", "转入", "手机银行", // newest transaction in Shanghai time
			"配偶", `href="/customers/`+strconv.FormatInt(a.Customers["a2"].ID, 10)+`"`, "王芳",
			"刘洋", "不在您的管户范围内", "任法定代表人的企业", // relationships
			"代发工资", "理财到期") // tags
		// The expired tag is not on the customer (the 标签 tab's picker may still offer the catalogue entry).
		mustNotContain(t, res.body, ">已过期</li>", ">已过期</span>", `href="/customers/`+strconv.FormatInt(a.Customers["b1"].ID, 10)+`"`)
		// Account numbers are masked for every role (docs/SECURITY.md).
		mustNotContain(t, res.body, "6222020000000001")
		if n := strings.Count(res.body, "6222 **** **** 0001"); n != 21 {
			t.Errorf("account no appears %d times, want 1 account row + 20 transactions", n)
		}
		// The same link seen from the company: 张伟 is its legal representative.
		res = c.get("/customers/" + strconv.FormatInt(a.Customers["corp_a"].ID, 10))
		mustContain(t, res.body, "<td>法定代表人</td>", `href="/customers/`+strconv.FormatInt(a.Customers["a1"].ID, 10)+`"`,
			"统一社会信用代码", "注册资本")
	})
}

func TestLanguage(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		c := a.login(t, "rm_a")
		res := c.get("/customers")
		mustContain(t, res.body, `<html lang="zh-CN">`, "客户查询", "普通", "对公", "退出")
		c.lang = "en-US,en;q=0.9"
		res = c.get("/customers")
		mustContain(t, res.body, `<html lang="en">`, "Customer search", "Sign out", "Relationship manager")
		mustNotContain(t, res.body, "客户查询")
		// An explicit choice beats the browser's preference.
		res = c.post("/lang", url.Values{"csrf": {c.csrf(res)}, "lang": {"zh-CN"}, "next": {"/customers?q=%E5%BC%A0"}})
		if res.status != http.StatusSeeOther || res.location != "/customers?q=%E5%BC%A0" {
			t.Fatalf("switch: %d → %q", res.status, res.location)
		}
		res = c.get("/customers")
		mustContain(t, res.body, "客户查询")
		res = c.post("/lang", url.Values{"csrf": {c.csrf(res)}, "lang": {"klingon"}})
		if res.status != http.StatusBadRequest {
			t.Errorf("unknown language: %d", res.status)
		}
		// The login page switches too, with the anonymous token.
		anon := a.client(t)
		form := anon.get("/login")
		res = anon.post("/lang", url.Values{"csrf": {anon.csrf(form)}, "lang": {"en"}, "next": {"/login"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("anonymous switch: %d", res.status)
		}
		form = anon.get("/login")
		mustContain(t, form.body, "Staff sign-in")
		res = anon.post("/login", url.Values{"csrf": {anon.csrf(form)}, "username": {"rm_a"}, "password": {"nope-nope"}})
		mustContain(t, res.body, "Wrong username or password.")
	})
}

func TestEscaping(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		// The service refuses such names; a feed or an old system might not.
		evil := `<script>alert("x")</script>`
		// The address column holds ciphertext, so the hostile address is
		// sealed the way any writer must.
		address, err := db.Keys().Encrypt("customers.address", `"><img src=x onerror=alert(1)>`)
		if err != nil {
			t.Fatal(err)
		}
		err = db.InTx(context.Background(), func(tx *sql.Tx) error {
			_, err := tx.Exec("UPDATE customers SET name = $1, address = $2 WHERE id = $3",
				evil, address, a.Customers["a1"].ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		c := a.login(t, "rm_a")
		for _, path := range []string{"/customers", "/customers/" + strconv.FormatInt(a.Customers["a1"].ID, 10)} {
			res := c.get(path)
			mustNotContain(t, res.body, "<script>alert", "<img src=x")
			mustContain(t, res.body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;")
		}
	})
}
