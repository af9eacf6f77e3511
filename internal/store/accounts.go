package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kehu/internal/account"
	"kehu/internal/vault"
)

// AccountStore implements account.Store.
type AccountStore struct{ db *DB }

// Accounts returns the account store.
func (db *DB) Accounts() *AccountStore { return &AccountStore{db: db} }

// CustomerAccounts returns a customer's accounts, oldest first, with product
// names. Uses accounts_customer.
func (s *AccountStore) CustomerAccounts(ctx context.Context, customerID int64, limit int) ([]account.Account, error) {
	k, err := s.db.keyring()
	if err != nil {
		return nil, err
	}
	rows, err := s.db.hotReader(ctx).QueryContext(ctx, `SELECT a.id, a.account_no, a.product_id, p.name, p.name_en, p.type,
		a.currency, a.balance, a.credit_limit, a.status, a.org_id, a.opened_on, a.matures_on
		FROM accounts a JOIN products p ON p.id = a.product_id
		WHERE a.customer_id = $1 ORDER BY a.opened_on, a.id LIMIT $2`, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("accounts of %d: %w", customerID, err)
	}
	return collect(rows, "accounts", func(r *sql.Rows) (account.Account, error) {
		var a account.Account
		err := r.Scan(&a.ID, &a.AccountNo, &a.ProductID, &a.ProductName, &a.ProductNameEN, &a.ProductType,
			&a.Currency, &a.Balance, &a.CreditLimit, &a.Status, &a.OrgID, &a.OpenedOn, &a.MaturesOn)
		if err == nil {
			a.AccountNo, err = k.Decrypt(colAccountNo, a.AccountNo)
		}
		return a, err
	})
}

// CustomerHoldings returns a customer's holdings, largest first. Uses
// holdings_customer.
func (s *AccountStore) CustomerHoldings(ctx context.Context, customerID int64, limit int) ([]account.Holding, error) {
	k, err := s.db.keyring()
	if err != nil {
		return nil, err
	}
	rows, err := s.db.hotReader(ctx).QueryContext(ctx, `SELECT h.id, h.account_id, a.account_no, p.code, p.name, p.name_en,
		p.type, p.risk_level, h.amount, h.cost, h.acquired_on, h.matures_on
		FROM holdings h JOIN products p ON p.id = h.product_id JOIN accounts a ON a.id = h.account_id
		WHERE h.customer_id = $1 ORDER BY h.amount DESC, h.id LIMIT $2`, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("holdings of %d: %w", customerID, err)
	}
	return collect(rows, "holdings", func(r *sql.Rows) (account.Holding, error) {
		var h account.Holding
		err := r.Scan(&h.ID, &h.AccountID, &h.AccountNo, &h.ProductCode, &h.ProductName, &h.ProductNameEN,
			&h.ProductType, &h.RiskLevel, &h.Amount, &h.Cost, &h.AcquiredOn, &h.MaturesOn)
		if err == nil {
			h.AccountNo, err = k.Decrypt(colAccountNo, h.AccountNo)
		}
		return h, err
	})
}

// RecentTransactions returns the newest transactions of a customer. The
// transactions_customer index (customer_id, occurred_at) serves the order, so
// the cost does not grow with the customer's history.
func (s *AccountStore) RecentTransactions(ctx context.Context, customerID int64, limit int) ([]account.Transaction, error) {
	k, err := s.db.keyring()
	if err != nil {
		return nil, err
	}
	var w where
	w.add("t.customer_id = ?", customerID)
	return listWhere(ctx, s.db.hotReader(ctx), "transactions", transactionSelect, w, transactionOrder, limit,
		scanTransaction(k))
}

// transactionSelect reads transactions with their account's number, newest
// first in transactionOrder (the transactions_customer index's order).
const (
	transactionSelect = `SELECT t.id, t.account_id, a.account_no, t.occurred_at, t.amount, t.balance_after, t.kind,
		t.channel, t.counterparty, t.description FROM transactions t JOIN accounts a ON a.id = t.account_id`
	transactionOrder = "t.occurred_at DESC, t.id DESC"
)

// scanTransaction scans a transactionSelect row, opening the sealed account
// number with k.
func scanTransaction(k *vault.Keyring) func(row interface{ Scan(...any) error }) (account.Transaction, error) {
	return func(row interface{ Scan(...any) error }) (account.Transaction, error) {
		var t account.Transaction
		err := row.Scan(&t.ID, &t.AccountID, &t.AccountNo, &t.OccurredAt, &t.Amount, &t.BalanceAfter, &t.Kind,
			&t.Channel, &t.Counterparty, &t.Description)
		t.OccurredAt = t.OccurredAt.UTC()
		if err == nil {
			t.AccountNo, err = k.Decrypt(colAccountNo, t.AccountNo)
		}
		return t, err
	}
}

// CustomerRelationships returns the links from and to a customer. The two
// halves use the relationships unique index (leading from_customer_id) and
// relationships_to.
func (s *AccountStore) CustomerRelationships(ctx context.Context, customerID int64, limit int) ([]account.Relationship, error) {
	rows, err := s.db.hotReader(ctx).QueryContext(ctx, `SELECT r.id, r.kind, 'out', c.id, c.name, c.type, r.share_bp
		FROM relationships r JOIN customers c ON c.id = r.to_customer_id WHERE r.from_customer_id = $1
		UNION ALL
		SELECT r.id, r.kind, 'in', c.id, c.name, c.type, r.share_bp
		FROM relationships r JOIN customers c ON c.id = r.from_customer_id WHERE r.to_customer_id = $1
		ORDER BY 1 LIMIT $2`, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("relationships of %d: %w", customerID, err)
	}
	return collect(rows, "relationships", func(r *sql.Rows) (account.Relationship, error) {
		var x account.Relationship
		err := r.Scan(&x.ID, &x.Kind, &x.Direction, &x.CustomerID, &x.Name, &x.Type, &x.ShareBP)
		return x, err
	})
}

// CustomerTags returns the tags of a customer that have not expired at now.
func (s *AccountStore) CustomerTags(ctx context.Context, customerID int64, now time.Time) ([]account.Tag, error) {
	rows, err := s.db.hotReader(ctx).QueryContext(ctx, `SELECT t.id, t.name, t.kind, t.color, ct.reason
		FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id
		WHERE ct.customer_id = $1 AND (ct.expires_at IS NULL OR ct.expires_at > $2)
		ORDER BY t.kind, t.name`, customerID, now.UTC())
	if err != nil {
		return nil, fmt.Errorf("tags of %d: %w", customerID, err)
	}
	return collect(rows, "tags", func(r *sql.Rows) (account.Tag, error) {
		var t account.Tag
		err := r.Scan(&t.ID, &t.Name, &t.Kind, &t.Color, &t.Reason)
		return t, err
	})
}

// StaffNames returns display names by user id. The id list is bounded by the
// caller (a page of customers), so one IN list is enough.
func (s *AccountStore) StaffNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	marks := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		marks[i], args[i] = "$"+strconv.Itoa(i+1), id
	}
	q := s.db.reader(ctx)
	if len(ids) == 1 { // the customer page's owner: one fixed statement
		q = s.db.hotReader(ctx)
	}
	rows, err := q.QueryContext(ctx, "SELECT id, display_name FROM users WHERE id IN ("+
		strings.Join(marks, ", ")+")", args...)
	if err != nil {
		return nil, fmt.Errorf("staff names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("staff names: %w", err)
		}
		out[id] = name
	}
	return out, rows.Err()
}

// collect scans every row with scan and closes rows; what names the rows in
// errors.
func collect[T any](rows *sql.Rows, what string, scan func(*sql.Rows) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return out, nil
}
