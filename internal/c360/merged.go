package c360

import (
	"context"
	"time"

	"kehu/internal/customer"
)

// Merged says that the customer is a tombstone: a duplicate merged into
// another customer (the survivor), which now holds its accounts, holdings,
// history and source records. Visible says whether the viewer may open the
// survivor (the page links it only then); MergedAt is when the merge
// happened (nil when the merge log does not know).
type Merged struct {
	Into     int64      `json:"into"`
	MergedAt *time.Time `json:"merged_at"`
	Visible  bool       `json:"visible"`
}

// merged describes a tombstone; nil for a customer that is not merged. The
// survivor's visibility is a scope check without a read (no audit record):
// the view's one record is the tombstone's.
func (s *Service) merged(ctx context.Context, c customer.Customer) (*Merged, error) {
	if c.MergedInto == 0 {
		return nil, nil
	}
	m := &Merged{Into: c.MergedInto}
	at, ok, err := s.store.MergedAt(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	if ok {
		m.MergedAt = &at
	}
	if m.Visible, err = s.customers.Visible(ctx, c.MergedInto); err != nil {
		return nil, err
	}
	return m, nil
}
