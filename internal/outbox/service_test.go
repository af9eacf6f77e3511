package outbox_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

func (r *rig) service() *outbox.Service {
	return outbox.NewService(outbox.ServiceDeps{Store: r.db.Outbox(), Customers: r.bank.CustomerService(), Clock: r.bank.Clock,
		Audit: r.bank.Audit, Tx: r.db, Secrets: map[outbox.Channel][]byte{msgtemplate.SMS: secret}})
}

func signed(t *testing.T, now time.Time, b outbox.ReceiptBatch) ([]byte, string, string, string) {
	body, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	return body, ts, "nonce-12345", outbox.Sign(secret, ts, "nonce-12345", body)
}

// TestReceipts: signed receipts update the messages once each; a replay
// of the same receipt ids changes nothing; a bad signature or a stale
// timestamp is refused.
func TestReceipts(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		r.enqueue(r.sms("a1", "一"), r.sms("a2", "二"), r.sms("a3", "三"))
		x := r.dispatcher(map[outbox.Channel]outbox.Gateway{msgtemplate.SMS: r.fileGateway()}, outbox.Config{}, "A")
		r.dispatch(x, msgtemplate.SMS)
		ms := r.messages() // newest first
		a3, a2, a1 := ms[0], ms[1], ms[2]
		svc := r.service()
		now := r.bank.Clock.Now()
		batch := outbox.ReceiptBatch{Channel: msgtemplate.SMS, Receipts: []outbox.Receipt{
			{ID: "r1", IdempotencyKey: a1.IdempotencyKey(), Event: outbox.EventDelivered, At: now},
			{ID: "r2", ProviderID: a2.ProviderID, Event: outbox.EventFailed, Detail: "空号 13800000002"},
			{ID: "r3", IdempotencyKey: a3.IdempotencyKey(), Event: outbox.EventClicked, At: now},
			{ID: "r4", IdempotencyKey: a3.IdempotencyKey(), Event: outbox.EventOpened, At: now},
			{ID: "r5", IdempotencyKey: "kehu-msg-999999", Event: outbox.EventDelivered},
			{ID: "r6", IdempotencyKey: a1.IdempotencyKey(), Event: "bounced"},
		}}
		body, ts, nonce, sig := signed(t, now, batch)
		res, err := svc.Receipts(context.Background(), body, ts, nonce, sig)
		if err != nil || res.Applied != 4 || res.Duplicates != 0 || len(res.Rejected) != 2 {
			t.Fatalf("receipts: %+v %v", res, err)
		}
		if m := r.message(a1.ID); m.Status != outbox.Delivered || m.DeliveredAt == nil {
			t.Errorf("a1: %+v", m)
		}
		if m := r.message(a2.ID); m.Status != outbox.Failed || m.LastError != "the provider reports it undelivered: 空号 138****0002" {
			t.Errorf("a2: %+v", m)
		}
		if m := r.message(a3.ID); m.Status != outbox.Delivered || m.Clicks != 1 || m.Opens != 1 || m.OpenedAt == nil || m.ClickedAt == nil {
			t.Errorf("a3: %+v", m)
		}
		// The provider sends the same receipts again.
		body, ts, nonce, sig = signed(t, now, batch)
		res, err = svc.Receipts(context.Background(), body, ts, nonce, sig)
		if err != nil || res.Applied != 0 || res.Duplicates != 4 {
			t.Fatalf("replay: %+v %v", res, err)
		}
		if m := r.message(a3.ID); m.Clicks != 1 || m.Opens != 1 {
			t.Errorf("a replayed click counted: %+v", m)
		}
		// Forged or stale.
		if _, err := svc.Receipts(context.Background(), body, ts, nonce, sig[:len(sig)-2]+"00"); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Errorf("bad signature: %v", err)
		}
		old := now.Add(-10 * time.Minute)
		body, ts, nonce, sig = signed(t, old, batch)
		if _, err := svc.Receipts(context.Background(), body, ts, nonce, sig); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Errorf("stale timestamp: %v", err)
		}
		body, ts, nonce, sig = signed(t, now, outbox.ReceiptBatch{Channel: msgtemplate.Email})
		if _, err := svc.Receipts(context.Background(), body, ts, nonce, sig); kehu.ErrorCode(err) != kehu.EUNAUTHORIZED {
			t.Errorf("a channel without a secret: %v", err)
		}
	})
}

// TestMonitor: the list is scoped and audited once; retry puts a failed
// message back in the queue; stats count per channel and status.
func TestMonitor(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		r.enqueue(r.sms("a1", "一"), r.sms("b1", "二"),
			outbox.New{SourceKind: "campaign", SourceID: 7, CustomerID: r.custID["corp_a"], Channel: msgtemplate.SMS, Content: text("x")})
		x := r.dispatcher(map[outbox.Channel]outbox.Gateway{msgtemplate.SMS: r.fileGateway()}, outbox.Config{}, "A")
		r.dispatch(x, msgtemplate.SMS)
		svc := r.service()
		if _, err := svc.List(r.bank.As("rm_a"), outbox.Filter{}); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Fatalf("an RM: %v", err)
		}
		ctx := r.bank.As("hq_marketing")
		before, _ := db.CountRows(context.Background(), "audit_log")
		p, err := svc.List(ctx, outbox.Filter{Status: outbox.Failed})
		if err != nil || len(p.Items) != 1 || p.Items[0].CustomerID != r.custID["corp_a"] {
			t.Fatalf("failed list: %+v %v", p, err)
		}
		if after, _ := db.CountRows(context.Background(), "audit_log"); after-before != 1 {
			t.Fatalf("%d audit records for one list", after-before)
		}
		if _, err := svc.List(ctx, outbox.Filter{Status: "lost"}); kehu.ErrorCode(err) != kehu.EINVALID {
			t.Fatalf("bad status: %v", err)
		}
		stats, err := svc.Stats(ctx, "campaign", 7)
		if err != nil || len(stats) != 2 {
			t.Fatalf("stats %+v %v", stats, err)
		}
		m, err := svc.Retry(ctx, p.Items[0].ID)
		if err != nil || m.Status != outbox.Queued {
			t.Fatalf("retry: %+v %v", m, err)
		}
		if _, err := svc.Retry(ctx, p.Items[0].ID); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Fatalf("retry of a queued message: %v", err)
		}
		if _, err := svc.Retry(ctx, 999999); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Fatalf("retry of nothing: %v", err)
		}
	})
}
