package tag

import (
	"context"
	"fmt"
	"time"
)

// Result counts what a recompute changed.
type Result struct {
	Customers int `json:"customers"`
	Added     int `json:"added"`
	Removed   int `json:"removed"`
	Changed   int `json:"changed"` // reasons rewritten (a new maturity date, a higher AUM)
}

func (r *Result) add(o Result) {
	r.Customers += o.Customers
	r.Added += o.Added
	r.Removed += o.Removed
	r.Changed += o.Changed
}

// rules returns the active computed tags with their rules.
func (s *Service) rules(ctx context.Context) ([]Tag, error) {
	all, err := s.store.ListTags(ctx, false)
	if err != nil {
		return nil, err
	}
	var out []Tag
	for _, t := range all {
		if t.Kind == Computed && t.Rule != nil && validRuleKind(t.Rule.Kind) {
			out = append(out, t)
		}
	}
	return out, nil
}

// Recompute evaluates the computed tags of one customer now and writes only
// what changed, so calling it on every 360 view costs reads and, usually, no
// write. It checks no scope and records nothing: computed tags are derived
// data, and the caller (the 360 view after customer.Service.Get, the batch)
// decides who sees them.
func (s *Service) Recompute(ctx context.Context, customerID int64) (Result, error) {
	rules, err := s.rules(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("recompute tags of %d: %w", customerID, err)
	}
	return s.recompute(ctx, rules, customerID, s.clock.Now().UTC())
}

// RecomputeFrom is Recompute for a caller that already holds the facts
// and the customer's current tags (the 360 view reads both anyway), so
// bringing the computed tags up to date costs no further reads. Like
// Recompute it checks no scope and records nothing.
func (s *Service) RecomputeFrom(ctx context.Context, f Facts, current []CustomerTag) (Result, error) {
	rules, err := s.rules(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("recompute tags of %d: %w", f.CustomerID, err)
	}
	have := map[int64]string{}
	for _, ct := range current {
		if ct.Tag.Kind == Computed && ct.Tag.Rule != nil {
			have[ct.Tag.ID] = ct.Reason
		}
	}
	return s.apply(ctx, rules, f, have, s.clock.Now().UTC())
}

func (s *Service) recompute(ctx context.Context, rules []Tag, customerID int64, now time.Time) (Result, error) {
	f, err := s.store.Facts(ctx, customerID, now)
	if err != nil {
		return Result{Customers: 1}, fmt.Errorf("recompute tags of %d: %w", customerID, err)
	}
	have, err := s.store.ComputedOn(ctx, customerID)
	if err != nil {
		return Result{Customers: 1}, fmt.Errorf("recompute tags of %d: %w", customerID, err)
	}
	return s.apply(ctx, rules, f, have, now)
}

// apply evaluates the rules on f and writes what differs from have (tag id
// → reason of the computed tags the customer carries).
func (s *Service) apply(ctx context.Context, rules []Tag, f Facts, have map[int64]string, now time.Time) (Result, error) {
	res := Result{Customers: 1}
	customerID := f.CustomerID
	type put struct {
		tag    Tag
		reason string
	}
	var puts []put
	var dels []int64
	for _, t := range rules {
		ok, reason := t.Rule.Eval(f, now, s.loc)
		old, had := have[t.ID]
		switch {
		case ok && !had:
			puts = append(puts, put{t, reason})
			res.Added++
		case ok && old != reason:
			puts = append(puts, put{t, reason})
			res.Changed++
		case !ok && had:
			dels = append(dels, t.ID)
			res.Removed++
		}
	}
	// A computed tag whose rule was deactivated or deleted goes too.
	for id := range have {
		if !hasTag(rules, id) {
			dels = append(dels, id)
			res.Removed++
		}
	}
	if len(puts) == 0 && len(dels) == 0 {
		return res, nil
	}
	err := s.tx.WithTx(ctx, func(ctx context.Context) error {
		for _, p := range puts {
			if err := s.store.PutCustomerTag(ctx, customerID, CustomerTag{Tag: p.tag, Reason: p.reason,
				CreatedAt: now.Truncate(time.Microsecond)}); err != nil {
				return err
			}
		}
		for _, id := range dels {
			if _, err := s.store.DeleteCustomerTag(ctx, customerID, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("recompute tags of %d: %w", customerID, err)
	}
	return res, nil
}

func hasTag(ts []Tag, id int64) bool {
	for _, t := range ts {
		if t.ID == id {
			return true
		}
	}
	return false
}

// RecomputeAll evaluates the computed tags of every customer, in id order,
// batch by batch (`kehu tags recompute`, the nightly job). progress, when
// set, is called after each batch. It stops at the first error with what it
// had done; running it again is harmless.
func (s *Service) RecomputeAll(ctx context.Context, progress func(Result)) (Result, error) {
	var total Result
	if _, err := s.EnsureDefaults(ctx); err != nil {
		return total, err
	}
	rules, err := s.rules(ctx)
	if err != nil {
		return total, fmt.Errorf("recompute tags: %w", err)
	}
	now := s.clock.Now().UTC()
	var after int64
	for {
		ids, err := s.store.CustomerIDs(ctx, after, 1000)
		if err != nil {
			return total, fmt.Errorf("recompute tags: %w", err)
		}
		if len(ids) == 0 {
			return total, nil
		}
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			r, err := s.recompute(ctx, rules, id, now)
			if err != nil {
				return total, err
			}
			total.add(r)
		}
		after = ids[len(ids)-1]
		if progress != nil {
			progress(total)
		}
	}
}
