package account

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// RecentTransactions is how many transactions a summary carries: a screen's
// worth for the customer page, not a statement.
const RecentTransactions = 20

// maxRows bounds every per-customer list so one unusual customer (a company
// with thousands of accounts) cannot make a page unbounded.
const maxRows = 200

// Store is the storage the account service needs. Every method reads one
// customer's rows; the service has already checked the customer is in scope.
type Store interface {
	CustomerAccounts(ctx context.Context, customerID int64, limit int) ([]Account, error)
	CustomerHoldings(ctx context.Context, customerID int64, limit int) ([]Holding, error)
	// RecentTransactions returns the newest transactions first.
	RecentTransactions(ctx context.Context, customerID int64, limit int) ([]Transaction, error)
	// CustomerRelationships returns links in both directions with the related
	// customer's name and type.
	CustomerRelationships(ctx context.Context, customerID int64, limit int) ([]Relationship, error)
	// CustomerTags returns the tags not expired at now.
	CustomerTags(ctx context.Context, customerID int64, now time.Time) ([]Tag, error)
	// StaffNames returns the display names of the users with ids; unknown ids
	// are absent from the map.
	StaffNames(ctx context.Context, ids []int64) (map[int64]string, error)
}

// Service reads a customer's holdings with the bank. It goes through
// customer.Service first, so the data scope that guards the profile guards
// the accounts too.
type Service struct {
	store     Store
	customers *customer.Service
	clock     kehu.Clock
}

// Deps are the collaborators of a Service. There is no recorder: a summary's
// one audit record (customer.read) is written by customer.Service.Get, the
// only place the summary reads the customer, so a customer page leaves
// exactly one record.
type Deps struct {
	Store     Store
	Customers *customer.Service
	Clock     kehu.Clock
}

// NewService returns a Service over d.Store.
func NewService(d Deps) *Service {
	return &Service{store: d.Store, customers: d.Customers, clock: d.Clock}
}

// Summary returns the customer id with accounts, holdings, recent
// transactions, relationships and tags. An id outside the actor's scope is
// ENOTFOUND, exactly like an unknown id.
func (s *Service) Summary(ctx context.Context, id int64) (Summary, error) {
	return s.SummaryOf(ctx, id, Parts{Transactions: true, Tags: true})
}

// Parts names the optional reads of a summary. The 360 view reads a
// customer's transactions (a filtered page) and tags (tag.Service) its own
// way and asks for neither, saving two queries per view.
type Parts struct {
	Transactions, Tags bool
}

// SummaryOf is Summary with only the optional parts p asks for; the others
// are left empty.
func (s *Service) SummaryOf(ctx context.Context, id int64, p Parts) (Summary, error) {
	c, err := s.customers.Get(ctx, id)
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{Customer: c}
	if sum.Accounts, err = s.store.CustomerAccounts(ctx, id, maxRows); err != nil {
		return Summary{}, fmt.Errorf("summary %d: %w", id, err)
	}
	if sum.Holdings, err = s.store.CustomerHoldings(ctx, id, maxRows); err != nil {
		return Summary{}, fmt.Errorf("summary %d: %w", id, err)
	}
	if p.Transactions {
		if sum.Transactions, err = s.store.RecentTransactions(ctx, id, RecentTransactions); err != nil {
			return Summary{}, fmt.Errorf("summary %d: %w", id, err)
		}
	}
	if sum.Relationships, err = s.relationships(ctx, id); err != nil {
		return Summary{}, fmt.Errorf("summary %d: %w", id, err)
	}
	if p.Tags {
		if sum.Tags, err = s.store.CustomerTags(ctx, id, s.clock.Now()); err != nil {
			return Summary{}, fmt.Errorf("summary %d: %w", id, err)
		}
	}
	if c.OwnerID != nil {
		names, err := s.store.StaffNames(ctx, []int64{*c.OwnerID})
		if err != nil {
			return Summary{}, fmt.Errorf("summary %d: %w", id, err)
		}
		sum.OwnerName = names[*c.OwnerID]
	}
	mask(ctx, &sum)
	return sum, nil
}

// UnmaskAccountNo returns the clear number of account accountID of customer
// customerID. customer.Service.UnmaskRelated applies the unmask rules (the
// customer.unmask permission, the customer in scope, a 2–200 character
// reason) and writes the customer.unmask record (field account_no, object
// account:<id>, never the number) in the transaction of the read. An account
// that is not the customer's is ENOTFOUND, like an unknown one.
func (s *Service) UnmaskAccountNo(ctx context.Context, customerID, accountID int64, reason string) (string, error) {
	object := "account:" + strconv.FormatInt(accountID, 10)
	return s.customers.UnmaskRelated(ctx, customerID, "account_no", object, reason, func(ctx context.Context) (string, error) {
		accounts, err := s.store.CustomerAccounts(ctx, customerID, maxRows)
		if err != nil {
			return "", fmt.Errorf("unmask account %d: %w", accountID, err)
		}
		for _, acc := range accounts {
			if acc.ID == accountID {
				return acc.AccountNo, nil
			}
		}
		return "", kehu.Errorf(kehu.ENOTFOUND, "no such account")
	})
}

// relationships marks which related customers the actor may open, asking the
// customer service so the rule is the same one that guards the profile.
func (s *Service) relationships(ctx context.Context, id int64) ([]Relationship, error) {
	rels, err := s.store.CustomerRelationships(ctx, id, maxRows)
	if err != nil {
		return nil, err
	}
	for i := range rels {
		// Visible, not Get: linking a relative is not a read of their data
		// and must not add audit records to this customer's page view.
		if rels[i].Visible, err = s.customers.Visible(ctx, rels[i].CustomerID); err != nil {
			return nil, err
		}
	}
	return rels, nil
}

// StaffNames returns the display names of staff users (relationship managers
// on a customer list). Staff names are not customer data, but they are still
// internal: only a signed-in actor may read them.
func (s *Service) StaffNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	if _, ok := kehu.ActorFrom(ctx); !ok {
		return nil, kehu.Errorf(kehu.EUNAUTHORIZED, "authentication required")
	}
	if len(ids) == 0 {
		return map[int64]string{}, nil
	}
	if len(ids) > kehu.MaxPageSize {
		return nil, kehu.Errorf(kehu.EINVALID, "at most %d ids at once", kehu.MaxPageSize)
	}
	return s.store.StaffNames(ctx, ids)
}
