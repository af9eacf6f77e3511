package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kehu/internal/customer"
	"kehu/internal/importer"
	"kehu/internal/ingest"
	"kehu/internal/kehu"
	"kehu/internal/vault"
)

// IngestStore implements ingest.Store.
type IngestStore struct{ db *DB }

// Ingest returns the feed store.
func (db *DB) Ingest() *IngestStore { return &IngestStore{db: db} }

// FindBatch returns the live batch of user with key.
func (s *IngestStore) FindBatch(ctx context.Context, userID int64, key string, now time.Time) (ingest.StoredBatch, error) {
	b := ingest.StoredBatch{UserID: userID, Key: key}
	var answer string
	err := s.db.reader(ctx).QueryRowContext(ctx, `SELECT id, kind, request_hash, result, received_at, expires_at
		FROM ingest_batches WHERE user_id = $1 AND idem_key = $2 AND expires_at > $3`, userID, key, now.UTC()).
		Scan(&b.ID, &b.Kind, &b.RequestHash, &answer, &b.ReceivedAt, &b.ExpiresAt)
	if err != nil {
		return b, notFound(err, "ingest batch")
	}
	b.Answer = []byte(answer)
	b.ReceivedAt, b.ExpiresAt = b.ReceivedAt.UTC(), b.ExpiresAt.UTC()
	return b, nil
}

// ClaimBatch inserts the batch's key, taking over an expired row with the
// same key. On PostgreSQL a concurrent claim of the same key waits here for
// the first transaction and then finds the key live.
func (s *IngestStore) ClaimBatch(ctx context.Context, b ingest.StoredBatch) (int64, bool, error) {
	var id int64
	err := s.db.writer(ctx).QueryRowContext(ctx, `INSERT INTO ingest_batches (user_id, idem_key, kind, request_hash,
		received_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (user_id, idem_key) DO UPDATE SET kind = excluded.kind, request_hash = excluded.request_hash,
			result = '', accepted = 0, rejected = 0, duplicates = 0, received_at = excluded.received_at,
			expires_at = excluded.expires_at
		WHERE ingest_batches.expires_at <= excluded.received_at
		RETURNING id`, b.UserID, b.Key, string(b.Kind), b.RequestHash, b.ReceivedAt.UTC(), b.ExpiresAt.UTC()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("claim ingest batch: %w", err)
	}
	return id, true, nil
}

// FinishBatch stores a claimed batch's answer and counts.
func (s *IngestStore) FinishBatch(ctx context.Context, id int64, r ingest.Result, answer []byte) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE ingest_batches SET result = $1, accepted = $2, rejected = $3,
		duplicates = $4 WHERE id = $5`, string(answer), r.Accepted, r.Rejected, r.Duplicates, id)
	if err != nil {
		return fmt.Errorf("finish ingest batch %d: %w", id, err)
	}
	return nil
}

// PurgeBatches deletes expired batch keys (ingest_batches_expiry).
func (s *IngestStore) PurgeBatches(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.writer(ctx).ExecContext(ctx, `DELETE FROM ingest_batches WHERE expires_at <= $1`, now.UTC())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// FeedJob returns the standing import job of a feed's kind and source
// system, creating it on first use: done from the start, no file. Two first
// batches at once may each create one; either serves.
func (s *IngestStore) FeedJob(ctx context.Context, kind, source string, a kehu.Actor, now time.Time) (importer.Job, error) {
	j := importer.Job{Kind: kind, FileName: importer.FeedJobName, SHA256: importer.FeedJobKey(kind, source),
		SourceSystem: source, Status: importer.StatusDone}
	err := s.db.writer(ctx).QueryRowContext(ctx, `SELECT id FROM import_jobs WHERE kind = $1 AND file_sha256 = $2
		AND file_name = $3 ORDER BY id LIMIT 1`, kind, j.SHA256, j.FileName).Scan(&j.ID)
	if err == nil {
		return j, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return j, fmt.Errorf("feed job: %w", err)
	}
	j.CreatedBy, j.CreatedByName, j.ActorRole, j.ActorOrgID, j.CreatedAt = a.UserID, a.Username, a.Role, a.OrgID, now
	return s.db.Imports().CreateJob(ctx, j)
}

// SourceSystems returns the codes of the configured source systems.
func (s *IngestStore) SourceSystems(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, `SELECT code FROM source_systems`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var code string
		if err := rows.Scan(&code); err != nil {
			return nil, err
		}
		out[code] = true
	}
	return out, rows.Err()
}

// ProductIDs returns the ids of the products with these codes.
func (s *IngestStore) ProductIDs(ctx context.Context, codes []string) (map[string]int64, error) {
	return productIDs(ctx, s.db.reader(ctx), s.db.dialect, codes)
}

func productIDs(ctx context.Context, q querier, d Dialect, codes []string) (map[string]int64, error) {
	out := make(map[string]int64, len(codes))
	if len(codes) == 0 {
		return out, nil
	}
	args := make([]any, len(codes))
	for i, c := range codes {
		args[i] = c
	}
	rows, err := q.QueryContext(ctx, "SELECT code, id FROM products WHERE code IN ("+
		paramList(d, 1, len(codes))+")", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var code string
		var id int64
		if err := rows.Scan(&code, &id); err != nil {
			return nil, err
		}
		out[code] = id
	}
	return out, rows.Err()
}

// ResolveCustomers maps each reference to a customer id in scope, 0 when it
// names none (ingest.ErasedCustomer for an erased one): ids directly, source ids through customer_sources, identity
// documents through the customers_identity blind index. A merged customer
// resolves to its survivor, whose scope then decides. A handful of queries
// per batch, whatever its size.
func (s *IngestStore) ResolveCustomers(ctx context.Context, refs []ingest.CustomerRef, scope customer.ScopeFilter) ([]int64, error) {
	return s.resolveCustomers(ctx, s.db.reader(ctx), refs, scope)
}

// ResolveAhead resolves the references and product codes of an events
// batch before its write transaction, in one snapshot of the read pool, so
// that on SQLite the single writer does not spend its turn on a thousand
// primary-key lookups while the next batch waits. The snapshot opens with the
// newest audit id, the mark StillResolved compares against. On PostgreSQL,
// where the resolution inside the transaction holds no other writer up (and
// ids commit out of order, so no mark is exact), it reads nothing and
// returns an invalid mark.
func (s *IngestStore) ResolveAhead(ctx context.Context, refs []ingest.CustomerRef, codes []string,
	scope customer.ScopeFilter) (ingest.Resolution, error) {
	var r ingest.Resolution
	if s.db.dialect.IsPostgres() {
		return r, nil
	}
	tx, err := s.db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return r, fmt.Errorf("resolve ahead: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	// The snapshot starts at the first read: the mark, then the lookups.
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(max(id), 0) FROM audit_log").Scan(&r.Mark.Audit); err != nil {
		return r, fmt.Errorf("resolve ahead: %w", err)
	}
	if r.Customers, err = s.resolveCustomers(ctx, tx, refs, scope); err != nil {
		return r, err
	}
	if r.Products, err = productIDs(ctx, tx, s.db.dialect, codes); err != nil {
		return r, fmt.Errorf("resolve products: %w", err)
	}
	r.Mark.Valid = true
	return r, nil
}

// resolutionChanges are the audit actions of the writes that can change
// what a reference resolves to for a bank-wide feed: a merge re-points a
// customer and its source links, its undo back, an erasure marks the customer
// erased, a rectification or an edit may change an identity document, an
// import rollback deletes customers and links. Upsert feeds ("ingest.batch"
// of any kind but events) count too. Every such write records its audit entry
// in its own transaction (docs/AUDIT.md), so none commits unseen.
var resolutionChanges = []string{"customer.update", "customer.merge", "customer.unmerge", "privacy.rectify",
	"privacy.erase", "import.rollback"}

// StillResolved reports, in the write transaction of ctx, whether no write
// that changes what a reference resolves to has committed since m was read.
// On SQLite the transaction holds the only write lock, so nothing can come
// between this check and the insert; an audit entry after the mark is one
// of the few the other feeds wrote meanwhile, read by primary key.
func (s *IngestStore) StillResolved(ctx context.Context, m ingest.ResolveMark) (bool, error) {
	if !m.Valid || s.db.dialect.IsPostgres() {
		return false, nil
	}
	changed, err := auditedSince(ctx, s.db, m.Audit, resolutionChanges, "(action = 'ingest.batch' AND object <> 'ingest:events')")
	if err != nil {
		return false, fmt.Errorf("resolution unchanged: %w", err)
	}
	return !changed, nil
}

// resolveCustomers is ResolveCustomers reading through q.
func (s *IngestStore) resolveCustomers(ctx context.Context, q querier, refs []ingest.CustomerRef,
	scope customer.ScopeFilter) ([]int64, error) {
	k, err := s.db.keyring()
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(refs))
	bySource := map[string]map[string][]int{}   // system → source id → ref indexes
	byIdentity := map[string]map[string][]int{} // id type → blind index → ref indexes
	for i, r := range refs {
		switch {
		case r.ID != 0:
			out[i] = r.ID
		case r.SourceID != "":
			addRef(bySource, r.SourceSystem, r.SourceID, i)
		case r.IDNumber != "":
			addRef(byIdentity, r.IDType, k.BlindIndex(vault.IndexIDNumber, r.IDNumber), i)
		}
	}
	for system, ids := range bySource {
		err := s.lookup(ctx, q, out, ids, `SELECT source_id, customer_id FROM customer_sources
			WHERE source_system = $1 AND source_id IN (`, system)
		if err != nil {
			return nil, fmt.Errorf("resolve source ids: %w", err)
		}
	}
	for idType, bidx := range byIdentity {
		err := s.lookup(ctx, q, out, bidx, `SELECT id_number_bidx, id FROM customers
			WHERE id_type = $1 AND id_number_bidx IN (`, idType)
		if err != nil {
			return nil, fmt.Errorf("resolve identity numbers: %w", err)
		}
	}
	if err := s.survivorsInScope(ctx, q, out, scope); err != nil {
		return nil, fmt.Errorf("resolve customers: %w", err)
	}
	return out, nil
}

func addRef(m map[string]map[string][]int, group, key string, i int) {
	if m[group] == nil {
		m[group] = map[string][]int{}
	}
	m[group][key] = append(m[group][key], i)
}

// lookup runs query (a prefix ending in "IN (" whose $1 is group) over the
// keys of want and stores each key's id at the indexes it was asked for.
func (s *IngestStore) lookup(ctx context.Context, q querier, out []int64, want map[string][]int, query, group string) error {
	args := make([]any, 0, len(want)+1)
	args = append(args, group)
	for key := range want {
		args = append(args, key)
	}
	rows, err := q.QueryContext(ctx, query+paramList(s.db.dialect, 2, len(want))+")", args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var id int64
		if err := rows.Scan(&key, &id); err != nil {
			return err
		}
		for _, i := range want[key] {
			out[i] = id
		}
	}
	return rows.Err()
}

// maxMergeHops bounds how far a chain of merges is followed (A merged into
// B, later B into C).
const maxMergeHops = 8

// survivorsInScope replaces each id by its merge survivor, zeroes ids that
// do not exist or lie outside scope and marks erased customers
// ingest.ErasedCustomer: one query per hop of merges, usually one in all.
func (s *IngestStore) survivorsInScope(ctx context.Context, q querier, ids []int64, scope customer.ScopeFilter) error {
	var sw where
	scopeWhere(s.db.dialect, &sw, scope)
	visible := "1"
	if len(sw.conds) > 0 {
		visible = "CASE WHEN " + strings.Join(sw.conds, " AND ") + " THEN 1 ELSE 0 END"
	}
	pending := map[int64][]int{}
	for i, id := range ids {
		if id != 0 {
			pending[id] = append(pending[id], i)
		}
	}
	for hop := 0; len(pending) > 0; hop++ {
		if hop == maxMergeHops {
			return fmt.Errorf("customers %v are merged more than %d times over", keysOf(pending), maxMergeHops)
		}
		args := append([]any{}, sw.args...)
		for id := range pending {
			args = append(args, id)
		}
		rows, err := q.QueryContext(ctx, "SELECT c.id, c.merged_into, c.status, "+visible+
			" FROM customers c WHERE c.id IN ("+paramList(s.db.dialect, len(sw.args)+1, len(pending))+")", args...)
		if err != nil {
			return err
		}
		next := map[int64][]int{}
		found := map[int64]bool{}
		for rows.Next() {
			var id int64
			var into sql.NullInt64
			var status string
			var inScope int
			if err := rows.Scan(&id, &into, &status, &inScope); err != nil {
				rows.Close()
				return err
			}
			found[id] = true
			for _, i := range pending[id] {
				switch {
				case into.Valid:
					ids[i] = into.Int64
					next[into.Int64] = append(next[into.Int64], i)
				case inScope == 0:
					ids[i] = 0
				case status == customer.StatusErased:
					ids[i] = ingest.ErasedCustomer
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for id, idx := range pending {
			if !found[id] {
				for _, i := range idx {
					ids[i] = 0
				}
			}
		}
		pending = next
	}
	return nil
}

func keysOf(m map[int64][]int) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// eventColumns are the columns a fed event fills, in insert order.
const eventColumns = "customer_id, occurred_at, channel, kind, product_id, detail, event_id, received_at"

// eventsPerInsert is how many events one INSERT statement carries: 8
// parameters each keeps a statement far below both engines' parameter limits,
// and a 1,000-event batch takes four executions of one prepared statement.
const eventsPerInsert = 250

// InsertEvents stores the events whose (channel, event_id) is new, with
// multi-row INSERTs of one prepared statement, in the transaction in ctx.
// ON CONFLICT against channel_events_source drops duplicates without a prior
// lookup; RETURNING names the rows stored, whose ids are set in evs.
func (s *IngestStore) InsertEvents(ctx context.Context, evs []ingest.Event) (int, error) {
	q := s.db.writer(ctx)
	pg := s.db.dialect.IsPostgres()
	var full *sql.Stmt
	if len(evs) >= eventsPerInsert {
		if tx, ok := s.db.txFrom(ctx); ok {
			stmt, err := tx.PrepareContext(ctx, insertEventsSQL(s.db.dialect, eventsPerInsert))
			if err != nil {
				return 0, err
			}
			defer stmt.Close()
			full = stmt
		}
	}
	stored := 0
	for start := 0; start < len(evs); start += eventsPerInsert {
		chunk := evs[start:min(start+eventsPerInsert, len(evs))]
		args := make([]any, 0, 8*len(chunk))
		for _, e := range chunk {
			var detail any
			if e.Detail != "" {
				detail = e.Detail
			}
			args = append(args, e.CustomerID, e.OccurredAt.UTC(), e.Channel, e.Kind, e.ProductID, detail, e.EventID,
				e.ReceivedAt.UTC())
		}
		query := insertEventsSQL(s.db.dialect, len(chunk))
		reuse := full != nil && len(chunk) == eventsPerInsert
		var n int
		var err error
		if pg {
			var rows *sql.Rows
			if reuse {
				rows, err = full.QueryContext(ctx, args...)
			} else {
				rows, err = q.QueryContext(ctx, query, args...)
			}
			if err == nil {
				n, err = scanStored(chunk, rows)
			}
		} else {
			var res sql.Result
			if reuse {
				res, err = full.ExecContext(ctx, args...)
			} else {
				res, err = q.ExecContext(ctx, query, args...)
			}
			if err == nil {
				n, err = numberStored(ctx, q, chunk, res)
			}
		}
		stored += n
		if err != nil {
			return stored, err
		}
	}
	return stored, nil
}

// scanStored sets the ID of each event of chunk that the INSERT … RETURNING
// (PostgreSQL) stored, from its rows.
func scanStored(chunk []ingest.Event, rows *sql.Rows) (int, error) {
	defer rows.Close()
	at := make(map[[2]string]int, len(chunk))
	for i, e := range chunk {
		at[[2]string{e.Channel, e.EventID}] = i
	}
	stored := 0
	for rows.Next() {
		var id int64
		var channel, eventID string
		if err := rows.Scan(&id, &channel, &eventID); err != nil {
			return stored, err
		}
		chunk[at[[2]string{channel, eventID}]].ID = id
		stored++
	}
	return stored, rows.Err()
}

// numberStored sets the ID of each event of chunk that the plain INSERT
// (SQLite) stored. SQLite gives each new row of a table with an INTEGER
// PRIMARY KEY the largest rowid plus one, and this transaction holds the
// only write lock, so the n rows the statement stored are the ids
// last-n+1 … last, in the order of its VALUES: when all were stored they
// are numbered in place; when some were duplicates, the stored ones are read
// back by that id range. RETURNING would give the same at a cost of about a
// tenth of the insert (its rows are buffered in a temporary table).
func numberStored(ctx context.Context, q querier, chunk []ingest.Event, res sql.Result) (int, error) {
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return 0, err
	}
	last, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	first := last - n + 1
	if int(n) == len(chunk) {
		for i := range chunk {
			chunk[i].ID = first + int64(i)
		}
		return len(chunk), nil
	}
	rows, err := q.QueryContext(ctx, "SELECT id, channel, event_id FROM channel_events WHERE id BETWEEN $1 AND $2",
		first, last)
	if err != nil {
		return 0, err
	}
	scanned, err := scanStored(chunk, rows)
	if err == nil && scanned != int(n) {
		err = fmt.Errorf("insert events: %d rows stored but %d found in ids %d-%d", n, scanned, first, last)
	}
	return scanned, err
}

// insertEventsSQL is the INSERT of n events (anonymous parameters on
// SQLite, see paramList). On PostgreSQL it returns the stored rows; SQLite
// numbers them from the insert's result instead (numberStored).
func insertEventsSQL(d Dialect, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO channel_events (" + eventColumns + ") VALUES ")
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range 8 {
			if c > 0 {
				b.WriteString(", ")
			}
			if d.IsPostgres() {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(r*8 + c + 1))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	b.WriteString(" ON CONFLICT (channel, event_id) WHERE event_id IS NOT NULL DO NOTHING")
	if d.IsPostgres() {
		b.WriteString(" RETURNING id, channel, event_id")
	}
	return b.String()
}

// paramList returns n parameters numbered from "from", for lists of a
// thousand values: "$from, $from+1, ..." on PostgreSQL, "?, ?, ..." on
// SQLite, as in BulkLoader. SQLite looks a "$n" parameter up by name in a
// list, so binding a thousand of them is quadratic and costs more than the
// query. A "?" takes the number after the highest before it, so the list
// must follow parameters $1 … $from-1 that appear in order.
func paramList(d Dialect, from, n int) string {
	if !d.IsPostgres() {
		return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
	}
	return c360Marks(from, n)
}
