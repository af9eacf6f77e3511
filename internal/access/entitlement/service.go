package entitlement

import (
	"context"
	"strconv"
	"time"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/kehu"
)

// CustomerScope answers whether a customer lies in the actor's data scope
// (grants included); customer.Service implements it. It is an interface so
// this package, which customer imports, need not import customer.
type CustomerScope interface {
	Visible(ctx context.Context, id int64) (bool, error)
}

// Service is the only way to request, grant, revoke and review wider access
// and to change who looks after a customer. Every change is audited in its
// own transaction.
type Service struct {
	store     Store
	clock     kehu.Clock
	audit     audit.Recorder
	tx        kehu.Transactor
	customers CustomerScope
}

// Deps are the collaborators of a Service.
type Deps struct {
	Store     Store
	Clock     kehu.Clock
	Audit     audit.Recorder
	Tx        kehu.Transactor
	Customers CustomerScope
}

// NewService returns a Service. It panics when a collaborator is missing:
// access changes that cannot be recorded are a wiring mistake.
func NewService(d Deps) *Service {
	if d.Store == nil || d.Clock == nil || d.Audit == nil || d.Tx == nil || d.Customers == nil {
		panic("access.NewService: Store, Clock, Audit, Tx and Customers are required")
	}
	return &Service{store: d.Store, clock: d.Clock, audit: d.Audit, tx: d.Tx, customers: d.Customers}
}

// Request files a request for temporary access. It answers the same whether
// or not the customer exists or is already in scope, so filing reveals
// nothing; approvers only ever see requests for customers in their subtree.
func (s *Service) Request(ctx context.Context, n NewRequest) (Request, error) {
	a, err := access.ActorWith(ctx, access.CustomerRead)
	if err != nil {
		return Request{}, err
	}
	if err := n.Validate(); err != nil {
		return Request{}, err
	}
	r := Request{RequesterID: a.UserID, CustomerID: n.CustomerID, Scope: n.Scope, Reason: n.Reason,
		Hours: n.Hours, Status: StatusPending, CreatedAt: s.clock.Now()}
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		if r, err = s.store.CreateRequest(ctx, r); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: audit.AccessRequest, CustomerID: r.CustomerID,
			Object: requestObject(r.ID), Reason: r.Reason,
			Changes: []audit.Change{{Field: "scope", New: r.Scope}, {Field: "hours", New: strconv.Itoa(r.Hours)}}})
	})
	if err != nil {
		return Request{}, err
	}
	return r, nil
}

// Requests lists the actor's own requests (mine), or for an approver the
// requests they may decide. Customer names are kept only on the approver's
// list.
func (s *Service) Requests(ctx context.Context, status string, mine bool) ([]Request, error) {
	a, err := access.ActorWith(ctx, access.CustomerRead)
	if err != nil {
		return nil, err
	}
	f := RequestFilter{Status: status, Limit: 200, Now: s.clock.Now()}
	if mine || !access.Can(a.Role, access.AccessApprove) {
		f.RequesterID = a.UserID
	} else {
		f.ApproverPath, f.ExcludeUser = a.OrgPath, a.UserID
	}
	rs, err := s.store.ListRequests(ctx, f)
	if err != nil {
		return nil, err
	}
	if f.RequesterID != 0 {
		for i := range rs {
			rs[i].CustomerName = ""
		}
	}
	return rs, nil
}

// approvable loads request id for the approver a: a request whose customer
// lies outside the approver's subtree (or does not exist) is ENOTFOUND.
func (s *Service) approvable(ctx context.Context, a kehu.Actor, id int64) (Request, error) {
	r, err := s.store.GetRequest(ctx, id)
	if err != nil {
		return Request{}, err
	}
	if !inSubtree(r.CustomerOrgPath, a.OrgPath) {
		return Request{}, kehu.Errorf(kehu.ENOTFOUND, "access request not found")
	}
	if r.RequesterID == a.UserID {
		return Request{}, kehu.Errorf(kehu.EFORBIDDEN, "you cannot decide your own request")
	}
	return r, nil
}

// Approve grants request id for its hours from now.
func (s *Service) Approve(ctx context.Context, id int64, comment string) (Request, error) {
	return s.decide(ctx, id, StatusApproved, comment)
}

// Deny refuses request id; the comment (why) is required.
func (s *Service) Deny(ctx context.Context, id int64, comment string) (Request, error) {
	return s.decide(ctx, id, StatusDenied, comment)
}

func (s *Service) decide(ctx context.Context, id int64, to, comment string) (Request, error) {
	a, err := access.ActorWith(ctx, access.AccessApprove)
	if err != nil {
		return Request{}, err
	}
	var v kehu.Validation
	checkText(&v, "comment", comment, maxTextRunes, to == StatusDenied)
	if err := v.Err(); err != nil {
		return Request{}, err
	}
	var out Request
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		r, err := s.approvable(ctx, a, id)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		if err := s.store.DecideRequest(ctx, id, StatusPending, to, a.UserID, now, comment); err != nil {
			return err
		}
		e := audit.Entry{Action: audit.AccessDeny, CustomerID: r.CustomerID, Object: requestObject(id), Reason: comment}
		if to == StatusApproved {
			g, err := s.store.CreateGrant(ctx, Grant{UserID: r.RequesterID, CustomerID: r.CustomerID, Scope: r.Scope,
				Kind: KindRequest, RequestID: &r.ID, Reason: r.Reason, GrantedBy: &a.UserID, CreatedAt: now,
				ExpiresAt: now.Add(time.Duration(r.Hours) * time.Hour)})
			if err != nil {
				return err
			}
			e = audit.Entry{Action: audit.AccessGrant, CustomerID: r.CustomerID, Object: grantObject(g.ID),
				Reason: comment, Changes: []audit.Change{{Field: "expires_at", New: g.ExpiresAt.Format(time.RFC3339)}}}
		}
		if err := s.audit.Record(ctx, e); err != nil {
			return err
		}
		out, err = s.store.GetRequest(ctx, id)
		return err
	})
	return out, err
}

// Revoke ends request id: the requester may withdraw or give up their own,
// an approver may end one for a customer in their subtree.
func (s *Service) Revoke(ctx context.Context, id int64, comment string) (Request, error) {
	a, err := access.ActorWith(ctx, access.CustomerRead)
	if err != nil {
		return Request{}, err
	}
	var out Request
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		r, err := s.store.GetRequest(ctx, id)
		if err != nil {
			return err
		}
		approver := access.Can(a.Role, access.AccessApprove) && inSubtree(r.CustomerOrgPath, a.OrgPath)
		if r.RequesterID != a.UserID && !approver {
			return kehu.Errorf(kehu.ENOTFOUND, "access request not found")
		}
		now := s.clock.Now()
		from := r.Status
		if (from != StatusPending && from != StatusApproved) || r.StatusAt(now) == StatusExpired {
			return kehu.Errorf(kehu.ECONFLICT, "the request is %s", r.StatusAt(now))
		}
		if err := s.store.DecideRequest(ctx, id, from, StatusRevoked, a.UserID, now, comment); err != nil {
			return err
		}
		if err := s.store.RevokeRequestGrants(ctx, id, a.UserID, now); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, audit.Entry{Action: audit.AccessRevoke, CustomerID: r.CustomerID,
			Object: requestObject(id), Reason: comment}); err != nil {
			return err
		}
		out, err = s.store.GetRequest(ctx, id)
		return err
	})
	return out, err
}

// HasGrant reports whether the actor holds an active grant of scope for
// customer id.
func (s *Service) HasGrant(ctx context.Context, customerID int64, scope string) (bool, error) {
	id, err := s.ActiveGrant(ctx, customerID, scope)
	return id != 0, err
}

// ActiveGrant returns the id of the actor's active grant of scope for
// customer id, 0 when there is none; it makes Service a
// customer.GrantChecker.
func (s *Service) ActiveGrant(ctx context.Context, customerID int64, scope string) (int64, error) {
	return Grants{store: s.store, clock: s.clock}.ActiveGrant(ctx, customerID, scope)
}

func requestObject(id int64) string { return "access_request:" + strconv.FormatInt(id, 10) }
func grantObject(id int64) string   { return "grant:" + strconv.FormatInt(id, 10) }
