package store_test

import (
	"context"
	"database/sql"
	"testing"

	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestAccountNumberUniqueByBlindIndex: one account per number is enforced by
// the blind index (accounts_number on account_no_bidx), on both engines; the
// old UNIQUE on the ciphertext column, which randomised encryption made
// meaningless, is gone on PostgreSQL (migration 0022) and stays inert on
// SQLite (it cannot be dropped inside a migration; see the migration).
func TestAccountNumberUniqueByBlindIndex(t *testing.T) {
	eachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		ctx := context.Background()
		b := testkit.NewBank(t, db)
		b.AddPortfolio(t)
		var customerID, productID, orgID int64
		must(t, raw.QueryRowContext(ctx, "SELECT customer_id, product_id, org_id FROM accounts ORDER BY id LIMIT 1").
			Scan(&customerID, &productID, &orgID))
		insert := func(sealed, index string) error {
			_, err := raw.ExecContext(ctx, `INSERT INTO accounts (customer_id, product_id, account_no, account_no_bidx, org_id,
				opened_on) VALUES ($1, $2, $3, $4, $5, $6)`, customerID, productID, sealed, index, orgID, bulkNow)
			return err
		}
		must(t, insert("sealed-1", "index-1"))
		// The same number sealed again has another ciphertext and the same
		// blind index: refused.
		if err := insert("sealed-2", "index-1"); err == nil {
			t.Error("a second account with the same blind index was stored")
		}
		// Ciphertext alone never decides.
		err := insert("sealed-1", "index-2")
		var constraints int
		if db.Dialect().IsPostgres() {
			must(t, raw.QueryRowContext(ctx, `SELECT count(*) FROM pg_constraint WHERE conname = 'accounts_account_no_key'
				AND connamespace = to_regnamespace(current_schema())`).Scan(&constraints))
			if constraints != 0 || err != nil {
				t.Errorf("the ciphertext constraint is still there (%d, insert: %v)", constraints, err)
			}
			return
		}
		if err == nil {
			t.Error("SQLite lost the inline constraint: update migration 0022's note and this test")
		}
	})
}
