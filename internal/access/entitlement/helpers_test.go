package entitlement_test

import (
	"kehu/internal/auth"
	"kehu/internal/testkit"
)

func authUser(name, role string, orgID int64) auth.NewUser {
	return auth.NewUser{Username: name, Password: testkit.Password, Role: role, OrgID: orgID}
}
