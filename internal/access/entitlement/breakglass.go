package entitlement

import (
	"context"
	"strconv"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/kehu"
)

// BreakGlass opens customer n.CustomerID to a call-centre agent at once, for
// access.BreakGlassDuration, without approval. It is for an inbound caller
// who cannot wait: the reason and the call's ticket are required, the opening
// is audited under its own action and waits in compliance's review queue.
// An unknown customer is ENOTFOUND (the agent could open it anyway, so the
// answer reveals nothing the opening would not).
func (s *Service) BreakGlass(ctx context.Context, n NewBreakGlass) (Grant, error) {
	a, err := access.ActorWith(ctx, access.BreakGlass)
	if err != nil {
		return Grant{}, err
	}
	if err := n.Validate(); err != nil {
		return Grant{}, err
	}
	var g Grant
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		if _, err := s.store.CustomerHome(ctx, n.CustomerID); err != nil {
			return err
		}
		now := s.clock.Now()
		g, err = s.store.CreateGrant(ctx, Grant{UserID: a.UserID, CustomerID: n.CustomerID, Scope: GrantCustomer,
			Kind: KindBreakGlass, Reason: n.Reason, Ticket: n.Ticket, CreatedAt: now,
			ExpiresAt: now.Add(BreakGlassDuration)})
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: audit.AccessBreakGlass, CustomerID: n.CustomerID,
			Object: grantObject(g.ID), Reason: n.Reason + " [" + n.Ticket + "]"})
	})
	if err != nil {
		return Grant{}, err
	}
	return g, nil
}

// BreakGlassQueue lists break-glass openings for compliance, unreviewed ones
// when reviewed is false. Reviewers see the customer's name (masked by the
// caller's display policy) to judge the opening.
func (s *Service) BreakGlassQueue(ctx context.Context, reviewed *bool) ([]Grant, error) {
	if _, err := access.ActorWith(ctx, access.AccessReview); err != nil {
		return nil, err
	}
	return s.store.ListBreakGlass(ctx, BreakGlassFilter{Reviewed: reviewed, Limit: 200})
}

// Review marks break-glass opening id as reviewed with a comment. Nobody
// reviews their own opening.
func (s *Service) Review(ctx context.Context, id int64, comment string) (Grant, error) {
	a, err := access.ActorWith(ctx, access.AccessReview)
	if err != nil {
		return Grant{}, err
	}
	var v kehu.Validation
	checkText(&v, "comment", comment, maxTextRunes, true)
	if err := v.Err(); err != nil {
		return Grant{}, err
	}
	var g Grant
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		cur, err := s.store.GetGrant(ctx, id)
		if err != nil {
			return err
		}
		if cur.Kind != KindBreakGlass {
			return kehu.Errorf(kehu.ENOTFOUND, "break-glass opening not found")
		}
		if cur.UserID == a.UserID {
			return kehu.Errorf(kehu.EFORBIDDEN, "you cannot review your own opening")
		}
		if err := s.store.ReviewGrant(ctx, id, a.UserID, s.clock.Now(), comment); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, audit.Entry{Action: audit.AccessReview, CustomerID: cur.CustomerID,
			Object: grantObject(id), Reason: comment}); err != nil {
			return err
		}
		g, err = s.store.GetGrant(ctx, id)
		return err
	})
	return g, err
}

// customerObject names a customer in an audit entry, as customer.Service does.
func customerObject(id int64) string { return "customer:" + strconv.FormatInt(id, 10) }
