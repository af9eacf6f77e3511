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
	ch, res := s.diff(rules, f, have, now)
	if len(ch.Put) == 0 && len(ch.Delete) == 0 {
		return res, nil
	}
	if err := s.tx.WithTx(ctx, func(ctx context.Context) error { return s.write(ctx, []Change{ch}) }); err != nil {
		return res, fmt.Errorf("recompute tags of %d: %w", f.CustomerID, err)
	}
	return res, nil
}

// diff evaluates the rules on f against have (tag id → reason of the
// computed tags the customer carries) and returns what must change.
func (s *Service) diff(rules []Tag, f Facts, have map[int64]string, now time.Time) (Change, Result) {
	res := Result{Customers: 1}
	ch := Change{CustomerID: f.CustomerID}
	at := now.Truncate(time.Microsecond)
	for _, t := range rules {
		ok, reason := t.Rule.Eval(f, now, s.loc)
		old, had := have[t.ID]
		switch {
		case ok && !had:
			ch.Put = append(ch.Put, CustomerTag{Tag: t, Reason: reason, CreatedAt: at})
			res.Added++
		case ok && old != reason:
			ch.Put = append(ch.Put, CustomerTag{Tag: t, Reason: reason, CreatedAt: at})
			res.Changed++
		case !ok && had:
			ch.Delete = append(ch.Delete, t.ID)
			res.Removed++
		}
	}
	// A computed tag whose rule was deactivated or deleted goes too.
	for id := range have {
		if !hasTag(rules, id) {
			ch.Delete = append(ch.Delete, id)
			res.Removed++
		}
	}
	return ch, res
}

// write applies changes; the caller holds the transaction.
func (s *Service) write(ctx context.Context, changes []Change) error {
	for _, ch := range changes {
		for _, ct := range ch.Put {
			if err := s.store.PutCustomerTag(ctx, ch.CustomerID, ct); err != nil {
				return err
			}
		}
		for _, id := range ch.Delete {
			if _, err := s.store.DeleteCustomerTag(ctx, ch.CustomerID, id); err != nil {
				return err
			}
		}
	}
	return nil
}

func hasTag(ts []Tag, id int64) bool {
	for _, t := range ts {
		if t.ID == id {
			return true
		}
	}
	return false
}

// RecomputeAll is RecomputeBank for the nightly job: it resumes an
// unfinished run, and reports the counts of the run.
func (s *Service) RecomputeAll(ctx context.Context, progress func(Result)) (Result, error) {
	run, err := s.RecomputeBank(ctx, RunOptions{Trigger: "nightly"}, func(r Run) {
		if progress != nil {
			progress(r.Result())
		}
	})
	return run.Result(), err
}

// Result is the run's counts.
func (r Run) Result() Result {
	return Result{Customers: int(r.Customers), Added: int(r.Added), Removed: int(r.Removed), Changed: int(r.Changed)}
}
