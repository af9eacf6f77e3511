// Package outbox delivers messages: campaigns and journeys queue them in
// batches (a unique dedup key makes a second launch or a resumed one queue
// nothing twice), and a dispatcher inside `kehu serve` claims due messages
// with a lease, resolves the customer's address from the sealed customer
// record at send time, renders templates, hands them to a pluggable gateway
// (file, SMTP, HTTP provider) under a per-channel rate, and retries
// temporary failures with capped exponential backoff and jitter. Each
// message carries one idempotency key for its whole life, so a retry after
// a crash is recognised by the gateway instead of sent again. Delivery
// receipts and open/click callbacks update the messages. The package knows
// no SQL or HTTP routing.
package outbox

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
)

// Channel is a delivery channel.
type Channel = msgtemplate.Channel

// Status is where a message is in its life.
type Status string

// Statuses: queued → sending → sent → delivered, or failed.
const (
	Queued    Status = "queued"
	Sending   Status = "sending"
	Sent      Status = "sent"
	Delivered Status = "delivered"
	Failed    Status = "failed"
)

// Statuses lists them in order.
var Statuses = []Status{Queued, Sending, Sent, Delivered, Failed}

// New is one message a campaign or journey has decided to send: computed
// before the call, in its own transaction if it wants (Enqueue joins the
// transaction in ctx). Either Content (already rendered) or TemplateID with
// TemplateVersion and Data. The customer's name, gender and RM are filled
// in Data at send time when left empty, so they need not be stored twice.
type New struct {
	// SourceKind and SourceID name what queued it: "campaign" and the
	// campaign id, "journey" and the journey id.
	SourceKind string
	SourceID   int64
	CustomerID int64
	Channel    Channel
	// DedupKey makes the message unique; "" means
	// "<source_kind>:<source_id>:<customer_id>:<channel>", one message per
	// customer and channel per source. A recurring campaign or a journey
	// firing again adds its run or event to the key.
	DedupKey        string
	TemplateID      int64
	TemplateVersion int
	Data            *msgtemplate.Data
	Content         *msgtemplate.Content
	// NotBefore holds a message back (quiet hours, a scheduled send);
	// zero means now.
	NotBefore time.Time
}

// Key returns the message's dedup key.
func (n New) Key() string {
	if n.DedupKey != "" {
		return n.DedupKey
	}
	return n.SourceKind + ":" + strconv.FormatInt(n.SourceID, 10) + ":" + strconv.FormatInt(n.CustomerID, 10) + ":" + string(n.Channel)
}

// Message is a stored message.
type Message struct {
	ID              int64                `json:"id"`
	SourceKind      string               `json:"source_kind"`
	SourceID        int64                `json:"source_id"`
	CustomerID      int64                `json:"customer_id"`
	Channel         Channel              `json:"channel"`
	DedupKey        string               `json:"dedup_key"`
	TemplateID      int64                `json:"template_id,omitempty"`
	TemplateVersion int                  `json:"template_version,omitempty"`
	Data            *msgtemplate.Data    `json:"-"`
	Content         *msgtemplate.Content `json:"-"`
	Status          Status               `json:"status"`
	Attempts        int                  `json:"attempts"`
	NextAttemptAt   time.Time            `json:"next_attempt_at"`
	LastError       string               `json:"last_error,omitempty"`
	ProviderID      string               `json:"provider_id,omitempty"`
	CreatedAt       time.Time            `json:"created_at"`
	UpdatedAt       time.Time            `json:"updated_at"`
	SentAt          *time.Time           `json:"sent_at,omitempty"`
	DeliveredAt     *time.Time           `json:"delivered_at,omitempty"`
	FailedAt        *time.Time           `json:"failed_at,omitempty"`
	OpenedAt        *time.Time           `json:"opened_at,omitempty"`
	ClickedAt       *time.Time           `json:"clicked_at,omitempty"`
	Opens           int                  `json:"opens"`
	Clicks          int                  `json:"clicks"`
	// Held: queued but held because its source is paused (a paused
	// campaign); NextAttemptAt is then its own send time, kept for the
	// release. The dispatcher claims no held message.
	Held bool `json:"held"`
}

// IdempotencyKey is what the gateway gets with every attempt of the
// message: the same for a retry, so a provider that saw it does not send
// again.
func (m Message) IdempotencyKey() string { return IdempotencyKey(m.ID) }

// IdempotencyKey of message id.
func IdempotencyKey(id int64) string { return "kehu-msg-" + strconv.FormatInt(id, 10) }

// MessageIDFromKey reads a message id back from its idempotency key.
func MessageIDFromKey(k string) (int64, bool) {
	s, ok := strings.CutPrefix(k, "kehu-msg-")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// Recipient is what the dispatcher reads from the customer record at send
// time: the opened mobile and e-mail, and the name, gender and RM that fill
// a template.
type Recipient struct {
	CustomerID int64
	Name       string
	Gender     string
	Mobile     string
	Email      string
	RMName     string
	Status     string
}

// Filter narrows the monitor's list.
type Filter struct {
	Status     Status
	Channel    Channel
	SourceKind string
	SourceID   int64
	Scope      customer.ScopeFilter
	After      int64 // keyset: messages with a smaller id (newest first)
	Limit      int
}

// Page is one page of messages, newest first.
type Page struct {
	Items      []Message   `json:"items"`
	NextCursor kehu.Cursor `json:"-"`
}

// Count is the number of messages of one channel in one status.
type Count struct {
	Channel Channel `json:"channel"`
	Status  Status  `json:"status"`
	Count   int64   `json:"count"`
}

// Claim is a batch of due messages leased to one dispatcher.
type Claim struct {
	Owner      string
	Until      time.Time
	Messages   []Message
	Recipients map[int64]Recipient
}

// Store keeps the outbox.
type Store interface {
	// Enqueue inserts the messages, skipping those whose dedup key exists,
	// in the transaction in ctx if there is one; it returns how many it
	// inserted.
	Enqueue(ctx context.Context, rows []New, now time.Time) (int, error)
	// Claim leases up to limit due messages of ch to owner until until:
	// queued ones due by now, and sending ones whose lease ran out (their
	// dispatcher died), never those of a held source (a paused campaign).
	// Each claim counts an attempt.
	Claim(ctx context.Context, ch Channel, owner string, now, until time.Time, limit int) ([]Message, error)
	// Recipients opens the customer records of ids.
	Recipients(ctx context.Context, ids []int64) (map[int64]Recipient, error)
	// Finish records the outcomes of a claimed batch, each only while the
	// owner still holds the message's lease.
	Finish(ctx context.Context, owner string, outcomes []Outcome, now time.Time) error
	// Expire fails queued and lapsed sending messages created before
	// before, with reason; held messages wait for their release (the
	// dispatcher fails them as expired then, if they are too old).
	Expire(ctx context.Context, before time.Time, reason string, now time.Time) (int64, error)
	ListMessages(ctx context.Context, f Filter) (Page, error)
	GetMessage(ctx context.Context, id int64, scope customer.ScopeFilter) (Message, error)
	Stats(ctx context.Context, sourceKind string, sourceID int64) ([]Count, error)
	// Requeue makes a failed message queued again, due now.
	Requeue(ctx context.Context, id int64, now time.Time) error
	// ApplyReceipt records r once (by channel and receipt id) and updates
	// its message; false when it was already recorded.
	ApplyReceipt(ctx context.Context, r Receipt, now time.Time) (bool, error)
}

// Outcome is what became of one claimed message.
type Outcome struct {
	ID     int64
	Status Status // Sent, Failed, or Queued (retry at Next)
	// Attempted is false for a message released without reaching the
	// gateway (the batch stopped when the gateway went down): its attempt
	// is given back.
	Attempted  bool
	Next       time.Time
	ProviderID string
	Error      string
}

// Queue is the enqueue side, the API campaigns and journeys call.
type Queue struct {
	store Store
	clock kehu.Clock
}

// NewQueue returns the enqueue API over store.
func NewQueue(store Store, clock kehu.Clock) *Queue {
	if clock == nil {
		clock = kehu.SystemClock{}
	}
	return &Queue{store: store, clock: clock}
}

// Result says what an Enqueue did.
type Result struct {
	Queued     int `json:"queued"`
	Duplicates int `json:"duplicates"`
}

// Enqueue queues rows (any number; the store writes them in multi-row
// statements) in the transaction in ctx, if any, so a campaign records its
// contacts and queues their messages atomically. A row whose dedup key is
// already queued (or sent) is counted as a duplicate and changes nothing.
// Invalid rows fail the whole call with the first row's index and reason.
func (q *Queue) Enqueue(ctx context.Context, rows []New) (Result, error) {
	for i, r := range rows {
		if err := check(r); err != nil {
			return Result{}, kehu.Errorf(kehu.EINVALID, "message %d: %s", i, err)
		}
	}
	n, err := q.store.Enqueue(ctx, rows, q.clock.Now().UTC())
	if err != nil {
		return Result{}, fmt.Errorf("enqueue %d messages: %w", len(rows), err)
	}
	return Result{Queued: n, Duplicates: len(rows) - n}, nil
}

func check(r New) error {
	switch {
	case r.SourceKind == "":
		return fmt.Errorf("source kind is required")
	case r.CustomerID <= 0:
		return fmt.Errorf("customer id is required")
	case !msgtemplate.ValidChannel(r.Channel):
		return fmt.Errorf("channel %q is not sms, push, wechat or email", r.Channel)
	case r.Content == nil && r.TemplateID == 0:
		return fmt.Errorf("give a rendered content or a template")
	case r.Content != nil && r.TemplateID != 0:
		return fmt.Errorf("give a rendered content or a template, not both")
	case r.TemplateID != 0 && r.TemplateVersion <= 0:
		return fmt.Errorf("template %d: the version is required (a message names the version it renders)", r.TemplateID)
	case len(r.Key()) > 200:
		return fmt.Errorf("dedup key longer than 200 bytes")
	}
	return nil
}
