package contact

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// ActionUpdate is the audit action of a change of preferences. Changes hold
// old → new per field; the note is recorded by its length only, since it may
// hold what the customer said.
const ActionUpdate = "customer.preferences"

// Store is the storage the service needs.
type Store interface {
	// Preferences returns the customer's preferences, the zero value if
	// none were recorded.
	Preferences(ctx context.Context, customerID int64) (Preferences, error)
	// PreferencesOf returns the recorded preferences of these customers;
	// customers without any are absent.
	PreferencesOf(ctx context.Context, customerIDs []int64) (map[int64]Preferences, error)
	// SavePreferences replaces the customer's preferences.
	SavePreferences(ctx context.Context, customerID int64, p Preferences) error
}

// Service reads and changes contact preferences. Scope comes from
// customer.Service: whoever may change a customer may change how they want
// to be contacted.
type Service struct {
	store     Store
	customers *customer.Service
	clock     kehu.Clock
	audit     audit.Recorder
	tx        kehu.Transactor
}

// Deps are the collaborators of a Service.
type Deps struct {
	Store     Store
	Customers *customer.Service
	Clock     kehu.Clock
	Audit     audit.Recorder
	Tx        kehu.Transactor
}

// NewService returns a Service; it panics without Store, Customers, Audit
// or Tx, a wiring mistake.
func NewService(d Deps) *Service {
	if d.Store == nil || d.Customers == nil || d.Audit == nil || d.Tx == nil {
		panic("contact.NewService: Store, Customers, Audit and Tx are required")
	}
	if d.Clock == nil {
		d.Clock = kehu.SystemClock{}
	}
	return &Service{store: d.Store, customers: d.Customers, clock: d.Clock, audit: d.Audit, tx: d.Tx}
}

// Set replaces customer id's preferences with in and records one
// customer.preferences entry with what changed. It needs customer.write and
// the customer in the actor's write scope (else ENOTFOUND, like an unknown
// id); a bad field is EINVALID naming it.
func (s *Service) Set(ctx context.Context, id int64, in Input) (Preferences, error) {
	a, ok := kehu.ActorFrom(ctx)
	if !ok {
		return Preferences{}, kehu.Errorf(kehu.EUNAUTHORIZED, "authentication required")
	}
	if !access.Can(a.Role, access.CustomerWrite) {
		return Preferences{}, kehu.Errorf(kehu.EFORBIDDEN, "your role may not do this")
	}
	if err := s.customers.CheckWritable(ctx, id); err != nil {
		return Preferences{}, err
	}
	in.normalize()
	if err := in.Validate(); err != nil {
		return Preferences{}, err
	}
	next := in.apply()
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	next.UpdatedAt, next.UpdatedBy = &now, &a.UserID
	err := s.tx.WithTx(ctx, func(ctx context.Context) error {
		// Read inside the transaction so the recorded old values are the
		// ones this write replaces.
		old, err := s.store.Preferences(ctx, id)
		if err != nil {
			return err
		}
		if err := s.store.SavePreferences(ctx, id, next); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: ActionUpdate, CustomerID: id,
			Object: "customer:" + strconv.FormatInt(id, 10), Changes: diff(old, next)})
	})
	if err != nil {
		return Preferences{}, fmt.Errorf("preferences of %d: %w", id, err)
	}
	return next, nil
}

// For returns the preferences of many customers at once (customers without
// any get the zero value: no restriction). It checks no scope and records
// nothing: it is for trusted callers that selected the customers through
// customer.Service, such as the contact policy of a campaign launch.
func (s *Service) For(ctx context.Context, customerIDs []int64) (map[int64]Preferences, error) {
	out := map[int64]Preferences{}
	const chunk = 500
	for i := 0; i < len(customerIDs); i += chunk {
		got, err := s.store.PreferencesOf(ctx, customerIDs[i:min(i+chunk, len(customerIDs))])
		if err != nil {
			return nil, fmt.Errorf("contact preferences: %w", err)
		}
		for id, p := range got {
			out[id] = p
		}
	}
	for _, id := range customerIDs {
		if _, ok := out[id]; !ok {
			out[id] = Preferences{}
		}
	}
	return out, nil
}

// diff lists the fields that differ, old → new.
func diff(old, cur Preferences) []audit.Change {
	var out audit.Changes
	out.Add("preferred_channel", old.PreferredChannel, cur.PreferredChannel)
	out.Add("contact_from", old.ContactFrom, cur.ContactFrom)
	out.Add("contact_to", old.ContactTo, cur.ContactTo)
	out.Add("contact_days", old.ContactDays, cur.ContactDays)
	out.Add("language", old.Language, cur.Language)
	out.Add("do_not_call", strconv.FormatBool(old.DoNotCall), strconv.FormatBool(cur.DoNotCall))
	out.Add("birthday_calendar", cmp.Or(old.BirthdayCalendar, Solar), cur.BirthdayCalendar)
	// The note is recorded by its size only, and changed even when the size
	// did not.
	if old.Note != cur.Note {
		out = append(out, audit.Change{Field: "note", Old: noteSize(old.Note), New: noteSize(cur.Note)})
	}
	return out
}

// noteSize describes a note without its words.
func noteSize(s string) string {
	if s == "" {
		return ""
	}
	return fmt.Sprintf("(%d characters)", utf8.RuneCountInString(s))
}
