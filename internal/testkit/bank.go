package testkit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"kehu/internal/access"
	"kehu/internal/access/entitlement"
	"kehu/internal/account"
	"kehu/internal/audit"
	"kehu/internal/auth"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/org"
	"kehu/internal/store"
)

// Password is the password of every user the Bank builder creates.
const Password = "Test-pass-2026"

// FastAuth is an auth config with cheap hashing so tests stay quick; the
// production parameters are exercised by the auth package's own tests.
var FastAuth = auth.Config{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour,
	Argon2: auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}}

// Bank is a small bank for tests: a head office, one provincial and one city
// branch, two outlets (A and B) under the city, a user of every role, and
// customers at both outlets.
type Bank struct {
	DB    *store.DB
	Auth  *auth.Service
	Clock *Clock
	// Audit is the audit trail every service of the bank records to.
	Audit                                        *audit.Log
	HeadOffice, Province, City, OutletA, OutletB org.Org
	// Users by username: admin, hq_marketing, hq_compliance, hq_callcenter,
	// branch_manager (city), teller_a, lobby_a, rm_a, rm_a2, teller_b, rm_b,
	// hq_steward (data_steward), hq_integration (integration).
	Users map[string]auth.User
	// Customers: a1, a2 (outlet A, owned by rm_a), a3 (outlet A, owned by
	// rm_a2), b1 (outlet B, owned by rm_b), corp_a (corporate at outlet A, rm_a).
	Customers map[string]customer.Customer
}

// NewBank builds the test bank on db.
func NewBank(t testing.TB, db *store.DB) *Bank {
	t.Helper()
	ctx := context.Background()
	clock := NewClock(time.Date(2026, 3, 2, 1, 30, 0, 0, time.UTC))
	trail := audit.NewLog(db.Audit(), db, clock)
	cfg := FastAuth
	cfg.Audit = trail
	as, err := auth.NewService(db.Users(), clock, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := &Bank{DB: db, Auth: as, Clock: clock, Audit: trail, Users: map[string]auth.User{},
		Customers: map[string]customer.Customer{}}
	mk := func(parent *org.Org, code, name, level string) org.Org {
		o := org.Org{Code: code, Name: name, NameEN: code, Level: level, CreatedAt: clock.Now(), RegionCode: "330100", City: "杭州"}
		if parent != nil {
			o.ParentID = &parent.ID
		}
		o, err := db.Orgs().CreateOrg(ctx, o)
		if err != nil {
			t.Fatalf("create org %s: %v", code, err)
		}
		return o
	}
	b.HeadOffice = mk(nil, "HO", "总行", org.HeadOffice)
	b.Province = mk(&b.HeadOffice, "ZJ", "浙江省分行", org.ProvinceBranch)
	b.City = mk(&b.Province, "HZ", "杭州分行", org.CityBranch)
	b.OutletA = mk(&b.City, "HZ-A", "西湖支行", org.SubBranch)
	b.OutletB = mk(&b.City, "HZ-B", "滨江支行", org.SubBranch)
	for _, u := range []struct {
		name, role string
		org        org.Org
	}{
		{"admin", access.Admin, b.HeadOffice}, {"hq_marketing", access.MarketingOperator, b.HeadOffice},
		{"hq_compliance", access.ComplianceAuditor, b.HeadOffice}, {"hq_callcenter", access.CallCenterAgent, b.HeadOffice},
		{"branch_manager", access.BranchManager, b.City}, {"teller_a", access.Teller, b.OutletA},
		{"lobby_a", access.LobbyManager, b.OutletA}, {"rm_a", access.RelationshipMgr, b.OutletA},
		{"rm_a2", access.RelationshipMgr, b.OutletA}, {"teller_b", access.Teller, b.OutletB},
		{"rm_b", access.RelationshipMgr, b.OutletB},
		// Added last so the users above keep their ids.
		{"hq_steward", access.DataSteward, b.HeadOffice}, {"hq_integration", access.Integration, b.HeadOffice},
	} {
		created, err := as.AddUser(ctx, auth.NewUser{Username: u.name, Password: Password, Role: u.role, OrgID: u.org.ID})
		if err != nil {
			t.Fatalf("add user %s: %v", u.name, err)
		}
		created.OrgPath = u.org.Path
		b.Users[u.name] = created
	}
	cs := b.CustomerService()
	for _, c := range []struct {
		key, name, id, mobile, owner string
		outlet                       org.Org
		corporate                    bool
	}{
		{"a1", "张伟", "330106198503070017", "13800000001", "rm_a", b.OutletA, false},
		{"a2", "王芳", "330106199011230028", "13800000002", "rm_a", b.OutletA, false},
		{"a3", "李娜", "330106197702140046", "13800000003", "rm_a2", b.OutletA, false},
		{"b1", "刘洋", "330108198807210011", "13800000004", "rm_b", b.OutletB, false},
		{"corp_a", "杭州西湖茶叶有限公司", "91330106MA2B3C4D5E", "", "rm_a", b.OutletA, true},
	} {
		owner := b.Users[c.owner].ID
		n := customer.New{Type: customer.Individual, Name: c.name, IDNumber: c.id, Mobile: c.mobile,
			OrgID: c.outlet.ID, OwnerID: &owner}
		if c.corporate {
			n.Type, n.IDNumber = customer.Corporate, fixUSCC(c.id)
		} else {
			n.IDNumber = fixResident(c.id)
		}
		created, err := cs.Create(b.As("admin"), n)
		if err != nil {
			t.Fatalf("create customer %s: %v", c.key, err)
		}
		// The service answers masked; tests compare with the clear record.
		if created, err = db.Customers().GetCustomer(ctx, created.ID, customer.ScopeFilter{}); err != nil {
			t.Fatalf("read customer %s: %v", c.key, err)
		}
		b.Customers[c.key] = created
	}
	return b
}

// CustomerService returns a customer service wired like `kehu serve`'s:
// recording to b.Audit in the bank's transactions, honouring c2_fields grants.
func (b *Bank) CustomerService() *customer.Service {
	return customer.NewService(customer.Deps{Store: b.DB.Customers(), Clock: b.Clock, Audit: b.Audit, Tx: b.DB,
		Grants: entitlement.NewGrants(b.DB.Entitlements(), b.Clock)})
}

// AccountService returns an account service over b.CustomerService().
func (b *Bank) AccountService() *account.Service {
	return account.NewService(account.Deps{Store: b.DB.Accounts(), Customers: b.CustomerService(), Clock: b.Clock})
}

// EntitlementService returns the ownership and access-grant service over the
// bank, recording to b.Audit and checking scope through CustomerService.
func (b *Bank) EntitlementService() *entitlement.Service {
	return entitlement.NewService(entitlement.Deps{Store: b.DB.Entitlements(), Clock: b.Clock, Audit: b.Audit,
		Tx: b.DB, Customers: b.CustomerService()})
}

// As returns a context acting as the named user.
func (b *Bank) As(username string) context.Context {
	u, ok := b.Users[username]
	if !ok {
		panic(fmt.Sprintf("testkit: no user %q in the test bank", username))
	}
	return kehu.WithActor(context.Background(), kehu.Actor{UserID: u.ID, Username: u.Username, Role: u.Role,
		OrgID: u.OrgID, OrgPath: u.OrgPath})
}
