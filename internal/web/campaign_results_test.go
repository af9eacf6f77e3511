package web_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"kehu/internal/campaign"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestCampaignResultsPage draws a launched campaign's results: the funnel
// bars hold the audience, the not-suppressed, sent, delivered and
// converted counts with the audience's bar full width; one bar per
// suppression reason with its count; the treatment and control columns
// with their Wilson intervals as error bars and the lift's interval in
// words; the export link; English; an RM is refused.
func TestCampaignResultsPage(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		lc := a.LaunchedCampaign(t)
		n := lc.Results.Total
		c := a.login(t, "hq_marketing")
		path := "/campaigns/" + strconv.FormatInt(lc.Campaign.ID, 10) + "/results"
		page := c.get(path)
		if page.status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, page.status, page.body)
		}
		mustContain(t, page.body, "活动效果", "稳盈理财春季推广", `id="funnel-chart"`, `id="suppression-chart"`, `id="conversion-chart"`,
			`href="/api/v1/campaigns/`+strconv.FormatInt(lc.Campaign.ID, 10)+`/results.xlsx?lang=zh-CN"`,
			// The member list is a bulk export; the aggregates alone are offered.
			`href="/api/v1/campaigns/`+strconv.FormatInt(lc.Campaign.ID, 10)+`/results.xlsx?lang=zh-CN&amp;members=none"`,
			"导出汇总（不含成员明细）", "成员明细属于批量导出：连同您今天已查看、导出的客户超过 1000 位时")
		stage := func(key string) (string, string) {
			t.Helper()
			m := regexp.MustCompile(`data-stage="` + key + `">[\s\S]*?width="([0-9.]+)"[\s\S]*?class="value">(\d+) · `).FindStringSubmatch(page.body)
			if m == nil {
				t.Fatalf("no funnel stage %s", key)
			}
			return m[1], m[2]
		}
		for key, want := range map[string]int64{"audience": n.Audience, "not_suppressed": n.Treatment - n.SuppressedTotal,
			"sent": n.Sent, "delivered": 6, "converted": 4} {
			if _, got := stage(key); got != strconv.FormatInt(want, 10) {
				t.Errorf("funnel %s: %s, want %d", key, got, want)
			}
		}
		if w, _ := stage("audience"); w != "330" {
			t.Errorf("the audience bar is %s wide, want the full 330", w)
		}
		for code, count := range n.Suppressed {
			re := regexp.MustCompile(`data-reason="` + code + `">[\s\S]*?class="value">(\d+) · `)
			if m := re.FindStringSubmatch(page.body); m == nil || m[1] != strconv.FormatInt(count, 10) {
				t.Errorf("reason %s: %v, want %d", code, m, count)
			}
		}
		mustContain(t, page.body, "未同意营销", "已撤回营销同意")
		lo, hi := campaign.Wilson(4, n.Treatment, campaign.Z95)
		mustContain(t, page.body, `data-group="treatment"`, `data-group="control"`,
			"4/"+strconv.FormatInt(n.Treatment, 10)+" = "+pctText(float64(4)/float64(n.Treatment))+" (95% "+pctText(lo)+"–"+pctText(hi)+")",
			"提升 "+pctText(n.Lift.Difference)+"（95% 置信区间 "+pctText(n.Lift.Low)+" 至 "+pctText(n.Lift.High)+"）")
		if strings.Count(page.body, `class="ci"`) != 6 {
			t.Errorf("%d error-bar lines, want 3 per group", strings.Count(page.body, `class="ci"`))
		}
		en := a.login(t, "branch_manager")
		en.lang = "en"
		mustContain(t, en.get(path).body, "Campaign results", "No marketing consent", "Treatment", "Lift ")
		if res := a.login(t, "rm_a").get(path); res.status != http.StatusForbidden {
			t.Errorf("an RM opened the results: %d", res.status)
		}
	})
}

func pctText(v float64) string { return strconv.FormatFloat(v*100, 'f', 2, 64) + "%" }
