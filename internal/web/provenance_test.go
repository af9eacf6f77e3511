package web_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"kehu/internal/importer"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// importedCustomer imports one customer from core banking (source id P-1,
// owned by rm_a at outlet A) and returns its id.
func importedCustomer(t *testing.T, a *app, db *store.DB) (int64, importer.Job) {
	t.Helper()
	job := a.RunImport(t, importer.KindCustomers, "core_banking", "p.csv", []byte("客户号,姓名,证件号码,手机号码,机构号,客户经理\n"+
		"P-1,柳青,"+testkit.ResidentID("33010619870707404")+",13500000044,HZ-A,rm_a\n"))
	links, err := db.Identity().Links(context.Background(), "core_banking", []string{"P-1"})
	if err != nil || links["P-1"] == nil || job.Counts.Created != 1 {
		t.Fatalf("import %+v: %v %v", job.Counts, links, err)
	}
	return links["P-1"].CustomerID, job
}

// TestProvenanceTab: the customer page offers 数据来源, loaded on its own
// (one customer.provenance record) when the tab comes into view or through
// the link; it names the systems, times, rules and source records, never a
// value, in both languages.
func TestProvenanceTab(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		cid, job := importedCustomer(t, a, db)
		c := a.login(t, "rm_a")
		page := "/customers/" + strconv.FormatInt(cid, 10)
		r := c.get(page)
		if r.status != http.StatusOK {
			t.Fatalf("customer page: %d", r.status)
		}
		mustContain(t, r.body, `<a href="#sources">数据来源</a>`, `hx-get="`+page+`/provenance" hx-trigger="intersect once"`,
			`<a href="`+page+`/provenance" id="provenance-open">`)
		mustNotContain(t, r.body, `id="prov-fields"`) // not read with the page

		before, _ := db.CountRows(context.Background(), "audit_log")
		full := c.get(page + "/provenance")
		if full.status != http.StatusOK {
			t.Fatalf("provenance page: %d", full.status)
		}
		if after, _ := db.CountRows(context.Background(), "audit_log"); after-before != 1 {
			t.Errorf("the provenance page wrote %d audit records, want 1", after-before)
		}
		mustContain(t, full.body, `id="prov-fields"`, `data-field="mobile" data-source="core_banking"`,
			`data-field="identity" data-source="core_banking"`, "核心业务系统", "最新优先", "可信度优先", "首次确定",
			`href="/imports/jobs/`+strconv.FormatInt(job.ID, 10)+`"`, `id="prov-sources"`, ">P-1<", "由此记录建档", "建档来源",
			`href="`+page+`"`)
		mustNotContain(t, full.body, "13500000044", "330106", "****5")
		frag := c.get(page+"/provenance", "HX-Request", "true")
		if !strings.HasPrefix(strings.TrimSpace(frag.body), `<section class="card prov-panel" id="provenance"`) {
			t.Errorf("htmx fragment %q", frag.body[:min(120, len(frag.body))])
		}
		c.lang = "en"
		mustContain(t, c.get(page+"/provenance").body, "Data sources", "Core banking", "Most recent", "created the customer")

		// Another RM: the same 404 as an unknown id, without the name.
		o := a.login(t, "rm_b")
		for _, p := range []string{page + "/provenance", "/customers/999999/provenance"} {
			if r := o.get(p); r.status != http.StatusNotFound || strings.Contains(r.body, "柳青") {
				t.Errorf("rm_b %s: %d", p, r.status)
			}
		}
	})
}
