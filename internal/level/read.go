package level

import (
	"context"
	"strconv"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/kehu"
)

// historyLimit bounds the level-change history shown with a level.
const historyLimit = 20

// CustomerLevel is a customer's level as the API and the customer page show
// it: the stored evaluation and the latest level changes.
type CustomerLevel struct {
	Assessment
	History []Change `json:"history"`
}

// CustomerLevel returns the level, reasons and recent changes of customer id
// for the actor in ctx: an id outside their data scope is ENOTFOUND, like an
// unknown one (customer.Service.Visible decides), and the read is recorded
// once (action customer.level): the reasons reveal the customer's AUM.
func (s *Service) CustomerLevel(ctx context.Context, id int64) (CustomerLevel, error) {
	if _, err := access.ActorWith(ctx, access.CustomerRead); err != nil {
		return CustomerLevel{}, err
	}
	ok, err := s.customers.Visible(ctx, id)
	if err != nil {
		return CustomerLevel{}, err
	}
	if !ok {
		return CustomerLevel{}, kehu.Errorf(kehu.ENOTFOUND, "customer not found")
	}
	var out CustomerLevel
	if out.Assessment, err = s.Assessment(ctx, id); err != nil {
		return CustomerLevel{}, err
	}
	if out.History, err = s.store.Changes(ctx, id, historyLimit); err != nil {
		return CustomerLevel{}, err
	}
	if err := s.audit.Record(ctx, audit.Entry{Action: ActionRead, CustomerID: id,
		Object: "customer:" + strconv.FormatInt(id, 10)}); err != nil {
		return CustomerLevel{}, err
	}
	return out, nil
}

// Assessment returns the stored evaluation of customer id, or for a customer
// never evaluated its stored level without reasons (Computed false). It
// checks neither scope nor permission and records nothing: it is for callers
// that have just read the customer through customer.Service.Get in the same
// request (the 360 view), whose read is the one audit record.
func (s *Service) Assessment(ctx context.Context, id int64) (Assessment, error) {
	a, err := s.store.Assessment(ctx, id)
	if kehu.ErrorCode(err) != kehu.ENOTFOUND {
		return a, err
	}
	lvl, err := s.store.CustomerLevel(ctx, id)
	if err != nil {
		return Assessment{}, err
	}
	return Assessment{CustomerID: id, Level: lvl, Reasons: []Reason{}}, nil
}

// History returns the latest level changes of customer id, newest first;
// like Assessment it is for callers that already checked scope.
func (s *Service) History(ctx context.Context, id int64, limit int) ([]Change, error) {
	return s.store.Changes(ctx, id, kehu.ClampLimit(limit))
}

// ChangesSince returns the level changes after id, oldest first: a feed for
// modules that act on level changes (marketing journeys). No customer data
// beyond ids and levels; callers apply their own scope.
func (s *Service) ChangesSince(ctx context.Context, after int64, limit int) ([]Change, error) {
	return s.store.ChangesSince(ctx, after, kehu.ClampLimit(limit))
}
