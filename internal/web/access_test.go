package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"kehu/internal/store"
	"kehu/internal/testkit"
)

var approveForm = regexp.MustCompile(`action="(/access/requests/\d+/approve)"`)

// TestAccessFlowPages: an out-of-scope customer page is the plain 404 plus
// the offer to request access (no name); the request reaches the city
// manager's inbox, approval opens the page until the grant expires; hostile
// reasons are escaped.
func TestAccessFlowPages(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		b1 := a.Customers["b1"]
		path := "/customers/" + strconv.FormatInt(b1.ID, 10)
		rm := a.login(t, "rm_a")
		for _, p := range []string{path, "/customers/999999"} {
			res := rm.get(p)
			if res.status != http.StatusNotFound {
				t.Fatalf("%s: %d", p, res.status)
			}
			mustContain(t, res.body, `action="/access/requests"`, `name="csrf"`)
			mustNotContain(t, res.body, b1.Name)
		}
		page := rm.get(path)
		hostile := `<script>alert(1)</script>' OR 1=1 --`
		res := rm.post("/access/requests", url.Values{"csrf": {rm.csrf(page)}, "customer_id": {strconv.FormatInt(b1.ID, 10)},
			"scope": {"customer"}, "hours": {"4"}, "reason": {hostile}})
		if res.status != http.StatusSeeOther || res.location != "/access?done=requested" {
			t.Fatalf("file request: %d %s", res.status, res.location)
		}
		// Without the token nothing is filed.
		if res := rm.post("/access/requests", url.Values{"customer_id": {strconv.FormatInt(b1.ID, 10)}, "hours": {"4"}, "reason": {"x"}}); res.status != http.StatusForbidden {
			t.Fatalf("request without csrf: %d", res.status)
		}
		mine := rm.get(res.location)
		mustContain(t, mine.body, `id="notice"`, "申请已提交", "&lt;script&gt;alert(1)&lt;/script&gt;")
		mustNotContain(t, mine.body, "<script>alert(1)", b1.Name)

		mgr := a.login(t, "branch_manager")
		inbox := mgr.get("/access")
		mustContain(t, inbox.body, b1.Name, "rm_a")
		m := approveForm.FindStringSubmatch(inbox.body)
		if m == nil {
			t.Fatalf("no approve form in the inbox:\n%s", inbox.body)
		}
		if res := mgr.post(m[1], url.Values{"csrf": {mgr.csrf(inbox)}, "comment": {"同意"}}); res.status != http.StatusSeeOther {
			t.Fatalf("approve: %d", res.status)
		}
		if res := rm.get(path); res.status != http.StatusOK {
			t.Fatalf("customer page after approval: %d", res.status)
		}
		a.Clock.Advance(4 * time.Hour)
		rm = a.login(t, "rm_a")
		if res := rm.get(path); res.status != http.StatusNotFound {
			t.Fatalf("customer page after expiry: %d", res.status)
		}
	})
}

// TestBreakGlassPages: a call-centre agent opens a customer from the form
// for 15 minutes; compliance sees it in the review queue.
func TestBreakGlassPages(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		cc := a.login(t, "hq_callcenter")
		page := cc.get("/access")
		mustContain(t, page.body, `action="/access/break-glass"`)
		a1 := a.Customers["a1"]
		a1Path := "/customers/" + strconv.FormatInt(a1.ID, 10)
		if res := cc.get(a1Path); res.status != http.StatusNotFound {
			t.Fatalf("call centre before break glass: %d", res.status)
		}
		res := cc.post("/access/break-glass", url.Values{"csrf": {cc.csrf(page)}, "customer_id": {strconv.FormatInt(a1.ID, 10)},
			"reason": {"来电挂失"}, "ticket": {"CALL-<b>9</b>"}})
		if res.status != http.StatusSeeOther || res.location != "/customers/"+strconv.FormatInt(a1.ID, 10) {
			t.Fatalf("break glass: %d %s", res.status, res.location)
		}
		if res := cc.get(a1Path); res.status != http.StatusOK || !strings.Contains(res.body, a1.Name) {
			t.Fatalf("customer page after break glass: %d", res.status)
		}
		a.Clock.Advance(16 * time.Minute)
		cc = a.login(t, "hq_callcenter")
		if res := cc.get(a1Path); res.status != http.StatusNotFound {
			t.Fatalf("customer page after 15 minutes: %d", res.status)
		}
		q := a.login(t, "hq_compliance").get("/access")
		mustContain(t, q.body, `id="review"`, "CALL-&lt;b&gt;9&lt;/b&gt;")
		if rm := a.login(t, "rm_a").get("/access"); regexp.MustCompile(`id="review"|break-glass`).MatchString(rm.body) {
			t.Error("an RM sees the break-glass form or queue")
		}
	})
}
