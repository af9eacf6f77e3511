package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"kehu/internal/governance"
	"kehu/internal/i18n"
	"kehu/internal/level"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// draftForm is the level editor filled like the active rule, with platinum
// at ¥2m (5万-style amounts accepted).
func draftForm(csrf string) url.Values {
	f := url.Values{"csrf": {csrf}, "version": {"0"}, "note": {"白金门槛提高至200万"}}
	for lvl, aum := range map[string]string{"gold": "5万", "platinum": "2,000,000", "diamond": "2000000", "private": "6000000"} {
		f.Set("c."+lvl+".0.aum", aum)
	}
	f.Set("c.gold.1.aum_avg3m", "50000")
	for _, r := range []string{"current_deposit_bp", "time_deposit_bp", "wealth_bp", "fund_bp", "insurance_bp", "card_interchange_bp"} {
		f.Set("r."+r, "50")
	}
	return f
}

func TestLevelRulePage(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		a.AddPortfolio(t)
		if _, err := a.levels.RecomputeAll(a.As("admin"), level.TriggerManual); err != nil {
			t.Fatal(err)
		}
		if res := a.login(t, "rm_a").get("/levels"); res.status != http.StatusForbidden {
			t.Errorf("an RM opens the rule page: %d", res.status)
		}
		c := a.login(t, "admin")
		page := c.get("/levels")
		if page.status != 200 {
			t.Fatalf("levels page: %d", page.status)
		}
		mustContain(t, page.body, "现行规则（第 1 版）", "AUM ≥ ¥500,000.00 或 近3月月末平均AUM ≥ ¥500,000.00",
			`name="c.platinum.0.aum" id="c.platinum.0.aum" value="500000"`, "对公客户不参与零售客户等级评定", `data-run=`)
		csrf := c.csrf(page)

		// Numbers that are not numbers are refused in place.
		bad := draftForm(csrf)
		bad.Set("c.gold.0.aum", "五万")
		res := c.post("/levels/draft", bad)
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("bad number: %d", res.status)
		}
		mustContain(t, res.body, "请填写数字", `name="c.gold.0.aum" id="c.gold.0.aum" value="五万" inputmode="decimal" maxlength="20" class="threshold"`)
		if !regexp.MustCompile(`id="c\.gold\.0\.aum"[^>]*aria-invalid="true"`).MatchString(res.body) {
			t.Error("the bad cell is not marked")
		}
		// A rule the service refuses: the rate names its input.
		bad = draftForm(csrf)
		bad.Set("r.fund_bp", "20000")
		res = c.post("/levels/draft", bad)
		if res.status != http.StatusUnprocessableEntity || !regexp.MustCompile(`id="r\.fund_bp"[^>]*aria-invalid="true"`).MatchString(res.body) {
			t.Fatalf("bad rate: %d", res.status)
		}

		// Save, then preview on the real data.
		res = c.post("/levels/draft", draftForm(csrf))
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/levels?done=saved") {
			t.Fatalf("save: %d %s", res.status, res.location)
		}
		page = c.get("/levels")
		mustContain(t, page.body, "编辑草稿（第 2 版）", `name="version" value="2"`, `value="2000000"`, "白金门槛提高至200万")
		f := draftForm(csrf)
		f.Set("version", "2")
		f.Set("action", "preview")
		res = c.post("/levels/draft", f)
		if res.status != 200 {
			t.Fatalf("preview: %d", res.status)
		}
		mustContain(t, res.body, "第 2 版预览（对比现行第 1 版）", "按全部 5 位客户的真实数据计算", "升级 0 位，降级 1 位",
			`<tr data-level="platinum">`, `action="/levels/2/activate"`)

		// Activation needs the confirmation box.
		res = c.post("/levels/2/activate", url.Values{"csrf": {csrf}})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "请勾选确认") {
			t.Fatalf("activate without confirming: %d", res.status)
		}
		res = c.post("/levels/2/activate", url.Values{"csrf": {csrf}, "confirm": {"1"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("activate: %d", res.status)
		}
		page = c.get(res.location)
		mustContain(t, page.body, "新规则已启用", "现行规则（第 2 版）", `data-version="1" data-status="retired"`)

		// Recompute now, in the background.
		res = c.post("/levels/runs", url.Values{"csrf": {csrf}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("recompute: %d", res.status)
		}
		a.levels.Wait()
		page = c.get("/levels")
		mustContain(t, page.body, "手动", "完成")
		if l, _ := a.levels.Assessment(a.As("admin"), a.Customers["a1"].ID); l.Level != "gold" {
			t.Errorf("a1 is %s after the new rule", l.Level)
		}
		// English.
		c.lang = "en"
		mustContain(t, c.get("/levels").body, "Rule in force (version 2)", "AUM ≥ ¥2,000,000.00")
		// Without the token nothing happens.
		if res := c.post("/levels/runs", url.Values{}); res.status != http.StatusForbidden {
			t.Errorf("no CSRF token: %d", res.status)
		}
	})
}

func TestDictionaryPages(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		teller := a.login(t, "teller_a")
		page := teller.get("/dictionary")
		if page.status != 200 {
			t.Fatalf("dictionary: %d", page.status)
		}
		mustContain(t, page.body, `href="/dictionary"`, "数据字典", `data-field="customers.mobile"`, `data-field="accounts.account_no"`,
			`data-field="channel_events.channel"`, "个人金融部", "核心系统", `class="class class-C2"`)
		mustNotContain(t, page.body, `id="undocumented"`)
		res := teller.get("/dictionary?q=" + url.QueryEscape("手机"))
		mustContain(t, res.body, `data-field="customers.mobile"`)
		mustNotContain(t, res.body, `data-field="customers.email"`)
		res = teller.get("/dictionary?table=accounts&class=C2", "HX-Request", "true", "HX-Target", "dict-results")
		if res.status != 200 || strings.Contains(res.body, "<html") || !strings.Contains(res.body, `data-field="accounts.balance"`) ||
			strings.Contains(res.body, `data-field="accounts.currency"`) {
			t.Errorf("htmx filter: %d", res.status)
		}
		if res := teller.get("/dictionary?table=users"); res.status != http.StatusBadRequest {
			t.Errorf("unknown table: %d", res.status)
		}
		entry := teller.get("/dictionary/customers/id_number")
		mustContain(t, entry.body, "GB 11643", "是（字段级加密", "证件号脱敏", "尚未修改过")
		mustNotContain(t, entry.body, `id="dict-edit"`)
		if res := teller.get("/dictionary/customers/nope"); res.status != 404 {
			t.Errorf("unknown entry: %d", res.status)
		}

		admin := a.login(t, "admin")
		entry = admin.get("/dictionary/customers/risk_assessed_at")
		mustContain(t, entry.body, `id="dict-edit"`, `name="fresh_days" id="e-fresh" value="365"`)
		form := url.Values{"csrf": {admin.csrf(entry)}, "base_version": {"0"},
			"definition_zh": {"风险评估时间：最近一次风险承受能力评估的时间，超过两年视为过期"},
			"definition_en": {"When the risk tolerance was last assessed; expired after two years"},
			"source_system": {"wealth"}, "owner": {"wealth_management"}, "applies_to": {"individual"},
			"not_future": {"1"}, "fresh_days": {"730"}, "note": {"监管口径调整"}}
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("fresh_days", "两年")
		if res := admin.post("/dictionary/customers/risk_assessed_at", bad); res.status != http.StatusUnprocessableEntity ||
			!regexp.MustCompile(`id="e-fresh"[^>]*aria-invalid="true"`).MatchString(res.body) {
			t.Errorf("bad days: %d", res.status)
		}
		bad.Set("fresh_days", "730")
		bad.Set("min", "1")
		if res := admin.post("/dictionary/customers/risk_assessed_at", bad); res.status != http.StatusUnprocessableEntity ||
			!strings.Contains(res.body, "quality_rule.min") {
			t.Errorf("a range on a time: %d", res.status)
		}
		res = admin.post("/dictionary/customers/risk_assessed_at", form)
		if res.status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", res.status, res.body)
		}
		entry = admin.get(res.location)
		mustContain(t, entry.body, "已保存为新版本", "超过两年视为过期", `data-version="1"`, "监管口径调整", "距今不超过 730 天")
		if res := admin.post("/dictionary/customers/risk_assessed_at", form); res.status != http.StatusConflict ||
			!strings.Contains(res.body, "已被他人修改") {
			t.Errorf("stale edit: %d", res.status)
		}
		if res := teller.post("/dictionary/customers/risk_assessed_at", url.Values{"csrf": {teller.csrf(page)},
			"base_version": {"1"}, "definition_zh": {"x"}, "definition_en": {"x"}, "source_system": {"wealth"},
			"owner": {"wealth_management"}}); res.status != http.StatusForbidden {
			t.Errorf("a teller edits: %d", res.status)
		}
	})
}

func TestDataQualityPages(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		manager := a.login(t, "branch_manager")
		page := manager.get("/data-quality")
		if page.status != 200 {
			t.Fatalf("data quality: %d", page.status)
		}
		mustContain(t, page.body, `href="/data-quality"`, "尚未检测", "杭州分行")
		mustNotContain(t, page.body, `id="dq-start"`)
		admin := a.login(t, "admin")
		adminPage := admin.get("/data-quality")
		res := admin.post("/data-quality/runs", url.Values{"csrf": {admin.csrf(adminPage)}, "org_id": {"1"}})
		if res.status != http.StatusSeeOther || res.location != "/data-quality?done=run&org_id=1" {
			t.Fatalf("start: %d %s", res.status, res.location)
		}
		a.quality.Wait()
		page = manager.get("/data-quality")
		mustContain(t, page.body, `id="dq-run-info"`, "扫描 5 行", `href="/data-quality?org_id=`, "西湖支行", "滨江支行",
			`data-field="customers.address"`, "必填缺失", `<meter min="0" max="10000"`)
		// The test bank's customers have no address: 0% complete, shown red.
		if !regexp.MustCompile(`data-field="customers.address"(?s:.*?)class="num dq-low">0.0%`).MatchString(page.body) {
			t.Error("address completeness is not 0.0% in red")
		}
		outletB := manager.get("/data-quality?org_id=" + strconv.FormatInt(a.OutletB.ID, 10))
		mustContain(t, outletB.body, "（本机构直属客户）", `aria-current="page">滨江支行`)
		if res := manager.get("/data-quality?org_id=" + strconv.FormatInt(a.HeadOffice.ID, 10)); res.status != 404 {
			t.Errorf("the manager opens head office: %d", res.status)
		}
		if res := manager.get("/data-quality?org_id=x"); res.status != 404 {
			t.Errorf("a malformed org: %d", res.status)
		}
		teller := a.login(t, "teller_a")
		if res := teller.get("/data-quality"); res.status != http.StatusForbidden {
			t.Errorf("a teller: %d", res.status)
		}
		mustNotContain(t, teller.get("/customers").body, `href="/data-quality"`, `href="/levels"`)
		mustContain(t, teller.get("/customers").body, `href="/dictionary"`)
		if res := manager.post("/data-quality/runs", url.Values{"csrf": {manager.csrf(page)}}); res.status != http.StatusForbidden {
			t.Errorf("the manager starts a run: %d", res.status)
		}
	})
}

// TestGovernanceCatalogue: every code the governance pages translate has a
// label in both languages, and the level package's tier names are the UI's.
func TestGovernanceCatalogue(t *testing.T) {
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
	add("gov.source.", governance.SourceSystems...)
	add("gov.owner.", governance.Owners...)
	add("gov.format.", governance.Formats...)
	add("gov.reference.", governance.References...)
	add("gov.kind.", governance.KindRequired, governance.KindFormat, governance.KindRange, governance.KindReference, governance.KindFreshness)
	add("gov.type.", governance.TypeText, governance.TypeCode, governance.TypeInteger, governance.TypeMoney, governance.TypeDate,
		governance.TypeTimestamp, governance.TypeID, governance.TypeJSON)
	add("dict.table.", governance.Tables...)
	add("dq.reason.", "missing", governance.ReasonFormat, governance.ReasonEnum, governance.ReasonRange, governance.ReasonFuture,
		governance.ReasonReference, governance.ReasonStale, governance.ReasonMismatch)
	add("levels.criterion.", level.Criteria...)
	add("levels.trigger.", level.TriggerChange, level.TriggerNightly, level.TriggerManual, level.TriggerCLI, level.TriggerDemo)
	add("levels.status.", level.StatusDraft, level.StatusActive, level.StatusRetired)
	add("audit.action.", level.ActionRead, level.ActionRuleDraft, level.ActionRulePreview, level.ActionRuleActivate,
		level.ActionRecompute, governance.ActionDictionaryUpdate, governance.ActionQualityRun, governance.ActionQualityRead)
	for _, k := range keys {
		for _, lang := range b.Languages() {
			if _, ok := b.Lookup(lang, k); !ok {
				t.Errorf("%s has no %s label", k, lang)
			}
		}
	}
	for _, l := range []string{"standard", "gold", "platinum", "diamond", "private"} {
		for _, lang := range b.Languages() {
			if want, got := b.T(lang, "level."+l), level.TierName(l, lang); got != want {
				t.Errorf("%s %s: level package says %q, the UI %q", lang, l, got, want)
			}
		}
	}
}
