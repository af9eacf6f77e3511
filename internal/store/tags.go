package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/tag"
)

// TagStore implements tag.Store.
type TagStore struct{ db *DB }

// Tags returns the tag store.
func (db *DB) Tags() *TagStore { return &TagStore{db: db} }

const tagColumns = `t.id, t.code, t.name, t.label_en, t.kind, t.color, t.description, t.polarity,
	t.default_expiry_days, t.rule, t.active, t.created_at, t.updated_at, t.reason_required`

func scanTag(r interface{ Scan(...any) error }, extra ...any) (tag.Tag, error) {
	var t tag.Tag
	var rule string
	var created, updated sql.NullTime
	dest := append([]any{&t.ID, &t.Code, &t.Name, &t.LabelEN, &t.Kind, &t.Color, &t.Description, &t.Polarity,
		&t.DefaultExpiryDays, &rule, &t.Active, &created, &updated, &t.ReasonRequired}, extra...)
	if err := r.Scan(dest...); err != nil {
		return t, err
	}
	t.CreatedAt, t.UpdatedAt = created.Time.UTC(), updated.Time.UTC()
	// Emotion tags always ask for a reason, whatever an older row says.
	t.ReasonRequired = t.ReasonRequired || t.Kind == tag.Emotion
	var err error
	if t.Rule, err = tag.DecodeRule(rule); err != nil {
		return t, fmt.Errorf("tag %d rule: %w", t.ID, err)
	}
	return t, nil
}

// ListTags returns the catalogue by kind and name.
func (s *TagStore) ListTags(ctx context.Context, inactive bool) ([]tag.Tag, error) {
	q := "SELECT " + tagColumns + " FROM tags t"
	if !inactive {
		q += " WHERE t.active"
	}
	rows, err := s.db.hotReader(ctx).QueryContext(ctx, q+" ORDER BY t.kind, t.name")
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	return collect(rows, "tags", func(r *sql.Rows) (tag.Tag, error) { return scanTag(r) })
}

// GetTag returns one catalogue entry.
func (s *TagStore) GetTag(ctx context.Context, id int64) (tag.Tag, error) {
	t, err := scanTag(s.db.reader(ctx).QueryRowContext(ctx, "SELECT "+tagColumns+" FROM tags t WHERE t.id = $1", id))
	if err != nil {
		return tag.Tag{}, notFound(err, "tag")
	}
	return t, nil
}

// CreateTag inserts a catalogue entry.
func (s *TagStore) CreateTag(ctx context.Context, t tag.Tag) (tag.Tag, error) {
	err := s.db.writer(ctx).QueryRowContext(ctx, `INSERT INTO tags (code, name, label_en, kind, color, description,
		polarity, default_expiry_days, rule, active, created_at, updated_at, reason_required)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		t.Code, t.Name, t.LabelEN, t.Kind, t.Color, t.Description, t.Polarity, t.DefaultExpiryDays,
		tag.EncodeRule(t.Rule), t.Active, t.CreatedAt, t.UpdatedAt, t.ReasonRequired).Scan(&t.ID)
	if isUniqueViolation(err) {
		return tag.Tag{}, conflict("a tag named %s already exists", t.Name)
	}
	if err != nil {
		return tag.Tag{}, fmt.Errorf("insert tag: %w", err)
	}
	return t, nil
}

// UpdateTag writes the editable fields of t.
func (s *TagStore) UpdateTag(ctx context.Context, t tag.Tag) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE tags SET name = $1, label_en = $2, color = $3,
		description = $4, polarity = $5, default_expiry_days = $6, rule = $7, active = $8, updated_at = $9,
		reason_required = $11 WHERE id = $10`, t.Name, t.LabelEN, t.Color, t.Description, t.Polarity, t.DefaultExpiryDays,
		tag.EncodeRule(t.Rule), t.Active, t.UpdatedAt, t.ID, t.ReasonRequired)
	if isUniqueViolation(err) {
		return conflict("a tag named %s already exists", t.Name)
	}
	if err != nil {
		return fmt.Errorf("update tag %d: %w", t.ID, err)
	}
	return nil
}

// DeleteTag deletes an entry no customer carries.
func (s *TagStore) DeleteTag(ctx context.Context, id int64) error {
	var n int
	if err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM customer_tags WHERE tag_id = $1 LIMIT 1) x",
		id).Scan(&n); err != nil {
		return fmt.Errorf("delete tag %d: %w", id, err)
	}
	if n > 0 {
		return conflict("customers carry this tag: deactivate it instead")
	}
	if _, err := s.db.writer(ctx).ExecContext(ctx, "DELETE FROM tags WHERE id = $1", id); err != nil {
		return fmt.Errorf("delete tag %d: %w", id, err)
	}
	return nil
}

// EnsureTag inserts t unless a tag with its code or name exists. A tag of
// the same name and kind from before the catalogue had codes (a legacy
// computed 理财到期 without a rule) is adopted: it gets the code and the
// missing rule and descriptions. A racing insert of the same name counts as
// existing.
func (s *TagStore) EnsureTag(ctx context.Context, t tag.Tag) (bool, error) {
	var n int
	if err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT count(*) FROM tags WHERE code = $1", t.Code).Scan(&n); err != nil {
		return false, fmt.Errorf("ensure tag %s: %w", t.Code, err)
	}
	if n > 0 {
		return false, nil
	}
	res, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE tags SET code = $1,
		rule = CASE WHEN rule = '' THEN $2 ELSE rule END,
		label_en = CASE WHEN label_en = '' THEN $3 ELSE label_en END,
		description = CASE WHEN description = '' THEN $4 ELSE description END,
		polarity = CASE WHEN polarity = '' THEN $5 ELSE polarity END,
		default_expiry_days = CASE WHEN default_expiry_days = 0 THEN $6 ELSE default_expiry_days END,
		created_at = COALESCE(created_at, $7), updated_at = $7
		WHERE name = $8 AND kind = $9 AND code = ''`, t.Code, tag.EncodeRule(t.Rule), t.LabelEN, t.Description,
		t.Polarity, t.DefaultExpiryDays, t.CreatedAt, t.Name, t.Kind)
	if err != nil {
		return false, fmt.Errorf("ensure tag %s: %w", t.Code, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return true, nil
	}
	if err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT count(*) FROM tags WHERE name = $1", t.Name).Scan(&n); err != nil {
		return false, fmt.Errorf("ensure tag %s: %w", t.Code, err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := s.CreateTag(ctx, t); err != nil {
		if kehu.ErrorCode(err) == kehu.ECONFLICT {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// CustomerTags returns a customer's tags unexpired at now, negative emotions
// first (the thing to know before speaking to the customer), then by kind
// and name.
func (s *TagStore) CustomerTags(ctx context.Context, customerID int64, now time.Time) ([]tag.CustomerTag, error) {
	rows, err := s.db.hotReader(ctx).QueryContext(ctx, "SELECT "+tagColumns+`, ct.reason, ct.created_by,
		COALESCE(u.display_name, ''), ct.created_at, ct.expires_at
		FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id LEFT JOIN users u ON u.id = ct.created_by
		WHERE ct.customer_id = $1 AND (ct.expires_at IS NULL OR ct.expires_at > $2)
		ORDER BY CASE WHEN t.polarity = 'negative' THEN 0 ELSE 1 END, t.kind, t.name`, customerID, now.UTC())
	if err != nil {
		return nil, fmt.Errorf("tags of %d: %w", customerID, err)
	}
	return collect(rows, "customer tags", func(r *sql.Rows) (tag.CustomerTag, error) {
		var ct tag.CustomerTag
		var by sql.NullInt64
		var expires sql.NullTime
		var err error
		ct.Tag, err = scanTag(r, &ct.Reason, &by, &ct.CreatedByName, &ct.CreatedAt, &expires)
		if by.Valid {
			ct.CreatedBy = &by.Int64
		}
		if expires.Valid {
			e := expires.Time.UTC()
			ct.ExpiresAt = &e
		}
		ct.CreatedAt = ct.CreatedAt.UTC()
		return ct, err
	})
}

// PutCustomerTag adds or renews a customer's tag (the primary key is
// (customer_id, tag_id)).
func (s *TagStore) PutCustomerTag(ctx context.Context, customerID int64, ct tag.CustomerTag) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, `INSERT INTO customer_tags (customer_id, tag_id, created_by, created_at,
		expires_at, reason) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (customer_id, tag_id) DO UPDATE SET created_by = excluded.created_by,
		created_at = excluded.created_at, expires_at = excluded.expires_at, reason = excluded.reason`,
		customerID, ct.Tag.ID, ct.CreatedBy, ct.CreatedAt.UTC(), ct.ExpiresAt, ct.Reason)
	if err != nil {
		return fmt.Errorf("tag customer %d: %w", customerID, err)
	}
	return nil
}

// DeleteCustomerTag removes a customer's tag.
func (s *TagStore) DeleteCustomerTag(ctx context.Context, customerID, tagID int64) (bool, error) {
	res, err := s.db.writer(ctx).ExecContext(ctx, "DELETE FROM customer_tags WHERE customer_id = $1 AND tag_id = $2",
		customerID, tagID)
	if err != nil {
		return false, fmt.Errorf("untag customer %d: %w", customerID, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// ComputedOn returns the rule-computed tags a customer carries, with
// reasons. Computed tags without a rule are left out: another system
// computes them (a warehouse feed), and Kehu must not take them off.
func (s *TagStore) ComputedOn(ctx context.Context, customerID int64) (map[int64]string, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, `SELECT ct.tag_id, ct.reason FROM customer_tags ct
		JOIN tags t ON t.id = ct.tag_id WHERE ct.customer_id = $1 AND t.kind = 'computed' AND t.rule <> ''`, customerID)
	if err != nil {
		return nil, fmt.Errorf("computed tags of %d: %w", customerID, err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var reason string
		if err := rows.Scan(&id, &reason); err != nil {
			return nil, fmt.Errorf("computed tags of %d: %w", customerID, err)
		}
		out[id] = reason
	}
	return out, rows.Err()
}

// Facts gathers what the computed-tag rules read. Every query walks one
// customer's index range (transactions_customer, channel_events_customer,
// holdings_customer, accounts_customer), so the cost follows the customer's
// own history, not the bank's size.
func (s *TagStore) Facts(ctx context.Context, customerID int64, now time.Time) (tag.Facts, error) {
	f := tag.Facts{CustomerID: customerID}
	r := s.db.reader(ctx)
	fail := func(err error) (tag.Facts, error) { return tag.Facts{}, fmt.Errorf("facts of %d: %w", customerID, err) }
	var status string
	if err := r.QueryRowContext(ctx, "SELECT aum, created_at, status FROM customers WHERE id = $1", customerID).
		Scan(&f.AUM, &f.Since, &status); err != nil {
		return tag.Facts{}, notFound(err, "customer")
	}
	if f.Erased = status == customer.StatusErased; f.Erased {
		return f, nil
	}
	// ORDER BY … LIMIT 1 rather than max(): the index answers both, and a
	// plain column keeps its declared type, which SQLite's driver needs to
	// return a time.
	for _, q := range []string{"SELECT occurred_at FROM transactions WHERE customer_id = $1 ORDER BY occurred_at DESC LIMIT 1",
		"SELECT occurred_at FROM channel_events WHERE customer_id = $1 ORDER BY occurred_at DESC LIMIT 1"} {
		var last time.Time
		err := r.QueryRowContext(ctx, q, customerID).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fail(err)
		}
		if last.After(f.LastActivity) {
			f.LastActivity = last.UTC()
		}
	}
	since := now.AddDate(0, -tag.MaxMonths, 0).UTC()
	rows, err := r.QueryContext(ctx, `SELECT t.occurred_at, t.kind, t.amount, p.type FROM transactions t
		JOIN accounts a ON a.id = t.account_id JOIN products p ON p.id = a.product_id
		WHERE t.customer_id = $1 AND t.occurred_at >= $2`, customerID, since)
	if err != nil {
		return fail(err)
	}
	cardSince := now.AddDate(0, 0, -tag.MaxDays)
	for rows.Next() {
		var at time.Time
		var kind, ptype string
		var amount int64
		if err := rows.Scan(&at, &kind, &amount, &ptype); err != nil {
			rows.Close()
			return fail(err)
		}
		switch {
		case (kind == "salary" || kind == "pension") && amount > 0:
			f.SalaryCredits = append(f.SalaryCredits, at.UTC())
		case kind == "card_spend" && ptype == "credit_card" && !at.Before(cardSince):
			f.CardSpends = append(f.CardSpends, at.UTC())
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	today := kehu.DateOf(now.In(kehu.LoadShanghai()))
	rows, err = r.QueryContext(ctx, `SELECT matures_on FROM holdings WHERE customer_id = $1 AND matures_on >= $2
		UNION ALL SELECT a.matures_on FROM accounts a JOIN products p ON p.id = a.product_id
		WHERE a.customer_id = $1 AND a.matures_on >= $2 AND a.status = 'active' AND p.type = 'time_deposit'`,
		customerID, today)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	for rows.Next() {
		var d kehu.Date
		if err := rows.Scan(&d); err != nil {
			return fail(err)
		}
		f.Maturities = append(f.Maturities, d)
	}
	return f, rows.Err()
}

// tagWhere keeps customers carrying a tag unexpired at now; ref is the tag's
// id, name or code. EXISTS probes customer_tags' primary key (customer_id,
// tag_id) row by row in the list's id order, so a page stops after its
// limit however many customers carry the tag.
func tagWhere(w *where, ref string, now time.Time) {
	const live = " AND (ct.expires_at IS NULL OR ct.expires_at > ?))"
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		w.add("EXISTS (SELECT 1 FROM customer_tags ct WHERE ct.customer_id = c.id AND ct.tag_id = ?"+live, id, now.UTC())
		return
	}
	w.add("EXISTS (SELECT 1 FROM customer_tags ct WHERE ct.customer_id = c.id AND ct.tag_id IN "+
		"(SELECT t.id FROM tags t WHERE t.name = ? OR (t.code = ? AND t.code <> ''))"+live, ref, ref, now.UTC())
}
