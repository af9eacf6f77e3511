package kehu

import "context"

// Transactor runs fn in one database transaction carried by the context it
// passes to fn: store methods called with that context join the transaction,
// so a service can make a change and record its audit entry atomically
// without knowing anything about SQL. Returning an error rolls back.
type Transactor interface {
	WithTx(ctx context.Context, fn func(ctx context.Context) error) error
}
