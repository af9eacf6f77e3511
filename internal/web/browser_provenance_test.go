package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"kehu/internal/testkit"
)

// TestBrowserProvenance opens an imported customer in headless Chromium as
// its RM: the 数据来源 tab is not read with the page; opening it loads the
// panel (htmx, when it comes into view) with core banking as the source of
// the fields and the source record P-1. Then a merged tombstone of the RM
// shows its banner, whose link leads to the survivor.
func TestBrowserProvenance(t *testing.T) {
	db := testkit.NewDB(t, "sqlite")
	a := newApp(t, db)
	cid, _ := importedCustomer(t, a, db)
	ctx := testkit.Browser(t)
	shot := screenshotter(t, ctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	do, text := browserSteps(t, ctx)
	page := a.srv.URL + "/customers/" + strconv.FormatInt(cid, 10)
	do("sign in", signInActions(a.srv.URL+"/login", "rm_a", `a[href="/customers"]`)...)
	do("open the customer", chromedp.Navigate(page), chromedp.WaitVisible(css("#customer-name")))
	before, _ := db.CountRows(context.Background(), "audit_log")
	do("open 数据来源", chromedp.Click(css(`a[href="#sources"]`)), chromedp.WaitVisible(css("#prov-fields")))
	if s := text("#prov-fields"); !strings.Contains(s, "核心业务系统") || !strings.Contains(s, "手机号码") {
		t.Errorf("fields panel %q", s)
	}
	if s := text("#prov-sources"); !strings.Contains(s, "P-1") || !strings.Contains(s, "由此记录建档") {
		t.Errorf("sources panel %q", s)
	}
	if after, _ := db.CountRows(context.Background(), "audit_log"); after-before != 1 {
		t.Errorf("opening the tab wrote %d audit records, want 1", after-before)
	}
	shot("provenance-1-tab")

	// rm_a's a2 merged into rm_a's a1: the banner links the survivor.
	a1, a2 := a.Customers["a1"], a.Customers["a2"]
	pair := a.QueueDuplicate(t, a1.ID, a2.ID)
	if _, err := a.Merger().Merge(a.As("branch_manager"), pair, a1.ID, "同一人"); err != nil {
		t.Fatal(err)
	}
	do("open the tombstone", chromedp.Navigate(a.srv.URL+"/customers/"+strconv.FormatInt(a2.ID, 10)),
		chromedp.WaitVisible(css("#merged-banner")))
	do("follow the link to the survivor", chromedp.Click(css("#merged-survivor")),
		chromedp.WaitNotPresent(css("#merged-banner")), chromedp.WaitVisible(css("#customer-name")))
	if s := text("#customer-name"); !strings.Contains(s, a1.Name) {
		t.Errorf("survivor page %q", s)
	}
	shot("provenance-2-survivor")
}
