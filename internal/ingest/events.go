package ingest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"kehu/internal/access"
)

// parseEvents decodes and validates the lines of an events batch.
func (s *Service) parseEvents(lines []line, now time.Time) parsed {
	var p parsed
	for _, l := range lines {
		var in eventLine
		if le := decodeLine(l, &in); le != nil {
			if le.Field != "" { // a JSON object with a wrong member
				p.decoded++
			}
			p.errs = append(p.errs, *le)
			continue
		}
		p.decoded++
		ev, errs := parseEvent(l.no, in, now, s.cfg.FutureSkew)
		if len(errs) > 0 {
			p.errs = append(p.errs, errs...)
			continue
		}
		p.events = append(p.events, ev)
	}
	return p
}

// lookups are the references of an events batch: its events without those
// whose (channel, event_id) came earlier in the batch (dups, their lines),
// each event's customer reference and the product codes named.
type lookups struct {
	events []pendingEvent
	dups   []int
	refs   []CustomerRef
	codes  []string
}

func lookupsOf(p *parsed) lookups {
	seen := make(map[[2]string]bool, len(p.events))
	l := lookups{events: make([]pendingEvent, 0, len(p.events))}
	for _, pe := range p.events {
		k := [2]string{pe.event.Channel, pe.event.EventID}
		if seen[k] {
			l.dups = append(l.dups, pe.line)
			continue
		}
		seen[k] = true
		l.events = append(l.events, pe)
	}
	l.refs = make([]CustomerRef, len(l.events))
	for i, pe := range l.events {
		l.refs[i] = pe.customer
		if pe.product != "" {
			l.codes = append(l.codes, pe.product)
		}
	}
	slices.Sort(l.codes)
	l.codes = slices.Compact(l.codes)
	return l
}

// resolveAhead resolves a batch's customers and products before its write
// transaction (Store.ResolveAhead), for a feed whose scope is the whole bank.
// A scoped feed resolves inside the transaction only: a customer moved out of
// its scope meanwhile is not recorded in any audit mark we could check.
func (s *Service) resolveAhead(ctx context.Context, l lookups) (Resolution, error) {
	scope, err := s.d.Customers.WriteScope(ctx, access.DataIngest)
	if err != nil || !scope.Unrestricted() || len(l.events) == 0 {
		return Resolution{}, err
	}
	r, err := s.d.Store.ResolveAhead(ctx, l.refs, l.codes, scope)
	if err != nil {
		return Resolution{}, fmt.Errorf("resolve ahead: %w", err)
	}
	return r, nil
}

// resolveEvents resolves the customers and products of the valid events in
// the write transaction: the resolution read ahead when nothing that could
// change it has committed since, otherwise one query for the customers and
// one for the products, whatever the batch size. (Resolving inside the
// transaction also warms the writer's cache for the insert's foreign-key
// checks; ahead, the insert's own checks read those pages.) An event id seen
// twice in the batch is a duplicate.
func (s *Service) resolveEvents(ctx context.Context, p *parsed, l lookups, ahead Resolution,
	res *Result) (resolved, error) {
	still, err := s.d.Store.StillResolved(ctx, ahead.Mark)
	if err != nil {
		return resolved{}, err
	}
	if !still {
		scope, err := s.d.Customers.WriteScope(ctx, access.DataIngest)
		if err != nil {
			return resolved{}, err
		}
		if ahead.Customers, err = s.d.Store.ResolveCustomers(ctx, l.refs, scope); err != nil {
			return resolved{}, fmt.Errorf("resolve customers: %w", err)
		}
		if ahead.Products, err = s.d.Store.ProductIDs(ctx, l.codes); err != nil {
			return resolved{}, fmt.Errorf("resolve products: %w", err)
		}
	}
	res.DuplicateLines = append(res.DuplicateLines, l.dups...)
	ids, products := ahead.Customers, ahead.Products
	r := resolved{events: make([]Event, 0, len(l.events)), lines: make([]int, 0, len(l.events))}
	for i, pe := range l.events {
		switch ids[i] {
		case 0:
			// Unknown and out-of-scope customers read alike, as everywhere.
			p.errs = append(p.errs, LineError{Line: pe.line, Field: pe.customer.field(), Reason: "no such customer",
				Key: pe.event.EventID})
			continue
		case ErasedCustomer:
			p.errs = append(p.errs, LineError{Line: pe.line, Field: pe.customer.field(), Key: pe.event.EventID,
				Reason: "the customer was erased on a data-subject request; nothing more is recorded about them"})
			continue
		}
		if pe.product != "" {
			id, found := products[pe.product]
			if !found {
				p.errs = append(p.errs, LineError{Line: pe.line, Field: "product_code", Reason: "no such product",
					Key: pe.event.EventID})
				continue
			}
			pe.event.ProductID = &id
		}
		pe.event.CustomerID, pe.event.ReceivedAt = ids[i], res.ReceivedAt
		r.events = append(r.events, pe.event)
		r.lines = append(r.lines, pe.line)
	}
	return r, nil
}

// resolved are the events ready to store and their line numbers.
type resolved struct {
	events []Event
	lines  []int
}

// storeEvents inserts resolved events in the transaction in ctx; those
// whose (channel, event_id) is already stored are duplicates.
func (s *Service) storeEvents(ctx context.Context, r resolved, res *Result) (Committed, error) {
	if _, err := s.d.Store.InsertEvents(ctx, r.events); err != nil {
		return Committed{}, fmt.Errorf("store events: %w", err)
	}
	stored := r.events[:0:0]
	for i, e := range r.events {
		if e.ID == 0 {
			res.DuplicateLines = append(res.DuplicateLines, r.lines[i])
		} else {
			stored = append(stored, e)
		}
	}
	slices.Sort(res.DuplicateLines)
	return Committed{Kind: Events, Events: stored}, nil
}
