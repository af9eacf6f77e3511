package store

import (
	"container/list"
	"context"
	"database/sql"
	"errors"
	"sync"
)

// Prepared statements for the hot paths.
//
// modernc's SQLite driver parses and plans a query every time it is run
// through the pool (QueryContext on a *sql.DB prepares, steps and finalizes
// a statement); for the small indexed reads of a page — a customer, the
// session, the 360's twenty parts, the audit append — the parse is a third
// of the time. A *sql.Stmt prepared on a pool keeps one SQLite statement per
// connection (database/sql prepares it again on each connection it meets),
// and modernc keeps that statement between runs, so a cached Stmt is parsed
// once per connection and then only bound and stepped.
//
// The cache is opt-in: store code asks for s.db.hotReader(ctx) or
// s.db.hotWriter(ctx) instead of reader/writer for SQL whose text comes
// from a small fixed set (constants, or a handful of filter combinations).
// SQL built from variable-length lists must not go through it: each length
// would be a new entry and push the hot ones out.
//
// PostgreSQL needs none of this: pgx already keeps a per-connection cache
// of prepared statements (its default QueryExecModeCacheStatement), so on
// PostgreSQL hotReader and hotWriter are reader and writer.

// stmtCacheSize bounds each pool's cache. The hot paths use a few dozen
// statements; the bound only matters if dynamic SQL slips in.
const stmtCacheSize = 128

// stmtCache keeps the prepared statements of one pool, least recently used
// evicted first.
type stmtCache struct {
	pool  *sql.DB
	limit int

	mu      sync.Mutex
	entries map[string]*list.Element // of *cachedStmt
	lru     *list.List               // front: most recently used
	stats   StmtCacheStats
	closed  bool
}

// cachedStmt is one entry. users counts the calls running on stmt: an
// evicted entry is closed when the last of them returns (database/sql keeps
// the statement alive for rows still open after that).
type cachedStmt struct {
	query   string
	stmt    *sql.Stmt
	users   int
	evicted bool
}

// StmtCacheStats counts a statement cache's work, for tests and diagnostics.
type StmtCacheStats struct {
	Hits, Prepares, Evictions, Entries int
}

func newStmtCache(pool *sql.DB, limit int) *stmtCache {
	return &stmtCache{pool: pool, limit: limit, entries: map[string]*list.Element{}, lru: list.New()}
}

// acquire returns the cached entry for query, or nil, marking it in use.
func (c *stmtCache) acquire(query string) *cachedStmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[query]
	if !ok {
		return nil
	}
	c.lru.MoveToFront(el)
	e := el.Value.(*cachedStmt)
	e.users++
	c.stats.Hits++
	return e
}

// release ends a use of e, closing it if it was evicted meanwhile.
func (c *stmtCache) release(e *cachedStmt) {
	c.mu.Lock()
	e.users--
	last := e.evicted && e.users == 0
	c.mu.Unlock()
	if last {
		_ = e.stmt.Close()
	}
}

// prepare prepares query on the pool and caches it, returning the entry in
// use. The lock is not held while preparing: that waits for a connection,
// and on SQLite the only writer connection may belong to a transaction that
// itself needs the cache.
func (c *stmtCache) prepare(ctx context.Context, query string) (*cachedStmt, error) {
	st, err := c.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		_ = st.Close()
		return nil, errors.New("statement cache: database closed")
	}
	if el, ok := c.entries[query]; ok { // prepared meanwhile by another caller
		e := el.Value.(*cachedStmt)
		c.lru.MoveToFront(el)
		e.users++
		c.mu.Unlock()
		_ = st.Close()
		return e, nil
	}
	e := &cachedStmt{query: query, stmt: st, users: 1}
	c.entries[query] = c.lru.PushFront(e)
	c.stats.Prepares++
	var evict []*sql.Stmt
	for c.lru.Len() > c.limit {
		old := c.lru.Remove(c.lru.Back()).(*cachedStmt)
		delete(c.entries, old.query)
		old.evicted = true
		c.stats.Evictions++
		if old.users == 0 {
			evict = append(evict, old.stmt)
		}
	}
	c.mu.Unlock()
	for _, s := range evict {
		_ = s.Close()
	}
	return e, nil
}

// get returns query's entry in use, preparing it on a miss.
func (c *stmtCache) get(ctx context.Context, query string) (*cachedStmt, error) {
	if e := c.acquire(query); e != nil {
		return e, nil
	}
	return c.prepare(ctx, query)
}

// warm prepares queries that are not cached yet (statements first met inside
// a transaction; see hotQuerier). Failures are ignored: the statements then
// keep running unprepared and are tried again next time.
func (c *stmtCache) warm(ctx context.Context, queries []string) {
	for _, q := range queries {
		if e, err := c.get(ctx, q); err == nil {
			c.release(e)
		}
	}
}

// Stats returns the counters.
func (c *stmtCache) Stats() StmtCacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries = c.lru.Len()
	return s
}

// close closes every statement; later prepares are refused.
func (c *stmtCache) close() error {
	c.mu.Lock()
	c.closed = true
	var stmts []*sql.Stmt
	for _, el := range c.entries {
		stmts = append(stmts, el.Value.(*cachedStmt).stmt)
	}
	c.entries = map[string]*list.Element{}
	c.lru.Init()
	c.mu.Unlock()
	var err error
	for _, s := range stmts {
		err = errors.Join(err, s.Close())
	}
	return err
}

// hotQuerier runs SQL through a pool's statement cache, or through the
// transaction the context carries.
//
// In a transaction a cached statement is bound to the transaction's
// connection with tx.StmtContext, which reuses the statement already
// prepared on that connection. A statement not cached yet cannot be
// prepared on the pool there — on SQLite the pool's only writer connection
// is the transaction's — so it runs unprepared and is noted; WithTx
// prepares the noted statements once the transaction has ended.
//
// Multi-row queries in a transaction do not use the cache: the connection's
// one SQLite statement would be shared by two open result sets if the same
// query ran again before the first was closed (a loop issuing the query it
// iterates), and stepping one would reset the other. Single-row reads and
// execs finish before the call returns, so they are safe.
type hotQuerier struct {
	cache *stmtCache
	tx    *sql.Tx
	noted *txStatements // the transaction's statements to prepare afterwards
}

// txStatements collects, for one transaction, the statements met before
// they were cached.
type txStatements struct {
	mu      sync.Mutex
	queries []string
}

func (t *txStatements) note(q string) {
	t.mu.Lock()
	t.queries = append(t.queries, q)
	t.mu.Unlock()
}

func (t *txStatements) take() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	q := t.queries
	t.queries = nil
	return q
}

// stmt returns the statement to run query on and a release func, or nil
// when the query is to run unprepared on the transaction.
func (q hotQuerier) stmt(ctx context.Context, query string) (*sql.Stmt, func(), error) {
	if q.tx == nil {
		e, err := q.cache.get(ctx, query)
		if err != nil {
			return nil, nil, err
		}
		return e.stmt, func() { q.cache.release(e) }, nil
	}
	e := q.cache.acquire(query)
	if e == nil {
		q.noted.note(query)
		return nil, nil, nil
	}
	// Closing the transaction's statement after the call keeps a long
	// transaction from collecting one per call; rows already returned keep
	// what they need (database/sql tracks them on their own).
	st := q.tx.StmtContext(ctx, e.stmt)
	return st, func() { _ = st.Close(); q.cache.release(e) }, nil
}

func (q hotQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, release, err := q.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return q.tx.ExecContext(ctx, query, args...)
	}
	defer release()
	return st.ExecContext(ctx, args...)
}

func (q hotQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if q.tx != nil {
		return q.tx.QueryContext(ctx, query, args...)
	}
	st, release, err := q.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	defer release()
	return st.QueryContext(ctx, args...)
}

func (q hotQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, release, err := q.stmt(ctx, query)
	if err != nil {
		// A *sql.Row cannot be built with an error; the unprepared query
		// reports the same failure (or succeeds if it was transient).
		if q.tx != nil {
			return q.tx.QueryRowContext(ctx, query, args...)
		}
		return q.cache.pool.QueryRowContext(ctx, query, args...)
	}
	if st == nil {
		return q.tx.QueryRowContext(ctx, query, args...)
	}
	defer release()
	return st.QueryRowContext(ctx, args...)
}

// hotReader is reader for fixed SQL run on every page: it goes through the
// read pool's statement cache (see stmtcache.go).
func (db *DB) hotReader(ctx context.Context) querier {
	if t, ok := db.txCtx(ctx); ok {
		if db.writeStmts == nil {
			return t.tx
		}
		return hotQuerier{cache: db.writeStmts, tx: t.tx, noted: t.noted}
	}
	if db.readStmts == nil {
		return db.read
	}
	return hotQuerier{cache: db.readStmts}
}

// hotWriter is writer for fixed SQL run on every page.
func (db *DB) hotWriter(ctx context.Context) querier {
	if t, ok := db.txCtx(ctx); ok {
		if db.writeStmts == nil {
			return t.tx
		}
		return hotQuerier{cache: db.writeStmts, tx: t.tx, noted: t.noted}
	}
	if db.writeStmts == nil {
		return db.write
	}
	return hotQuerier{cache: db.writeStmts}
}

// StatementCacheStats returns the counters of the read and the write pool's
// statement caches (zero on PostgreSQL, which has none).
func (db *DB) StatementCacheStats() (read, write StmtCacheStats) {
	if db.readStmts != nil {
		read = db.readStmts.Stats()
	}
	if db.writeStmts != nil {
		write = db.writeStmts.Stats()
	}
	return read, write
}
