package web_test

import (
	"context"
	"encoding/csv"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"kehu/internal/audit"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// auditRow matches a row of the audit table: record id and action.
var auditRowRE = regexp.MustCompile(`<tr data-id="(\d+)" data-action="([^"]+)">`)

// auditRows returns the (id, action) of every row on an audit page.
func auditRows(body string) (ids []string, actions []string) {
	for _, m := range auditRowRE.FindAllStringSubmatch(body, -1) {
		ids, actions = append(ids, m[1]), append(actions, m[2])
	}
	return ids, actions
}

// allAre reports whether every action is want (and there is at least one).
func allAre(actions []string, want string) bool {
	return len(actions) > 0 && !slices.ContainsFunc(actions, func(a string) bool { return a != want })
}

// actionCounts counts the stored audit records by action, reading the store
// directly so that counting writes no record of its own.
func actionCounts(t *testing.T, a *app) map[string]int {
	t.Helper()
	n := map[string]int{}
	err := a.DB.Audit().EachRecord(context.Background(), func(r audit.Record) error {
		n[r.Action+"/"+cmpOr(r.Outcome, "ok")]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// newRecords is what step added to the trail, as action/outcome → count.
func newRecords(t *testing.T, a *app, step func()) map[string]int {
	t.Helper()
	before := actionCounts(t, a)
	step()
	diff := map[string]int{}
	for k, v := range actionCounts(t, a) {
		if d := v - before[k]; d != 0 {
			diff[k] = d
		}
	}
	return diff
}

// TestAuditPageAccess: the compliance auditor has the navigation item and
// the page; a relationship manager has neither, gets the 403 page for the
// page and the export, and the refusal is itself recorded.
func TestAuditPageAccess(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		comp := a.login(t, "hq_compliance")
		mustContain(t, comp.get("/customers").body, `href="/audit"`, "审计日志")
		res := comp.get("/audit")
		if res.status != http.StatusOK {
			t.Fatalf("auditor: %d", res.status)
		}
		mustContain(t, res.body, `<h1>审计日志</h1>`, `class="active" aria-current="page">审计日志`, `id="export"`)
		if _, actions := auditRows(res.body); !slices.Contains(actions, audit.LoginOK) {
			t.Errorf("the auditor's own sign-in is not listed: %v", actions)
		}

		rm := a.login(t, "rm_a")
		mustNotContain(t, rm.get("/customers").body, `href="/audit"`)
		for _, path := range []string{"/audit", "/audit?customer_id=x", "/audit/export"} {
			var res response
			got := newRecords(t, a, func() { res = rm.get(path) })
			if res.status != http.StatusForbidden || strings.Contains(res.body, "data-action=") {
				t.Errorf("rm %s: %d", path, res.status)
			}
			want := "audit.search/denied"
			if strings.HasPrefix(path, "/audit/export") {
				want = "audit.export/denied"
			}
			if !maps.Equal(got, map[string]int{want: 1}) {
				t.Errorf("rm %s recorded %v, want one %s", path, got, want)
			}
		}
		// Anonymous visitors are sent to sign in, and come back.
		if res := a.client(t).get("/audit?action=auth.login"); res.status != http.StatusSeeOther ||
			res.location != "/login?next="+url.QueryEscape("/audit?action=auth.login") {
			t.Errorf("anonymous: %d %s", res.status, res.location)
		}
	})
}

// TestAuditFilters: customer, actor, action and Asia/Shanghai date filters
// narrow the table, and invalid input re-renders the form without searching.
func TestAuditFilters(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		rm := a.login(t, "rm_a")
		a1, a2 := a.Customers["a1"].ID, a.Customers["a2"].ID
		rm.get("/customers/" + strconv.FormatInt(a1, 10))
		rm.get("/customers/" + strconv.FormatInt(a2, 10))
		comp := a.login(t, "hq_compliance")

		_, actions := auditRows(comp.get("/audit?action=customer.read").body)
		if len(actions) != 2 || !allAre(actions, audit.CustomerRead) {
			t.Errorf("action filter: %v", actions)
		}
		res := comp.get("/audit?action=customer.read&customer_id=" + strconv.FormatInt(a1, 10))
		if _, actions := auditRows(res.body); len(actions) != 1 {
			t.Errorf("customer filter: %v", actions)
		}
		mustContain(t, res.body, `href="/customers/`+strconv.FormatInt(a1, 10)+`"`, "查看客户", "rm_a", "西湖支行",
			"客户经理", "2026-03-02 09:30:00")
		if !strings.Contains(res.body, `<option value="customer.read" selected>查看客户</option>`) {
			t.Error("the action select does not keep the chosen action")
		}
		// The select offers every action services record (audit.Actions),
		// the newer ones by their names.
		for _, a := range audit.Actions {
			if !strings.Contains(res.body, `<option value="`+a+`"`) {
				t.Errorf("the action select lacks %s", a)
			}
		}
		mustContain(t, res.body, `<option value="customer.suitability">`, `<option value="customer.contact_check">`,
			`<option value="customer.provenance">查看数据来源</option>`)
		ids, acts := auditRows(comp.get("/audit?actor=rm_a").body)
		all, _ := auditRows(comp.get("/audit").body)
		reads := len(slices.DeleteFunc(slices.Clone(acts), func(a string) bool { return a != audit.CustomerRead }))
		if reads != 2 || !slices.Contains(acts, audit.LoginOK) || len(all) <= len(ids) {
			t.Errorf("actor filter: %v, %d of %d rows", acts, len(ids), len(all))
		}

		// The bank clock stands at 09:30 on 2 March in Shanghai (01:30 UTC).
		// 15 hours later it is 00:30 on 3 March there, still 2 March in UTC.
		a.Clock.Advance(15 * time.Hour)
		if err := a.Audit.Record(a.As("admin"), audit.Entry{Action: audit.CustomerExport, Object: "customers"}); err != nil {
			t.Fatal(err)
		}
		comp = a.login(t, "hq_compliance") // the earlier session has idled out
		for q, want := range map[string]int{
			"from=2026-03-02&to=2026-03-02": 0, "from=2026-03-03&to=2026-03-03": 1, "from=2026-03-03": 1,
			"to=2026-03-02": 0, "to=2026-03-03": 1, "from=2026-03-04": 0,
		} {
			if _, actions := auditRows(comp.get("/audit?action=customer.export&" + q).body); len(actions) != want {
				t.Errorf("%s: %d rows, want %d", q, len(actions), want)
			}
		}
		if _, actions := auditRows(comp.get("/audit?action=customer.read&from=2026-03-02&to=2026-03-02").body); len(actions) != 2 {
			t.Errorf("the reads of 2 March: %v", actions)
		}

		for _, q := range []string{"customer_id=abc", "customer_id=-3", "from=2026-02-30", "from=2026-03-05&to=2026-03-01",
			"after=garbage", "actor=" + strings.Repeat("x", 65)} {
			var res response
			got := newRecords(t, a, func() { res = comp.get("/audit?" + q) })
			if res.status != http.StatusBadRequest || !strings.Contains(res.body, `aria-invalid="true"`) &&
				!strings.HasPrefix(q, "after=") {
				t.Errorf("%s: %d", q, res.status)
			}
			mustContain(t, res.body, `class="alert alert-error"`)
			if len(got) != 0 {
				t.Errorf("%s searched anyway: %v", q, got)
			}
			if res := comp.get("/audit/export?" + q); res.status != http.StatusBadRequest && !strings.HasPrefix(q, "after=") {
				t.Errorf("export %s: %d", q, res.status)
			}
		}
	})
}

// TestAuditPagingAndExport: keyset pages of 50 without repeats, the htmx
// fragment, and the CSV export of the same filter.
func TestAuditPagingAndExport(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		for i := range 120 {
			if err := a.Audit.Record(a.As("admin"), audit.Entry{Action: audit.CustomerExport, Object: "customers",
				Count: i + 1}); err != nil {
				t.Fatal(err)
			}
		}
		// A failed sign-in stores whatever was typed as the username.
		anon := a.client(t)
		if res := anon.post("/login", url.Values{"csrf": {anon.csrf(anon.get("/login"))}, "username": {"=HYPERLINK(1)"},
			"password": {"wrong"}}); res.status != http.StatusUnauthorized {
			t.Fatalf("failed sign-in: %d", res.status)
		}
		comp := a.login(t, "hq_compliance")
		seen := map[string]bool{}
		var sizes []int
		for next := "/audit?action=customer.export"; next != ""; {
			res := comp.get(next)
			ids, actions := auditRows(res.body)
			if res.status != http.StatusOK || !allAre(actions, audit.CustomerExport) {
				t.Fatalf("%s: %d %v", next, res.status, actions)
			}
			for _, id := range ids {
				if seen[id] {
					t.Errorf("record %s on two pages", id)
				}
				seen[id] = true
			}
			sizes = append(sizes, len(ids))
			next = ""
			if m := regexp.MustCompile(`id="next-page" href="([^"]+)"`).FindStringSubmatch(res.body); m != nil {
				next = strings.ReplaceAll(m[1], "&amp;", "&")
				if !strings.Contains(next, "action=customer.export") {
					t.Errorf("the next link drops the filter: %s", next)
				}
			}
		}
		if !slices.Equal(sizes, []int{50, 50, 20}) {
			t.Errorf("page sizes %v", sizes)
		}
		res := comp.get("/audit?action=customer.export", "HX-Request", "true", "HX-Target", "results")
		if !strings.HasPrefix(res.body, `<section id="results"`) || strings.Contains(res.body, "<html") {
			t.Errorf("fragment: %.80q", res.body)
		}

		var exp response
		got := newRecords(t, a, func() { exp = comp.get("/audit/export?action=customer.export&from=2026-03-02") })
		if exp.status != http.StatusOK || exp.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
			exp.header.Get("Content-Disposition") != `attachment; filename="kehu-audit-20260302-093000.csv"` ||
			exp.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("export: %d %v", exp.status, exp.header)
		}
		if !maps.Equal(got, map[string]int{"audit.export/ok": 1}) {
			t.Errorf("export recorded %v", got)
		}
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(exp.body, "\ufeff"))).ReadAll()
		if err != nil || !strings.HasPrefix(exp.body, "\ufeff") {
			t.Fatalf("csv: %v", err)
		}
		if len(rows) != 121 || rows[0][1] != "时间（北京时间）" || rows[0][6] != "操作代码" {
			t.Fatalf("csv has %d rows, header %v", len(rows), rows[0])
		}
		for _, r := range rows[1:] {
			if r[6] != audit.CustomerExport || r[5] != "导出客户" || r[2] != "admin" || r[1] != "2026-03-02 09:30:00" {
				t.Fatalf("csv row %v", r)
			}
		}
		if rows[1][11] != "120" || rows[120][11] != "1" { // newest first
			t.Errorf("csv order: first count %s, last %s", rows[1][11], rows[120][11])
		}
		exp = comp.get("/audit/export?action=auth.login_failed")
		if !strings.Contains(exp.body, "'=HYPERLINK(1)") {
			t.Errorf("a formula-like username is not neutralised:\n%s", exp.body)
		}
		// English pages export English headers.
		comp.lang = "en"
		exp = comp.get("/audit/export?action=nothing.matches")
		if rows, _ := csv.NewReader(strings.NewReader(strings.TrimPrefix(exp.body, "\ufeff"))).ReadAll(); len(rows) != 1 ||
			rows[0][1] != "Time (Beijing)" {
			t.Errorf("empty English export: %v", rows)
		}
	})
}

// TestAuditUIMeta is the UI part of the audit meta-test: each page that
// shows customer data, and the audit page itself, leaves exactly one record.
func TestAuditUIMeta(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		rm := a.login(t, "rm_a")
		comp := a.login(t, "hq_compliance")
		id := strconv.FormatInt(a.Customers["a1"].ID, 10)
		for _, step := range []struct {
			name string
			c    *client
			path string
			hx   bool
			want string
		}{
			{"customer list", rm, "/customers", false, "customer.list/ok"},
			{"customer search", rm, "/customers?q=" + url.QueryEscape("张"), false, "customer.list/ok"},
			{"customer list fragment", rm, "/customers?q=" + url.QueryEscape("王"), true, "customer.list/ok"},
			{"customer page", rm, "/customers/" + id, false, "customer.read/ok"},
			{"audit page", comp, "/audit", false, "audit.search/ok"},
			{"audit page filtered", comp, "/audit?action=customer.read&customer_id=" + id, false, "audit.search/ok"},
			{"audit fragment", comp, "/audit?actor=rm_a", true, "audit.search/ok"},
			{"audit export", comp, "/audit/export?actor=rm_a", false, "audit.export/ok"},
			{"org tree", comp, "/orgs", false, ""},
		} {
			got := newRecords(t, a, func() {
				var res response
				if step.hx {
					res = step.c.get(step.path, "HX-Request", "true", "HX-Target", "results")
				} else {
					res = step.c.get(step.path)
				}
				if res.status != http.StatusOK {
					t.Errorf("%s: %d", step.name, res.status)
				}
			})
			want := map[string]int{}
			if step.want != "" {
				want[step.want] = 1
			}
			if !maps.Equal(got, want) {
				t.Errorf("%s recorded %v, want %v", step.name, got, want)
			}
		}
		// The audit page shows what the pages above recorded.
		_, actions := auditRows(comp.get("/audit?actor=rm_a&action=customer.list").body)
		if len(actions) != 3 {
			t.Errorf("the three customer lists: %v", actions)
		}
	})
}
