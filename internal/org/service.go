package org

import (
	"context"

	"kehu/internal/kehu"
)

// Service reads the organisation tree. The tree itself is not personal data,
// so any signed-in user may read it; it is what their scope is drawn from.
type Service struct{ store Store }

// NewService returns an org Service.
func NewService(store Store) *Service { return &Service{store: store} }

// List returns every organisation, parents before children.
func (s *Service) List(ctx context.Context) ([]Org, error) {
	if _, ok := kehu.ActorFrom(ctx); !ok {
		return nil, kehu.Errorf(kehu.EUNAUTHORIZED, "authentication required")
	}
	return s.store.ListOrgs(ctx)
}

// Get returns one organisation.
func (s *Service) Get(ctx context.Context, id int64) (Org, error) {
	if _, ok := kehu.ActorFrom(ctx); !ok {
		return Org{}, kehu.Errorf(kehu.EUNAUTHORIZED, "authentication required")
	}
	return s.store.GetOrg(ctx, id)
}
