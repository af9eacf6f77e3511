package privacy

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/kehu"
)

// requestObject names a request in an audit entry.
func requestObject(id int64) string { return "privacy_request:" + strconv.FormatInt(id, 10) }

// File records a request a customer made. Whoever receives it (a teller at
// the counter, the call centre) files it for a customer in their scope; only
// privacy managers handle it afterwards. The deadline runs from now.
func (s *Service) File(ctx context.Context, n NewRequest) (Request, error) {
	a, err := access.ActorWith(ctx, access.CustomerRead)
	if err != nil {
		return Request{}, err
	}
	var v kehu.Validation
	if !validKind(n.Kind) {
		v.Add("kind", "must be one of access, rectify, withdraw_consent, erase")
	}
	if n.CustomerID < 1 {
		v.Add("customer_id", "is required")
	}
	n.Notes = strings.TrimSpace(n.Notes)
	if utf8.RuneCountInString(n.Notes) > MaxNotes {
		v.Add("notes", "must have at most 2000 characters")
	}
	if err := v.Err(); err != nil {
		return Request{}, err
	}
	if err := s.visible(ctx, n.CustomerID); err != nil {
		return Request{}, err
	}
	now := s.clock.Now()
	r := Request{Kind: n.Kind, CustomerID: n.CustomerID, ReceivedAt: now, DueOn: s.cfg.Calendar.Deadline(now),
		Status: StatusReceived, Notes: n.Notes, CreatedBy: a.UserID, UpdatedAt: now}
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if r, err = s.store.CreateRequest(ctx, r); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: audit.PrivacyRequest, CustomerID: r.CustomerID,
			Object: requestObject(r.ID), Changes: []audit.Change{{Field: "status", New: StatusReceived},
				{Field: "kind", New: r.Kind}, {Field: "due_on", New: r.DueOn.String()}}})
	})
	if err != nil {
		return Request{}, err
	}
	return s.flag(r), nil
}

// flag computes Overdue against today's business date.
func (s *Service) flag(r Request) Request {
	r.Overdue = r.Open() && dateBefore(r.DueOn, Today(s.clock.Now()))
	return r
}

func dateBefore(a, b kehu.Date) bool { return a.Time().Before(b.Time()) }

// Requests lists requests on customers in the actor's scope, newest first.
func (s *Service) Requests(ctx context.Context, f RequestFilter) (RequestPage, error) {
	_, scope, err := s.manager(ctx)
	if err != nil {
		return RequestPage{}, err
	}
	f.Scope, f.Limit = scope, kehu.ClampLimit(f.Limit)
	p, err := s.store.ListRequests(ctx, f)
	if err != nil {
		return RequestPage{}, err
	}
	for i := range p.Items {
		p.Items[i] = s.flag(p.Items[i])
	}
	return p, nil
}

// Request returns one request on a customer in the actor's scope.
func (s *Service) Request(ctx context.Context, id int64) (Request, error) {
	_, scope, err := s.manager(ctx)
	if err != nil {
		return Request{}, err
	}
	r, err := s.store.GetRequest(ctx, id, scope)
	if err != nil {
		return Request{}, err
	}
	return s.flag(r), nil
}

// Start takes a received request: the actor becomes its handler.
func (s *Service) Start(ctx context.Context, id int64) (Request, error) {
	return s.transition(ctx, id, audit.PrivacyRequest, func(ctx context.Context, a kehu.Actor, r *Request) error {
		if r.Status != StatusReceived {
			return kehu.Errorf(kehu.ECONFLICT, "the request is %s, not received", r.Status)
		}
		r.Status = StatusInProgress
		return nil
	})
}

// Reject closes an open request with the reason told to the customer (for
// example, identity not verified).
func (s *Service) Reject(ctx context.Context, id int64, reason string) (Request, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > MaxNotes {
		return Request{}, &kehu.Error{Code: kehu.EINVALID, Message: "validation failed",
			Fields: []kehu.FieldError{{Field: "reason", Reason: "is required, at most 2000 characters"}}}
	}
	return s.transition(ctx, id, audit.PrivacyRequest, func(ctx context.Context, a kehu.Actor, r *Request) error {
		if !r.Open() {
			return kehu.Errorf(kehu.ECONFLICT, "the request is already %s", r.Status)
		}
		r.Status, r.Reason = StatusRejected, reason
		return nil
	})
}

// Complete carries out an open request and closes it, in one transaction:
// a rectification applies c.Corrections through customer.Service.Update
// (validation, scope and the customer.update record apply), a consent
// withdrawal withdraws c.Channels (all when empty), an erasure anonymises
// the customer. An access request is answered with the export (GET
// /customers/{id}/export), which is recorded on its own.
func (s *Service) Complete(ctx context.Context, id int64, c Completion) (Request, error) {
	if utf8.RuneCountInString(c.Notes) > MaxNotes {
		return Request{}, &kehu.Error{Code: kehu.EINVALID, Message: "validation failed",
			Fields: []kehu.FieldError{{Field: "notes", Reason: "must have at most 2000 characters"}}}
	}
	action := audit.PrivacyRequest
	return s.transition(ctx, id, action, func(ctx context.Context, a kehu.Actor, r *Request) error {
		if !r.Open() {
			return kehu.Errorf(kehu.ECONFLICT, "the request is already %s", r.Status)
		}
		if err := s.carryOut(ctx, r, c); err != nil {
			return err
		}
		if n := strings.TrimSpace(c.Notes); n != "" {
			r.Notes = strings.TrimSpace(r.Notes + "\n" + n)
		}
		r.Status = StatusCompleted
		return nil
	})
}

// carryOut applies what the request asks for.
func (s *Service) carryOut(ctx context.Context, r *Request, c Completion) error {
	switch r.Kind {
	case KindRectify:
		if c.Corrections == nil {
			return &kehu.Error{Code: kehu.EINVALID, Message: "validation failed",
				Fields: []kehu.FieldError{{Field: "corrections", Reason: "is required to complete a rectification"}}}
		}
		if _, err := s.customers.Update(ctx, r.CustomerID, *c.Corrections); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: audit.PrivacyRectify, CustomerID: r.CustomerID,
			Object: requestObject(r.ID)})
	case KindWithdrawConsent:
		chans := c.Channels
		if len(chans) == 0 {
			chans = Channels
		}
		changes := make([]ConsentChange, 0, len(chans))
		for _, ch := range chans {
			changes = append(changes, ConsentChange{Channel: ch})
		}
		_, err := s.setConsents(ctx, r.CustomerID, changes, "privacy_request")
		return err
	case KindErase:
		return s.erase(ctx, r.CustomerID)
	}
	return nil
}

// transition loads request id for a privacy manager, applies change and
// stores the result with its audit record in one transaction.
func (s *Service) transition(ctx context.Context, id int64, action string,
	change func(ctx context.Context, a kehu.Actor, r *Request) error) (Request, error) {
	a, scope, err := s.manager(ctx)
	if err != nil {
		return Request{}, err
	}
	var out Request
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		r, err := s.store.GetRequest(ctx, id, scope)
		if err != nil {
			return err
		}
		old := r.Status
		if err := change(ctx, a, &r); err != nil {
			return err
		}
		now := s.clock.Now()
		if r.HandlerID == nil || old == StatusReceived {
			r.HandlerID = &a.UserID
		}
		r.UpdatedAt = now
		if !r.Open() {
			r.ClosedAt = &now
		}
		if err := s.store.UpdateRequest(ctx, r); err != nil {
			return err
		}
		out = r
		return s.audit.Record(ctx, audit.Entry{Action: action, CustomerID: r.CustomerID, Object: requestObject(r.ID),
			Changes: []audit.Change{{Field: "status", Old: old, New: r.Status}}, Reason: r.Reason})
	})
	if err != nil {
		return Request{}, err
	}
	return s.flag(out), nil
}
