package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
)

// Audit actions of the outbox monitor.
const (
	AuditList  = "outbox.list"  // the monitor's message list was shown; Count says how many
	AuditRetry = "outbox.retry" // a failed message was queued again
)

// Scoper gives the actor's customer read scope (customer.Service).
type Scoper interface {
	ReadScope(ctx context.Context) (customer.ScopeFilter, error)
}

// ServiceDeps are what the monitor service needs.
type ServiceDeps struct {
	Store     Store
	Customers Scoper
	Clock     kehu.Clock
	Audit     audit.Recorder
	Tx        kehu.Transactor
	// Secrets are the receipt-signing secrets per channel (the HTTP
	// providers' secrets; for e-mail the e-mail service's webhook secret).
	Secrets map[Channel][]byte
}

// Service is the outbox monitor (outbox.monitor) and the receipts endpoint.
type Service struct{ d ServiceDeps }

// NewService returns the monitor service.
func NewService(d ServiceDeps) *Service {
	if d.Clock == nil {
		d.Clock = kehu.SystemClock{}
	}
	return &Service{d: d}
}

func monitor(ctx context.Context) (kehu.Actor, error) {
	a, ok := kehu.ActorFrom(ctx)
	if !ok {
		return a, kehu.Errorf(kehu.EUNAUTHORIZED, "sign in first")
	}
	if !access.Can(a.Role, access.OutboxMonitor) {
		return a, kehu.Errorf(kehu.EFORBIDDEN, "the send monitor needs the outbox.monitor permission")
	}
	return a, nil
}

// List returns a page of messages of customers in the actor's scope,
// newest first, and records one audit entry.
func (s *Service) List(ctx context.Context, f Filter) (Page, error) {
	if _, err := monitor(ctx); err != nil {
		return Page{}, err
	}
	var v kehu.Validation
	if f.Status != "" && !validStatus(f.Status) {
		v.Add("status", "must be queued, sending, sent, delivered or failed")
	}
	if f.Channel != "" && !msgtemplate.ValidChannel(f.Channel) {
		v.Add("channel", "must be sms, push, wechat or email")
	}
	if err := v.Err(); err != nil {
		return Page{}, err
	}
	scope, err := s.d.Customers.ReadScope(ctx)
	if err != nil {
		return Page{}, err
	}
	f.Scope = scope
	f.Limit = kehu.ClampLimit(f.Limit)
	var p Page
	err = s.d.Tx.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if p, err = s.d.Store.ListMessages(ctx, f); err != nil {
			return err
		}
		return s.d.Audit.Record(ctx, audit.Entry{Action: AuditList, Object: "outbox", Count: len(p.Items),
			Reason: describe(f)})
	})
	return p, err
}

func describe(f Filter) string {
	var parts []string
	if f.Status != "" {
		parts = append(parts, "status="+string(f.Status))
	}
	if f.Channel != "" {
		parts = append(parts, "channel="+string(f.Channel))
	}
	if f.SourceKind != "" {
		parts = append(parts, fmt.Sprintf("source=%s:%d", f.SourceKind, f.SourceID))
	}
	return strings.Join(parts, " ")
}

func validStatus(s Status) bool {
	for _, x := range Statuses {
		if x == s {
			return true
		}
	}
	return false
}

// Stats counts the messages per channel and status, of one source when
// sourceKind is set. Counts show no customer, so the whole outbox is
// counted whatever the actor's scope.
func (s *Service) Stats(ctx context.Context, sourceKind string, sourceID int64) ([]Count, error) {
	if _, err := monitor(ctx); err != nil {
		return nil, err
	}
	return s.d.Store.Stats(ctx, sourceKind, sourceID)
}

// Retry queues a failed message again (due now, its attempts kept); the
// message must be of a customer in the actor's scope.
func (s *Service) Retry(ctx context.Context, id int64) (Message, error) {
	if _, err := monitor(ctx); err != nil {
		return Message{}, err
	}
	scope, err := s.d.Customers.ReadScope(ctx)
	if err != nil {
		return Message{}, err
	}
	var m Message
	err = s.d.Tx.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if m, err = s.d.Store.GetMessage(ctx, id, scope); err != nil {
			return err
		}
		if m.Status != Failed {
			return kehu.Errorf(kehu.ECONFLICT, "message %d is %s; only a failed message can be retried", id, m.Status)
		}
		if err := s.d.Store.Requeue(ctx, id, s.d.Clock.Now().UTC()); err != nil {
			return err
		}
		if m, err = s.d.Store.GetMessage(ctx, id, scope); err != nil {
			return err
		}
		return s.d.Audit.Record(ctx, audit.Entry{Action: AuditRetry, CustomerID: m.CustomerID,
			Object: fmt.Sprintf("outbox_message:%d", id), Changes: []audit.Change{{Field: "status", Old: string(Failed), New: string(Queued)}}})
	})
	return m, err
}

// Receipt events.
const (
	EventDelivered = "delivered"
	EventFailed    = "failed"
	EventOpened    = "opened"
	EventClicked   = "clicked"
)

// Receipt is one delivery receipt or open/click callback. The message is
// named by its idempotency key (what the gateway was given) or by the
// provider's id.
type Receipt struct {
	ID             string    `json:"id"`
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	ProviderID     string    `json:"provider_id,omitempty"`
	Event          string    `json:"event"`
	At             time.Time `json:"at"`
	Detail         string    `json:"detail,omitempty"`
	// Channel and MessageID are set by the service.
	Channel   Channel `json:"-"`
	MessageID int64   `json:"-"`
}

// ReceiptBatch is the body of POST /api/v1/outbox/receipts.
type ReceiptBatch struct {
	Channel  Channel   `json:"channel"`
	Receipts []Receipt `json:"receipts"`
}

// ReceiptResult says what a batch of receipts did.
type ReceiptResult struct {
	Applied    int             `json:"applied"`
	Duplicates int             `json:"duplicates"`
	Rejected   []ReceiptReject `json:"rejected"`
}

// ReceiptReject is a receipt that was not applied, and why.
type ReceiptReject struct {
	Index  int    `json:"index"`
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// MaxReceipts bounds one batch of receipts.
const MaxReceipts = 1000

// Receipts verifies a provider's signed batch and applies each receipt
// once: a receipt id already seen counts as a duplicate and changes
// nothing. A bad signature refuses the whole batch (EUNAUTHORIZED); bad
// receipts are reported one by one.
func (s *Service) Receipts(ctx context.Context, body []byte, timestamp, nonce, signature string) (ReceiptResult, error) {
	var b ReceiptBatch
	if err := json.Unmarshal(body, &b); err != nil {
		return ReceiptResult{}, kehu.Errorf(kehu.EINVALID, "the receipts body is not valid JSON: %v", err)
	}
	if !msgtemplate.ValidChannel(b.Channel) {
		return ReceiptResult{}, &kehu.Error{Code: kehu.EINVALID, Message: "unknown channel",
			Fields: []kehu.FieldError{{Field: "channel", Reason: "must be sms, push, wechat or email"}}}
	}
	now := s.d.Clock.Now().UTC()
	if err := Verify(s.d.Secrets[b.Channel], timestamp, nonce, signature, body, now); err != nil {
		return ReceiptResult{}, kehu.Errorf(kehu.EUNAUTHORIZED, "receipts refused: %v", err)
	}
	if len(b.Receipts) > MaxReceipts {
		return ReceiptResult{}, &kehu.Error{Code: kehu.EINVALID, Message: "too many receipts",
			Fields: []kehu.FieldError{{Field: "receipts", Reason: fmt.Sprintf("at most %d per request", MaxReceipts)}}}
	}
	res := ReceiptResult{Rejected: []ReceiptReject{}}
	for i, r := range b.Receipts {
		r.Channel = b.Channel
		reject := func(reason string) {
			res.Rejected = append(res.Rejected, ReceiptReject{Index: i, ID: r.ID, Reason: reason})
		}
		switch r.Event {
		case EventDelivered, EventFailed, EventOpened, EventClicked:
		default:
			reject("event must be delivered, failed, opened or clicked")
			continue
		}
		if r.ID == "" || len(r.ID) > 200 {
			reject("id is required (at most 200 characters): it makes the receipt idempotent")
			continue
		}
		if r.IdempotencyKey != "" {
			id, ok := MessageIDFromKey(r.IdempotencyKey)
			if !ok {
				reject("idempotency_key is not one Kehu gave")
				continue
			}
			r.MessageID = id
		} else if r.ProviderID == "" {
			reject("name the message by idempotency_key or provider_id")
			continue
		}
		if r.At.IsZero() {
			r.At = now
		}
		r.Detail = Redact(r.Detail)
		if len(r.Detail) > 500 {
			r.Detail = r.Detail[:500]
		}
		applied, err := s.d.Store.ApplyReceipt(ctx, r, now)
		switch {
		case kehu.ErrorCode(err) == kehu.ENOTFOUND:
			reject("no such message")
		case err != nil:
			return res, err
		case applied:
			res.Applied++
		default:
			res.Duplicates++
		}
	}
	return res, nil
}
