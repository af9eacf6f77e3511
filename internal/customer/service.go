package customer

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/kehu"
)

// Store is the storage the customer service needs. Implementations must apply
// Filter.Scope and ScopeFilter exactly: it is the data-scope boundary.
type Store interface {
	ListCustomers(ctx context.Context, f Filter) (Page, error)
	// GetCustomer returns ENOTFOUND when id does not exist or lies outside scope.
	GetCustomer(ctx context.Context, id int64, scope ScopeFilter) (Customer, error)
	CreateCustomer(ctx context.Context, c Customer) (Customer, error)
	UpdateCustomer(ctx context.Context, c Customer) (Customer, error)
	// OrgPath returns the materialised path of an organisation, ENOTFOUND if none.
	OrgPath(ctx context.Context, orgID int64) (string, error)
	// UserExists reports whether an active user with id exists.
	UserExists(ctx context.Context, id int64) (bool, error)
}

// Service is the only way callers read or change customers; it resolves the
// actor's data scope from the context and checks permissions.
type Service struct {
	store Store
	clock kehu.Clock
	audit audit.Recorder
	tx    kehu.Transactor
	// grants may be nil: then no grant opens unmasking (fail closed).
	grants GrantChecker
}

// Deps are the collaborators of a Service. Audit and Tx are what make every
// read and change of a customer leave an audit record by construction: a
// change and its record commit in one transaction.
type Deps struct {
	Store Store
	Clock kehu.Clock
	Audit audit.Recorder
	Tx    kehu.Transactor
	// Grants lets a user without customer.unmask unmask one customer's
	// fields on an approved c2_fields grant; nil honours no such grant.
	Grants GrantChecker
}

// GrantChecker answers which active access grant the actor in ctx holds for
// a customer (entitlement.Grants and entitlement.Service implement it). It
// is an interface because entitlement already imports this package.
type GrantChecker interface {
	// ActiveGrant returns the grant's id, 0 when the actor holds none of
	// scope for customerID.
	ActiveGrant(ctx context.Context, customerID int64, scope string) (int64, error)
}

// GrantC2Fields is the grant scope that opens a customer's C2 fields to
// unmasking (entitlement.GrantC2Fields names the same value).
const GrantC2Fields = "c2_fields"

// NewService returns a Service over d.Store. It panics without Audit or Tx:
// a customer service that cannot record what it shows is a wiring mistake.
func NewService(d Deps) *Service {
	if d.Audit == nil || d.Tx == nil {
		panic("customer.NewService: Deps.Audit and Deps.Tx are required")
	}
	return &Service{store: d.Store, clock: d.Clock, audit: d.Audit, tx: d.Tx, grants: d.Grants}
}

// scopeOf turns the actor in ctx into a ScopeFilter, refusing callers without
// the permission p. Reads also reach the customers the actor holds an active
// access grant for; writes never do, because a grant is for serving or
// reviewing a customer, not for taking over the record.
func (s *Service) scopeOf(ctx context.Context, p access.Permission) (ScopeFilter, kehu.Actor, error) {
	f, a, err := actorScope(ctx, p)
	if err == nil && p == access.CustomerRead && f != (ScopeFilter{}) {
		f.GrantedTo, f.Now = a.UserID, s.clock.Now()
	}
	return f, a, err
}

// actorScope is the actor's own scope, before any grant.
func actorScope(ctx context.Context, p access.Permission) (ScopeFilter, kehu.Actor, error) {
	a, ok := kehu.ActorFrom(ctx)
	if !ok {
		return ScopeFilter{}, a, kehu.Errorf(kehu.EUNAUTHORIZED, "authentication required")
	}
	if !access.Can(a.Role, p) {
		return ScopeFilter{}, a, kehu.Errorf(kehu.EFORBIDDEN, "your role may not do this")
	}
	switch access.DefaultScope(a.Role) {
	case access.ScopeOwn:
		return ScopeFilter{OwnerID: a.UserID}, a, nil
	case access.ScopeOutlet:
		return ScopeFilter{OrgID: a.OrgID}, a, nil
	case access.ScopeSubtree:
		return ScopeFilter{OrgPath: a.OrgPath}, a, nil
	default:
		return ScopeFilter{}, a, nil
	}
}

// allows reports whether a customer homed at orgID (with orgPath) and owned by
// owner lies in s; used before writes that place or move a customer.
func (s ScopeFilter) allows(orgID int64, orgPath string, owner *int64) bool {
	switch {
	case s.OwnerID != 0:
		return owner != nil && *owner == s.OwnerID
	case s.OrgID != 0:
		return orgID == s.OrgID
	case s.OrgPath != "":
		return strings.HasPrefix(orgPath, s.OrgPath)
	}
	return true
}

// List returns a page of customers in the actor's scope.
func (s *Service) List(ctx context.Context, f Filter) (Page, error) {
	scope, _, err := s.scopeOf(ctx, access.CustomerRead)
	if err != nil {
		return Page{}, err
	}
	f.Scope = scope
	f.Limit = kehu.ClampLimit(f.Limit)
	f.Now = s.clock.Now()
	p, err := s.store.ListCustomers(ctx, f)
	if err != nil {
		return Page{}, fmt.Errorf("list customers: %w", err)
	}
	// The query itself may be an ID number or a mobile, so it is not recorded.
	if err := s.audit.Record(ctx, audit.Entry{Action: audit.CustomerList, Object: "customers",
		Count: len(p.Items)}); err != nil {
		return Page{}, err
	}
	for i := range p.Items {
		p.Items[i] = present(ctx, p.Items[i])
	}
	return p, nil
}

// Get returns one customer in the actor's scope; anything else is ENOTFOUND so
// a user cannot learn that an out-of-scope id exists.
func (s *Service) Get(ctx context.Context, id int64) (Customer, error) {
	scope, _, err := s.scopeOf(ctx, access.CustomerRead)
	if err != nil {
		return Customer{}, err
	}
	c, err := s.store.GetCustomer(ctx, id, scope)
	if err != nil {
		return Customer{}, err
	}
	if err := s.audit.Record(ctx, audit.Entry{Action: audit.CustomerRead, CustomerID: id,
		Object: customerObject(id)}); err != nil {
		return Customer{}, err
	}
	return present(ctx, c), nil
}

// Visible reports whether customer id lies in the actor's scope, without
// reading or recording its data: it only decides whether to link a related
// customer, so it is not a read of personal data.
func (s *Service) Visible(ctx context.Context, id int64) (bool, error) {
	scope, _, err := s.scopeOf(ctx, access.CustomerRead)
	if err != nil {
		return false, err
	}
	_, err = s.store.GetCustomer(ctx, id, scope)
	switch kehu.ErrorCode(err) {
	case "":
		return true, nil
	case kehu.ENOTFOUND:
		return false, nil
	}
	return false, err
}

// customerObject names a customer in an audit entry.
func customerObject(id int64) string { return "customer:" + strconv.FormatInt(id, 10) }

// Create validates n and stores a new customer. The new customer must land in
// the actor's own scope; an RM creating a customer becomes its owner unless
// another owner is named.
func (s *Service) Create(ctx context.Context, n New) (Customer, error) {
	scope, a, err := s.scopeOf(ctx, access.CustomerWrite)
	if err != nil {
		return Customer{}, err
	}
	if err := n.Validate(); err != nil {
		return Customer{}, err
	}
	if n.OwnerID == nil && a.Role == access.RelationshipMgr {
		n.OwnerID = &a.UserID
	}
	if err := s.checkPlacement(ctx, a, scope, n.OrgID, n.OwnerID); err != nil {
		return Customer{}, err
	}
	now := s.clock.Now()
	c := Customer{Type: n.Type, Name: n.Name, IDType: n.IDType, IDNumber: n.IDNumber, Mobile: n.Mobile,
		Email: n.Email, Gender: n.Gender, BirthDate: n.BirthDate, Address: n.Address, OrgID: n.OrgID,
		OwnerID: n.OwnerID, Industry: n.Industry, RegisteredCapital: n.RegisteredCapital,
		Status: StatusActive, Level: LevelStandard, CreatedAt: now, UpdatedAt: now}
	if n.IDType == ResidentID && len(n.IDNumber) == 18 {
		c.RegionCode = n.IDNumber[:6]
	}
	if n.Type == Corporate {
		c.RegionCode = n.IDNumber[2:8]
	}
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if c, err = s.store.CreateCustomer(ctx, c); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: audit.CustomerCreate, CustomerID: c.ID,
			Object: customerObject(c.ID), Changes: createdChanges(c)})
	})
	if err != nil {
		return Customer{}, err
	}
	return present(ctx, c), nil
}

// Update applies u to the customer id within the actor's scope.
func (s *Service) Update(ctx context.Context, id int64, u Update) (Customer, error) {
	scope, a, err := s.scopeOf(ctx, access.CustomerWrite)
	if err != nil {
		return Customer{}, err
	}
	var next Customer
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		// Read inside the transaction so the recorded old values are the ones
		// this write replaces.
		cur, err := s.store.GetCustomer(ctx, id, scope)
		if err != nil {
			return err
		}
		if next, err = u.apply(cur); err != nil {
			return err
		}
		if u.OrgID != nil || u.OwnerID != nil {
			if err := s.checkPlacement(ctx, a, scope, next.OrgID, next.OwnerID); err != nil {
				return err
			}
		}
		next.UpdatedAt = s.clock.Now()
		if next, err = s.store.UpdateCustomer(ctx, next); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: audit.CustomerUpdate, CustomerID: id,
			Object: customerObject(id), Changes: diffChanges(cur, next)})
	})
	if err != nil {
		return Customer{}, err
	}
	return present(ctx, next), nil
}

// checkPlacement verifies the home organisation and owner exist and that the
// result stays inside the actor's scope and organisation subtree, so nobody
// can push a customer out of their own reach or into another branch's.
func (s *Service) checkPlacement(ctx context.Context, a kehu.Actor, scope ScopeFilter, orgID int64, owner *int64) error {
	var v kehu.Validation
	path, err := s.store.OrgPath(ctx, orgID)
	if kehu.ErrorCode(err) == kehu.ENOTFOUND {
		v.Add("org_id", "no such organisation")
	} else if err != nil {
		return err
	}
	if owner != nil {
		ok, err := s.store.UserExists(ctx, *owner)
		if err != nil {
			return err
		}
		if !ok {
			v.Add("owner_id", "no such active user")
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	if !scope.allows(orgID, path, owner) || !strings.HasPrefix(path, a.OrgPath) {
		return kehu.Errorf(kehu.EFORBIDDEN, "the customer would be outside your data scope")
	}
	return nil
}
