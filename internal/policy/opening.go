package policy

import (
	"context"
	"fmt"
	"time"

	"kehu/internal/contact"
)

// BankOpen returns a function giving the earliest instant at or after t
// outside the bank's quiet hours, under the settings in force now. A paused
// campaign's messages whose deferral passed while it was paused are
// re-slotted with it on resume, so resuming at night sends nothing before
// the quiet hours end. Opening adds each customer's own hours.
func (s *Service) BankOpen(ctx context.Context) (func(t time.Time) time.Time, error) {
	st, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	e := newEngine(st, s.loc)
	return func(t time.Time) time.Time {
		if e.bankAllows(t) {
			return t
		}
		if next, ok := e.nextAllowed(t, contact.Preferences{}); ok {
			return next
		}
		return t // quiet all day: the settings' validation forbids it
	}, nil
}

// Opening is BankOpen that also honours each customer's own contact days
// and hours (contact.Preferences): the returned function gives the
// earliest instant at or after t inside both the bank's hours and those of
// the customer (one of customers, whose preferences it reads now, in
// chunks). A resumed campaign's held message whose slot moved must land
// where a fresh decision would have put it, so a customer who asked for
// evenings is not messaged at 08:00 because the bank opened then. A
// customer it has no preferences for (unknown, or none set) gets the bank's
// hours alone.
func (s *Service) Opening(ctx context.Context, customers []int64) (func(customerID int64, t time.Time) time.Time, error) {
	st, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	e := newEngine(st, s.loc)
	prefs := make(map[int64]contact.Preferences)
	for start := 0; start < len(customers); start += Chunk {
		facts, err := s.store.Facts(ctx, FactQuery{}, customers[start:min(start+Chunk, len(customers))])
		if err != nil {
			return nil, fmt.Errorf("contact preferences: %w", err)
		}
		for id, f := range facts {
			if f.Prefs.ContactDays != "" || f.Prefs.ContactFrom != "" {
				prefs[id] = f.Prefs
			}
		}
	}
	return func(customerID int64, t time.Time) time.Time {
		p := prefs[customerID]
		if e.bankAllows(t) && p.Allows("", t, e.loc) {
			return t
		}
		if next, ok := e.nextAllowed(t, p); ok {
			return next
		}
		return t // no window in eight days: the preferences' validation forbids it
	}, nil
}
