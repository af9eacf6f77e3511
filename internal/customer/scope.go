package customer

import (
	"context"

	"kehu/internal/access"
)

// ReadScope returns the read scope of the actor in ctx (access grants
// included) for modules that read customers through their own store queries,
// such as the privacy module's data-subject and bulk exports. Nothing is
// recorded here: the caller records what it shows, once, under its own action.
func (s *Service) ReadScope(ctx context.Context) (ScopeFilter, error) {
	scope, _, err := s.scopeOf(ctx, access.CustomerRead)
	return scope, err
}

// Present returns c as the actor in ctx may see it, masked by the vault
// policy exactly as List and Get answer, so an export shows no more than a
// page would.
func Present(ctx context.Context, c Customer) Customer { return present(ctx, c) }
