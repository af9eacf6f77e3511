package policy

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/suitability"
)

// Audit actions of this module.
const (
	// ActionUpdate: the settings changed; Changes hold old → new per field.
	ActionUpdate = "contact_policy.update"
	// ActionCheck: a customer's contact decision was shown to staff (it
	// reveals consent, preferences and risk level).
	ActionCheck = "customer.contact_check"
)

// Chunk is how many customers DecideMany reads per round of bulk queries.
const Chunk = 1000

// Store is the storage the service needs.
type Store interface {
	// LatestSettings returns the newest saved settings; ok false when none
	// was ever saved.
	LatestSettings(ctx context.Context) (s Settings, ok bool, err error)
	// SaveSettings inserts s as the next version and returns its number.
	SaveSettings(ctx context.Context, s Settings) (int64, error)
	// Facts returns the facts of q for the customers ids (unknown ids are
	// absent).
	Facts(ctx context.Context, q FactQuery, ids []int64) (map[int64]Facts, error)
	// Concurrent reports whether Facts may be called from several
	// goroutines at once with ctx (not inside a transaction).
	Concurrent(ctx context.Context) bool
	// Product returns product id (ENOTFOUND when none); ProductByRef one by
	// code or numeric id.
	Product(ctx context.Context, id int64) (suitability.Product, error)
	ProductByRef(ctx context.Context, ref string) (suitability.Product, error)
	// RecordContacts appends contacts to the contact log, serialised with
	// every other writer of the log until the transaction ends.
	RecordContacts(ctx context.Context, cs []Contact) error
	// ContactMark returns the contact log's position: the newest committed
	// entry.
	ContactMark(ctx context.Context) (int64, error)
	// ContactedAfter returns the customers with a contact logged after
	// mark; in a transaction, it first excludes every other writer of the
	// log until that transaction ends.
	ContactedAfter(ctx context.Context, mark int64) (map[int64]bool, error)
	// AddSuppressions adds counts to a source's suppression tallies.
	AddSuppressions(ctx context.Context, kind string, id int64, counts map[string]int64, at time.Time) error
	// Suppressions returns a source's suppression tallies by reason.
	Suppressions(ctx context.Context, kind string, id int64) (map[string]int64, error)
}

// Service is the contact policy engine and its settings.
type Service struct {
	store     Store
	customers *customer.Service
	clock     kehu.Clock
	audit     audit.Recorder
	tx        kehu.Transactor
	quietDays int
	loc       *time.Location
}

// Deps are the collaborators of a Service. QuietDays is the default product
// quiet period (interaction.Service.QuietDays) until settings are saved.
type Deps struct {
	Store     Store
	Customers *customer.Service
	Clock     kehu.Clock
	Audit     audit.Recorder
	Tx        kehu.Transactor
	QuietDays int
}

// NewService returns a Service; it panics without Store, Customers, Audit
// or Tx, a wiring mistake.
func NewService(d Deps) *Service {
	if d.Store == nil || d.Customers == nil || d.Audit == nil || d.Tx == nil {
		panic("policy.NewService: Store, Customers, Audit and Tx are required")
	}
	if d.Clock == nil {
		d.Clock = kehu.SystemClock{}
	}
	return &Service{store: d.Store, customers: d.Customers, clock: d.Clock, audit: d.Audit, tx: d.Tx,
		quietDays: d.QuietDays, loc: kehu.LoadShanghai()}
}

// current returns the settings in force.
func (s *Service) current(ctx context.Context) (Settings, error) {
	st, ok, err := s.store.LatestSettings(ctx)
	if err != nil {
		return Settings{}, fmt.Errorf("contact policy settings: %w", err)
	}
	if !ok {
		return Defaults(s.quietDays), nil
	}
	return st, nil
}

// Settings returns the settings in force to a signed-in user.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	if _, ok := kehu.ActorFrom(ctx); !ok {
		return Settings{}, kehu.Errorf(kehu.EUNAUTHORIZED, "authentication required")
	}
	return s.current(ctx)
}

// AssessmentValidity implements suitability.Settings: the validity in force.
func (s *Service) AssessmentValidity(ctx context.Context) (suitability.Validity, error) {
	st, err := s.current(ctx)
	if err != nil {
		return 0, err
	}
	return suitability.Validity(st.AssessmentValidityMonths), nil
}

// UpdateSettings saves in as the next version, with one
// contact_policy.update audit record naming what changed. It needs
// marketing.write (marketing operators and administrators); a bad field is
// EINVALID naming it. A base version other than the one in force, or a save
// racing another one to the same version number, is ECONFLICT.
func (s *Service) UpdateSettings(ctx context.Context, in Input) (Settings, error) {
	a, ok := kehu.ActorFrom(ctx)
	if !ok {
		return Settings{}, kehu.Errorf(kehu.EUNAUTHORIZED, "authentication required")
	}
	if !access.Can(a.Role, access.MarketingWrite) {
		return Settings{}, kehu.Errorf(kehu.EFORBIDDEN, "your role may not change the contact policy")
	}
	if err := in.Validate(); err != nil {
		return Settings{}, err
	}
	next := in.settings()
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	next.UpdatedAt, next.UpdatedBy = &now, &a.UserID
	err := s.tx.WithTx(ctx, func(ctx context.Context) error {
		old, err := s.current(ctx)
		if err != nil {
			return err
		}
		if in.BaseVersion != nil && *in.BaseVersion != old.Version {
			return kehu.Errorf(kehu.ECONFLICT, "the contact policy was changed since version %d (now version %d): reload it and edit again",
				*in.BaseVersion, old.Version)
		}
		if next.Version, err = s.store.SaveSettings(ctx, next); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: ActionUpdate,
			Object: "contact_policy:" + strconv.FormatInt(next.Version, 10), Changes: changes(old, next)})
	})
	if err != nil {
		return Settings{}, fmt.Errorf("save contact policy: %w", err)
	}
	return next, nil
}

// validate checks the shape of a question, naming every bad field.
func validate(channel, purpose string) error {
	var v kehu.Validation
	if !slices.Contains(Channels, channel) {
		v.Add("channel", "must be one of "+strings.Join(Channels, ", "))
	}
	if !slices.Contains(Purposes, purpose) {
		v.Add("purpose", "must be marketing or service")
	}
	return v.Err()
}

// CheckRequest is the staff-facing question: the product by code or id.
type CheckRequest struct {
	CustomerID int64  `json:"customer_id"`
	Channel    string `json:"channel"`
	Product    string `json:"product"`
	Purpose    string `json:"purpose"`
}

// Check answers a staff member's "may we contact this customer?" with every
// failing reason, worded. The customer must be in the actor's read scope
// (else ENOTFOUND like an unknown id); the answer is recorded once
// (customer.contact_check).
func (s *Service) Check(ctx context.Context, q CheckRequest) (Decision, error) {
	a, ok := kehu.ActorFrom(ctx)
	if !ok {
		return Decision{}, kehu.Errorf(kehu.EUNAUTHORIZED, "authentication required")
	}
	if !access.Can(a.Role, access.CustomerRead) {
		return Decision{}, kehu.Errorf(kehu.EFORBIDDEN, "your role may not do this")
	}
	q.Product = strings.TrimSpace(q.Product)
	var v kehu.Validation
	if q.CustomerID <= 0 {
		v.Add("customer_id", "is required")
	}
	if !slices.Contains(Channels, q.Channel) {
		v.Add("channel", "must be one of "+strings.Join(Channels, ", "))
	}
	if !slices.Contains(Purposes, q.Purpose) {
		v.Add("purpose", "must be marketing or service")
	}
	if err := v.Err(); err != nil {
		return Decision{}, err
	}
	visible, err := s.customers.Visible(ctx, q.CustomerID)
	if err != nil {
		return Decision{}, err
	}
	if !visible {
		return Decision{}, kehu.Errorf(kehu.ENOTFOUND, "customer not found")
	}
	req := Request{CustomerID: q.CustomerID, Channel: q.Channel, Purpose: q.Purpose}
	if q.Product != "" {
		p, err := s.store.ProductByRef(ctx, q.Product)
		if kehu.ErrorCode(err) == kehu.ENOTFOUND {
			v.Add("product", "no product with code or id "+strconv.Quote(q.Product))
			return Decision{}, v.Err()
		}
		if err != nil {
			return Decision{}, err
		}
		req.ProductID = p.ID
	}
	d, err := s.Decide(ctx, req)
	if err != nil {
		return Decision{}, err
	}
	d.Word()
	entry := audit.Entry{Action: ActionCheck, CustomerID: q.CustomerID,
		Object: "customer:" + strconv.FormatInt(q.CustomerID, 10), Reason: q.Purpose + " " + q.Channel,
		Changes: []audit.Change{{Field: "outcome", New: d.Outcome}}}
	if err := s.audit.Record(ctx, entry); err != nil {
		return Decision{}, err
	}
	return d, nil
}

// Decide answers for one customer. Like DecideMany it checks no scope and
// records nothing: it is for trusted callers (a campaign, a journey) that
// selected the customer legitimately; staff use Check.
func (s *Service) Decide(ctx context.Context, r Request) (Decision, error) {
	ds, err := s.DecideMany(ctx, Batch{Channel: r.Channel, Purpose: r.Purpose, ProductID: r.ProductID, At: r.At},
		[]int64{r.CustomerID})
	if err != nil {
		return Decision{}, err
	}
	return ds[0], nil
}

// DecideMany answers b for every customer of ids, in the order of ids (an
// unknown id is suppressed as unknown_customer). It reads the settings and
// product once and the customers' facts with a few bulk queries per Chunk
// of ids, so a campaign can run it over a million customers; the reasons
// are not worded (Decision.Word). A withdrawal of consent committed before
// the chunk is read is honoured.
func (s *Service) DecideMany(ctx context.Context, b Batch, ids []int64) ([]Decision, error) {
	if err := validate(b.Channel, b.Purpose); err != nil {
		return nil, err
	}
	if b.At.IsZero() {
		b.At = s.clock.Now()
	}
	b.At = b.At.UTC()
	e, q, err := s.prepare(ctx, b)
	if err != nil {
		return nil, err
	}
	out := make([]Decision, len(ids))
	chunk := func(start int) error {
		part := ids[start:min(start+Chunk, len(ids))]
		facts, err := s.store.Facts(ctx, q, part)
		if err != nil {
			return fmt.Errorf("contact policy facts: %w", err)
		}
		for i, id := range part {
			out[start+i] = e.decide(id, b, facts[id])
		}
		return nil
	}
	// Chunks are independent: outside a transaction they are read on
	// several connections at once (each worker takes every workers-th
	// chunk). Inside one, a single connection serves them in turn.
	workers := 1
	if len(ids) > Chunk && s.store.Concurrent(ctx) {
		workers = min(4, runtime.GOMAXPROCS(0), (len(ids)+Chunk-1)/Chunk)
	}
	if workers == 1 {
		for start := 0; start < len(ids); start += Chunk {
			if err := chunk(start); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for start := w * Chunk; start < len(ids); start += workers * Chunk {
				if err := chunk(start); err != nil {
					errs[w] = err
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// prepare builds the engine and the fact query of a batch.
func (s *Service) prepare(ctx context.Context, b Batch) (engine, FactQuery, error) {
	st, err := s.current(ctx)
	if err != nil {
		return engine{}, FactQuery{}, err
	}
	e := newEngine(st, s.loc)
	q := FactQuery{Channel: b.Channel, Marketing: b.Purpose == PurposeMarketing}
	if b.ProductID != 0 && q.Marketing {
		p, err := s.store.Product(ctx, b.ProductID)
		if err != nil {
			return engine{}, FactQuery{}, fmt.Errorf("offered product %d: %w", b.ProductID, err)
		}
		e.product = &p
		q.ProductID = p.ID
		q.DeclinedSince = b.At.Add(-time.Duration(st.QuietPeriodDays) * 24 * time.Hour)
	}
	q.PeriodSince = b.At.Add(-time.Duration(st.PeriodDays) * 24 * time.Hour)
	l := b.At.In(s.loc)
	dayStart := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, s.loc)
	q.DayStart, q.DayEnd = dayStart.UTC(), dayStart.AddDate(0, 0, 1).UTC()
	return e, q, nil
}

// Mark returns the contact log's position, to be read before DecideMany
// when the decisions will be recorded later in a transaction (Confirm).
func (s *Service) Mark(ctx context.Context) (int64, error) { return s.store.ContactMark(ctx) }

// Confirm makes decisions taken outside a transaction hold inside it. A
// launch decides a batch on the read pool, then records the contacts and
// queues the messages in one transaction; meanwhile another launch or a
// journey may have contacted some of the same customers, and both would
// pass a frequency cap that only one should. Called in the recording
// transaction with the Mark read before DecideMany, Confirm excludes the
// other writers of the contact log until the commit (an advisory lock on
// PostgreSQL; SQLite's write transaction already does), and decides again
// — with the same batch — the customers of ds who were not suppressed and
// were contacted since mark. ds is updated in place; the number of
// decisions that changed is returned.
func (s *Service) Confirm(ctx context.Context, b Batch, mark int64, ds []Decision) (int, error) {
	since, err := s.store.ContactedAfter(ctx, mark)
	if err != nil {
		return 0, err
	}
	var ids []int64
	var at []int
	for i, d := range ds {
		if d.Outcome != Suppress && since[d.CustomerID] {
			ids = append(ids, d.CustomerID)
			at = append(at, i)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	again, err := s.DecideMany(ctx, b, ids)
	if err != nil {
		return 0, err
	}
	changed := 0
	for j, i := range at {
		if again[j].Outcome != ds[i].Outcome {
			changed++
		}
		ds[i] = again[j]
	}
	return changed, nil
}

// RecordContacts appends contacts to the contact log, which the caps count.
// It joins the transaction in ctx, so a campaign records the contacts it
// queues in the same commit as the messages. It checks no permission: the
// callers are the campaign and journey engines, which did.
func (s *Service) RecordContacts(ctx context.Context, cs []Contact) error {
	for i := range cs {
		c := &cs[i]
		if err := validate(c.Channel, c.Purpose); err != nil {
			return fmt.Errorf("contact %d: %w", i, err)
		}
		if !slices.Contains(SourceKinds, c.SourceKind) {
			return kehu.Errorf(kehu.EINVALID, "contact %d: source kind %q is not campaign, journey or manual", i, c.SourceKind)
		}
		if c.At.IsZero() {
			c.At = s.clock.Now()
		}
		c.At = c.At.UTC()
	}
	if len(cs) == 0 {
		return nil
	}
	return s.store.RecordContacts(ctx, cs)
}

// SaveTally adds t's suppressions to the stored counts of a source (a
// campaign or journey id), so its results show "suppressed by reason"
// across runs.
func (s *Service) SaveTally(ctx context.Context, kind string, id int64, t Tally) error {
	if !slices.Contains(SourceKinds, kind) {
		return kehu.Errorf(kehu.EINVALID, "source kind %q is not campaign, journey or manual", kind)
	}
	if len(t.Suppressed) == 0 {
		return nil
	}
	return s.store.AddSuppressions(ctx, kind, id, t.Suppressed, s.clock.Now().UTC())
}

// Suppressions returns the stored suppression counts of a source by reason.
func (s *Service) Suppressions(ctx context.Context, kind string, id int64) (map[string]int64, error) {
	return s.store.Suppressions(ctx, kind, id)
}
