package kehu

import "context"

// Actor is the authenticated user on whose behalf a call runs. Services read it
// from the context to decide scope and to attribute audit records.
type Actor struct {
	UserID   int64
	Username string
	Role     string
	OrgID    int64
	// OrgPath is the materialised path of the actor's organisation ("/1/4/9/"),
	// used to test whether another organisation lies in the actor's subtree.
	OrgPath   string
	SessionID int64
	IP        string
	UserAgent string
	// TokenID is set when the request authenticated with an API token
	// instead of a session; Scopes then lists the permissions the token
	// carries, which narrow the role's (auth.Permitted).
	TokenID int64
	Scopes  []string
}

type actorKey struct{}

// WithActor returns a context carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx and whether there is one.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}
