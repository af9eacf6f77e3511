package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestTemplatePages: the editor saves a template, refuses an unknown
// variable with a readable sentence, and previews without JavaScript; an RM
// may not open it.
func TestTemplatePages(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		c := a.login(t, "hq_marketing")
		page := c.get("/templates")
		if page.status != http.StatusOK {
			t.Fatalf("/templates: %d", page.status)
		}
		mustContain(t, page.body, "消息模板", "{{salutation}}", "称呼（姓氏")
		form := url.Values{"csrf": {c.csrf(page)}, "name": {"开售通知"}, "channel": {"sms"}, "purpose": {"marketing"},
			"body": {"【客户银行】尊敬的{{salutaton}}，新品开售。退订回T"}}
		res := c.post("/templates", form)
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("unknown variable: %d", res.status)
		}
		mustContain(t, res.body, "模板未保存", "未知变量 {{salutaton}}", `value="开售通知"`)
		form.Set("body", "【客户银行】尊敬的{{salutation}}，{{product_name}}开售。退订回T")
		res = c.post("/templates/preview", form)
		mustContain(t, res.body, "【客户银行】尊敬的张先生，稳盈90天理财开售。退订回T", "计 1 条短信")
		res = c.post("/templates", form)
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/templates/") {
			t.Fatalf("save: %d %s", res.status, res.location)
		}
		page = c.get(res.location)
		mustContain(t, page.body, "模板已创建。", "编辑“开售通知”（当前 v1）")
		if res := a.login(t, "rm_a").get("/templates"); res.status != http.StatusForbidden {
			t.Errorf("an RM opened the templates: %d", res.status)
		}
	})
}

// TestOutboxMonitorPage: counts per channel and status, a failure with its
// reason, and retry.
func TestOutboxMonitorPage(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		ctx := context.Background()
		q := outbox.NewQueue(db.Outbox(), a.Clock)
		if _, err := q.Enqueue(ctx, []outbox.New{
			{SourceKind: "campaign", SourceID: 4, CustomerID: a.Customers["a1"].ID, Channel: msgtemplate.SMS, Content: &msgtemplate.Content{Body: "一"}},
			{SourceKind: "campaign", SourceID: 4, CustomerID: a.Customers["corp_a"].ID, Channel: msgtemplate.SMS, Content: &msgtemplate.Content{Body: "二"}},
		}); err != nil {
			t.Fatal(err)
		}
		gw, _ := outbox.NewFileGateway(t.TempDir(), false, a.Clock)
		x := outbox.NewDispatcher(outbox.DispatcherDeps{Store: db.Outbox(), Gateways: map[outbox.Channel]outbox.Gateway{msgtemplate.SMS: gw},
			Clock: a.Clock, Owner: "test"})
		if _, _, err := x.Dispatch(ctx, msgtemplate.SMS); err != nil {
			t.Fatal(err)
		}
		c := a.login(t, "hq_marketing")
		page := c.get("/outbox")
		if page.status != http.StatusOK {
			t.Fatalf("/outbox: %d", page.status)
		}
		mustContain(t, page.body, "发送监控", "the customer has no mobile number", "campaign:4", `>重发</button>`)
		mustContain(t, page.body, `<td data-status="failed"><a href="/outbox?channel=sms&amp;status=failed">1</a>`,
			`<td data-status="sent"><a href="/outbox?channel=sms&amp;status=sent">1</a>`)
		mustNotContain(t, page.body, "13800000001", "138****0001")
		p, _ := db.Outbox().ListMessages(ctx, outbox.Filter{Status: outbox.Failed, Limit: 5})
		res := c.post("/outbox/"+strconv.FormatInt(p.Items[0].ID, 10)+"/retry", url.Values{"csrf": {c.csrf(page)}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("retry: %d %s", res.status, res.body)
		}
		mustContain(t, c.get(res.location).body, "已重新排队")
		if res := a.login(t, "rm_a").get("/outbox"); res.status != http.StatusForbidden {
			t.Errorf("an RM opened the monitor: %d", res.status)
		}
	})
}
