package customer

import (
	"context"

	"kehu/internal/access"
	"kehu/internal/kehu"
)

// CheckWritable returns nil when the actor in ctx may change customer id's
// own data (customer.write, in the actor's write scope: the role's scope
// without the grants that widen reads). An unknown or out-of-scope id is
// ENOTFOUND, like Get. Nothing is read or recorded beyond the check: the
// caller writes its change and its own audit record. Modules that keep
// data about a customer in their own tables (contact preferences) use it.
func (s *Service) CheckWritable(ctx context.Context, id int64) error {
	scope, _, err := s.scopeOf(ctx, access.CustomerWrite)
	if err != nil {
		return err
	}
	if _, err := s.store.GetCustomer(ctx, id, scope); err != nil {
		if kehu.ErrorCode(err) == kehu.ENOTFOUND {
			return kehu.Errorf(kehu.ENOTFOUND, "customer not found")
		}
		return err
	}
	return nil
}
