package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestJourneyPagesWithoutJS creates a journey through the editor's form
// (no JavaScript), shows the service's 422 naming the bad member and marks
// the field, saves a new version, pauses and resumes, shows the page in
// English, and keeps the editor from roles without marketing.write (who
// still read the definition).
func TestJourneyPagesWithoutJS(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		a.AddPortfolio(t)
		mk := a.login(t, "hq_marketing")
		list := mk.get("/journeys")
		mustContain(t, list.body, "客户旅程", `id="new-journey"`, `id="journey-list-empty"`, `href="/journeys"`)
		page := mk.get("/journeys/new")
		mustContain(t, page.body, `id="journey-form"`, "大额入账", "浏览未购买（到店提醒大堂经理）", "代发工资")
		csrf := mk.csrf(page)
		form := url.Values{"csrf": {csrf}, "name": {"代发工资打标"}, "trigger": {"salary"}, "min_amount": {"3000"},
			"reentry_days": {"25"}, "act_tag": {"1"}, "tag_id": {"999"}, "act_task": {"1"}, "task_kind": {"call"},
			"task_title": {"代发客户首次联系"}, "suggested": {"介绍工资理财\n 开通定投 \n"}, "assign_to": {"owner"}}
		bad := mk.post("/journeys", form)
		if bad.status != http.StatusUnprocessableEntity {
			t.Fatalf("unknown tag: %d", bad.status)
		}
		mustContain(t, bad.body, "旅程未保存", "definition.actions[1].tag_id: no such tag",
			`id="journey-tag" name="tag_id" aria-label="标签" aria-invalid="true"`)
		form.Set("tag_id", "1")
		res := mk.post("/journeys", form)
		if res.status != http.StatusSeeOther || !strings.Contains(res.location, "?done=created") {
			t.Fatalf("save: %d %s", res.status, res.location)
		}
		j := mk.get(res.location)
		mustContain(t, j.body, "旅程已创建并开始运行。", "代发工资到账 · v1", `id="journey-status">运行中<`,
			`id="results-fired">0<`, `value="3000"`, "介绍工资理财\n开通定投", `id="firing-list-empty"`)
		path := strings.Split(res.location, "?")[0]
		form.Set("min_amount", "5,000")
		if r := mk.post(path, form); r.status != http.StatusSeeOther || !strings.Contains(r.location, "done=saved") {
			t.Fatalf("new version: %d", r.status)
		}
		mustContain(t, mk.get(path).body, "代发工资到账 · v2", `value="5000"`)
		if r := mk.post(path+"/pause", url.Values{"csrf": {csrf}}); r.status != http.StatusSeeOther {
			t.Fatalf("pause: %d", r.status)
		}
		mustContain(t, mk.get(path).body, `id="journey-status">已暂停<`, "恢复运行")
		if r := mk.post(path+"/resume", url.Values{"csrf": {csrf}}); r.status != http.StatusSeeOther {
			t.Fatalf("resume: %d", r.status)
		}
		mk.lang = "en"
		mustContain(t, mk.get(path).body, "Salary arrival · v2", `id="journey-status">Active<`, "Recent firings")
		if r := mk.post("/journeys", url.Values{"csrf": {csrf}, "name": {"代发工资打标"}, "trigger": {"salary"},
			"act_tag": {"1"}, "tag_id": {"1"}}); r.status != http.StatusConflict {
			t.Errorf("a taken name: %d", r.status)
		}

		rm := a.login(t, "rm_a")
		mustNotContain(t, rm.get("/customers").body, `href="/journeys"`)
		read := rm.get(path)
		if read.status != http.StatusOK {
			t.Fatalf("rm reads the journey: %d", read.status)
		}
		mustContain(t, read.body, `id="journey-definition"`, `&#34;trigger&#34;: &#34;salary&#34;`)
		mustNotContain(t, read.body, `id="journey-form"`, `id="journey-toggle"`)
		if r := rm.get("/journeys/new"); r.status != http.StatusForbidden {
			t.Errorf("rm opens the editor: %d", r.status)
		}
		if r := rm.post(path+"/pause", url.Values{"csrf": {rm.csrf(read)}}); r.status != http.StatusForbidden {
			t.Errorf("rm pauses: %d", r.status)
		}
	})
}

// TestBirthdayCalendarPreference: the customer page's contact preferences
// record the birthday calendar the birthday journey reads (solar by
// default, lunar on request); another value is refused with the field
// marked.
func TestBirthdayCalendarPreference(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		rm := a.login(t, "rm_a")
		path := "/customers/" + strconv.FormatInt(a.Customers["a1"].ID, 10)
		page := rm.get(path)
		mustContain(t, page.body, "生日历法", `<option value="solar">公历</option>`)
		csrf := rm.csrf(page)
		bad := rm.post(path+"/preferences", url.Values{"csrf": {csrf}, "birthday_calendar": {"moon"}})
		if bad.status != http.StatusUnprocessableEntity {
			t.Fatalf("moon: %d", bad.status)
		}
		mustContain(t, bad.body, `id="pref-birthday" aria-invalid="true"`)
		res := rm.post(path+"/preferences", url.Values{"csrf": {csrf}, "birthday_calendar": {"lunar"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("save: %d", res.status)
		}
		mustContain(t, rm.get(res.location).body, `<option value="lunar" selected>农历（按出生日的农历日期）</option>`)
	})
}
