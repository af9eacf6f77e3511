package tag

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// Audit actions of this module.
const (
	ActionTag       = "customer.tag"   // a tag put on a customer; Reason holds why
	ActionUntag     = "customer.untag" // a tag taken off
	ActionCatalogue = "tag.catalogue"  // a catalogue entry created, changed or deleted
)

// Store is the storage the tag service needs.
type Store interface {
	// ListTags returns the catalogue by kind and name; inactive entries
	// only when asked.
	ListTags(ctx context.Context, inactive bool) ([]Tag, error)
	// GetTag returns ENOTFOUND for an unknown id.
	GetTag(ctx context.Context, id int64) (Tag, error)
	// CreateTag returns ECONFLICT when the name is taken.
	CreateTag(ctx context.Context, t Tag) (Tag, error)
	UpdateTag(ctx context.Context, t Tag) error
	// DeleteTag returns ECONFLICT while a customer carries the tag.
	DeleteTag(ctx context.Context, id int64) error
	// EnsureTag inserts t unless a tag with its code or name exists.
	EnsureTag(ctx context.Context, t Tag) (bool, error)
	// CustomerTags returns the customer's tags unexpired at now.
	CustomerTags(ctx context.Context, customerID int64, now time.Time) ([]CustomerTag, error)
	// PutCustomerTag adds the tag or replaces its reason, author, time and
	// expiry.
	PutCustomerTag(ctx context.Context, customerID int64, ct CustomerTag) error
	// DeleteCustomerTag reports whether there was such a tag.
	DeleteCustomerTag(ctx context.Context, customerID, tagID int64) (bool, error)
	// ComputedOn returns the computed tags with a rule the customer
	// carries: tag id → reason.
	ComputedOn(ctx context.Context, customerID int64) (map[int64]string, error)
	// Facts gathers what the rules read about a customer at now.
	Facts(ctx context.Context, customerID int64, now time.Time) (Facts, error)
	// BatchStore serves the bank-wide recompute.
	BatchStore
}

// Service keeps the catalogue and the tags on customers.
type Service struct {
	store     Store
	customers *customer.Service
	clock     kehu.Clock
	audit     audit.Recorder
	tx        kehu.Transactor
	loc       *time.Location
}

// Deps are the collaborators of a Service.
type Deps struct {
	Store     Store
	Customers *customer.Service
	Clock     kehu.Clock
	Audit     audit.Recorder
	Tx        kehu.Transactor
}

// NewService returns a Service; it panics without Audit, Tx or Customers.
func NewService(d Deps) *Service {
	if d.Audit == nil || d.Tx == nil || d.Customers == nil {
		panic("tag.NewService: Deps.Audit, Deps.Tx and Deps.Customers are required")
	}
	return &Service{store: d.Store, customers: d.Customers, clock: d.Clock, audit: d.Audit, tx: d.Tx,
		loc: kehu.LoadShanghai()}
}

func tagObject(id int64) string { return "tag:" + strconv.FormatInt(id, 10) }

// Catalogue returns the tag catalogue to any signed-in user (pickers and
// filters need it); inactive entries too when asked.
func (s *Service) Catalogue(ctx context.Context, inactive bool) ([]Tag, error) {
	if _, err := access.ActorWith(ctx, ""); err != nil {
		return nil, err
	}
	return s.store.ListTags(ctx, inactive)
}

// Get returns one catalogue entry.
func (s *Service) Get(ctx context.Context, id int64) (Tag, error) {
	if _, err := access.ActorWith(ctx, ""); err != nil {
		return Tag{}, err
	}
	return s.store.GetTag(ctx, id)
}

// Create adds a catalogue entry (tag.manage).
func (s *Service) Create(ctx context.Context, n NewTag) (Tag, error) {
	if _, err := access.ActorWith(ctx, access.TagManage); err != nil {
		return Tag{}, err
	}
	now := s.clock.Now().UTC()
	t := Tag{Name: n.Name, LabelEN: n.LabelEN, Kind: n.Kind, Color: n.Color, Description: n.Description,
		Polarity: n.Polarity, DefaultExpiryDays: n.DefaultExpiryDays, Rule: n.Rule, Active: true,
		ReasonRequired: n.ReasonRequired, CreatedAt: now, UpdatedAt: now}
	if t.Kind == Emotion && t.DefaultExpiryDays == 0 {
		t.DefaultExpiryDays = DefaultEmotionDays
	}
	if err := t.validate(); err != nil {
		return Tag{}, err
	}
	err := s.tx.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if t, err = s.store.CreateTag(ctx, t); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: ActionCatalogue, Object: tagObject(t.ID),
			Changes: []audit.Change{{Field: "name", New: t.Name}, {Field: "kind", New: t.Kind},
				{Field: "rule", New: encodeRule(t.Rule)}}})
	})
	return t, err
}

// Update changes a catalogue entry (tag.manage). Built-in tags keep their
// code, so EnsureDefaults does not bring back one the bank renamed.
func (s *Service) Update(ctx context.Context, id int64, u Update) (Tag, error) {
	if _, err := access.ActorWith(ctx, access.TagManage); err != nil {
		return Tag{}, err
	}
	var next Tag
	err := s.tx.WithTx(ctx, func(ctx context.Context) error {
		cur, err := s.store.GetTag(ctx, id)
		if err != nil {
			return err
		}
		next = cur
		set(&next.Name, u.Name)
		set(&next.LabelEN, u.LabelEN)
		set(&next.Color, u.Color)
		set(&next.Description, u.Description)
		set(&next.Polarity, u.Polarity)
		set(&next.DefaultExpiryDays, u.DefaultExpiryDays)
		set(&next.Active, u.Active)
		set(&next.ReasonRequired, u.ReasonRequired)
		if u.Rule != nil {
			next.Rule = u.Rule
		}
		if err := next.validate(); err != nil {
			return err
		}
		next.UpdatedAt = s.clock.Now().UTC()
		if err := s.store.UpdateTag(ctx, next); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: ActionCatalogue, Object: tagObject(id), Changes: diff(cur, next)})
	})
	return next, err
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// diff lists the catalogue fields that changed, old → new.
func diff(a, b Tag) []audit.Change {
	var out audit.Changes
	out.Add("name", a.Name, b.Name)
	out.Add("label_en", a.LabelEN, b.LabelEN)
	out.Add("color", a.Color, b.Color)
	out.Add("description", a.Description, b.Description)
	out.Add("polarity", a.Polarity, b.Polarity)
	out.Add("default_expiry_days", strconv.Itoa(a.DefaultExpiryDays), strconv.Itoa(b.DefaultExpiryDays))
	out.Add("rule", encodeRule(a.Rule), encodeRule(b.Rule))
	out.Add("active", strconv.FormatBool(a.Active), strconv.FormatBool(b.Active))
	out.Add("reason_required", strconv.FormatBool(a.ReasonRequired), strconv.FormatBool(b.ReasonRequired))
	return out
}

// Delete removes a catalogue entry no customer carries (tag.manage); one in
// use is ECONFLICT: deactivate it instead, so the history stays readable.
func (s *Service) Delete(ctx context.Context, id int64) error {
	if _, err := access.ActorWith(ctx, access.TagManage); err != nil {
		return err
	}
	return s.tx.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.store.GetTag(ctx, id)
		if err != nil {
			return err
		}
		if err := s.store.DeleteTag(ctx, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: ActionCatalogue, Object: tagObject(id),
			Changes: []audit.Change{{Field: "name", Old: t.Name}}})
	})
}

// EnsureDefaults creates the built-in catalogue entries that are missing
// (by code or name); run before a recompute.
func (s *Service) EnsureDefaults(ctx context.Context) (int, error) {
	return EnsureDefaults(ctx, s.store, s.clock.Now())
}

// EnsureDefaults is Service.EnsureDefaults for start-up, before any service
// is wired: it needs only the store.
func EnsureDefaults(ctx context.Context, store Store, now time.Time) (int, error) {
	n := 0
	now = now.UTC()
	for _, d := range Defaults {
		d.Active, d.CreatedAt, d.UpdatedAt = true, now, now
		created, err := store.EnsureTag(ctx, d)
		if err != nil {
			return n, fmt.Errorf("default tag %s: %w", d.Code, err)
		}
		if created {
			n++
		}
	}
	return n, nil
}

// Of returns the customer's current tags without checking scope or
// recording: for a view (the 360) that read the customer through
// customer.Service.Get, which did both.
func (s *Service) Of(ctx context.Context, customerID int64) ([]CustomerTag, error) {
	tags, err := s.store.CustomerTags(ctx, customerID, s.clock.Now())
	if err != nil {
		return nil, fmt.Errorf("tags of %d: %w", customerID, err)
	}
	if tags == nil {
		tags = []CustomerTag{}
	}
	return tags, nil
}

// Add puts a manual or emotion tag on a customer in the actor's scope, or
// renews it, with one customer.tag audit entry. Emotion tags need a reason
// and always expire; computed tags follow their rule and cannot be added.
func (s *Service) Add(ctx context.Context, customerID int64, in Assign) (CustomerTag, error) {
	a, err := access.ActorWith(ctx, access.CustomerRead)
	if err != nil {
		return CustomerTag{}, err
	}
	if err := s.visible(ctx, customerID); err != nil {
		return CustomerTag{}, err
	}
	t, err := s.store.GetTag(ctx, in.TagID)
	if kehu.ErrorCode(err) == kehu.ENOTFOUND {
		return CustomerTag{}, invalid("tag_id", "no such tag")
	} else if err != nil {
		return CustomerTag{}, err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	ct := CustomerTag{Tag: t, Reason: strings.TrimSpace(in.Reason), CreatedBy: &a.UserID, CreatedByName: a.Username,
		CreatedAt: now}
	if err := s.checkAssign(t, &ct, in.ExpiresOn, now); err != nil {
		return CustomerTag{}, err
	}
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		if err := s.store.PutCustomerTag(ctx, customerID, ct); err != nil {
			return err
		}
		changes := []audit.Change{{Field: "tag", New: t.Name}}
		if ct.ExpiresAt != nil {
			changes = append(changes, audit.Change{Field: "expires_at", New: ct.ExpiresAt.Format(time.RFC3339)})
		}
		return s.audit.Record(ctx, audit.Entry{Action: ActionTag, CustomerID: customerID, Object: tagObject(t.ID),
			Changes: changes, Reason: ct.Reason})
	})
	return ct, err
}

// checkAssign applies the kind's rules to a new customer tag and sets its
// expiry: the end (Shanghai midnight) of the chosen last day, or of the
// emotion tag's default.
func (s *Service) checkAssign(t Tag, ct *CustomerTag, expiresOn *kehu.Date, now time.Time) error {
	var v kehu.Validation
	switch {
	case t.Kind == Computed:
		v.Add("tag_id", "computed tags follow their rule and cannot be put on by hand")
	case !t.Active:
		v.Add("tag_id", "the tag is no longer in use")
	}
	n := utf8.RuneCountInString(ct.Reason)
	switch {
	case t.Kind == Emotion && n < MinReason:
		v.Add("reason", "say why the customer feels so (2–200 characters)")
	case t.ReasonRequired && n < MinReason:
		v.Add("reason", "this tag needs a reason (2–200 characters)")
	case n > MaxReason:
		v.Add("reason", "must have at most 200 characters")
	}
	today := kehu.DateOf(now.In(s.loc))
	days := t.DefaultExpiryDays
	if t.Kind == Emotion && days == 0 {
		days = DefaultEmotionDays
	}
	var last kehu.Date
	switch {
	case expiresOn != nil:
		last = *expiresOn
		if last.Time().Before(today.Time()) || last.Time().After(today.Time().AddDate(0, 0, MaxExpiryDays)) {
			v.Add("expires_on", "must be a day from today to a year ahead")
		}
	case days > 0:
		last = kehu.DateOf(today.Time().AddDate(0, 0, days))
	}
	if err := v.Err(); err != nil {
		return err
	}
	if !last.IsZero() {
		end := time.Date(last.Year, last.Month, last.Day, 0, 0, 0, 0, s.loc).AddDate(0, 0, 1).UTC()
		ct.ExpiresAt = &end
	}
	return nil
}

// Remove takes a tag off a customer in the actor's scope, with one
// customer.untag entry. A computed tag cannot be removed by hand (the rule
// would put it back); a tag the customer does not carry is ENOTFOUND.
func (s *Service) Remove(ctx context.Context, customerID, tagID int64) error {
	if _, err := access.ActorWith(ctx, access.CustomerRead); err != nil {
		return err
	}
	if err := s.visible(ctx, customerID); err != nil {
		return err
	}
	t, err := s.store.GetTag(ctx, tagID)
	if err != nil {
		return err
	}
	if t.Kind == Computed {
		return kehu.Errorf(kehu.ECONFLICT, "computed tags follow their rule and cannot be removed by hand")
	}
	return s.tx.WithTx(ctx, func(ctx context.Context) error {
		ok, err := s.store.DeleteCustomerTag(ctx, customerID, tagID)
		if err != nil {
			return err
		}
		if !ok {
			return kehu.Errorf(kehu.ENOTFOUND, "the customer does not carry this tag")
		}
		return s.audit.Record(ctx, audit.Entry{Action: ActionUntag, CustomerID: customerID, Object: tagObject(tagID),
			Changes: []audit.Change{{Field: "tag", Old: t.Name}}})
	})
}

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

func invalid(field, msg string) error {
	var v kehu.Validation
	v.Add(field, msg)
	return v.Err()
}
