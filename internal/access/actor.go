package access

import (
	"context"

	"kehu/internal/kehu"
)

// ActorWith returns the actor in ctx if their role holds p ("" for any
// signed-in user): EUNAUTHORIZED without an actor, EFORBIDDEN without the
// permission. Services call it first, so no page, handler or job reaches
// their data by forgetting a check.
func ActorWith(ctx context.Context, p Permission) (kehu.Actor, error) {
	a, ok := kehu.ActorFrom(ctx)
	if !ok {
		return a, kehu.Errorf(kehu.EUNAUTHORIZED, "authentication required")
	}
	if p != "" && !Can(a.Role, p) {
		return a, kehu.Errorf(kehu.EFORBIDDEN, "your role may not do this")
	}
	return a, nil
}
