package customer

import (
	"context"
	"strings"

	"kehu/internal/access"
	"kehu/internal/audit"
)

// DiffChanges returns old → new for every recorded field that differs: the
// changes of a customer.update audit record. Bulk writers (imports, feeds)
// that change customers through their own store code record the same
// field-level changes an edit through Update records.
func DiffChanges(old, cur Customer) []audit.Change { return diffChanges(old, cur) }

// WriteScope returns the write scope of the actor in ctx for bulk writers
// (imports): who may create or change which customers, without the access
// grants that widen reads. perm is the bulk permission the caller needs on
// top of customer.write-like placement rules (for example data.import).
func (s *Service) WriteScope(ctx context.Context, perm access.Permission) (ScopeFilter, error) {
	f, _, err := actorScope(ctx, perm)
	return f, err
}

// Allows reports whether a customer homed at orgID (whose organisation has
// the materialised path orgPath) and owned by owner lies in the scope.
func (s ScopeFilter) Allows(orgID int64, orgPath string, owner *int64) bool {
	return s.allows(orgID, orgPath, owner)
}

// Unrestricted reports whether the scope reaches every customer.
func (s ScopeFilter) Unrestricted() bool {
	return s.OwnerID == 0 && s.OrgID == 0 && strings.TrimSpace(s.OrgPath) == ""
}
