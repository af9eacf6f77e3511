package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"kehu/internal/contact"
)

// ContactStore implements contact.Store over customer_preferences.
type ContactStore struct{ db *DB }

// Contact returns the store of contact preferences.
func (db *DB) Contact() *ContactStore { return &ContactStore{db: db} }

const preferenceColumns = `p.preferred_channel, p.contact_from, p.contact_to, p.contact_days, p.language,
	p.do_not_call, p.note, p.birthday_calendar, p.updated_at, p.updated_by`

// preferenceScan holds a row's nullable form: the 360 reads preferences
// through a LEFT JOIN, where a customer without any yields NULLs.
type preferenceScan struct {
	channel, from, to, days, language, note, calendar sql.NullString
	doNotCall                                         sql.NullBool
	at                                                sql.NullTime
	by                                                sql.NullInt64
}

func (r *preferenceScan) dest() []any {
	return []any{&r.channel, &r.from, &r.to, &r.days, &r.language, &r.doNotCall, &r.note, &r.calendar, &r.at, &r.by}
}

func (r *preferenceScan) value() contact.Preferences {
	p := contact.Preferences{PreferredChannel: r.channel.String, ContactFrom: r.from.String, ContactTo: r.to.String,
		ContactDays: r.days.String, Language: r.language.String, DoNotCall: r.doNotCall.Bool, Note: r.note.String,
		BirthdayCalendar: r.calendar.String}
	if r.at.Valid {
		at := r.at.Time.UTC()
		p.UpdatedAt = &at
	}
	if r.by.Valid {
		by := r.by.Int64
		p.UpdatedBy = &by
	}
	return p
}

// Preferences implements contact.Store.
func (s *ContactStore) Preferences(ctx context.Context, customerID int64) (contact.Preferences, error) {
	var r preferenceScan
	err := s.db.hotReader(ctx).QueryRowContext(ctx, "SELECT "+preferenceColumns+
		" FROM customer_preferences p WHERE p.customer_id = $1", customerID).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return contact.Preferences{}, nil
	}
	if err != nil {
		return contact.Preferences{}, fmt.Errorf("preferences of %d: %w", customerID, err)
	}
	return r.value(), nil
}

// PreferencesOf implements contact.Store.
func (s *ContactStore) PreferencesOf(ctx context.Context, customerIDs []int64) (map[int64]contact.Preferences, error) {
	out := map[int64]contact.Preferences{}
	if len(customerIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(customerIDs))
	for i, id := range customerIDs {
		args[i] = id
	}
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT p.customer_id, "+preferenceColumns+
		" FROM customer_preferences p WHERE p.customer_id IN ("+c360Marks(1, len(args))+")", args...)
	if err != nil {
		return nil, fmt.Errorf("preferences: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var r preferenceScan
		if err := rows.Scan(append([]any{&id}, r.dest()...)...); err != nil {
			return nil, fmt.Errorf("preferences: %w", err)
		}
		out[id] = r.value()
	}
	return out, rows.Err()
}

// SavePreferences implements contact.Store.
func (s *ContactStore) SavePreferences(ctx context.Context, customerID int64, p contact.Preferences) error {
	var at any
	if p.UpdatedAt != nil {
		at = p.UpdatedAt.UTC()
	}
	_, err := s.db.writer(ctx).ExecContext(ctx, `INSERT INTO customer_preferences (customer_id, preferred_channel,
		contact_from, contact_to, contact_days, language, do_not_call, note, updated_by, updated_at, birthday_calendar)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (customer_id) DO UPDATE SET preferred_channel = excluded.preferred_channel,
		contact_from = excluded.contact_from, contact_to = excluded.contact_to, contact_days = excluded.contact_days,
		language = excluded.language, do_not_call = excluded.do_not_call, note = excluded.note,
		updated_by = excluded.updated_by, updated_at = excluded.updated_at, birthday_calendar = excluded.birthday_calendar`,
		customerID, p.PreferredChannel, p.ContactFrom, p.ContactTo, p.ContactDays, p.Language, p.DoNotCall, p.Note,
		p.UpdatedBy, at, cmp.Or(p.BirthdayCalendar, contact.Solar))
	if err != nil {
		return fmt.Errorf("save preferences of %d: %w", customerID, err)
	}
	return nil
}
