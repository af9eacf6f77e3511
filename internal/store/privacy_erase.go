package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/privacy"
	"kehu/internal/search"
	"kehu/internal/vault"
)

// ExportData reads everything about one customer in scope, personal fields
// opened with the vault, each list bounded by limit.
func (s *PrivacyStore) ExportData(ctx context.Context, id int64, scope customer.ScopeFilter, limit int) (privacy.Export, error) {
	var e privacy.Export
	var err error
	if e.Customer, err = s.db.Customers().GetCustomer(ctx, id, scope); err != nil {
		return e, err
	}
	acc := s.db.Accounts()
	if e.Accounts, err = acc.CustomerAccounts(ctx, id, limit); err != nil {
		return e, err
	}
	if e.Holdings, err = acc.CustomerHoldings(ctx, id, limit); err != nil {
		return e, err
	}
	if e.Transactions, err = acc.RecentTransactions(ctx, id, limit); err != nil {
		return e, err
	}
	if e.Relationships, err = acc.CustomerRelationships(ctx, id, limit); err != nil {
		return e, err
	}
	// Every tag, expired ones included: the subject sees what was held.
	if e.Tags, err = acc.CustomerTags(ctx, id, time.Time{}); err != nil {
		return e, err
	}
	if e.Events, err = s.events(ctx, id, limit); err != nil {
		return e, err
	}
	if e.Interactions, err = s.interactions(ctx, id, limit); err != nil {
		return e, err
	}
	if e.Consents, err = s.Consents(ctx, id); err != nil {
		return e, err
	}
	rows, err := s.db.reader(ctx).QueryContext(ctx, `SELECT id, kind, received_at, due_on, status FROM privacy_requests
		WHERE customer_id = $1 ORDER BY id LIMIT $2`, id, limit)
	if err != nil {
		return e, fmt.Errorf("privacy requests of %d: %w", id, err)
	}
	e.Requests, err = collect(rows, "privacy requests", func(r *sql.Rows) (privacy.ExportedRequest, error) {
		var x privacy.ExportedRequest
		err := r.Scan(&x.ID, &x.Kind, &x.ReceivedAt, &x.DueOn, &x.Status)
		x.ReceivedAt = x.ReceivedAt.UTC()
		return x, err
	})
	return e, err
}

func (s *PrivacyStore) events(ctx context.Context, id int64, limit int) ([]privacy.Event, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, `SELECT id, occurred_at, channel, kind, product_id, detail
		FROM channel_events WHERE customer_id = $1 ORDER BY occurred_at, id LIMIT $2`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("events of %d: %w", id, err)
	}
	return collect(rows, "events", func(r *sql.Rows) (privacy.Event, error) {
		var e privacy.Event
		var product sql.NullInt64
		var detail sql.NullString
		err := r.Scan(&e.ID, &e.OccurredAt, &e.Channel, &e.Kind, &product, &detail)
		e.OccurredAt = e.OccurredAt.UTC()
		if product.Valid {
			e.ProductID = &product.Int64
		}
		if detail.Valid && json.Valid([]byte(detail.String)) {
			e.Detail = json.RawMessage(detail.String)
		}
		return e, err
	})
}

func (s *PrivacyStore) interactions(ctx context.Context, id int64, limit int) ([]privacy.Interaction, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, `SELECT id, user_id, occurred_at, channel, purpose, product_id,
		response, note FROM interactions WHERE customer_id = $1 ORDER BY occurred_at, id LIMIT $2`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("interactions of %d: %w", id, err)
	}
	return collect(rows, "interactions", func(r *sql.Rows) (privacy.Interaction, error) {
		var x privacy.Interaction
		var product sql.NullInt64
		err := r.Scan(&x.ID, &x.UserID, &x.OccurredAt, &x.Channel, &x.Purpose, &product, &x.Response, &x.Note)
		x.OccurredAt = x.OccurredAt.UTC()
		if product.Valid {
			x.ProductID = &product.Int64
		}
		return x, err
	})
}

// OpenAccounts counts a customer's accounts that are not closed.
func (s *PrivacyStore) OpenAccounts(ctx context.Context, customerID int64) (int, error) {
	var n int
	err := s.db.reader(ctx).QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE customer_id = $1
		AND status <> 'closed'`, customerID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("open accounts of %d: %w", customerID, err)
	}
	return n, nil
}

// familyKinds are relationships that say something about a person's private
// life and nothing the AML law asks the bank to keep; the others (legal
// representative, shareholder, guarantor, employer) identify beneficial
// owners and obligations, so they are kept and flagged.
const familyKinds = "('spouse','parent','child','sibling')"

// EraseCustomer anonymises a customer in place, inside the caller's
// transaction. The encrypted columns are written as the vault writes an
// empty value (empty), and the identity blind index becomes "erased:<id>",
// which no HMAC can equal: the unique identity index still holds and the
// customer can no longer be found by ID number or mobile.
func (s *PrivacyStore) EraseCustomer(ctx context.Context, e privacy.Erasure) error {
	k, err := s.db.keyring()
	if err != nil {
		return err
	}
	c, err := s.db.Customers().GetCustomer(ctx, e.CustomerID, customer.ScopeFilter{})
	if err != nil {
		return err
	}
	var birth kehu.Date
	if !c.BirthDate.IsZero() {
		birth = kehu.Date{Year: c.BirthDate.Year, Month: time.January, Day: 1}
	}
	region := ""
	if len(c.RegionCode) == 6 {
		region = c.RegionCode[:2] + "0000" // the province only
	}
	empty := []string{"", "", "", ""}
	if err := sealAll(k, sealedCustomerColumns, []*string{&empty[0], &empty[1], &empty[2], &empty[3]}); err != nil {
		return fmt.Errorf("erase customer %d: %w", e.CustomerID, err)
	}
	q := s.db.writer(ctx)
	at := e.At.UTC()
	erasedName := fmt.Sprintf("已注销客户#%d", e.CustomerID)
	stmts := []struct {
		sql  string
		args []any
	}{
		{`UPDATE customers SET name = $1, id_number = $2, mobile = $3, email = $4, address = $5, gender = '',
			birth_date = $6, region_code = $7, id_number_bidx = $8, mobile_bidx = $9, status = $10, erased_at = $11,
			retained_for = $12, retained_until = $13, updated_at = $11, name_key = $15, name_pinyin = $16 WHERE id = $14`,
			// name_key and name_pinyin follow the new name, so the old name's
			// pinyin finds nothing.
			[]any{erasedName, empty[0], empty[1], empty[2], empty[3], birth, region,
				fmt.Sprintf("erased:%d", e.CustomerID), k.BlindIndex(vault.IndexMobile, ""), customer.StatusErased, at,
				e.RetainedFor, e.RetainedUntil, e.CustomerID, search.NameKey(erasedName),
				search.NamePinyin(erasedName)}},
		// Tags go with their reasons (an emotion tag's reason is what the
		// customer complained about), the contact preferences with their
		// note, and every interaction keeps only its channel, purpose,
		// products and outcome: notes hold what the customer said.
		{`DELETE FROM customer_tags WHERE customer_id = $1`, []any{e.CustomerID}},
		{`DELETE FROM customer_preferences WHERE customer_id = $1`, []any{e.CustomerID}},
		{`UPDATE interactions SET note = '' WHERE customer_id = $1`, []any{e.CustomerID}},
		{`UPDATE channel_events SET detail = NULL WHERE customer_id = $1`, []any{e.CustomerID}},
		{`DELETE FROM relationships WHERE (from_customer_id = $1 OR to_customer_id = $1) AND kind IN ` + familyKinds,
			[]any{e.CustomerID}},
		{`UPDATE relationships SET retained_for = $2, retained_until = $3
			WHERE from_customer_id = $1 OR to_customer_id = $1`, []any{e.CustomerID, e.RetainedFor, e.RetainedUntil}},
		{`UPDATE accounts SET retained_for = $2, retained_until = $3 WHERE customer_id = $1`,
			[]any{e.CustomerID, e.RetainedFor, e.RetainedUntil}},
		{`UPDATE transactions SET retained_for = $2, retained_until = $3 WHERE customer_id = $1`,
			[]any{e.CustomerID, e.RetainedFor, e.RetainedUntil}},
	}
	for _, st := range stmts {
		if _, err := q.ExecContext(ctx, st.sql, st.args...); err != nil {
			return fmt.Errorf("erase customer %d: %w", e.CustomerID, err)
		}
	}
	for _, ch := range privacy.Channels {
		if err := s.SetConsent(ctx, e.CustomerID, privacy.Consent{Channel: ch, ChangedAt: &at, Source: "erasure"}); err != nil {
			return err
		}
	}
	return nil
}
