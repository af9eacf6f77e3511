package store

import (
	"context"
	"fmt"
	"strings"

	"kehu/internal/access"
	"kehu/internal/access/entitlement"
)

// maxRMs bounds the pick list of relationship managers; a branch subtree
// holds far fewer.
const maxRMs = 500

// ActiveRMs lists the active relationship managers of the organisations
// under orgPath (the path itself included), by username.
func (s *EntitlementStore) ActiveRMs(ctx context.Context, orgPath string) ([]entitlement.UserRef, error) {
	prefix := strings.Replace(strings.Replace(s.db.dialect.Prefix("o.path"), "?", "$2", 1), "?", "$3", 1)
	rows, err := s.db.reader(ctx).QueryContext(ctx, `SELECT u.id, u.username, u.role, o.path, u.disabled
		FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.role = $1 AND NOT u.disabled AND `+prefix+`
		ORDER BY u.username LIMIT `+fmt.Sprint(maxRMs), access.RelationshipMgr, orgPath, orgPath+"\U0010FFFF")
	if err != nil {
		return nil, fmt.Errorf("relationship managers: %w", err)
	}
	defer rows.Close()
	var out []entitlement.UserRef
	for rows.Next() {
		var u entitlement.UserRef
		if err := rows.Scan(&u.ID, &u.Username, &u.Role, &u.OrgPath, &u.Disabled); err != nil {
			return nil, fmt.Errorf("relationship managers: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
