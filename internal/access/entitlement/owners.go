package entitlement

import (
	"context"
	"strconv"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/kehu"
)

// Owners returns who looks after customer id, for anyone who may see the
// customer (ENOTFOUND otherwise, like every customer read). The read is
// recorded once.
func (s *Service) Owners(ctx context.Context, id int64) (Owners, error) {
	if _, err := access.ActorWith(ctx, access.CustomerRead); err != nil {
		return Owners{}, err
	}
	if err := s.visible(ctx, id); err != nil {
		return Owners{}, err
	}
	o, err := s.store.Owners(ctx, id)
	if err != nil {
		return Owners{}, err
	}
	if err := s.audit.Record(ctx, audit.Entry{Action: audit.CustomerRead, CustomerID: id,
		Object: "owners:" + strconv.FormatInt(id, 10)}); err != nil {
		return Owners{}, err
	}
	return o, nil
}

// visible is ENOTFOUND unless customer id lies in the actor's scope.
func (s *Service) visible(ctx context.Context, id int64) error {
	ok, err := s.customers.Visible(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return kehu.Errorf(kehu.ENOTFOUND, "customer not found")
	}
	return nil
}

// managed loads the home of customer id for a manager: it must be homed in
// the actor's own subtree. Grants never count here, because a grant opens a
// customer for reading, not for reassigning.
func (s *Service) managed(ctx context.Context, a kehu.Actor, id int64) (Home, error) {
	h, err := s.store.CustomerHome(ctx, id)
	if err != nil {
		return Home{}, err
	}
	if !inSubtree(h.OrgPath, a.OrgPath) {
		return Home{}, kehu.Errorf(kehu.ENOTFOUND, "customer not found")
	}
	return h, nil
}

// rmIn checks that user id is an active relationship manager in the
// actor's subtree: a manager cannot hand a customer to another branch.
func (s *Service) rmIn(ctx context.Context, a kehu.Actor, field string, id int64) (UserRef, error) {
	u, err := s.store.User(ctx, id)
	if err != nil && kehu.ErrorCode(err) != kehu.ENOTFOUND {
		return UserRef{}, err
	}
	if err != nil || u.Disabled || u.Role != access.RelationshipMgr || !inSubtree(u.OrgPath, a.OrgPath) {
		var v kehu.Validation
		v.Add(field, "must be an active relationship manager in your branch")
		return UserRef{}, v.Err()
	}
	return u, nil
}

// Transfer makes t.OwnerID the primary RM of every customer in
// t.CustomerIDs, all or none, each recorded with the reason. A customer
// outside the manager's subtree is ENOTFOUND and stops the whole batch.
func (s *Service) Transfer(ctx context.Context, t TransferInput) error {
	a, err := access.ActorWith(ctx, access.CustomerTransfer)
	if err != nil {
		return err
	}
	if err := t.Validate(); err != nil {
		return err
	}
	return s.tx.WithTx(ctx, func(ctx context.Context) error {
		if _, err := s.rmIn(ctx, a, "owner_id", t.OwnerID); err != nil {
			return err
		}
		now := s.clock.Now()
		for _, id := range t.CustomerIDs {
			h, err := s.managed(ctx, a, id)
			if err != nil {
				return err
			}
			if h.OwnerID != nil && *h.OwnerID == t.OwnerID {
				continue
			}
			if err := s.store.SetOwner(ctx, Transfer{CustomerID: id, FromOwnerID: h.OwnerID, ToOwnerID: t.OwnerID,
				Reason: t.Reason, TransferredBy: a.UserID, TransferredAt: now}); err != nil {
				return err
			}
			if err := s.audit.Record(ctx, audit.Entry{Action: audit.CustomerTransfer, CustomerID: id,
				Object: customerObject(id), Reason: t.Reason, Changes: []audit.Change{{Field: "owner_id",
					Old: idText(h.OwnerID), New: strconv.FormatInt(t.OwnerID, 10)}}}); err != nil {
				return err
			}
		}
		return nil
	})
}

// AddSecondary makes user a secondary RM of customer id.
func (s *Service) AddSecondary(ctx context.Context, id, user int64) error {
	return s.changeSecondary(ctx, id, user, true)
}

// RemoveSecondary ends user's secondary RM role on customer id.
func (s *Service) RemoveSecondary(ctx context.Context, id, user int64) error {
	return s.changeSecondary(ctx, id, user, false)
}

func (s *Service) changeSecondary(ctx context.Context, id, user int64, add bool) error {
	a, err := access.ActorWith(ctx, access.CustomerTransfer)
	if err != nil {
		return err
	}
	return s.tx.WithTx(ctx, func(ctx context.Context) error {
		h, err := s.managed(ctx, a, id)
		if err != nil {
			return err
		}
		change := audit.Change{Field: "secondary_rm"}
		if add {
			if _, err := s.rmIn(ctx, a, "user_id", user); err != nil {
				return err
			}
			if h.OwnerID != nil && *h.OwnerID == user {
				var v kehu.Validation
				v.Add("user_id", "is already the primary relationship manager")
				return v.Err()
			}
			err = s.store.AddSecondary(ctx, id, user, a.UserID, s.clock.Now())
			change.New = strconv.FormatInt(user, 10)
		} else {
			err = s.store.RemoveSecondary(ctx, id, user)
			change.Old = strconv.FormatInt(user, 10)
		}
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: audit.CustomerSecondary, CustomerID: id,
			Object: customerObject(id), Changes: []audit.Change{change}})
	})
}

func idText(id *int64) string {
	if id == nil {
		return ""
	}
	return strconv.FormatInt(*id, 10)
}
