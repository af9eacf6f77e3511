package web_test

import (
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"kehu/internal/store"
	"kehu/internal/tag"
	"kehu/internal/testkit"
)

// TestTagCatalogueUI: 标签管理 for tag.manage — the catalogue with the
// built-in rules in words, a new manual tag that demands a reason, a
// refused emotion tag (no polarity) with the field marked, a computed
// tag's parameters edited within validation, deactivation, deletion of a
// tag in use refused; hidden from and refused to other roles; one audit
// record per change; English.
func TestTagCatalogueUI(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		ids := builtinTags(t, a.Bank)
		mkt := a.login(t, "hq_marketing")
		page := mkt.get("/tags")
		if page.status != http.StatusOK {
			t.Fatalf("/tags: %d", page.status)
		}
		mustContain(t, page.body, `href="/tags"`, "标签管理", `id="tag-catalogue"`, "高净值", "金融资产不少于 ¥6,000,000.00",
			"近 3 个月代发工资或养老金入账不少于 2 笔", "不满意", "负面", `id="new-tag-form"`)
		csrf := mkt.csrf(page)
		post := func(path string, form url.Values) response {
			f := url.Values{"csrf": {csrf}}
			maps.Copy(f, form)
			return mkt.post(path, f)
		}
		// A manual tag that demands a reason.
		var res response
		got := newRecords(t, a, func() {
			res = post("/tags", url.Values{"kind": {"manual"}, "name": {"重点关注"}, "label_en": {"Watch list"},
				"color": {"amber"}, "description": {"反洗钱可疑，需说明原因"}, "reason_required": {"1"}, "default_expiry_days": {"0"}})
		})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/tags?done=created" ||
			!maps.Equal(got, map[string]int{tag.ActionCatalogue + "/ok": 1}) {
			t.Fatalf("create: %d %s %v", res.status, res.header.Get("Location"), got)
		}
		page = mkt.get("/tags?done=created")
		mustContain(t, page.body, "标签已创建。", "重点关注", "必填")
		watch := tagByName(t, a.Bank, "重点关注")
		if !watch.ReasonRequired || watch.Color != "amber" || watch.Kind != tag.Manual {
			t.Errorf("stored %+v", watch)
		}
		// An emotion tag without polarity is refused with the field marked.
		res = post("/tags", url.Values{"kind": {"emotion"}, "name": {"焦虑"}, "color": {"orange"}})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `id="tag-polarity" aria-invalid="true"`) ||
			!strings.Contains(res.body, `value="焦虑"`) {
			t.Errorf("emotion without polarity: %d", res.status)
		}
		// A computed tag's parameters: a bad month count is refused, a new threshold saved.
		payroll, hnw := strconv.FormatInt(ids["payroll"], 10), strconv.FormatInt(ids["high_net_worth"], 10)
		edit := mkt.get("/tags/" + payroll)
		mustContain(t, edit.body, `id="rule-params"`, `name="months"`, `name="min_count"`)
		mustNotContain(t, edit.body, `name="polarity"`, `name="reason_required"`)
		res = post("/tags/"+payroll, url.Values{"name": {"代发工资"}, "color": {"blue"}, "months": {"13"}, "min_count": {"2"}})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `id="rule-months" min="1" max="12" value="13" aria-invalid="true"`) {
			t.Errorf("13 months: %d %s", res.status, res.body)
		}
		res = post("/tags/"+hnw, url.Values{"name": {"高净值"}, "label_en": {"High net worth"}, "color": {"purple"},
			"min_aum": {"5,000,000"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("threshold: %d %s", res.status, res.body)
		}
		if r := tagByName(t, a.Bank, "高净值").Rule; r == nil || r.MinAUM != 5_000_000_00 {
			t.Errorf("rule after edit: %+v", r)
		}
		// Deactivate; delete a tag in use is refused, an unused one goes.
		res = post("/tags/"+strconv.FormatInt(watch.ID, 10)+"/active", url.Values{"active": {"0"}})
		if res.status != http.StatusSeeOther || tagByName(t, a.Bank, "重点关注").Active {
			t.Errorf("deactivate: %d", res.status)
		}
		mustContain(t, mkt.get("/tags?done=deactivated").body, "标签已停用。", `class="inactive"`)
		satisfied := ids["satisfied"]
		if _, err := a.Bank.TagService().Add(a.Bank.As("rm_a"), a.Customers["a1"].ID,
			tag.Assign{TagID: satisfied, Reason: "表扬"}); err != nil {
			t.Fatal(err)
		}
		res = post("/tags/"+strconv.FormatInt(satisfied, 10)+"/delete", nil)
		if res.status != http.StatusConflict || !strings.Contains(res.body, "该标签仍有客户使用") {
			t.Errorf("delete in use: %d", res.status)
		}
		res = post("/tags/"+strconv.FormatInt(watch.ID, 10)+"/delete", nil)
		if res.status != http.StatusSeeOther {
			t.Errorf("delete unused: %d %s", res.status, res.body)
		}
		// Other roles neither see nor reach it.
		rm := a.login(t, "rm_a")
		rmPage := rm.get("/customers")
		mustNotContain(t, rmPage.body, `href="/tags"`)
		if r := rm.get("/tags"); r.status != http.StatusForbidden {
			t.Errorf("rm /tags: %d", r.status)
		}
		if r := rm.post("/tags", url.Values{"csrf": {rm.csrf(rmPage)}, "name": {"x"}, "kind": {"manual"}}); r.status != http.StatusForbidden {
			t.Errorf("rm POST /tags: %d", r.status)
		}
		mkt.lang = "en"
		mustContain(t, mkt.get("/tags").body, "Tag catalogue", "AUM of at least ¥5,000,000.00",
			"At least 2 salary or pension credits in 3 months")
	})
}

func tagByName(t *testing.T, b *testkit.Bank, name string) tag.Tag {
	t.Helper()
	all, err := b.TagService().Catalogue(b.As("admin"), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range all {
		if x.Name == name {
			return x
		}
	}
	t.Fatalf("no tag %s", name)
	return tag.Tag{}
}
