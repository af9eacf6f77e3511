package entitlement

import (
	"context"

	"kehu/internal/access"
)

// AssignableRMs lists the active relationship managers a manager may make
// primary or secondary RM: those homed in the manager's own subtree, exactly
// the ones Transfer and AddSecondary accept. It reads staff, not customers,
// so nothing is recorded.
func (s *Service) AssignableRMs(ctx context.Context) ([]UserRef, error) {
	a, err := access.ActorWith(ctx, access.CustomerTransfer)
	if err != nil {
		return nil, err
	}
	return s.store.ActiveRMs(ctx, a.OrgPath)
}
