package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestUnmaskOnThePage walks the 显示 button: a teller sees a1 masked with a
// button, asks for the reason form (as htmx and as a plain page), is refused
// without a reason, and sees the clear mobile with a reason. A lobby manager
// gets no button and no value.
func TestUnmaskOnThePage(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		a1 := a.Customers["a1"]
		page := "/customers/" + strconv.FormatInt(a1.ID, 10)
		c := a.login(t, "teller_a")
		res := c.get(page)
		mustContain(t, res.body, "138****0001", `id="f-mobile"`, `hx-get="`+page+`/unmask?field=mobile"`, "显示", "****")
		mustNotContain(t, res.body, a1.Mobile, a1.IDNumber, a1.BirthDate.String())

		form := c.get(page+"/unmask?field=mobile", "HX-Request", "true", "HX-Target", "f-mobile")
		if form.status != http.StatusOK {
			t.Fatalf("form: %d", form.status)
		}
		mustContain(t, form.body, `name="reason"`, `hx-post="`+page+`/unmask"`)
		mustNotContain(t, form.body, "<html")
		full := c.get(page + "/unmask?field=id_number")
		mustContain(t, full.body, "<html", "查看完整信息", `name="field" value="id_number"`)

		token := c.csrf(form)
		res = c.post(page+"/unmask", url.Values{"csrf": {token}, "field": {"mobile"}, "reason": {" "}}, "HX-Request", "true")
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("no reason: %d", res.status)
		}
		mustContain(t, res.body, "请说明原因")
		mustNotContain(t, res.body, a1.Mobile)
		res = c.post(page+"/unmask", url.Values{"csrf": {token}, "field": {"mobile"}, "reason": {"客户来电核实"}}, "HX-Request", "true")
		if res.status != http.StatusOK {
			t.Fatalf("unmask: %d %s", res.status, res.body)
		}
		mustContain(t, res.body, a1.Mobile, "已记录审计")
		res = c.post(page+"/unmask", url.Values{"field": {"mobile"}, "reason": {"客户来电核实"}}, "HX-Request", "true")
		if res.status != http.StatusForbidden {
			t.Errorf("without CSRF: %d", res.status)
		}
		if res = c.get(page + "/unmask?field=password_hash"); res.status != http.StatusNotFound {
			t.Errorf("unknown field: %d", res.status)
		}

		lobby := a.login(t, "lobby_a")
		res = lobby.get(page)
		mustContain(t, res.body, "138****0001")
		mustNotContain(t, res.body, "/unmask?field=")
		if res = lobby.get(page + "/unmask?field=mobile"); res.status != http.StatusForbidden {
			t.Errorf("lobby form: %d", res.status)
		}
		res = lobby.post(page+"/unmask", url.Values{"csrf": {lobby.csrf(lobby.get(page))}, "field": {"mobile"},
			"reason": {"看看"}})
		if res.status != http.StatusForbidden {
			t.Errorf("lobby unmask: %d", res.status)
		}
		mustNotContain(t, res.body, a1.Mobile)
	})
}
