package httpapi_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// queueFailedAndSent puts two messages in the outbox through the file
// gateway: one sent (a1 has a mobile) and one failed (the company has none).
func queueFailedAndSent(t *testing.T, e *env) (sent, failed int64) {
	t.Helper()
	ctx := context.Background()
	q := outbox.NewQueue(e.bank.DB.Outbox(), e.bank.Clock)
	if _, err := q.Enqueue(ctx, []outbox.New{
		{SourceKind: "campaign", SourceID: 1, CustomerID: e.bank.Customers["a1"].ID, Channel: msgtemplate.SMS,
			Content: &msgtemplate.Content{Body: "【客户银行】您好。退订回T"}},
		{SourceKind: "campaign", SourceID: 1, CustomerID: e.bank.Customers["corp_a"].ID, Channel: msgtemplate.SMS,
			Content: &msgtemplate.Content{Body: "【客户银行】您好。退订回T"}},
	}); err != nil {
		t.Fatal(err)
	}
	gw, err := outbox.NewFileGateway(t.TempDir(), false, e.bank.Clock)
	if err != nil {
		t.Fatal(err)
	}
	x := outbox.NewDispatcher(outbox.DispatcherDeps{Store: e.bank.DB.Outbox(), Gateways: map[outbox.Channel]outbox.Gateway{
		msgtemplate.SMS: gw}, Clock: e.bank.Clock, Owner: "test"})
	if _, _, err := x.Dispatch(ctx, msgtemplate.SMS); err != nil {
		t.Fatal(err)
	}
	p, err := e.bank.DB.Outbox().ListMessages(ctx, outbox.Filter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range p.Items {
		switch {
		case m.Status == outbox.Sent:
			sent = m.ID
		case m.Status == outbox.Failed:
			failed = m.ID
		}
	}
	if sent == 0 || failed == 0 {
		t.Fatalf("messages %+v", p.Items)
	}
	return sent, failed
}

// signedReceipts signs a receipts body as a provider would.
func signedReceipts(e *env, body string, secret string) call {
	ts := strconv.FormatInt(e.bank.Clock.Now().Unix(), 10)
	return call{method: "POST", path: "/api/v1/outbox/receipts", body: body, header: map[string]string{
		outbox.HeaderTimestamp: ts, outbox.HeaderNonce: "nonce-0001",
		outbox.HeaderSignature: outbox.Sign([]byte(secret), ts, "nonce-0001", []byte(body))}}
}

func smsTemplate(body string) map[string]any {
	return map[string]any{"name": "开售通知", "channel": "sms", "purpose": "marketing", "content": map[string]any{"body": body}}
}

// walkOutbox drives every documented status of the templates and outbox
// routes.
func walkOutbox(t *testing.T, e *env) {
	mkt, rm := e.login("admin"), e.login("rm_a")
	big := `{"name":"` + strings.Repeat("x", 1<<20) + `"}`
	plain := map[string]string{"Content-Type": "text/plain"}
	good := "【客户银行】尊敬的{{salutation}}，{{product_name}}开售，起购{{amount_wan}}。退订回T"

	r := e.expect(call{method: "POST", path: "/api/v1/templates", token: mkt.token, body: smsTemplate(good)}, 201)
	var tp msgtemplate.Template
	r.decode(t, &tp)
	tid := "/api/v1/templates/" + id(tp.ID)
	e.expect(call{method: "POST", path: "/api/v1/templates", token: mkt.token, body: smsTemplate("【客户银行】{{customer_nme}}退订回T")}, 422)
	e.expect(call{method: "POST", path: "/api/v1/templates", token: mkt.token, body: `{"name":1}`}, 400)
	e.expect(call{method: "POST", path: "/api/v1/templates", token: mkt.token, body: big}, 413)
	e.expect(call{method: "POST", path: "/api/v1/templates", token: mkt.token, body: "x", header: plain}, 415)
	e.expect(call{method: "POST", path: "/api/v1/templates", token: rm.token, body: smsTemplate(good)}, 403)
	e.expect(call{method: "POST", path: "/api/v1/templates", body: smsTemplate(good)}, 401)

	e.expect(call{method: "GET", path: "/api/v1/templates?channel=sms", token: mkt.token}, 200)
	e.expect(call{method: "GET", path: "/api/v1/templates?channel=fax", token: mkt.token}, 400)
	e.expect(call{method: "GET", path: "/api/v1/templates", token: rm.token}, 403)
	e.expect(call{method: "GET", path: "/api/v1/templates"}, 401)

	e.expect(call{method: "GET", path: tid, token: mkt.token}, 200)
	e.expect(call{method: "GET", path: "/api/v1/templates/999999", token: mkt.token}, 404)
	e.expect(call{method: "GET", path: tid, token: rm.token}, 403)
	e.expect(call{method: "GET", path: tid}, 401)

	upd := smsTemplate(good + "详询{{rm_phone}}")
	upd["version"] = 1
	e.expect(call{method: "PUT", path: tid, token: mkt.token, body: upd}, 200)
	e.expect(call{method: "PUT", path: tid, token: mkt.token, body: upd}, 409) // version 1 is no longer current
	e.expect(call{method: "PUT", path: "/api/v1/templates/999999", token: mkt.token, body: upd}, 404)
	e.expect(call{method: "PUT", path: tid, token: mkt.token, body: smsTemplate("【客户银行】{{oops}}退订回T")}, 422)
	e.expect(call{method: "PUT", path: tid, token: mkt.token, body: `{}{}`}, 400)
	e.expect(call{method: "PUT", path: tid, token: mkt.token, body: "x", header: plain}, 415)
	e.expect(call{method: "PUT", path: tid, token: rm.token, body: upd}, 403)
	e.expect(call{method: "PUT", path: tid, body: upd}, 401)

	e.expect(call{method: "GET", path: tid + "/versions", token: mkt.token}, 200)
	e.expect(call{method: "GET", path: "/api/v1/templates/999999/versions", token: mkt.token}, 404)
	e.expect(call{method: "GET", path: tid + "/versions", token: rm.token}, 403)
	e.expect(call{method: "GET", path: tid + "/versions"}, 401)

	prev := smsTemplate(good)
	prev["data"] = map[string]any{"customer_name": "王芳", "gender": "F", "product_name": "稳盈", "amount": 5000000}
	r = e.expect(call{method: "POST", path: "/api/v1/templates/preview", token: mkt.token, body: prev}, 200)
	var pv msgtemplate.Preview
	r.decode(t, &pv)
	if pv.Rendered == nil || pv.Rendered.Body != "【客户银行】尊敬的王女士，稳盈开售，起购5万。退订回T" || pv.Rendered.SMS.Segments != 1 {
		t.Errorf("preview %+v", pv)
	}
	r = e.expect(call{method: "POST", path: "/api/v1/templates/preview", token: mkt.token, body: smsTemplate("您好{{nme}}")}, 200)
	r.decode(t, &pv)
	if len(pv.Errors) == 0 || !strings.Contains(pv.Errors[0].Reason, "{{nme}}") {
		t.Errorf("preview of an unknown variable: %+v", pv)
	}
	e.expect(call{method: "POST", path: "/api/v1/templates/preview", token: mkt.token, body: `{"data":[]}`}, 400)
	e.expect(call{method: "POST", path: "/api/v1/templates/preview", token: mkt.token, body: "x", header: plain}, 415)
	e.expect(call{method: "POST", path: "/api/v1/templates/preview", token: rm.token, body: prev}, 403)
	e.expect(call{method: "POST", path: "/api/v1/templates/preview", body: prev}, 401)

	// The outbox.
	sent, failed := queueFailedAndSent(t, e)
	r = e.expect(call{method: "GET", path: "/api/v1/outbox?status=failed&channel=sms&source=campaign:1&limit=1", token: mkt.token}, 200)
	var page struct {
		Items []outbox.Message `json:"items"`
	}
	r.decode(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != failed || page.Items[0].LastError != "the customer has no mobile number" {
		t.Errorf("failed messages: %+v", page.Items)
	}
	e.expect(call{method: "GET", path: "/api/v1/outbox?limit=x", token: mkt.token}, 400)
	e.expect(call{method: "GET", path: "/api/v1/outbox?status=lost", token: mkt.token}, 422)
	e.expect(call{method: "GET", path: "/api/v1/outbox", token: rm.token}, 403)
	e.expect(call{method: "GET", path: "/api/v1/outbox"}, 401)
	e.expect(call{method: "GET", path: "/api/v1/outbox/stats?source=campaign", token: mkt.token}, 200)
	e.expect(call{method: "GET", path: "/api/v1/outbox/stats?source=:", token: mkt.token}, 400)
	e.expect(call{method: "GET", path: "/api/v1/outbox/stats", token: rm.token}, 403)
	e.expect(call{method: "GET", path: "/api/v1/outbox/stats"}, 401)
	e.expect(call{method: "POST", path: "/api/v1/outbox/" + id(failed) + "/retry", token: mkt.token}, 200)
	e.expect(call{method: "POST", path: "/api/v1/outbox/" + id(sent) + "/retry", token: mkt.token}, 409)
	e.expect(call{method: "POST", path: "/api/v1/outbox/999999/retry", token: mkt.token}, 404)
	e.expect(call{method: "POST", path: "/api/v1/outbox/" + id(failed) + "/retry", token: rm.token}, 403)
	e.expect(call{method: "POST", path: "/api/v1/outbox/" + id(failed) + "/retry"}, 401)

	// Receipts: signed, idempotent.
	body := `{"channel":"sms","receipts":[{"id":"dr-1","idempotency_key":"` + outbox.IdempotencyKey(sent) + `","event":"delivered"}]}`
	r = e.expect(signedReceipts(e, body, testkit.ReceiptSecret), 200)
	var res outbox.ReceiptResult
	r.decode(t, &res)
	if res.Applied != 1 {
		t.Errorf("receipts: %+v", res)
	}
	r = e.expect(signedReceipts(e, body, testkit.ReceiptSecret), 200)
	r.decode(t, &res)
	if res.Applied != 0 || res.Duplicates != 1 {
		t.Errorf("receipts again: %+v", res)
	}
	e.expect(signedReceipts(e, body, "not-the-secret-0123456789"), 401)
	e.expect(signedReceipts(e, `{"channel":"sms","receipts":`, testkit.ReceiptSecret), 422)
	e.expect(call{method: "POST", path: "/api/v1/outbox/receipts", body: big}, 413)
	e.expect(call{method: "POST", path: "/api/v1/outbox/receipts", body: "x", header: plain}, 415)
}

// outboxAuditRequests are the customer-bearing outbox routes for the audit
// meta-test: the monitor's list and a retry leave one record each.
func outboxAuditRequests(t *testing.T, e *env, db *store.DB) map[string]call {
	_, failed := queueFailedAndSent(t, e)
	mkt := e.login("admin")
	return map[string]call{
		"GET /api/v1/outbox":             {method: "GET", path: "/api/v1/outbox?status=failed", token: mkt.token},
		"POST /api/v1/outbox/{id}/retry": {method: "POST", path: "/api/v1/outbox/" + id(failed) + "/retry", token: mkt.token},
	}
}

// TestOutboxMessagesShowNoAddress: the monitor's JSON has no mobile or
// e-mail (the outbox does not hold them).
func TestOutboxMessagesShowNoAddress(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		queueFailedAndSent(t, e)
		r := e.expect(call{method: "GET", path: "/api/v1/outbox", token: e.login("admin").token}, 200)
		var raw map[string]any
		if err := json.Unmarshal(r.Body.Bytes(), &raw); err != nil {
			t.Fatal(err)
		}
		if s := r.Body.String(); strings.Contains(s, "13800000001") || strings.Contains(s, "138****") {
			t.Fatalf("the list shows an address: %s", s)
		}
	})
}
