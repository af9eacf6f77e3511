package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestSegmentPagesWithoutJS saves a segment with the rule typed as JSON
// (the page works without JavaScript), shows a bad rule's message naming
// the bad part, answers the live count in the user's scope, lists the
// segment and its members, and keeps the editor from roles without
// marketing.write.
func TestSegmentPagesWithoutJS(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		mk := a.login(t, "hq_marketing")
		page := mk.get("/segments/new")
		mustContain(t, page.body, `id="rule-builder"`, `name="rule"`, `<script src="/static/segments.`, "客户属性", "近 N 天资金流入合计")
		csrf := mk.csrf(page)

		bad := mk.post("/segments", url.Values{"csrf": {csrf}, "name": {"坏规则"}, "kind": {"dynamic"},
			"rule": {`{"all":[{"field":"risk_level","op":">=","value":3},{"any":[{"field":"aum_x","op":">","value":1}]}]}`}})
		if bad.status != http.StatusUnprocessableEntity {
			t.Fatalf("bad rule: %d", bad.status)
		}
		mustContain(t, bad.body, "客群未保存", `all[1].any[0]: unknown field &#34;aum_x&#34;`, `aria-invalid="true"`)

		res := mk.post("/segments", url.Values{"csrf": {csrf}, "name": {"个人客户"}, "kind": {"static"},
			"rule": {`{"all":[{"field":"customer_type","op":"=","value":"individual"}]}`}})
		if res.status != http.StatusSeeOther || !strings.Contains(res.location, "?done=created") {
			t.Fatalf("save: %d %s", res.status, res.location)
		}
		seg := mk.get(res.location)
		mustContain(t, seg.body, "客群已保存", `id="segment-member-count">4<`)

		count := mk.post("/segments/count", url.Values{"csrf": {csrf},
			"rule": {`{"field":"customer_type","op":"=","value":"individual"}`}})
		if count.status != http.StatusOK || strings.TrimSpace(count.body) != `{"count":4}` {
			t.Errorf("count: %d %s", count.status, count.body)
		}
		count = mk.post("/segments/count", url.Values{"csrf": {csrf}, "rule": {`{"field":"aum","op":">=","value":"x"}`}})
		if count.status != http.StatusUnprocessableEntity || !strings.Contains(count.body, `"field":"rule.value"`) {
			t.Errorf("bad count: %d %s", count.status, count.body)
		}
		if r := mk.post("/segments/count", url.Values{"rule": {`{"all":[]}`}}); r.status != http.StatusForbidden {
			t.Errorf("count without the CSRF token: %d", r.status)
		}

		rm := a.login(t, "rm_a")
		list := rm.get("/segments")
		mustContain(t, list.body, "个人客户", `href="/segments"`)
		mustNotContain(t, list.body, `id="new-segment"`)
		if r := rm.get("/segments/new"); r.status != http.StatusForbidden {
			t.Errorf("rm opens the editor: %d", r.status)
		}
		// rm_a sees the members in scope only: two of the four.
		id := strings.TrimPrefix(strings.Split(res.location, "?")[0], "/segments/")
		members := rm.get("/segments/" + id + "/members")
		if n := strings.Count(members.body, `<a href="/customers/`); n != 2 {
			t.Errorf("rm_a sees %d members, want 2", n)
		}
		mustContain(t, members.body, "张伟")
	})
}
