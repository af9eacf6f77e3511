package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"kehu/internal/cnid"
	"kehu/internal/customer"
)

// Event is one channel event: something a customer did on a channel, as the
// channel's system reported it. Events are immutable once stored.
type Event struct {
	ID int64 // channel_events.id, set when stored; also the subscribers' cursor
	// EventID is the source's own id, unique per channel: a retried event
	// with a stored EventID is a duplicate and is not stored again.
	EventID    string
	Channel    string
	Kind       string
	OccurredAt time.Time
	ReceivedAt time.Time
	CustomerID int64
	ProductID  *int64
	// Detail is a compact JSON object ("" for none): what the channel adds
	// (page, device, call reason, outlet).
	Detail string
}

// ErasedCustomer is what Store.ResolveCustomers answers for a customer
// anonymised on a PIPL erasure request: nothing more is recorded about them.
const ErasedCustomer int64 = -1

// Channels events come from.
var Channels = []string{"mobile_app", "online_banking", "wechat", "call_center", "branch"}

// EventKinds are what a customer can do on a channel. app_login is the
// mobile app's login (the demo bank's history uses it); login is any other
// channel's sign-in.
var EventKinds = []string{
	"login", "app_login", "logout", "page_view", "product_view", "search", "click", "form_submit",
	"message", "follow", "unfollow", "call", "callback_request", "branch_visit", "queue_ticket",
	"complaint", "transfer", "purchase_intent",
}

// Limits of an event's members.
const (
	maxEventIDLen     = 128
	maxProductCodeLen = 64
	maxDetailBytes    = 4096
)

// earliestEvent is the oldest date an event may carry: anything earlier is a
// source's zero or default date, not history.
var earliestEvent = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// eventLine is the JSON form of one event line (docs/INGEST.md). The customer
// is named one way only: Kehu's id, the source system's id, or the identity
// document.
type eventLine struct {
	EventID      string          `json:"event_id"`
	Channel      string          `json:"channel"`
	Kind         string          `json:"kind"`
	OccurredAt   string          `json:"occurred_at"`
	CustomerID   *int64          `json:"customer_id"`
	SourceSystem string          `json:"source_system"`
	SourceID     string          `json:"source_id"`
	IDType       string          `json:"id_type"`
	IDNumber     string          `json:"id_number"`
	ProductCode  string          `json:"product_code"`
	Detail       json.RawMessage `json:"detail"`
}

// CustomerRef names a customer the way a source system can: exactly one of
// ID (Kehu's customer id), SourceSystem+SourceID (the id in a source system,
// through identity's source links) or IDType+IDNumber.
type CustomerRef struct {
	ID           int64
	SourceSystem string
	SourceID     string
	IDType       string
	IDNumber     string
}

// field is the member of a line that named the customer, for error reports.
func (r CustomerRef) field() string {
	switch {
	case r.ID != 0:
		return "customer_id"
	case r.SourceID != "":
		return "source_id"
	}
	return "id_number"
}

// pendingEvent is a line that passed validation and awaits its references.
type pendingEvent struct {
	line     int
	event    Event
	customer CustomerRef
	product  string // product code, "" for none
}

// parseEvent validates one decoded event line against the clock now, adding
// every problem to errs.
func parseEvent(no int, in eventLine, now time.Time, skew time.Duration) (pendingEvent, []LineError) {
	var errs []LineError
	bad := func(field, reason string) {
		errs = append(errs, LineError{Line: no, Field: field, Reason: reason, Key: in.EventID})
	}
	p := pendingEvent{line: no, product: strings.TrimSpace(in.ProductCode)}
	e := &p.event
	e.EventID = strings.TrimSpace(in.EventID)
	switch {
	case e.EventID == "":
		bad("event_id", "is required: the source's id of the event, unique per channel")
	case len(e.EventID) > maxEventIDLen || strings.ContainsFunc(e.EventID, unicode.IsControl):
		bad("event_id", fmt.Sprintf("must have at most %d characters and no control characters", maxEventIDLen))
	}
	if e.Channel = in.Channel; !slices.Contains(Channels, e.Channel) {
		bad("channel", "must be one of "+strings.Join(Channels, ", "))
	}
	if e.Kind = in.Kind; !slices.Contains(EventKinds, e.Kind) {
		bad("kind", "must be one of "+strings.Join(EventKinds, ", "))
	}
	if t, err := time.Parse(time.RFC3339Nano, in.OccurredAt); err != nil {
		bad("occurred_at", "must be a time with its offset, as in 2026-03-02T09:30:00+08:00")
	} else if t.Before(earliestEvent) || t.After(now.Add(skew)) {
		bad("occurred_at", "must lie between 2000-01-01 and now")
	} else {
		e.OccurredAt = t.UTC()
	}
	ref, field, reason := parseCustomerRef(in)
	if reason != "" {
		bad(field, reason)
	}
	p.customer = ref
	if len(p.product) > maxProductCodeLen {
		bad("product_code", fmt.Sprintf("must have at most %d characters", maxProductCodeLen))
	}
	detail, reason := compactDetail(in.Detail)
	if reason != "" {
		bad("detail", reason)
	}
	e.Detail = detail
	return p, errs
}

// parseCustomerRef reads the one way a line names its customer.
func parseCustomerRef(in eventLine) (CustomerRef, string, string) {
	ref := CustomerRef{SourceSystem: strings.TrimSpace(in.SourceSystem), SourceID: strings.TrimSpace(in.SourceID),
		IDType: strings.TrimSpace(in.IDType), IDNumber: strings.TrimSpace(in.IDNumber)}
	ways := 0
	if in.CustomerID != nil {
		ways++
		ref.ID = *in.CustomerID
	}
	if ref.SourceSystem != "" || ref.SourceID != "" {
		ways++
	}
	if ref.IDType != "" || ref.IDNumber != "" {
		ways++
	}
	switch {
	case ways == 0:
		return ref, "customer_id", "name the customer: customer_id, source_system and source_id, or id_type and id_number"
	case ways > 1:
		return ref, "customer_id", "name the customer one way only"
	case in.CustomerID != nil:
		if ref.ID <= 0 {
			return ref, "customer_id", "must be a positive integer"
		}
		return ref, "", ""
	case ref.SourceSystem == "" && ref.SourceID != "":
		return ref, "source_system", "is required with source_id"
	case ref.SourceSystem != "" && ref.SourceID == "":
		return ref, "source_id", "is required with source_system"
	case ref.SourceID != "":
		return ref, "", ""
	}
	return checkIdentity(ref)
}

// checkIdentity validates an identity document reference; the type defaults
// to a resident ID, the document most events carry.
func checkIdentity(ref CustomerRef) (CustomerRef, string, string) {
	if ref.IDType == "" {
		ref.IDType = customer.ResidentID
	}
	if ref.IDNumber == "" {
		return ref, "id_number", "is required with id_type"
	}
	switch ref.IDType {
	case customer.ResidentID:
		r, err := cnid.ParseResident(ref.IDNumber)
		if err != nil {
			return ref, "id_number", "is not a valid resident ID number"
		}
		ref.IDNumber = r.Number
	case customer.USCC:
		ref.IDNumber = strings.ToUpper(ref.IDNumber)
		if cnid.ValidUSCC(ref.IDNumber) != nil {
			return ref, "id_number", "is not a valid unified social credit code"
		}
	case customer.Passport, customer.HKMacauPermit, customer.TaiwanPermit:
		if len(ref.IDNumber) > 32 {
			return ref, "id_number", "must have at most 32 characters"
		}
	default:
		return ref, "id_type", "must be one of resident_id, passport, hk_macau_permit, taiwan_permit, uscc"
	}
	return ref, "", ""
}

// compactDetail checks that detail is absent, null or a small JSON object and
// returns its compact text.
func compactDetail(raw json.RawMessage) (string, string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", ""
	}
	if raw[0] != '{' {
		return "", "must be a JSON object"
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return "", "must be a JSON object"
	}
	if buf.Len() > maxDetailBytes {
		return "", fmt.Sprintf("must have at most %d bytes", maxDetailBytes)
	}
	return buf.String(), ""
}
