package policy

import (
	"context"
	"time"

	"kehu/internal/contact"
)

// BankOpen returns a function giving the earliest instant at or after t
// outside the bank's quiet hours, under the settings in force now. A paused
// campaign's messages whose deferral passed while it was paused are
// re-slotted with it on resume, so resuming at night sends nothing before
// the quiet hours end. The customer's own contact hours are not asked again
// (they were honoured when the message was queued).
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
