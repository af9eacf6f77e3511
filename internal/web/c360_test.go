package web_test

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"kehu/internal/access"
	"kehu/internal/store"
	"kehu/internal/tag"
	"kehu/internal/testkit"
)

// builtinTags makes sure the built-in catalogue exists and returns its ids
// by code.
func builtinTags(t testing.TB, b *testkit.Bank) map[string]int64 {
	svc := b.TagService()
	if _, err := svc.EnsureDefaults(context.Background()); err != nil {
		t.Fatal(err)
	}
	all, err := svc.Catalogue(b.As("admin"), true)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, x := range all {
		if x.Code != "" {
			ids[x.Code] = x.ID
		}
	}
	return ids
}

// c360WebProbes are the scope-matrix probes of the 360's UI routes, sent as
// htmx does (a fragment answers 200; without htmx a success redirects).
func c360WebProbes(t testing.TB, b *testkit.Bank) map[string]webProbe {
	ids := builtinTags(t, b)
	page := func(cid int64) string { return "/customers/" + strconv.FormatInt(cid, 10) }
	post := func(rest string, form url.Values) func(c *client, csrf string, cid int64) response {
		return func(c *client, csrf string, cid int64) response {
			f := url.Values{"csrf": {csrf}}
			maps.Copy(f, form)
			return c.post(page(cid)+rest, f, "HX-Request", "true")
		}
	}
	satisfied := strconv.FormatInt(ids["satisfied"], 10)
	return map[string]webProbe{
		"GET /customers/{id}/transactions": {access.CustomerRead, func(c *client, _ string, cid int64) response {
			return c.get(page(cid)+"/transactions?kind=transfer_in", "HX-Request", "true")
		}},
		"POST /customers/{id}/interactions": {access.CustomerRead, post("/interactions",
			url.Values{"channel": {"branch"}, "purpose": {"service"}})},
		"POST /customers/{id}/tags": {access.CustomerRead, post("/tags",
			url.Values{"tag_id": {strconv.FormatInt(ids["dissatisfied"], 10)}, "reason": {"矩阵测试"}})},
		"POST /customers/{id}/tags/{tag_id}/remove": {access.CustomerRead, func(c *client, csrf string, cid int64) response {
			// Make sure there is one to remove, whatever order the probes run in.
			_, _ = b.TagService().Add(b.As("admin"), cid, tag.Assign{TagID: ids["satisfied"], Reason: "矩阵"})
			return c.post(page(cid)+"/tags/"+satisfied+"/remove", url.Values{"csrf": {csrf}}, "HX-Request", "true")
		}},
		"POST /customers/{id}/preferences": {access.CustomerWrite, post("/preferences",
			url.Values{"preferred_channel": {"wechat"}, "language": {"zh"}})},
	}
}

// TestCustomer360Page: the tabs, KPIs, trend chart, grouped accounts,
// relationship graph with links only into scope, timeline, interactions
// with the quiet warning, and tags with an emotion colour.
func TestCustomer360Page(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		a.AddPortfolio(t)
		ids := builtinTags(t, a.Bank)
		rm := a.login(t, "rm_a")
		id := strconv.FormatInt(a.Customers["a1"].ID, 10)
		csrf := rm.csrf(rm.get("/customers/" + id))
		// Record a declined pitch and an emotion tag through the forms, without JavaScript.
		res := rm.post("/customers/"+id+"/interactions", url.Values{"csrf": {csrf}, "channel": {"branch"},
			"purpose": {"marketing"}, "products": {"FD-EQ01"}, "response": {"declined"}, "note": {"担心波动"}})
		if res.status != http.StatusSeeOther || !strings.Contains(res.header.Get("Location"), "#interactions") {
			t.Fatalf("record: %d %s", res.status, res.header.Get("Location"))
		}
		res = rm.post("/customers/"+id+"/tags", url.Values{"csrf": {csrf}, "tag_id": {strconv.FormatInt(ids["dissatisfied"], 10)},
			"reason": {"柜台排队太久"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("tag: %d %s", res.status, res.body)
		}
		res = rm.get("/customers/" + id + "?done=tagged")
		if res.status != http.StatusOK {
			t.Fatalf("page %d", res.status)
		}
		mustContain(t, res.body, `href="#overview"`, `href="#assets"`, `href="#relationships"`, `href="#interactions"`,
			`id="kpis"`, `id="aum-trend"`, "近12个月资产（AUM）走势", "活期储蓄", "整存整取", // grouped accounts
			`id="rel-graph"`, `<a href="/customers/`+strconv.FormatInt(a.Customers["a2"].ID, 10)+`" class="node-link"`,
			"任法定代表人的企业", "担心波动", "拒绝", `class="quiet"`, "静默至 2026-04-01",
			"emotion-negative", "柜台排队太久", "标签已添加。", "未做风险评估")
		// b1 is outside rm_a's scope: drawn, not linked.
		mustNotContain(t, res.body, `<a href="/customers/`+strconv.FormatInt(a.Customers["b1"].ID, 10)+`" class="node-link"`)
		// The transaction tab filters through htmx and pages on.
		res = rm.get("/customers/"+id+"/transactions?min=2000&kind=transfer_in", "HX-Request", "true")
		if res.status != http.StatusOK || strings.Count(res.body, "<tr>") != 7 || strings.Contains(res.body, "<html") {
			t.Errorf("filtered fragment %d rows=%d", res.status, strings.Count(res.body, "<tr>"))
		}
		res = rm.get("/customers/"+id+"/transactions?min=lots", "HX-Request", "true")
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("bad amount: %d", res.status)
		}
		// A refused emotion tag (no reason) comes back with the message, in place.
		res = rm.post("/customers/"+id+"/tags", url.Values{"csrf": {csrf}, "tag_id": {strconv.FormatInt(ids["satisfied"], 10)}},
			"HX-Request", "true")
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "情绪标签须说明原因") ||
			strings.Contains(res.body, "<html") {
			t.Errorf("tag without reason: %d", res.status)
		}
		// English page.
		rm.lang = "en"
		res = rm.get("/customers/" + id)
		mustContain(t, res.body, "Overview", "AUM, last 12 months", "Relationship network", "Dissatisfied")
	})
}

// TestC360AuditUI: the 360's forms and fragments each leave exactly one
// audit record of the right action.
func TestC360AuditUI(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		a.AddPortfolio(t)
		ids := builtinTags(t, a.Bank)
		rm := a.login(t, "rm_a")
		id := strconv.FormatInt(a.Customers["a1"].ID, 10)
		csrf := rm.csrf(rm.get("/customers/" + id))
		satisfied := strconv.FormatInt(ids["satisfied"], 10)
		for _, step := range []struct {
			name string
			do   func() response
			want string
		}{
			{"customer page", func() response { return rm.get("/customers/" + id + "#transactions") }, "customer.read/ok"},
			{"transactions fragment", func() response {
				return rm.get("/customers/"+id+"/transactions?kind=transfer_in", "HX-Request", "true")
			}, "customer.read/ok"},
			{"record interaction (htmx)", func() response {
				return rm.post("/customers/"+id+"/interactions", url.Values{"csrf": {csrf}, "channel": {"phone"},
					"purpose": {"care"}}, "HX-Request", "true")
			}, "interaction.record/ok"},
			{"tag (htmx)", func() response {
				return rm.post("/customers/"+id+"/tags", url.Values{"csrf": {csrf}, "tag_id": {satisfied},
					"reason": {"表扬柜员"}}, "HX-Request", "true")
			}, "customer.tag/ok"},
			{"untag (htmx)", func() response {
				return rm.post("/customers/"+id+"/tags/"+satisfied+"/remove", url.Values{"csrf": {csrf}}, "HX-Request", "true")
			}, "customer.untag/ok"},
			{"contact preferences (htmx)", func() response {
				return rm.post("/customers/"+id+"/preferences", url.Values{"csrf": {csrf}, "preferred_channel": {"sms"},
					"contact_from": {"10:00"}, "contact_to": {"16:00"}}, "HX-Request", "true")
			}, "customer.preferences/ok"},
		} {
			got := newRecords(t, a, func() {
				if res := step.do(); res.status != http.StatusOK {
					t.Errorf("%s: %d", step.name, res.status)
				}
			})
			if want := map[string]int{step.want: 1}; !maps.Equal(got, want) {
				t.Errorf("%s recorded %v, want %v", step.name, got, want)
			}
		}
	})
}

// TestContactPreferencesForm: the 偏好与授权 tab's form saves without
// JavaScript (303 to the tab, values shown), with htmx (the fresh form in
// place), refuses a half window with the fields marked (422), and is not
// offered to a role without customer.write.
func TestContactPreferencesForm(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		rm := a.login(t, "rm_a")
		id := strconv.FormatInt(a.Customers["a1"].ID, 10)
		page := rm.get("/customers/" + id)
		mustContain(t, page.body, `id="pref-form"`, "联系偏好", "方便联系时段", "请勿致电", "营销授权")
		csrf := rm.csrf(page)
		res := rm.post("/customers/"+id+"/preferences", url.Values{"csrf": {csrf}, "preferred_channel": {"wechat"},
			"contact_from": {"19:00"}, "contact_to": {"08:00"}, "contact_days": {"weekdays"}, "language": {"yue"},
			"do_not_call": {"1"}, "note": {"白天在医院值班"}})
		if res.status != http.StatusSeeOther || !strings.HasSuffix(res.header.Get("Location"), "?done=preferences#preferences") {
			t.Fatalf("save: %d %s", res.status, res.header.Get("Location"))
		}
		res = rm.get(res.header.Get("Location"))
		mustContain(t, res.body, "联系偏好已保存。", `<option value="wechat" selected>`, `value="19:00"`, `value="08:00"`,
			`<option value="weekdays" selected>`, `<option value="yue" selected>`, `id="pref-dnc" value="1" checked`,
			"白天在医院值班", `id="pref-updated"`)
		// htmx: the form comes back in place.
		res = rm.post("/customers/"+id+"/preferences", url.Values{"csrf": {csrf}, "preferred_channel": {"phone"},
			"language": {"zh"}}, "HX-Request", "true")
		if res.status != http.StatusOK || strings.Contains(res.body, "<html") || !strings.Contains(res.body, `id="pref-form"`) ||
			!strings.Contains(res.body, `<option value="phone" selected>`) || strings.Contains(res.body, "checked") {
			t.Errorf("htmx save: %d %s", res.status, res.body)
		}
		// Half a window: refused, the typed values kept, the fields marked.
		res = rm.post("/customers/"+id+"/preferences", url.Values{"csrf": {csrf}, "contact_from": {"09:00"},
			"note": {"只填了开始"}}, "HX-Request", "true")
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "联系时段请同时填写开始和结束时间") ||
			!strings.Contains(res.body, `name="contact_to" id="pref-to" value="" aria-invalid="true"`) ||
			!strings.Contains(res.body, "只填了开始") {
			t.Errorf("half window: %d %s", res.status, res.body)
		}
		p, err := db.Contact().Preferences(context.Background(), a.Customers["a1"].ID)
		if err != nil || p.PreferredChannel != "phone" || p.ContactFrom != "" || p.DoNotCall {
			t.Errorf("stored %+v %v", p, err)
		}
		// A lobby manager sees the preferences but no form, and may not post.
		lobby := a.login(t, "lobby_a")
		page = lobby.get("/customers/" + id)
		mustContain(t, page.body, `id="prefs"`, "电话")
		mustNotContain(t, page.body, `id="pref-form"`)
		res = lobby.post("/customers/"+id+"/preferences", url.Values{"csrf": {lobby.csrf(page)}, "language": {"en"}})
		if res.status != http.StatusForbidden {
			t.Errorf("lobby manager posts: %d", res.status)
		}
		// English.
		rm.lang = "en"
		mustContain(t, rm.get("/customers/"+id).body, "Contact preferences", "Contact hours", "Do not call", "Mandarin")
	})
}
