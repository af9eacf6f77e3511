package outbox_test

import (
	"context"
	"strconv"
	"testing"

	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
	"kehu/internal/privacy"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestSendTimeConsent: the dispatcher asks the contact policy before each
// send (as `kehu serve` wires it): a customer who withdrew marketing consent
// after the message was queued gets nothing, a customer who never gave it
// neither, while a service notice still goes out — and the gateway sees only
// what may be sent.
func TestSendTimeConsent(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		pol := r.bank.PolicyService()
		asked := map[string]int{}
		suppress := func(ctx context.Context, id int64, ch outbox.Channel, p msgtemplate.Purpose) (string, error) {
			asked[string(p)]++
			return pol.SendCheck(ctx, id, string(ch), string(p))
		}
		a1, a2 := r.custID["a1"], r.custID["a2"]
		if _, err := r.bank.PrivacyService().SetConsents(r.bank.As("admin"), a1,
			[]privacy.ConsentChange{{Channel: "sms", Granted: true}}, "counter"); err != nil {
			t.Fatal(err)
		}
		tmpls := msgtemplate.NewService(msgtemplate.Deps{Store: db.Templates(), Clock: r.bank.Clock, Audit: r.bank.Audit,
			Tx: db, Options: r.opt})
		notice, err := tmpls.Create(r.bank.As("hq_marketing"), msgtemplate.Input{Name: "到期通知", Channel: msgtemplate.SMS,
			Purpose: msgtemplate.Notice, Content: msgtemplate.Content{Body: "【客户银行】尊敬的{{salutation}}，您的账户信息已更新。"}})
		if err != nil {
			t.Fatal(err)
		}
		body := "【客户银行】新品上市，详询客户经理。退订回T"
		r.enqueue(r.sms("a1", body), r.sms("a2", body))
		// a1 withdraws consent after the campaign queued the message.
		if _, err := r.bank.PrivacyService().SetConsents(r.bank.As("rm_a"), a1,
			[]privacy.ConsentChange{{Channel: "sms"}}, "phone"); err != nil {
			t.Fatal(err)
		}
		r.enqueue(outbox.New{SourceKind: "journey", SourceID: 9, CustomerID: a2, Channel: msgtemplate.SMS,
			TemplateID: notice.ID, TemplateVersion: notice.Version, Data: &msgtemplate.Data{}})
		fg := r.fileGateway()
		x := r.dispatcherWith(map[outbox.Channel]outbox.Gateway{msgtemplate.SMS: fg}, outbox.Config{}, "A", suppress)
		if n, temp := r.dispatch(x, msgtemplate.SMS); n != 3 || temp {
			t.Fatalf("dispatch: %d %v", n, temp)
		}
		if got := lines(t, fg.Path(msgtemplate.SMS, r.bank.Clock.Now())); len(got) != 1 || got[0].Source != "journey:9" {
			t.Fatalf("gateway got %+v, want only the service notice", got)
		}
		want := map[string]string{"campaign:" + strconv.FormatInt(a1, 10): "suppressed: consent_withdrawn",
			"campaign:" + strconv.FormatInt(a2, 10): "suppressed: no_consent", "journey:" + strconv.FormatInt(a2, 10): ""}
		for _, m := range r.messages() {
			k := m.SourceKind + ":" + strconv.FormatInt(m.CustomerID, 10)
			if w, ok := want[k]; !ok || m.LastError != w || (w == "") != (m.Status == outbox.Sent) {
				t.Errorf("%s: status %s, error %q; want error %q", k, m.Status, m.LastError, w)
			}
		}
		if asked["marketing"] != 2 || asked["service"] != 1 {
			t.Errorf("purposes asked: %v", asked)
		}
	})
}
