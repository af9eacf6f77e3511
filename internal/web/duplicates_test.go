package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"kehu/internal/customer"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

func TestDuplicatesPageMergeDismissUndo(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		a.AddPortfolio(t)
		dup, pair := a.AddDuplicate(t, "a1", "E50000001")
		_, other := a.AddDuplicate(t, "a2", "E50000002")
		a1 := a.Customers["a1"]
		mgr := a.login(t, "branch_manager")
		before, _ := db.CountRows(context.Background(), "audit_log")
		page := mgr.get("/duplicates")
		if page.status != http.StatusOK {
			t.Fatalf("page: %d", page.status)
		}
		if after, _ := db.CountRows(context.Background(), "audit_log"); after-before != 1 {
			t.Errorf("the page wrote %d audit records, want one", after-before)
		}
		mustContain(t, page.body, "疑似重复客户", `id="pair-`+strconv.FormatInt(pair, 10)+`"`, "姓名与手机号相同",
			`href="/duplicates"`, "保留 #"+strconv.FormatInt(a1.ID, 10)+" 并合并")
		// Masked for a branch manager, as on every page.
		mustNotContain(t, page.body, a1.IDNumber, "E50000001", a1.Mobile)
		csrf := mgr.csrf(page)
		res := mgr.post("/duplicates/"+strconv.FormatInt(pair, 10)+"/merge",
			url.Values{"csrf": {csrf}, "survivor_id": {strconv.FormatInt(a1.ID, 10)}, "reason": {"同一客户"}})
		if res.status != http.StatusSeeOther || res.location != "/duplicates?done=merged" {
			t.Fatalf("merge: %d %s %s", res.status, res.location, res.body)
		}
		page = mgr.get("/duplicates?done=merged")
		mustContain(t, page.body, "已合并。", `id="merges"`, "撤销合并", "补充字段： 电子邮箱")
		// A second merge of the same pair is a conflict, shown as a page.
		res = mgr.post("/duplicates/"+strconv.FormatInt(pair, 10)+"/merge",
			url.Values{"csrf": {csrf}, "survivor_id": {strconv.FormatInt(dup.ID, 10)}})
		if res.status != http.StatusConflict || !strings.Contains(res.body, "该组已被处理") {
			t.Errorf("second merge: %d", res.status)
		}
		// Dismiss needs a reason.
		res = mgr.post("/duplicates/"+strconv.FormatInt(other, 10)+"/dismiss", url.Values{"csrf": {csrf}})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "请填写理由") {
			t.Errorf("dismiss without reason: %d", res.status)
		}
		res = mgr.post("/duplicates/"+strconv.FormatInt(other, 10)+"/dismiss", url.Values{"csrf": {csrf}, "reason": {"两个人"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("dismiss: %d %s", res.status, res.body)
		}
		mustContain(t, mgr.get("/duplicates?status=dismissed").body, `id="pair-`+strconv.FormatInt(other, 10)+`"`)
		res = mgr.post("/merges/1/undo", url.Values{"csrf": {csrf}, "reason": {"误合并"}})
		if res.status != http.StatusSeeOther || res.location != "/duplicates?done=undone" {
			t.Fatalf("undo: %d %s", res.status, res.body)
		}
		got, err := db.Customers().GetCustomer(context.Background(), dup.ID, customer.ScopeFilter{})
		if err != nil || got.Status != customer.StatusActive {
			t.Fatalf("the merged record after undo: %q %v", got.Status, err)
		}
		mustContain(t, mgr.get("/duplicates").body, `id="pair-`+strconv.FormatInt(pair, 10)+`"`)
	})
}

func TestDuplicatesPageScope(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		owner := a.Users["rm_a"].ID
		far, err := a.CustomerService().Create(a.As("admin"), customer.New{Type: customer.Individual, Name: "张伟",
			IDType: customer.Passport, IDNumber: "G50000009", Gender: "M", OrgID: a.Province.ID, OwnerID: &owner})
		if err != nil {
			t.Fatal(err)
		}
		outside := a.QueueDuplicate(t, a.Customers["a1"].ID, far.ID)
		mgr := a.login(t, "branch_manager")
		page := mgr.get("/duplicates")
		mustNotContain(t, page.body, `id="pair-`+strconv.FormatInt(outside, 10)+`"`)
		res := mgr.post("/duplicates/"+strconv.FormatInt(outside, 10)+"/merge",
			url.Values{"csrf": {mgr.csrf(page)}, "survivor_id": {strconv.FormatInt(far.ID, 10)}})
		if res.status != http.StatusNotFound {
			t.Errorf("merging an out-of-scope pair: %d", res.status)
		}
		rm := a.login(t, "rm_a")
		if res := rm.get("/duplicates"); res.status != http.StatusForbidden {
			t.Errorf("an RM opened the review page: %d", res.status)
		}
		mustNotContain(t, rm.get("/customers").body, `href="/duplicates"`)
		if admin := a.login(t, "admin").get("/duplicates"); !strings.Contains(admin.body, `id="pair-`+strconv.FormatInt(outside, 10)+`"`) {
			t.Error("the admin does not see the pair")
		}
	})
}

// TestBrowserDuplicateMergeAndUndo drives Chromium through the review: a
// branch manager compares a pair, merges it into the resident-ID record, sees
// the merge in the log and undoes it.
func TestBrowserDuplicateMergeAndUndo(t *testing.T) {
	a := newApp(t, testkit.NewDB(t, "sqlite"))
	a.AddPortfolio(t)
	_, pair := a.AddDuplicate(t, "a1", "E60000001")
	a1 := a.Customers["a1"]
	ctx := testkit.Browser(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	do, text := browserSteps(t, ctx)
	card := "#pair-" + strconv.FormatInt(pair, 10)
	do("sign in", signInActions(a.srv.URL+"/login", "branch_manager", "#q")...)
	do("open the review from the navigation", chromedp.Click(css(`.sidenav a[href="/duplicates"]`)),
		chromedp.WaitVisible(css(card)))
	if s := text(card + " .dup-compare"); !strings.Contains(s, "护照") || !strings.Contains(s, "居民身份证") {
		t.Errorf("the comparison does not show both documents: %q", s)
	}
	do("merge into a1", chromedp.SendKeys(css(card+" .dup-merge input[name=reason]"), "同一客户"),
		chromedp.Click(css(card+" button.merge-left")), chromedp.WaitVisible(css(`#notice[data-done="merged"]`)))
	if s := text("#notice"); !strings.Contains(s, "已合并") {
		t.Errorf("merge confirmation %q", s)
	}
	if s := text("#merges tbody tr"); !strings.Contains(s, "#"+strconv.FormatInt(a1.ID, 10)) || !strings.Contains(s, "已合并") {
		t.Errorf("merge log row %q", s)
	}
	do("undo", chromedp.SendKeys(css("#merges .dup-undo input[name=reason]"), "误合并"),
		// The merge's confirmation is on the page already: wait for the
		// undo's own, so the checks below read the page after the undo.
		chromedp.Click(css("#merges button.undo")), chromedp.WaitVisible(css(`#notice[data-done="undone"]`)))
	if s := text("#notice"); !strings.Contains(s, "已撤销合并") {
		t.Errorf("undo confirmation %q", s)
	}
	if s := text("#merges tbody tr"); !strings.Contains(s, "已撤销") {
		t.Errorf("merge log after undo %q", s)
	}
	do("the pair is back", chromedp.WaitVisible(css(card+" button.merge-left")))
}
