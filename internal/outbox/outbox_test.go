package outbox_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestEnqueueDedup: a second launch queues nothing twice; a rolled-back
// transaction queues nothing at all.
func TestEnqueueDedup(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		rows := []outbox.New{r.sms("a1", "甲"), r.sms("a2", "乙"),
			{SourceKind: "campaign", SourceID: 7, CustomerID: r.custID["a1"], Channel: msgtemplate.Email,
				Content: &msgtemplate.Content{Subject: "s", Body: "丙"}}}
		if res := r.enqueue(rows...); res.Queued != 3 || res.Duplicates != 0 {
			t.Fatalf("first launch: %+v", res)
		}
		rows = append(rows, r.sms("a3", "丁"))
		if res := r.enqueue(rows...); res.Queued != 1 || res.Duplicates != 3 {
			t.Fatalf("second launch: %+v", res)
		}
		// Within a caller's transaction: rolled back with it.
		boom := errors.New("campaign failed")
		err := db.WithTx(context.Background(), func(ctx context.Context) error {
			if res, err := r.queue.Enqueue(ctx, []outbox.New{r.sms("b1", "戊")}); err != nil || res.Queued != 1 {
				t.Fatalf("in tx: %+v %v", res, err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if n := len(r.messages()); n != 4 {
			t.Fatalf("%d messages after the rollback, want 4", n)
		}
		// Bad rows are refused before anything is written.
		for _, bad := range []outbox.New{
			{SourceKind: "campaign", CustomerID: r.custID["a1"], Channel: "fax", Content: text("x")},
			{SourceKind: "campaign", CustomerID: r.custID["a1"], Channel: msgtemplate.SMS},
			{SourceKind: "campaign", CustomerID: r.custID["a1"], Channel: msgtemplate.SMS, TemplateID: 3},
			{CustomerID: r.custID["a1"], Channel: msgtemplate.SMS, Content: text("x")},
		} {
			if _, err := r.queue.Enqueue(context.Background(), []outbox.New{r.sms("b1", "ok"), bad}); err == nil ||
				!strings.Contains(err.Error(), "message 1:") {
				t.Errorf("bad row %+v: %v", bad, err)
			}
		}
		if n := len(r.messages()); n != 4 {
			t.Fatalf("%d messages after refused batches, want 4", n)
		}
	})
}

// TestDispatchThroughFileGateway renders a template at send time with the
// customer's salutation and RM from the record, writes the message with the
// mobile masked, and sends it once.
func TestDispatchThroughFileGateway(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		tmpls := msgtemplate.NewService(msgtemplate.Deps{Store: db.Templates(), Clock: r.bank.Clock, Audit: r.bank.Audit,
			Tx: db, Options: r.opt})
		tp, err := tmpls.Create(r.bank.As("hq_marketing"), msgtemplate.Input{Name: "到期提醒", Channel: msgtemplate.SMS,
			Purpose: msgtemplate.Marketing, Content: msgtemplate.Content{
				Body: "【客户银行】尊敬的{{salutation}}，您的{{product_name}}将于{{date}}到期，金额{{amount_wan}}。详询{{rm_name}}{{rm_phone}}。退订回T"}})
		if err != nil {
			t.Fatal(err)
		}
		r.enqueue(outbox.New{SourceKind: "journey", SourceID: 3, CustomerID: r.custID["a1"], Channel: msgtemplate.SMS,
			TemplateID: tp.ID, TemplateVersion: tp.Version,
			Data: &msgtemplate.Data{ProductName: "稳盈90天", Amount: amount(12_300_000), Date: date(2026, 12, 2)}},
			r.sms("a2", "【客户银行】已渲染的短信。退订回T"),
			outbox.New{SourceKind: "journey", SourceID: 3, CustomerID: r.custID["corp_a"], Channel: msgtemplate.SMS, Content: text("x")},
			outbox.New{SourceKind: "journey", SourceID: 3, CustomerID: r.custID["a3"], Channel: msgtemplate.SMS,
				TemplateID: tp.ID, TemplateVersion: tp.Version, Data: &msgtemplate.Data{}})
		fg := r.fileGateway()
		x := r.dispatcher(map[outbox.Channel]outbox.Gateway{msgtemplate.SMS: fg}, outbox.Config{}, "A")
		if n, temp := r.dispatch(x, msgtemplate.SMS); n != 4 || temp {
			t.Fatalf("dispatch: %d %v", n, temp)
		}
		got := lines(t, fg.Path(msgtemplate.SMS, r.bank.Clock.Now()))
		if len(got) != 2 {
			t.Fatalf("%d lines, want 2: %+v", len(got), got)
		}
		want := "【客户银行】尊敬的张先生，您的稳盈90天将于2026年12月2日到期，金额12.3万。详询rm_a95555。退订回T"
		if got[0].Body != want || got[0].To != "138****0001" || got[0].Source != "journey:3" {
			t.Errorf("line %+v\nwant body %q", got[0], want)
		}
		byCustomer := map[int64]outbox.Message{}
		for _, m := range r.messages() {
			byCustomer[m.CustomerID] = m
		}
		if m := byCustomer[r.custID["a1"]]; m.Status != outbox.Sent || m.Attempts != 1 || m.ProviderID != m.IdempotencyKey() || m.SentAt == nil {
			t.Errorf("a1: %+v", m)
		}
		if m := byCustomer[r.custID["corp_a"]]; m.Status != outbox.Failed || m.LastError != "the customer has no mobile number" {
			t.Errorf("corp_a: %+v", m)
		}
		if m := byCustomer[r.custID["a3"]]; m.Status != outbox.Failed || !strings.Contains(m.LastError, "product_name") {
			t.Errorf("a3 (no product): %+v", m)
		}
		if n, _ := r.dispatch(x, msgtemplate.SMS); n != 0 {
			t.Fatalf("a second dispatch claimed %d", n)
		}
	})
}

// TestLeaseExpiryAfterCrash: a dispatcher that dies after the gateway took
// a message leaves it "sending"; nobody takes it before the lease ends;
// after it, another dispatcher sends it with the same idempotency key and
// the gateway does not deliver it twice — for the file gateway across a
// restart (a new gateway on the same directory) and for an HTTP provider.
func TestLeaseExpiryAfterCrash(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		r.enqueue(r.sms("a1", "【客户银行】一。退订回T"), r.sms("a2", "【客户银行】二。退订回T"))
		ctx := context.Background()
		now := r.bank.Clock.Now()
		lease := 2 * time.Minute
		// Dispatcher A claims, the gateway writes, A dies before recording.
		claimed, err := db.Outbox().Claim(ctx, msgtemplate.SMS, "A", now, now.Add(lease), 10)
		if err != nil || len(claimed) != 2 {
			t.Fatalf("claim: %d %v", len(claimed), err)
		}
		recips, _ := db.Outbox().Recipients(ctx, []int64{claimed[0].CustomerID})
		crashed := r.fileGateway()
		env := outbox.Envelope{MessageID: claimed[0].ID, IdempotencyKey: claimed[0].IdempotencyKey(), Channel: msgtemplate.SMS,
			To: recips[claimed[0].CustomerID].Mobile, CustomerID: claimed[0].CustomerID, Body: claimed[0].Content.Body}
		if res := crashed.Send(ctx, []outbox.Envelope{env}); res[0].Err != nil {
			t.Fatal(res[0].Err)
		}
		// B, after a restart: the lease holds.
		x := r.dispatcher(map[outbox.Channel]outbox.Gateway{msgtemplate.SMS: r.fileGateway()}, outbox.Config{Lease: lease}, "B")
		if n, _ := r.dispatch(x, msgtemplate.SMS); n != 0 {
			t.Fatalf("B claimed %d messages under A's lease", n)
		}
		r.bank.Clock.Advance(lease + time.Second)
		if n, _ := r.dispatch(x, msgtemplate.SMS); n != 2 {
			t.Fatalf("after the lease B claimed %d, want 2", n)
		}
		got := lines(t, crashed.Path(msgtemplate.SMS, r.bank.Clock.Now()))
		if len(got) != 2 {
			t.Fatalf("the file holds %d lines, want 2 (one per message): %+v", len(got), got)
		}
		for _, m := range r.messages() {
			if m.Status != outbox.Sent || m.Attempts != 2 {
				t.Errorf("message %d: %s after %d attempts, want sent after 2", m.ID, m.Status, m.Attempts)
			}
		}
		// A's late outcome changes nothing: it no longer holds the lease.
		err = db.Outbox().Finish(ctx, "A", []outbox.Outcome{{ID: claimed[0].ID, Status: outbox.Failed, Error: "late"}}, r.bank.Clock.Now())
		if err != nil || r.message(claimed[0].ID).Status != outbox.Sent {
			t.Fatalf("late finish by A: %v %+v", err, r.message(claimed[0].ID))
		}
	})
}

// TestExpiry: a message not sent within MaxAge fails with the reason, the
// last error kept.
func TestExpiry(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		r.enqueue(r.sms("a1", "x"), r.sms("a2", "y"))
		x := r.dispatcher(map[outbox.Channel]outbox.Gateway{msgtemplate.SMS: r.fileGateway()}, outbox.Config{MaxAge: time.Hour}, "A")
		r.bank.Clock.Advance(59 * time.Minute)
		if n, err := x.Expire(context.Background()); err != nil || n != 0 {
			t.Fatalf("expired early: %d %v", n, err)
		}
		r.bank.Clock.Advance(2 * time.Minute)
		if n, err := x.Expire(context.Background()); err != nil || n != 2 {
			t.Fatalf("expire: %d %v", n, err)
		}
		for _, m := range r.messages() {
			if m.Status != outbox.Failed || m.LastError != "expired: not sent within 1h0m0s of being queued" {
				t.Errorf("%+v", m)
			}
		}
	})
}

// TestThrottle: a channel's rate paces the batches (token bucket).
func TestThrottle(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		var rows []outbox.New
		for i := range 30 {
			n := r.sms("a1", "x")
			n.DedupKey = "throttle:" + string(rune('a'+i))
			rows = append(rows, n)
		}
		r.enqueue(rows...)
		x := r.dispatcher(map[outbox.Channel]outbox.Gateway{msgtemplate.SMS: r.fileGateway()},
			outbox.Config{Rates: map[outbox.Channel]float64{msgtemplate.SMS: 1}}, "A")
		start := r.bank.Clock.Now()
		sent := 0
		for sent < 30 {
			n, _ := r.dispatch(x, msgtemplate.SMS)
			if n == 0 {
				t.Fatal("nothing claimed")
			}
			sent += n
		}
		// 1 a second with a burst of 1: 30 messages take 29 s at least; a
		// batch holds ten seconds' worth.
		if took := r.bank.Clock.Now().Sub(start); took < 29*time.Second || took > 31*time.Second {
			t.Fatalf("30 messages at 1/s took %v (waits %v)", took, r.slept)
		}
	})
}
