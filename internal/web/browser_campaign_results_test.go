package web_test

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"kehu/internal/testkit"
)

// TestBrowserCampaignResults opens 活动效果 in Chromium as the marketing
// operator: the three charts render (the audience bar drawn full width,
// one bar per suppression reason, both groups' columns with error bars),
// and the export link points at the workbook.
func TestBrowserCampaignResults(t *testing.T) {
	a := newApp(t, testkit.NewDB(t, "sqlite"))
	lc := a.LaunchedCampaign(t)
	ctx := testkit.Browser(t)
	shot := screenshotter(t, ctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	do, text := browserSteps(t, ctx)
	do("sign in as the marketing operator", signInActions(a.srv.URL+"/login", "hq_marketing", ".sidenav")...)
	id := strconv.FormatInt(lc.Campaign.ID, 10)
	do("open the results", chromedp.Navigate(a.srv.URL+"/campaigns/"+id+"/results"), chromedp.WaitVisible(css("#conversion-chart")))
	shot("campaign-results")
	measure := func(js string) float64 {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	full := measure(`document.querySelector('#funnel-chart [data-stage="audience"] rect').getBBox().width`)
	half := measure(`document.querySelector('#funnel-chart [data-stage="not_suppressed"] rect').getBBox().width`)
	if full != 330 || half <= 0 || half >= full {
		t.Errorf("funnel bars %v and %v wide", full, half)
	}
	if n := measure(`document.querySelectorAll('#suppression-chart g.reason').length`); int(n) != len(lc.Results.Total.Suppressed) {
		t.Errorf("%v reason bars, want %d", n, len(lc.Results.Total.Suppressed))
	}
	if h := measure(`document.querySelector('#conversion-chart [data-group="treatment"] rect').getBBox().height`); h <= 0 {
		t.Errorf("treatment column %v high", h)
	}
	if n := measure(`document.querySelectorAll('#conversion-chart line.ci').length`); n != 6 {
		t.Errorf("%v error-bar lines", n)
	}
	if got := text("#results-export"); got != "导出 Excel" {
		t.Errorf("export link %q", got)
	}
}
