// Package ingest accepts incremental feeds from the bank's source systems:
// batches of JSON lines (NDJSON), either channel events (mobile app, online
// banking, WeChat, call centre, branch) or upserts of customers, accounts,
// holdings, transactions and relationships. A batch answers line by line
// (accepted, rejected with the field and reason, or a duplicate of what Kehu
// already holds), and retries never apply anything twice: a batch may carry
// an Idempotency-Key whose answer is kept for a window, and every event
// carries its source's event id (docs/INGEST.md).
package ingest

import (
	"context"
	"time"
)

// Kind is what a batch holds; it is the {kind} of POST /api/v1/ingest/{kind}.
type Kind string

// Kinds of batch.
const (
	Events        Kind = "events"
	Customers     Kind = "customers"
	Accounts      Kind = "accounts"
	Holdings      Kind = "holdings"
	Transactions  Kind = "transactions"
	Relationships Kind = "relationships"
)

// Kinds lists every kind a feed accepts, events first.
var Kinds = []Kind{Events, Customers, Accounts, Holdings, Transactions, Relationships}

// Config bounds a batch and says how long batch keys are remembered. Zero
// values take the defaults below.
type Config struct {
	// MaxBytes bounds a batch body. Default 16 MiB.
	MaxBytes int64
	// MaxLines bounds the lines of a batch. Default 10,000.
	MaxLines int
	// MaxLineBytes bounds one line; a longer line is rejected on its own.
	// Default 64 KiB.
	MaxLineBytes int
	// KeyWindow is how long the answer to a batch sent with an
	// Idempotency-Key is kept and replayed. Default 7 days.
	KeyWindow time.Duration
	// FutureSkew is how far in the future an event may be dated (source
	// clocks drift). Default 5 minutes.
	FutureSkew time.Duration
}

// Defaults of Config.
const (
	DefaultMaxBytes     = 16 << 20
	DefaultMaxLines     = 10_000
	DefaultMaxLineBytes = 64 << 10
	DefaultKeyWindow    = 7 * 24 * time.Hour
	DefaultFutureSkew   = 5 * time.Minute
)

func (c Config) withDefaults() Config {
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.MaxLines <= 0 {
		c.MaxLines = DefaultMaxLines
	}
	if c.MaxLineBytes <= 0 {
		c.MaxLineBytes = DefaultMaxLineBytes
	}
	if c.KeyWindow <= 0 {
		c.KeyWindow = DefaultKeyWindow
	}
	if c.FutureSkew <= 0 {
		c.FutureSkew = DefaultFutureSkew
	}
	return c
}

// Batch is one request: the kind, the optional Idempotency-Key and the raw
// body (already bounded by the caller to Config.MaxBytes).
type Batch struct {
	Kind Kind
	Key  string
	Body []byte
}

// Result is the answer to a batch, stored as JSON for replays. Lines counts
// the non-blank lines; each is accepted, rejected or a duplicate.
type Result struct {
	Kind       Kind        `json:"kind"`
	Lines      int         `json:"lines"`
	Accepted   int         `json:"accepted"`
	Rejected   int         `json:"rejected"`
	Duplicates int         `json:"duplicates"`
	Errors     []LineError `json:"errors"`
	// DuplicateLines are the line numbers that were duplicates: events
	// already stored (or twice in the batch), upserts that changed nothing.
	DuplicateLines []int     `json:"duplicate_lines"`
	ReceivedAt     time.Time `json:"received_at"`
	// Replayed is true when the answer is the stored one of an earlier
	// batch with the same Idempotency-Key; nothing was applied again.
	Replayed bool `json:"replayed"`
}

// LineError says why one line was rejected. Line counts from 1 over every
// line of the body, blank ones included, so it matches an editor's numbering.
// Field is "" when the line as a whole is wrong (not JSON, too long).
type LineError struct {
	Line   int    `json:"line"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
	// Key is the line's own key (an event's event_id, an upsert's
	// source_id) when it could be read, so the source can find the record.
	Key string `json:"key,omitempty"`
}

// Committed tells subscribers what a batch stored, after its transaction
// committed. It is how journeys react to events within a second without
// polling (docs/INGEST.md, "After commit").
type Committed struct {
	Kind Kind
	// Events are the events stored (not the duplicates), with their ids.
	Events []Event
	// CustomerIDs are the customers whose accounts or holdings an upsert
	// batch created or changed (their AUM and level are recomputed).
	CustomerIDs []int64
}

// Subscriber is called after every batch that stored something, on the
// request's goroutine once the transaction has committed. It must return
// quickly (hand the work to a queue of its own); its context is the request's,
// detached from cancellation. A subscriber that misses a notification (a
// crash between commit and call) catches up from channel_events.id.
type Subscriber func(ctx context.Context, c Committed)
