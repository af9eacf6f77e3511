package outbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

var secret = []byte("provider-secret-0123456789")

// provider is a fake SMS provider: it checks each request's signature,
// answers as its mode says, and delivers a message once per idempotency key.
type provider struct {
	mu        sync.Mutex
	mode      string // "ok", "500", "slow", "400"
	requests  int
	delivered map[string]string // idempotency key → body
	badSig    int
}

func (p *provider) handler(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.requests++
		mode := p.mode
		if outbox.Verify(secret, r.Header.Get(outbox.HeaderTimestamp), r.Header.Get(outbox.HeaderNonce),
			r.Header.Get(outbox.HeaderSignature), body, time.Now()) != nil {
			p.badSig++
		}
		p.mu.Unlock()
		switch mode {
		case "500":
			http.Error(w, "upstream carrier error", 500)
			return
		case "slow":
			time.Sleep(300 * time.Millisecond)
		case "400":
			http.Error(w, `{"error":"invalid number 13800000002"}`, 400)
			return
		}
		var m outbox.HTTPMessage
		if err := json.Unmarshal(body, &m); err != nil || m.IdempotencyKey != r.Header.Get("Idempotency-Key") {
			http.Error(w, "bad body", 400)
			return
		}
		p.mu.Lock()
		if _, seen := p.delivered[m.IdempotencyKey]; !seen {
			p.delivered[m.IdempotencyKey] = m.Body
		}
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"p-` + m.IdempotencyKey + `"}`))
	})
}

func (p *provider) set(mode string) { p.mu.Lock(); p.mode = mode; p.mu.Unlock() }

// TestHTTPGatewayFaults: a 500, a timeout and a closed server keep the
// messages queued with backoff and stop the batch after the first failure;
// a 4xx fails the message; a provider down for an hour gets the messages
// once it is back, each exactly once, with the backoff capped meanwhile.
func TestHTTPGatewayFaults(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		p := &provider{mode: "500", delivered: map[string]string{}}
		srv := httptest.NewServer(p.handler(t))
		defer srv.Close()
		gw, err := outbox.NewHTTPGateway(outbox.HTTPConfig{URL: srv.URL, Secret: secret, Timeout: 100 * time.Millisecond,
			Parallel: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg := outbox.Config{BaseBackoff: 5 * time.Second, MaxBackoff: 5 * time.Minute}
		x := r.dispatcher(map[outbox.Channel]outbox.Gateway{msgtemplate.SMS: gw}, cfg, "A")
		r.enqueue(r.sms("a1", "一"), r.sms("a2", "二"), r.sms("a3", "三"))

		// 500: temporary; the first is attempted, the others released.
		if _, temp := r.dispatch(x, msgtemplate.SMS); !temp {
			t.Fatal("a 500 was not a temporary failure")
		}
		attempts := map[int]int{}
		for _, m := range r.messages() {
			if m.Status != outbox.Queued {
				t.Fatalf("after a 500: %+v", m)
			}
			attempts[m.Attempts]++
			if m.Attempts == 1 && !strings.Contains(m.LastError, "provider answered 500") {
				t.Errorf("last error %q", m.LastError)
			}
			if wait := m.NextAttemptAt.Sub(r.bank.Clock.Now()); wait < 2500*time.Millisecond || wait > 5*time.Second {
				t.Errorf("backoff %v, want 2.5–5 s", wait)
			}
		}
		if attempts[1] != 1 || attempts[0] != 2 || p.requests != 1 {
			t.Fatalf("attempts %v, requests %d: the batch should stop after the first failure", attempts, p.requests)
		}

		// A timeout and a closed port are temporary too.
		p.set("slow")
		r.bank.Clock.Advance(time.Minute)
		if _, temp := r.dispatch(x, msgtemplate.SMS); !temp {
			t.Fatal("a timeout was not a temporary failure")
		}
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		deadGW, _ := outbox.NewHTTPGateway(outbox.HTTPConfig{URL: dead.URL, Secret: secret, Timeout: time.Second}, nil)
		y := r.dispatcher(map[outbox.Channel]outbox.Gateway{msgtemplate.SMS: deadGW}, cfg, "A")
		r.bank.Clock.Advance(time.Minute)
		if _, temp := r.dispatch(y, msgtemplate.SMS); !temp {
			t.Fatal("connection refused was not a temporary failure")
		}
		for _, m := range r.messages() {
			if m.Status != outbox.Queued {
				t.Fatalf("after a timeout and a refused connection: %+v", m)
			}
		}

		// Down for an hour: dispatch whenever something is due; the wait
		// between attempts never exceeds the cap.
		p.set("500")
		start := r.bank.Clock.Now()
		for r.bank.Clock.Now().Sub(start) < time.Hour {
			r.dispatch(x, msgtemplate.SMS)
			for _, m := range r.messages() {
				if m.Status != outbox.Queued {
					t.Fatalf("during the outage: %+v", m)
				}
				if wait := m.NextAttemptAt.Sub(r.bank.Clock.Now()); wait > 5*time.Minute {
					t.Fatalf("backoff %v beyond the 5 min cap", wait)
				}
			}
			r.bank.Clock.Advance(30 * time.Second)
		}
		// Back: within one capped backoff everything goes, once.
		p.set("ok")
		r.bank.Clock.Advance(5 * time.Minute)
		for range 3 {
			r.dispatch(x, msgtemplate.SMS)
		}
		for _, m := range r.messages() {
			if m.Status != outbox.Sent || m.ProviderID != "p-"+m.IdempotencyKey() {
				t.Errorf("after the outage: %+v", m)
			}
		}
		if len(p.delivered) != 3 || p.badSig != 0 {
			t.Fatalf("delivered %d (want 3), bad signatures %d", len(p.delivered), p.badSig)
		}

		// A 4xx is permanent, and the address the provider echoed is masked.
		p.set("400")
		r.enqueue(r.sms("b1", "四"))
		r.dispatch(x, msgtemplate.SMS)
		for _, m := range r.messages() {
			if m.CustomerID == r.custID["b1"] && (m.Status != outbox.Failed || !strings.Contains(m.LastError, "138****0002") ||
				strings.Contains(m.LastError, "13800000002")) {
				t.Errorf("after a 400: %+v", m)
			}
		}
	})
}

// TestHTTPRetryAfterCrashIsNotSentTwice: the provider took the message but
// the dispatcher died before recording it; the retry carries the same
// idempotency key and the provider delivers nothing new.
func TestHTTPRetryAfterCrashIsNotSentTwice(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		p := &provider{mode: "ok", delivered: map[string]string{}}
		srv := httptest.NewServer(p.handler(t))
		defer srv.Close()
		gw, _ := outbox.NewHTTPGateway(outbox.HTTPConfig{URL: srv.URL, Secret: secret}, nil)
		r.enqueue(r.sms("a1", "一"))
		now := r.bank.Clock.Now()
		claimed, err := db.Outbox().Claim(t.Context(), msgtemplate.SMS, "A", now, now.Add(time.Minute), 10)
		if err != nil || len(claimed) != 1 {
			t.Fatal(len(claimed), err)
		}
		gw.Send(t.Context(), []outbox.Envelope{{MessageID: claimed[0].ID, IdempotencyKey: claimed[0].IdempotencyKey(),
			Channel: msgtemplate.SMS, To: "13800000001", Body: "一"}})
		// kill -9 here. Another dispatcher after the lease:
		r.bank.Clock.Advance(2 * time.Minute)
		x := r.dispatcher(map[outbox.Channel]outbox.Gateway{msgtemplate.SMS: gw}, outbox.Config{}, "B")
		if n, _ := r.dispatch(x, msgtemplate.SMS); n != 1 {
			t.Fatalf("claimed %d", n)
		}
		if m := r.message(claimed[0].ID); m.Status != outbox.Sent || m.Attempts != 2 {
			t.Fatalf("%+v", m)
		}
		if p.requests != 2 || len(p.delivered) != 1 {
			t.Fatalf("requests %d, delivered %d: want 2 requests, 1 delivery", p.requests, len(p.delivered))
		}
	})
}
