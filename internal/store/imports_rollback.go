package store

import (
	"context"
	"database/sql"
	"fmt"

	"kehu/internal/importer"
)

// keyedRows are the tables whose imported rows import_keys records, in the
// order a rollback deletes them (children first).
var keyedRows = []struct{ kind, table string }{
	{importer.KindEvents, "channel_events"},
	{importer.KindTransactions, "transactions"},
	{importer.KindRelationships, "relationships"},
	{importer.KindHoldings, "holdings"},
}

// Rollback implements importer.Store, in the caller's transaction. It
// removes what job id created: its events, transactions, relationships and
// holdings; its accounts that nothing else (a transaction or holding from
// another import or source) uses; the links it made from source records to
// customers that existed before; its pending suspected duplicates; and the
// customers it created that nothing references since (an account,
// interaction, tag, grant, audit record, another source's link, a merge —
// anything with a foreign key, or an audit record of someone reading them).
// Changes it made to records that existed before are not reverted.
func (s *ImportStore) Rollback(ctx context.Context, id int64) (importer.RollbackResult, error) {
	var res importer.RollbackResult
	q := s.db.writer(ctx)
	touched := map[int64]bool{}
	for _, k := range keyedRows {
		if k.kind == importer.KindHoldings {
			if err := queryEach(ctx, q, "rolled-back holdings", `SELECT DISTINCT customer_id FROM holdings WHERE id IN
				(SELECT row_id FROM import_keys WHERE job_id = $1 AND kind = 'holdings')`, []any{id}, func(r *sql.Rows) error {
				var c int64
				err := r.Scan(&c)
				touched[c] = true
				return err
			}); err != nil {
				return res, err
			}
		}
		n, err := exec(ctx, q, "DELETE FROM "+k.table+" WHERE id IN (SELECT row_id FROM import_keys WHERE job_id = $1 AND kind = $2)",
			id, k.kind)
		if err != nil {
			return res, fmt.Errorf("roll back %s: %w", k.table, err)
		}
		switch k.kind {
		case importer.KindEvents:
			res.Events = n
		case importer.KindTransactions:
			res.Transactions = n
		case importer.KindRelationships:
			res.Relationships = n
		case importer.KindHoldings:
			res.Holdings = n
		}
	}
	if err := s.rollbackAccounts(ctx, q, id, &res, touched); err != nil {
		return res, err
	}
	if _, err := q.ExecContext(ctx, "DELETE FROM import_keys WHERE job_id = $1", id); err != nil {
		return res, fmt.Errorf("roll back import keys: %w", err)
	}
	var err error
	if res.Links, err = exec(ctx, q, "DELETE FROM customer_sources WHERE job_id = $1 AND NOT origin", id); err != nil {
		return res, fmt.Errorf("roll back source links: %w", err)
	}
	if res.Duplicates, err = exec(ctx, q, "DELETE FROM duplicate_candidates WHERE job_id = $1 AND status = 'pending'", id); err != nil {
		return res, fmt.Errorf("roll back suspected duplicates: %w", err)
	}
	if err := s.rollbackCustomers(ctx, q, id, &res); err != nil {
		return res, err
	}
	for c := range touched {
		res.Touched = append(res.Touched, c)
	}
	return res, nil
}

// rollbackAccounts deletes the job's accounts no transaction or holding
// uses any more.
func (s *ImportStore) rollbackAccounts(ctx context.Context, q querier, id int64, res *importer.RollbackResult, touched map[int64]bool) error {
	var ids []int64
	if err := queryEach(ctx, q, "rolled-back accounts", `SELECT a.id, a.customer_id,
		CASE WHEN EXISTS (SELECT 1 FROM transactions t WHERE t.account_id = a.id)
		  OR EXISTS (SELECT 1 FROM holdings h WHERE h.customer_id = a.customer_id AND h.account_id = a.id) THEN 1 ELSE 0 END
		FROM accounts a WHERE a.id IN (SELECT row_id FROM import_keys WHERE job_id = $1 AND kind = 'accounts')`,
		[]any{id}, func(r *sql.Rows) error {
			var acc, cust int64
			var used int
			if err := r.Scan(&acc, &cust, &used); err != nil {
				return err
			}
			touched[cust] = true
			if used == 1 {
				res.AccountsKept++
			} else {
				ids = append(ids, acc)
			}
			return nil
		}); err != nil {
		return err
	}
	return inChunks(ids, lookupChunk, func(chunk []int64) error {
		n, err := s.deleteGuarded(ctx, q, "accounts", chunk)
		res.Accounts += n
		res.AccountsKept += int64(len(chunk)) - n
		return err
	})
}

// rollbackCustomers deletes the customers the job created that nothing
// references: first the ones the known tables leave free, then each of
// those under a savepoint, so a reference from a table added later (a
// foreign key this code does not list) keeps the customer instead of
// failing the rollback.
func (s *ImportStore) rollbackCustomers(ctx context.Context, q querier, id int64, res *importer.RollbackResult) error {
	var created []int64
	if err := queryEach(ctx, q, "created customers", "SELECT customer_id FROM customer_sources WHERE job_id = $1 AND origin",
		[]any{id}, func(r *sql.Rows) error {
			var c int64
			err := r.Scan(&c)
			created = append(created, c)
			return err
		}); err != nil {
		return err
	}
	return inChunks(created, lookupChunk, func(chunk []int64) error {
		var free []int64
		args := append([]any{id}, anySlice(chunk)...)
		err := queryEach(ctx, q, "unreferenced customers", `SELECT c.id FROM customers c WHERE c.id IN (`+
			s.db.dialect.params(2, len(chunk))+`) AND c.merged_into IS NULL
			AND NOT EXISTS (SELECT 1 FROM accounts x WHERE x.customer_id = c.id)
			AND NOT EXISTS (SELECT 1 FROM holdings x WHERE x.customer_id = c.id)
			AND NOT EXISTS (SELECT 1 FROM transactions x WHERE x.customer_id = c.id)
			AND NOT EXISTS (SELECT 1 FROM relationships x WHERE x.from_customer_id = c.id)
			AND NOT EXISTS (SELECT 1 FROM relationships x WHERE x.to_customer_id = c.id)
			AND NOT EXISTS (SELECT 1 FROM channel_events x WHERE x.customer_id = c.id)
			AND NOT EXISTS (SELECT 1 FROM interactions x WHERE x.customer_id = c.id)
			AND NOT EXISTS (SELECT 1 FROM customer_tags x WHERE x.customer_id = c.id)
			AND NOT EXISTS (SELECT 1 FROM audit_log x WHERE x.customer_id = c.id)
			AND NOT EXISTS (SELECT 1 FROM customers x WHERE x.merged_into = c.id)
			AND NOT EXISTS (SELECT 1 FROM customer_sources x WHERE x.customer_id = c.id AND (x.job_id IS NULL OR x.job_id <> $1))
			AND NOT EXISTS (SELECT 1 FROM duplicate_candidates x WHERE x.customer_id = c.id AND x.status <> 'pending')
			AND NOT EXISTS (SELECT 1 FROM duplicate_candidates x WHERE x.other_id = c.id AND x.status <> 'pending')`,
			args, func(r *sql.Rows) error {
				var c int64
				err := r.Scan(&c)
				free = append(free, c)
				return err
			})
		if err != nil {
			return err
		}
		res.CustomersKept += int64(len(chunk) - len(free))
		for _, c := range free {
			ok, err := s.deleteCustomer(ctx, q, c)
			if err != nil {
				return err
			}
			if ok {
				res.Customers++
			} else {
				res.CustomersKept++
			}
		}
		return nil
	})
}

// deleteCustomer removes one created customer with its own import rows,
// under a savepoint: a foreign key from a table not checked above rolls
// back to the savepoint and keeps the customer.
func (s *ImportStore) deleteCustomer(ctx context.Context, q querier, id int64) (bool, error) {
	if _, err := q.ExecContext(ctx, "SAVEPOINT rollback_customer"); err != nil {
		return false, err
	}
	for _, stmt := range []string{
		"DELETE FROM duplicate_candidates WHERE customer_id = $1 OR other_id = $1",
		"DELETE FROM customer_field_provenance WHERE customer_id = $1",
		"DELETE FROM customer_sources WHERE customer_id = $1",
		"DELETE FROM customers WHERE id = $1",
	} {
		if _, err := q.ExecContext(ctx, stmt, id); err != nil {
			if isForeignKeyViolation(err) {
				_, rerr := q.ExecContext(ctx, "ROLLBACK TO SAVEPOINT rollback_customer")
				return false, rerr
			}
			return false, fmt.Errorf("roll back customer %d: %w", id, err)
		}
	}
	_, err := q.ExecContext(ctx, "RELEASE SAVEPOINT rollback_customer")
	return err == nil, err
}

// deleteGuarded deletes rows of table by id, each under a savepoint, and
// returns how many went (a row something still references stays).
func (s *ImportStore) deleteGuarded(ctx context.Context, q querier, table string, ids []int64) (int64, error) {
	var n int64
	for _, id := range ids {
		if _, err := q.ExecContext(ctx, "SAVEPOINT rollback_row"); err != nil {
			return n, err
		}
		if _, err := q.ExecContext(ctx, "DELETE FROM "+table+" WHERE id = $1", id); err != nil {
			if !isForeignKeyViolation(err) {
				return n, fmt.Errorf("roll back %s %d: %w", table, id, err)
			}
			if _, err := q.ExecContext(ctx, "ROLLBACK TO SAVEPOINT rollback_row"); err != nil {
				return n, err
			}
			continue
		}
		if _, err := q.ExecContext(ctx, "RELEASE SAVEPOINT rollback_row"); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// exec runs a statement and returns the rows it affected.
func exec(ctx context.Context, q querier, query string, args ...any) (int64, error) {
	r, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}
