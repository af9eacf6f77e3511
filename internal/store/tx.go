package store

import (
	"context"
	"database/sql"
	"fmt"
)

// querier is what both a pool and a transaction offer; store methods run
// their SQL through one so the same code works inside and outside WithTx.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// txKey marks the transaction a context carries. The value records which DB
// opened it, so a context from one database never leaks into another's calls.
type txKey struct{}

type ctxTx struct {
	db    *DB
	tx    *sql.Tx
	noted *txStatements // hot statements met before they were cached (stmtcache.go)
}

// WithTx implements kehu.Transactor: fn runs in one write transaction carried
// by the context it receives, and every store method called with that context
// joins it. A nested WithTx joins the outer transaction, so a service may call
// another service's transactional method. fn's error rolls back.
func (db *DB) WithTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := db.txFrom(ctx); ok {
		return fn(ctx)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	t := ctxTx{db: db, tx: tx, noted: &txStatements{}}
	// Statements the transaction ran unprepared are prepared once it has
	// released the connection (on SQLite the pool's only writer).
	defer func() {
		if db.writeStmts != nil {
			db.writeStmts.warm(ctx, t.noted.take())
		}
	}()
	if err := fn(context.WithValue(ctx, txKey{}, t)); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// txFrom returns the transaction of this DB that ctx carries, if any.
func (db *DB) txFrom(ctx context.Context) (*sql.Tx, bool) {
	t, ok := db.txCtx(ctx)
	return t.tx, ok
}

// txCtx returns the transaction of this DB that ctx carries, if any.
func (db *DB) txCtx(ctx context.Context) (ctxTx, bool) {
	t, ok := ctx.Value(txKey{}).(ctxTx)
	if !ok || t.db != db {
		return ctxTx{}, false
	}
	return t, true
}

// writer returns the context's transaction or the write pool. Writes must use
// it: on SQLite the single writer connection is held by an open transaction,
// so a write beside it would wait for itself.
func (db *DB) writer(ctx context.Context) querier {
	if tx, ok := db.txFrom(ctx); ok {
		return tx
	}
	return db.write
}

// reader returns the context's transaction or the read pool, so a read inside
// a transaction sees that transaction's own uncommitted writes.
func (db *DB) reader(ctx context.Context) querier {
	if tx, ok := db.txFrom(ctx); ok {
		return tx
	}
	return db.read
}
