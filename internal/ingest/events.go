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

// resolveEvents resolves the customers and products of the valid events:
// one query for the customers, one for the products, whatever the batch
// size. It runs in the write transaction, on purpose: the customer pages it
// reads are then in the writer's cache when the insert checks its foreign
// keys, which measured faster than resolving on a read connection beside the
// writer, even with two sources posting at once. An event id seen twice in
// the batch is a duplicate.
func (s *Service) resolveEvents(ctx context.Context, p *parsed, res *Result) (resolved, error) {
	scope, err := s.d.Customers.WriteScope(ctx, access.DataIngest)
	if err != nil {
		return resolved{}, err
	}
	seen := make(map[[2]string]bool, len(p.events))
	evs := p.events[:0:0]
	for _, pe := range p.events {
		k := [2]string{pe.event.Channel, pe.event.EventID}
		if seen[k] {
			res.DuplicateLines = append(res.DuplicateLines, pe.line)
			continue
		}
		seen[k] = true
		evs = append(evs, pe)
	}
	refs := make([]CustomerRef, len(evs))
	var codes []string
	for i, pe := range evs {
		refs[i] = pe.customer
		if pe.product != "" {
			codes = append(codes, pe.product)
		}
	}
	ids, err := s.d.Store.ResolveCustomers(ctx, refs, scope)
	if err != nil {
		return resolved{}, fmt.Errorf("resolve customers: %w", err)
	}
	slices.Sort(codes)
	products, err := s.d.Store.ProductIDs(ctx, slices.Compact(codes))
	if err != nil {
		return resolved{}, fmt.Errorf("resolve products: %w", err)
	}
	r := resolved{events: make([]Event, 0, len(evs)), lines: make([]int, 0, len(evs))}
	for i, pe := range evs {
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
