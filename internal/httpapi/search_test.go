package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"

	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestCustomerSearch drives GET /api/v1/customers?q= through the API (every
// exchange checked against the OpenAPI document): pinyin initials, a word
// of a company name, exact identifiers, the caller's scope, ranked pages.
func TestCustomerSearch(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.bank.AddPortfolio(t) // accounts to search by number
		admin, rm, rmB := e.login("admin"), e.login("rm_a"), e.login("rm_b")
		c := e.bank.Customers
		names := func(s session, q string) ([]int64, int64) {
			t.Helper()
			var p page
			r := e.do(call{method: "GET", path: "/api/v1/customers?count=true&q=" + url.QueryEscape(q), token: s.token})
			if r.Code != http.StatusOK {
				t.Fatalf("q=%s: %d %s", q, r.Code, r.Body)
			}
			r.decode(t, &p)
			var ids []int64
			for _, it := range p.Items {
				ids = append(ids, it.ID)
			}
			return ids, *p.Total
		}
		for _, tt := range []struct {
			who   session
			q     string
			want  []int64
			total int64
		}{
			{rm, "zw", []int64{c["a1"].ID}, 1},        // 张伟, pinyin initials
			{rm, "zhw", []int64{c["a1"].ID}, 1},       // zh typed in full
			{rmB, "zw", nil, 0},                       // not rm_b's customer: not even counted
			{rmB, "ly", []int64{c["b1"].ID}, 1},       // 刘洋
			{admin, "西湖", []int64{c["corp_a"].ID}, 1}, // a word inside 杭州西湖茶叶有限公司
			{admin, "茶叶", []int64{c["corp_a"].ID}, 1},
			{rm, c["a2"].Mobile, []int64{c["a2"].ID}, 1},
			{rmB, c["a2"].Mobile, nil, 0},
			{admin, testkit.AccountNo(4), []int64{c["b1"].ID}, 1},
			// Part of an ID number or mobile is never matched (a short number
			// is a customer number, and there is none this high).
			{admin, c["a2"].IDNumber[10:], nil, 0},
			{admin, c["a2"].Mobile[:7], nil, 0},
			{admin, "' OR ''='", nil, 0},
		} {
			got, total := names(tt.who, tt.q)
			if len(got) != len(tt.want) || total != tt.total || len(got) > 0 && got[0] != tt.want[0] {
				t.Errorf("%s q=%s: %v (total %d), want %v (total %d)", tt.who.user["username"], tt.q, got, total, tt.want, tt.total)
			}
		}
		// Pages of one row walk the ranked hits: 李娜 ("ln"), 刘洋 ("ly").
		var seen []int64
		path := "/api/v1/customers?limit=1&q=l"
		for range 5 {
			var p page
			e.do(call{method: "GET", path: path, token: admin.token}).decode(t, &p)
			for _, it := range p.Items {
				seen = append(seen, it.ID)
			}
			if p.NextCursor == nil {
				break
			}
			path = "/api/v1/customers?limit=1&q=l&cursor=" + url.QueryEscape(*p.NextCursor)
		}
		if len(seen) != 2 || seen[0] != c["a3"].ID || seen[1] != c["b1"].ID {
			t.Errorf("paging q=l: %v, want [%d %d]", seen, c["a3"].ID, c["b1"].ID)
		}
	})
}
