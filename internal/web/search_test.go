package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kehu/internal/customer"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestSearchBox drives the customer list's search box as a branch user
// does: pinyin initials, a word of a company name, a mobile; what another
// outlet's RM finds (nothing); hostile text shown back escaped; and the
// next-page links of a ranked search, full page and htmx fragment alike.
func TestSearchBox(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		owner := a.Users["rm_a"].ID
		// 25 more 张 customers of rm_a (none "zw"): two pages of 20 and the rest.
		for i, given := range []rune("安博晨丹峰刚浩佳杰凯磊明楠鹏琦然帅涛婷霞欣洋悦哲之") {
			_, err := a.CustomerService().Create(a.As("admin"), customer.New{Type: customer.Individual,
				Name: "张" + string(given), IDNumber: testkit.ResidentID(fmt.Sprintf("33010619900202%03d", i)),
				OrgID: a.OutletA.ID, OwnerID: &owner})
			if err != nil {
				t.Fatal(err)
			}
		}
		rm := a.login(t, "rm_a")
		page := rm.get("/customers")
		mustContain(t, page.body, `name="q"`, "拼音首字母")
		for q, want := range map[string]string{"zw": "张伟", "ZHW": "张伟", "西湖": "杭州西湖茶叶有限公司",
			a.Customers["a2"].Mobile: "王芳"} {
			res := rm.get("/customers?q=" + url.QueryEscape(q))
			if n := len(rowLink.FindAllString(res.body, -1)); res.status != http.StatusOK || n != 1 || !strings.Contains(res.body, want) {
				t.Errorf("rm_a searching %q: status %d, %d rows, want %s", q, res.status, n, want)
			}
		}
		// Full pinyin, typed with a space.
		if res := rm.get("/customers?q=" + url.QueryEscape("zhang wei")); res.status != http.StatusOK ||
			!strings.Contains(res.body, "张伟") {
			t.Errorf("rm_a searching \"zhang wei\": status %d, no 张伟", res.status)
		}
		other := a.login(t, "rm_b")
		res := other.get("/customers?q=zw")
		if n := len(rowLink.FindAllString(res.body, -1)); n != 0 {
			t.Errorf("rm_b finds %d of rm_a's customers by pinyin", n)
		}
		mustContain(t, res.body, "没有符合条件的客户")
		mustNotContain(t, res.body, "张伟")
		res = rm.get("/customers?q=" + url.QueryEscape(`<img src=x onerror=alert(1)>`))
		if res.status != http.StatusOK {
			t.Errorf("hostile query: %d", res.status)
		}
		mustNotContain(t, res.body, `<img src=x`)
		// Paging a ranked search ("zh": 张伟 and the 25 张X) through the
		// next-page links, as a browser and as htmx.
		for _, htmx := range []bool{false, true} {
			seen, pages := walkCustomerPages(t, "/customers?q=zh", func(path string) response {
				if htmx {
					return rm.get(path, "HX-Request", "true", "HX-Target", "results")
				}
				return rm.get(path)
			})
			if len(seen) != 26 || pages != 2 {
				t.Errorf("htmx %v: %d customers on %d pages, want 26 on 2", htmx, len(seen), pages)
			}
		}
	})
}
