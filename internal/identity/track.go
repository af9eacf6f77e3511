package identity

import (
	"context"
	"fmt"

	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// TrackEdits wraps a customer store so every update made through Kehu (a
// person's edit, a PIPL rectification) records source "kehu" as the
// provenance of the fields it changed. Survivorship then knows the value
// was set by a person and, for priority fields, keeps it against later
// imports. Every other method is the wrapped store's.
func TrackEdits(next customer.Store, prov Store, clock kehu.Clock) customer.Store {
	return &editTracker{Store: next, prov: prov, clock: clock}
}

type editTracker struct {
	customer.Store
	prov  Store
	clock kehu.Clock
}

// UpdateCustomer reads the stored record, writes the update and records the
// changed fields, in the caller's transaction.
func (t *editTracker) UpdateCustomer(ctx context.Context, c customer.Customer) (customer.Customer, error) {
	old, err := t.Store.GetCustomer(ctx, c.ID, customer.ScopeFilter{})
	if err != nil {
		return customer.Customer{}, err
	}
	out, err := t.Store.UpdateCustomer(ctx, c)
	if err != nil {
		return out, err
	}
	var fields []string
	for _, f := range Fields {
		if fieldText(old, f) != fieldText(c, f) {
			fields = append(fields, f)
		}
	}
	if len(fields) > 0 {
		if err := t.prov.RecordEdit(ctx, c.ID, fields, t.clock.Now()); err != nil {
			return customer.Customer{}, fmt.Errorf("record provenance of customer %d: %w", c.ID, err)
		}
	}
	return out, nil
}
