package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"kehu/internal/audit"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestOwnersPanel: the customer page loads the 客户归属 panel separately; an
// RM sees who looks after their customer without forms; the branch manager
// adds and removes a secondary RM and transfers the customer (a missing
// reason is refused in place, 422), and the history shows from, to, by and
// the reason. Forms need the CSRF token and customer.transfer.
func TestOwnersPanel(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		a1 := a.Customers["a1"]
		page := "/customers/" + strconv.FormatInt(a1.ID, 10)
		rm := a.login(t, "rm_a")
		mustContain(t, rm.get(page).body, `hx-get="`+page+`/owners"`, `id="owners-open"`)
		panel := rm.get(page+"/owners", "HX-Request", "true")
		if panel.status != http.StatusOK {
			t.Fatalf("rm panel: %d", panel.status)
		}
		mustContain(t, panel.body, "客户归属", `id="owners-primary">rm_a`)
		mustNotContain(t, panel.body, "<html", `id="transfer-form"`, `id="secondary-form"`)
		if res := rm.post(page+"/transfer", url.Values{"csrf": {rm.csrf(rm.get(page))}, "owner_id": {id(a, "rm_a2")},
			"reason": {"调岗"}}); res.status != http.StatusForbidden {
			t.Errorf("rm transfer: %d", res.status)
		}
		if res := rm.get("/customers/" + strconv.FormatInt(a.Customers["b1"].ID, 10) + "/owners"); res.status != http.StatusNotFound {
			t.Errorf("rm panel of b1: %d", res.status)
		}

		mgr := a.login(t, "branch_manager")
		full := mgr.get(page + "/owners")
		mustContain(t, full.body, "<html", `id="transfer-form"`, `id="secondary-form"`, `value="`+id(a, "rm_a2")+`"`)
		csrf := mgr.csrf(full)
		if res := mgr.post(page+"/secondary-rms", url.Values{"user_id": {id(a, "rm_b")}}); res.status != http.StatusForbidden {
			t.Errorf("without CSRF: %d", res.status)
		}
		res := mgr.post(page+"/secondary-rms", url.Values{"csrf": {csrf}, "user_id": {id(a, "rm_b")}})
		if res.status != http.StatusSeeOther || res.location != page+"/owners?done=added" {
			t.Fatalf("add secondary: %d %s", res.status, res.location)
		}
		mustContain(t, mgr.get(res.location).body, "已添加协管客户经理", `/secondary-rms/`+id(a, "rm_b")+`/remove`)
		res = mgr.post(page+"/secondary-rms/"+id(a, "rm_b")+"/remove", url.Values{"csrf": {csrf}}, "HX-Request", "true")
		if res.status != http.StatusOK {
			t.Fatalf("remove secondary: %d", res.status)
		}
		mustContain(t, res.body, "已移除协管客户经理")
		mustNotContain(t, res.body, "<html", `/secondary-rms/`+id(a, "rm_b")+`/remove`)

		res = mgr.post(page+"/transfer", url.Values{"csrf": {csrf}, "owner_id": {id(a, "rm_a2")}, "reason": {" "}},
			"HX-Request", "true")
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("transfer without a reason: %d", res.status)
		}
		mustContain(t, res.body, `id="owners-error"`, "移交理由")
		res = mgr.post(page+"/transfer", url.Values{"csrf": {csrf}, "owner_id": {id(a, "rm_a2")}, "reason": {"客户经理<调岗>"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("transfer: %d", res.status)
		}
		after := mgr.get(res.location)
		mustContain(t, after.body, "已移交", `id="owners-primary">rm_a2`, `id="owners-history"`, "客户经理&lt;调岗&gt;",
			"<td>rm_a</td>", "<td>rm_a2</td><td>branch_manager</td>")
		p, err := a.Audit.Search(a.As("hq_compliance"), audit.Filter{Action: audit.CustomerTransfer, CustomerID: a1.ID})
		if err != nil || len(p.Items) != 1 {
			t.Errorf("transfer audit %+v %v", p.Items, err)
		}
		// rm_a no longer owns a1.
		if res := rm.get(page); res.status != http.StatusNotFound {
			t.Errorf("former RM after the transfer: %d", res.status)
		}
	})
}

// id is the user id of username as form text.
func id(a *app, username string) string { return strconv.FormatInt(a.Users[username].ID, 10) }
