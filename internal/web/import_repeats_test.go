package web_test

import (
	"net/http"
	"strings"
	"testing"

	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestImportPreviewRepeats: the sample file's line 15 repeats line 2's
// source id; the preview says so in the page's language, as the import
// will reject it.
func TestImportPreviewRepeats(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newDemoApp(t, db)
		c := a.login(t, "admin")
		r := c.upload(c.csrf(c.get("/imports")), "customers", "core_banking", "customers.csv", sample(t, "customers.csv"))
		if r.status != http.StatusSeeOther {
			t.Fatalf("upload: %d", r.status)
		}
		prev := c.get(r.location)
		mustContain(t, prev.body, `class="repeat repeat-key" data-repeats="2"`, "与第 2 行是同一记录", "保留第 2 行")
		if n := strings.Count(prev.body, "data-repeats="); n != 1 {
			t.Errorf("%d rows marked repeated, want 1", n)
		}
		c.lang = "en"
		mustContain(t, c.get(r.location).body, "Repeats line 2")
	})
}
