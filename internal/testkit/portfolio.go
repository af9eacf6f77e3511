package testkit

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"
)

// Portfolio is what AddPortfolio inserted, for assertions.
type Portfolio struct {
	// Accounts of customer a1: a current account, a time deposit and a wealth
	// account holding two products.
	Accounts int
	Holdings int
	// Transactions of a1, newest at Clock.Now() minus one hour.
	Transactions int
}

// AddPortfolio gives customer a1 products, accounts, holdings, transactions,
// relationships (spouse a2 in rm_a's scope, sibling b1 outside it, legal
// representative of corp_a) and tags, one of them expired. The rows are
// written with plain SQL, as a core-banking feed would, because the read side
// has no write API.
func (b *Bank) AddPortfolio(t testing.TB) Portfolio {
	t.Helper()
	a1, a2, b1, corp := b.Customers["a1"].ID, b.Customers["a2"].ID, b.Customers["b1"].ID, b.Customers["corp_a"].ID
	now := b.Clock.Now()
	// Account numbers are sealed and blind-indexed like every writer must.
	var nos []any
	for i := 1; i <= 4; i++ {
		sealed, index, err := b.DB.SealAccountNo(AccountNo(i))
		if err != nil {
			t.Fatalf("seal account number: %v", err)
		}
		nos = append(nos, sealed, index)
	}
	err := b.DB.InTx(context.Background(), func(tx *sql.Tx) error {
		stmts := []struct {
			q    string
			args []any
		}{
			{`INSERT INTO products (id, code, name, name_en, type, risk_level, term_days, rate_bp) VALUES
				(1, 'CUR01', '活期储蓄', 'Current savings', 'current_deposit', 0, 0, 20),
				(2, 'TD12', '整存整取一年', 'One-year time deposit', 'time_deposit', 0, 365, 145),
				(3, 'WM-R2-180', '稳盈180天理财', 'Steady 180-day wealth', 'wealth', 2, 180, 310),
				(4, 'FD-EQ01', '沪深300指数基金', 'CSI 300 index fund', 'fund', 4, 0, 0)`, nil},
			{`INSERT INTO accounts (id, customer_id, product_id, account_no, account_no_bidx, balance, credit_limit, status, org_id, opened_on, matures_on) VALUES
				(1, $1, 1, $5, $6, 12345678, 0, 'active', $2, '2019-05-06', NULL),
				(2, $1, 2, $7, $8, 50000000, 0, 'active', $2, '2025-09-01', '2026-09-01'),
				(3, $1, 1, $9, $10, 0, 0, 'active', $2, '2024-01-10', NULL),
				(4, $3, 1, $11, $12, 100, 0, 'active', $4, '2020-01-01', NULL)`,
				append([]any{a1, b.OutletA.ID, b1, b.OutletB.ID}, nos...)},
			{`INSERT INTO holdings (customer_id, account_id, product_id, amount, cost, acquired_on, matures_on) VALUES
				($1, 3, 3, 30500000, 30000000, '2025-12-01', '2026-05-30'),
				($1, 3, 4, 9000000, 10000000, '2025-06-15', NULL)`, []any{a1}},
			{`INSERT INTO relationships (from_customer_id, to_customer_id, kind, share_bp, created_at) VALUES
				($1, $2, 'spouse', 0, $5), ($1, $3, 'sibling', 0, $5), ($1, $4, 'legal_representative', 0, $5)`,
				[]any{a1, a2, b1, corp, now}},
			{`INSERT INTO tags (id, name, kind, color) VALUES (1, '代发工资', 'manual', 'blue'),
				(2, '理财到期', 'computed', 'orange'), (3, '已过期', 'manual', '')`, nil},
			{`INSERT INTO customer_tags (customer_id, tag_id, created_at, expires_at) VALUES
				($1, 1, $2, NULL), ($1, 2, $2, $3), ($1, 3, $2, $4)`,
				[]any{a1, now, now.Add(24 * time.Hour), now.Add(-time.Hour)}},
		}
		for _, s := range stmts {
			if _, err := tx.Exec(s.q, s.args...); err != nil {
				return err
			}
		}
		for i := range 25 {
			at := now.Add(-time.Duration(i+1) * time.Hour)
			if _, err := tx.Exec(`INSERT INTO transactions (account_id, customer_id, occurred_at, amount, balance_after,
				kind, channel, counterparty, description) VALUES (1, $1, $2, $3, $4, 'transfer_in', 'mobile', '杭州某公司', $5)`,
				a1, at, int64(100_00*(i+1)), int64(12345678-100_00*i), "工资"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("add portfolio: %v", err)
	}
	if err := b.DB.ResetSequences(context.Background(), "products", "accounts", "tags"); err != nil {
		t.Fatalf("reset sequences: %v", err)
	}
	return Portfolio{Accounts: 3, Holdings: 2, Transactions: 25}
}

// AccountNo is the clear number of account n (1-4) that AddPortfolio
// inserts: 6222020000000001 and so on.
func AccountNo(n int) string { return fmt.Sprintf("622202%010d", n) }
