package web_test

import (
	"net/http"
	"strconv"
	"testing"

	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestMergedCustomerBanner: opening a merged tombstone says so, links the
// survivor for a user who may open it (the branch manager) and not for one
// who may not (teller_a: the survivor is homed at the other outlet), with
// the merge time; a live customer shows no banner.
func TestMergedCustomerBanner(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		a1, b1 := a.Customers["a1"], a.Customers["b1"]
		pair := a.QueueDuplicate(t, a1.ID, b1.ID)
		if _, err := a.Merger().Merge(a.As("branch_manager"), pair, b1.ID, "同一人"); err != nil {
			t.Fatal(err)
		}
		page := "/customers/" + strconv.FormatInt(a1.ID, 10)
		survivor := "/customers/" + strconv.FormatInt(b1.ID, 10)

		bm := a.login(t, "branch_manager")
		r := bm.get(page)
		if r.status != http.StatusOK {
			t.Fatalf("tombstone page: %d", r.status)
		}
		mustContain(t, r.body, `id="merged-banner"`, "该客户已合并至", `<a href="`+survivor+`" id="merged-survivor">#`+
			strconv.FormatInt(b1.ID, 10)+`</a>`, `id="merged-at"`, "合并时间：2026-03-02", "已转至存续客户")
		bm.lang = "en"
		mustContain(t, bm.get(page).body, "This customer was merged into", "Merged on 2026-03-02")

		teller := a.login(t, "teller_a")
		r = teller.get(page)
		if r.status != http.StatusOK {
			t.Fatalf("tombstone page for teller_a: %d", r.status)
		}
		mustContain(t, r.body, `id="merged-banner"`, "该客户已合并至另一客户（该客户不在您的数据范围内）", `id="merged-at"`)
		mustNotContain(t, r.body, `href="`+survivor+`"`, `id="merged-survivor"`)

		mustNotContain(t, bm.get(survivor).body, `id="merged-banner"`)
	})
}
