package entitlement

import (
	"context"

	"kehu/internal/access"
	"kehu/internal/kehu"
)

// Grants answers which active grant the actor holds for a customer. It is
// the part of Service that customer.Service needs (a customer.GrantChecker
// for the unmask path): Service itself is built over customer.Service, so
// the customer service takes this smaller value, built from the same store
// and clock, and the two services need not be wired in a circle.
type Grants struct {
	store Store
	clock kehu.Clock
}

// NewGrants returns the grant checker over store, comparing expiries with
// clock's now so a grant lapses without any job.
func NewGrants(store Store, clock kehu.Clock) Grants {
	if store == nil || clock == nil {
		panic("entitlement.NewGrants: store and clock are required")
	}
	return Grants{store: store, clock: clock}
}

// ActiveGrant returns the id of the actor's unrevoked, unexpired grant of
// scope for customer id, 0 when there is none (or no actor).
func (g Grants) ActiveGrant(ctx context.Context, customerID int64, scope string) (int64, error) {
	a, err := access.ActorWith(ctx, "")
	if err != nil {
		return 0, err
	}
	return g.store.ActiveGrant(ctx, a.UserID, customerID, scope, g.clock.Now())
}
