package journey

import (
	"context"
	"strconv"
	"time"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// Audit actions of this module. Object is "journey:<id>".
const (
	ActionCreate  = "journey.create"
	ActionUpdate  = "journey.update"
	ActionPause   = "journey.pause"
	ActionResume  = "journey.resume"
	ActionFirings = "journey.firings" // a page of firings was shown; Count: how many
)

// Service keeps journeys for the API and the UI: definitions are read with
// customer.read and changed with marketing.write (no approval, every change
// audited with the new version); firings name customers, so a list holds
// only those in the reader's scope.
type Service struct {
	store     Store
	refs      Refs
	customers *customer.Service
	clock     kehu.Clock
	audit     audit.Recorder
	tx        kehu.Transactor
	loc       *time.Location // the bank's days (Asia/Shanghai)
}

// ServiceDeps are the collaborators of a Service.
type ServiceDeps struct {
	Store     Store
	Refs      Refs
	Customers *customer.Service
	Clock     kehu.Clock
	Audit     audit.Recorder
	Tx        kehu.Transactor
}

// NewService returns a Service; it panics without a collaborator.
func NewService(d ServiceDeps) *Service {
	if d.Store == nil || d.Refs == nil || d.Customers == nil || d.Audit == nil || d.Tx == nil {
		panic("journey.NewService: Store, Refs, Customers, Audit and Tx are required")
	}
	if d.Clock == nil {
		d.Clock = kehu.SystemClock{}
	}
	return &Service{store: d.Store, refs: d.Refs, customers: d.Customers, clock: d.Clock, audit: d.Audit, tx: d.Tx,
		loc: kehu.LoadShanghai()}
}

func object(id int64) string { return "journey:" + strconv.FormatInt(id, 10) }

// List returns every journey by name.
func (s *Service) List(ctx context.Context) ([]Journey, error) {
	if _, err := access.ActorWith(ctx, access.CustomerRead); err != nil {
		return nil, err
	}
	return s.store.ListJourneys(ctx)
}

// Get returns one journey.
func (s *Service) Get(ctx context.Context, id int64) (Journey, error) {
	if _, err := access.ActorWith(ctx, access.CustomerRead); err != nil {
		return Journey{}, err
	}
	return s.store.GetJourney(ctx, id)
}

// Versions returns a journey's saved versions, newest first.
func (s *Service) Versions(ctx context.Context, id int64) ([]Version, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return nil, err
	}
	return s.store.Versions(ctx, id)
}

// checked checks the actor may manage journeys (marketing.write) and
// validates in; it returns the actor, the definition and the time of the
// change.
func (s *Service) checked(ctx context.Context, in *Input) (kehu.Actor, Definition, time.Time, error) {
	a, err := access.ActorWith(ctx, access.MarketingWrite)
	if err != nil {
		return a, Definition{}, time.Time{}, err
	}
	d, err := s.definition(ctx, in)
	return a, d, s.clock.Now().UTC().Truncate(time.Microsecond), err
}

// definition validates in and returns its definition.
func (s *Service) definition(ctx context.Context, in *Input) (Definition, error) {
	var v kehu.Validation
	in.check(&v)
	d, perr := parseDefinition(in.Definition)
	if perr != nil {
		if ke, ok := perr.(*kehu.Error); ok {
			for _, f := range ke.Fields {
				v.Add(f.Field, f.Reason)
			}
		}
		return d, v.Err()
	}
	if err := v.Err(); err != nil {
		return d, err
	}
	return d, d.check(ctx, s.refs)
}

// Create saves a new journey at version 1 (marketing.write), active unless
// the input says paused.
func (s *Service) Create(ctx context.Context, in Input) (Journey, error) {
	a, d, now, err := s.checked(ctx, &in)
	if err != nil {
		return Journey{}, err
	}
	if in.Status == "" {
		in.Status = Active
	}
	j := Journey{Name: in.Name, Description: in.Description, Status: in.Status, Version: 1, Definition: d,
		CreatedBy: a.UserID, UpdatedBy: a.UserID, CreatedAt: now, UpdatedAt: now}
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		if j, err = s.store.CreateJourney(ctx, j); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: ActionCreate, Object: object(j.ID), Changes: []audit.Change{
			{Field: "name", New: j.Name}, {Field: "status", New: j.Status}, {Field: "version", New: "1"},
			{Field: "definition", New: d.JSON()}}})
	})
	if err != nil {
		return Journey{}, err
	}
	return s.store.GetJourney(ctx, j.ID)
}

// Update saves a new version of a journey (marketing.write); firings
// already made keep naming the version they ran under.
func (s *Service) Update(ctx context.Context, id int64, in Input) (Journey, error) {
	a, d, now, err := s.checked(ctx, &in)
	if err != nil {
		return Journey{}, err
	}
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		old, err := s.store.GetJourney(ctx, id)
		if err != nil {
			return err
		}
		j := old
		j.Name, j.Description, j.Definition, j.Version = in.Name, in.Description, d, old.Version+1
		j.UpdatedBy, j.UpdatedAt = a.UserID, now
		if in.Status != "" {
			j.Status = in.Status
		}
		if err := s.store.UpdateJourney(ctx, j); err != nil {
			return err
		}
		changes := []audit.Change{{Field: "version", Old: strconv.Itoa(old.Version), New: strconv.Itoa(j.Version)}}
		if old.Name != j.Name {
			changes = append(changes, audit.Change{Field: "name", Old: old.Name, New: j.Name})
		}
		if old.Status != j.Status {
			changes = append(changes, audit.Change{Field: "status", Old: old.Status, New: j.Status})
		}
		if o, n := old.Definition.JSON(), d.JSON(); o != n {
			changes = append(changes, audit.Change{Field: "definition", Old: o, New: n})
		}
		return s.audit.Record(ctx, audit.Entry{Action: ActionUpdate, Object: object(id), Changes: changes})
	})
	if err != nil {
		return Journey{}, err
	}
	return s.store.GetJourney(ctx, id)
}

// SetStatus pauses or resumes a journey (marketing.write). A paused
// journey does not fire; events stored while it was paused do not fire it
// when it resumes.
func (s *Service) SetStatus(ctx context.Context, id int64, status string) (Journey, error) {
	a, err := access.ActorWith(ctx, access.MarketingWrite)
	if err != nil {
		return Journey{}, err
	}
	if status != Active && status != Paused {
		return Journey{}, fieldErr("status", "must be active or paused")
	}
	action := ActionResume
	if status == Paused {
		action = ActionPause
	}
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		old, err := s.store.GetJourney(ctx, id)
		if err != nil {
			return err
		}
		if old.Status == status {
			return nil
		}
		if err := s.store.SetStatus(ctx, id, status, a.UserID, s.clock.Now().UTC()); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: action, Object: object(id),
			Changes: []audit.Change{{Field: "status", Old: old.Status, New: status}}})
	})
	if err != nil {
		return Journey{}, err
	}
	return s.store.GetJourney(ctx, id)
}

// Firings returns a page of a journey's firings, newest first, of the
// customers in the reader's scope, with one journey.firings audit record.
func (s *Service) Firings(ctx context.Context, id int64, before int64, limit int) ([]Firing, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return nil, err
	}
	scope, err := s.customers.ReadScope(ctx)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	fs, err := s.store.ListFirings(ctx, FiringFilter{JourneyID: id, Scope: scope, Before: before, Limit: limit})
	if err != nil {
		return nil, err
	}
	if len(fs) > 0 {
		err = s.audit.Record(ctx, audit.Entry{Action: ActionFirings, Object: object(id), Count: len(fs)})
	}
	return fs, err
}

// Results are a journey's results over all its firings (customer.read:
// counts name no customer).
func (s *Service) Results(ctx context.Context, id int64) (Results, error) {
	_, res, err := s.ResultsIn(ctx, id, Period{})
	return res, err
}

// ResultsIn returns the journey and its results over the firings of period
// p (customer.read): firings and customers per group, actions by outcome,
// suppressions by reason, the outbox's delivery of its messages,
// conversions, the lift against the control group with its interval, cost,
// value and ROI.
func (s *Service) ResultsIn(ctx context.Context, id int64, p Period) (Journey, Results, error) {
	if !p.From.IsZero() && !p.To.IsZero() && p.To.Time().Before(p.From.Time()) {
		return Journey{}, Results{}, fieldErr("to", "must not be before from")
	}
	j, err := s.Get(ctx, id)
	if err != nil {
		return j, Results{}, err
	}
	q := ResultsQuery{JourneyID: id, ProductID: j.Definition.ProductID, ConversionDays: j.Definition.Window(), Period: p}
	if !p.From.IsZero() {
		q.FromAt = dayStart(p.From, s.loc)
	}
	if !p.To.IsZero() {
		q.ToAt = dayStart(kehu.DateOf(p.To.Time().AddDate(0, 0, 1)), s.loc)
	}
	c, err := s.store.ResultCounts(ctx, q)
	if err != nil {
		return j, Results{}, err
	}
	return j, Compute(j, p, c), nil
}

// dayStart is the instant (UTC) a day begins in loc.
func dayStart(d kehu.Date, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc).UTC()
}
