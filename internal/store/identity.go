package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"kehu/internal/customer"
	"kehu/internal/identity"
	"kehu/internal/kehu"
	"kehu/internal/search"
)

// IdentityStore implements identity.Store.
type IdentityStore struct{ db *DB }

// Identity returns the identity-resolution store.
func (db *DB) Identity() *IdentityStore { return &IdentityStore{db: db} }

// lookupChunk is the IN-list size of the batch lookups.
const lookupChunk = 500

// Rules implements identity.Store.
func (s *IdentityStore) Rules(ctx context.Context) (identity.Rules, error) {
	r := identity.Rules{Priority: map[string]int{}, Field: map[string]string{}}
	q := s.db.reader(ctx)
	if err := queryEach(ctx, q, "source priorities", "SELECT code, priority FROM source_systems", nil, func(rows *sql.Rows) error {
		var code string
		var p int
		err := rows.Scan(&code, &p)
		r.Priority[code] = p
		return err
	}); err != nil {
		return r, err
	}
	err := queryEach(ctx, q, "field rules", "SELECT field, rule FROM identity_field_rules", nil, func(rows *sql.Rows) error {
		var f, rule string
		err := rows.Scan(&f, &rule)
		r.Field[f] = rule
		return err
	})
	return r, err
}

// SourceSystems implements identity.Store.
func (s *IdentityStore) SourceSystems(ctx context.Context) ([]identity.SourceSystem, error) {
	var out []identity.SourceSystem
	err := queryEach(ctx, s.db.reader(ctx), "source systems",
		"SELECT code, name, name_en, priority FROM source_systems ORDER BY priority, code", nil, func(rows *sql.Rows) error {
			var x identity.SourceSystem
			err := rows.Scan(&x.Code, &x.Name, &x.NameEN, &x.Priority)
			out = append(out, x)
			return err
		})
	return out, err
}

const linkColumns = "source_system, source_id, customer_id, origin, matched_by, COALESCE(job_id, 0), line, prints, observed_at"

func scanLink(rows *sql.Rows) (identity.Link, error) {
	var l identity.Link
	err := rows.Scan(&l.SourceSystem, &l.SourceID, &l.CustomerID, &l.Origin, &l.MatchedBy, &l.JobID, &l.Line,
		&l.Prints, &l.LinkedAt)
	l.LinkedAt = l.LinkedAt.UTC()
	return l, err
}

// Links implements identity.Store. Uses the (source_system, source_id)
// unique index.
func (s *IdentityStore) Links(ctx context.Context, system string, ids []string) (map[string]*identity.Link, error) {
	out := map[string]*identity.Link{}
	err := inChunks(uniqueStrings(ids), lookupChunk, func(chunk []string) error {
		args := append([]any{system}, anySlice(chunk)...)
		return queryEach(ctx, s.db.chunkReader(ctx, len(chunk), lookupChunk), "source links", "SELECT "+linkColumns+
			" FROM customer_sources WHERE source_system = $1 AND source_id IN ("+s.db.dialect.params(2, len(chunk))+")",
			args, func(rows *sql.Rows) error {
				l, err := scanLink(rows)
				out[l.SourceID] = &l
				return err
			})
	})
	return out, err
}

// CustomerLinks implements identity.Store.
func (s *IdentityStore) CustomerLinks(ctx context.Context, customerID int64) ([]identity.Link, error) {
	var out []identity.Link
	err := queryEach(ctx, s.db.reader(ctx), "source links", "SELECT "+linkColumns+
		", linked_at FROM customer_sources WHERE customer_id = $1 ORDER BY id", []any{customerID}, func(rows *sql.Rows) error {
		var l identity.Link
		err := rows.Scan(&l.SourceSystem, &l.SourceID, &l.CustomerID, &l.Origin, &l.MatchedBy, &l.JobID, &l.Line,
			&l.Prints, &l.LinkedAt, &l.FirstSeen)
		l.LinkedAt, l.FirstSeen = l.LinkedAt.UTC(), l.FirstSeen.UTC()
		out = append(out, l)
		return err
	})
	return out, err
}

// identityColumns are the customer columns resolution reads: the usual
// ones (the merge pointer among them) plus the blind indexes.
const identityColumns = customerColumns + ", c.id_number_bidx, c.mobile_bidx"

// extraScan appends destinations to a row scan, so scanCustomerSealed's
// column list can be extended.
type extraScan struct {
	row   interface{ Scan(...any) error }
	extra []any
}

func (e extraScan) Scan(dest ...any) error { return e.row.Scan(append(dest, e.extra...)...) }

// Customers implements identity.Store: one query per kind of key and
// chunk, each through its index (primary key; customers_identity with the
// id type leading; customers_mobile), then the provenance and origin links
// of what was found.
func (s *IdentityStore) Customers(ctx context.Context, q identity.Lookup) (map[int64]*identity.Existing, error) {
	k, err := s.db.keyring()
	if err != nil {
		return nil, err
	}
	out := map[int64]*identity.Existing{}
	load := func(cond string, args []any, full bool) error {
		q := s.db.reader(ctx)
		if full {
			q = s.db.hotReader(ctx)
		}
		return queryEach(ctx, q, "customers to resolve", "SELECT "+identityColumns+" FROM customers c WHERE "+cond,
			args, func(rows *sql.Rows) error {
				var e identity.Existing
				c, err := scanCustomerSealed(extraScan{rows, []any{&e.Sealed.IDNumberIndex, &e.Sealed.MobileIndex}})
				if err != nil {
					return err
				}
				e.MergedInto = c.MergedInto
				e.Sealed.IDNumber, e.Sealed.Mobile, e.Sealed.Email, e.Sealed.Address = c.IDNumber, c.Mobile, c.Email, c.Address
				if err := openAll(k, sealedCustomerColumns, sealedFields(&c)); err != nil {
					return fmt.Errorf("customer %d: %w", c.ID, err)
				}
				e.Customer = c
				if out[c.ID] == nil {
					out[c.ID] = &e
				}
				return nil
			})
	}
	if err := inChunks(uniqueIDs(q.IDs), lookupChunk, func(chunk []int64) error {
		return load("c.id IN ("+s.db.dialect.params(1, len(chunk))+")", anySlice(chunk), len(chunk) == lookupChunk)
	}); err != nil {
		return nil, err
	}
	byType := map[string][]string{}
	for _, key := range q.Identities {
		byType[key.IDType] = append(byType[key.IDType], key.Index)
	}
	for idType, keys := range byType {
		if err := inChunks(uniqueStrings(keys), lookupChunk, func(chunk []string) error {
			return load("c.id_type = $1 AND c.id_number_bidx IN ("+s.db.dialect.params(2, len(chunk))+")",
				append([]any{idType}, anySlice(chunk)...), len(chunk) == lookupChunk)
		}); err != nil {
			return nil, err
		}
	}
	if err := inChunks(uniqueStrings(q.Mobiles), lookupChunk, func(chunk []string) error {
		return load("c.mobile_bidx IN ("+s.db.dialect.params(1, len(chunk))+")", anySlice(chunk), len(chunk) == lookupChunk)
	}); err != nil {
		return nil, err
	}
	return out, s.attachProvenance(ctx, out)
}

// attachProvenance loads the explicit provenance rows and origin links of
// the customers found.
func (s *IdentityStore) attachProvenance(ctx context.Context, found map[int64]*identity.Existing) error {
	ids := make([]int64, 0, len(found))
	for id, e := range found {
		ids = append(ids, id)
		e.Provenance = map[string]identity.Provenance{}
	}
	return inChunks(ids, lookupChunk, func(chunk []int64) error {
		err := queryEach(ctx, s.db.reader(ctx), "provenance", "SELECT customer_id, field, source_system, set_at, "+
			"COALESCE(job_id, 0) FROM customer_field_provenance WHERE customer_id IN ("+s.db.dialect.params(1, len(chunk))+")",
			anySlice(chunk), func(rows *sql.Rows) error {
				var id int64
				var p identity.Provenance
				err := rows.Scan(&id, &p.Field, &p.SourceSystem, &p.SetAt, &p.JobID)
				p.SetAt = p.SetAt.UTC()
				found[id].Provenance[p.Field] = p
				return err
			})
		if err != nil {
			return err
		}
		return queryEach(ctx, s.db.reader(ctx), "origin links", "SELECT "+linkColumns+
			" FROM customer_sources WHERE origin AND customer_id IN ("+s.db.dialect.params(1, len(chunk))+")",
			anySlice(chunk), func(rows *sql.Rows) error {
				l, err := scanLink(rows)
				found[l.CustomerID].Origin = &l
				return err
			})
	})
}

// createColumns are the columns a created customer is inserted with.
const createColumns = "type, name, id_type, id_number, mobile, email, gender, birth_date, address, region_code, " +
	"org_id, owner_id, level, aum, risk_level, risk_assessed_at, industry, registered_capital, status, created_at, " +
	"updated_at, id_number_bidx, mobile_bidx, name_key, name_pinyin"

// ApplyPlan implements identity.Store.
func (s *IdentityStore) ApplyPlan(ctx context.Context, p *identity.Plan) error {
	q := s.db.writer(ctx)
	if err := s.insertCreates(ctx, q, p); err != nil {
		return err
	}
	p.Resolve()
	if err := s.writeUpdates(ctx, q, p.Updates); err != nil {
		return err
	}
	links := make([][]any, 0, len(p.NewLinks))
	for _, l := range p.NewLinks {
		links = append(links, []any{l.SourceSystem, l.SourceID, l.CustomerID, l.Origin, l.MatchedBy, nullID(l.JobID),
			l.Line, l.Prints, l.LinkedAt.UTC(), l.LinkedAt.UTC()})
	}
	if err := s.db.insertRowsHot(ctx, s.db.dialect.insertFail()+" customer_sources (source_system, source_id, customer_id, origin, "+
		"matched_by, job_id, line, prints, observed_at, linked_at)", "", 10, maxBatchParams/10, links); err != nil {
		return fmt.Errorf("insert source links: %w", err)
	}
	for _, l := range p.LinkPrints {
		if _, err := q.ExecContext(ctx, `UPDATE customer_sources SET prints = $1, observed_at = $2
			WHERE source_system = $3 AND source_id = $4`, l.Prints, l.LinkedAt.UTC(), l.SourceSystem, l.SourceID); err != nil {
			return fmt.Errorf("update source link: %w", err)
		}
	}
	prov := make([][]any, 0, len(p.Provenance))
	for _, r := range p.Provenance {
		prov = append(prov, []any{r.CustomerID, r.Field, r.SourceSystem, r.SetAt.UTC(), nullID(r.JobID)})
	}
	if err := insertRows(ctx, s.db.dialect, q, "INSERT INTO customer_field_provenance (customer_id, field, source_system, set_at, job_id)",
		"ON CONFLICT (customer_id, field) DO UPDATE SET source_system = excluded.source_system, "+
			"set_at = excluded.set_at, job_id = excluded.job_id", 5, prov); err != nil {
		return fmt.Errorf("write provenance: %w", err)
	}
	dups := make([][]any, 0, len(p.Duplicates))
	for _, d := range p.Duplicates {
		dups = append(dups, []any{d.CustomerID, d.OtherID, d.Rule, d.Score, d.Evidence, identity.DupPending,
			nullID(d.JobID), time.Now().UTC()})
	}
	if err := insertRows(ctx, s.db.dialect, q, "INSERT INTO duplicate_candidates (customer_id, other_id, rule, score, evidence, "+
		"status, job_id, created_at)", "ON CONFLICT (customer_id, other_id) DO NOTHING", 8, dups); err != nil {
		return fmt.Errorf("queue suspected duplicates: %w", err)
	}
	return nil
}

// insertCreates inserts the new customers and records their ids in p.IDs,
// matched back through the identity key the insert returns.
func (s *IdentityStore) insertCreates(ctx context.Context, q querier, p *identity.Plan) error {
	if len(p.Creates) == 0 {
		return nil
	}
	rows := make([][]any, 0, len(p.Creates))
	refs := make(map[string]int64, len(p.Creates))
	for _, c := range p.Creates {
		x := c.Customer
		if c.NameKey == "" {
			c.NameKey = search.NameKey(x.Name)
		}
		rows = append(rows, []any{x.Type, x.Name, x.IDType, c.Sealed.IDNumber, c.Sealed.Mobile, c.Sealed.Email,
			x.Gender, x.BirthDate, c.Sealed.Address, x.RegionCode, x.OrgID, x.OwnerID, x.Level, x.AUM, x.RiskLevel,
			x.RiskAssessedAt, x.Industry, x.RegisteredCapital, x.Status, x.CreatedAt.UTC(), x.UpdatedAt.UTC(),
			c.Sealed.IDNumberIndex, c.Sealed.MobileIndex, c.NameKey, search.NamePinyin(x.Name)})
		refs[x.IDType+"\x00"+c.Sealed.IDNumberIndex] = c.Ref
	}
	var err error
	if s.db.dialect.IsPostgres() {
		err = insertReturning(ctx, s.db.dialect, q, "INSERT INTO customers ("+createColumns+")", "id, id_type, id_number_bidx",
			25, rows, func(r *sql.Rows) error {
				var id int64
				var idType, index string
				if err := r.Scan(&id, &idType, &index); err != nil {
					return err
				}
				p.IDs[refs[idType+"\x00"+index]] = id
				return nil
			})
	} else {
		err = s.insertWithIDs(ctx, q, p, rows)
	}
	if err != nil {
		if isUniqueViolation(err) {
			return kehu.Errorf(kehu.ECONFLICT, "a customer with the same identity document was created meanwhile")
		}
		return fmt.Errorf("insert customers: %w", err)
	}
	if len(p.IDs) != len(p.Creates) {
		return fmt.Errorf("insert customers: %d ids returned for %d rows", len(p.IDs), len(p.Creates))
	}
	return nil
}

// insertWithIDs numbers the new customers itself on SQLite: the batch's
// transaction holds the database's only write lock, so max(id)+1... are
// free, and an INSERT without RETURNING spares SQLite collecting the
// returned rows.
func (s *IdentityStore) insertWithIDs(ctx context.Context, q querier, p *identity.Plan, rows [][]any) error {
	var last int64
	if err := q.QueryRowContext(ctx, "SELECT COALESCE(max(id), 0) FROM customers").Scan(&last); err != nil {
		return err
	}
	for i := range rows {
		id := last + int64(i) + 1
		rows[i] = append([]any{id}, rows[i]...)
		p.IDs[p.Creates[i].Ref] = id
	}
	return s.db.insertRowsHot(ctx, "INSERT OR FAIL INTO customers (id, "+createColumns+")", "", 26, sqliteInsertRows, rows)
}

// sqliteInsertRows is the rows of one multi-row INSERT into customers on
// SQLite. The INSERT is OR FAIL: a statement of several rows that may stop
// at a constraint ABORTs by default, which needs a statement journal holding
// every existing page the statement changes (and modernc's allocator hands
// most of that memory back to the kernel when the statement ends — a third
// of an import's CPU once, when statements were a thousand rows). FAIL
// keeps the rows before the failing one instead, and the batch's whole
// transaction is rolled back on any error anyway, so it needs no journal.
const sqliteInsertRows = 500

// writeUpdates stores the changed customers, sealed as the plan carries them.
func (s *IdentityStore) writeUpdates(ctx context.Context, q querier, updates []identity.Update) error {
	for _, u := range updates {
		c := u.New
		_, err := q.ExecContext(ctx, `UPDATE customers SET name = $1, id_type = $2, id_number = $3, id_number_bidx = $4,
			mobile = $5, mobile_bidx = $6, email = $7, gender = $8, birth_date = $9, address = $10, region_code = $11,
			org_id = $12, owner_id = $13, risk_level = $14, risk_assessed_at = $15, industry = $16,
			registered_capital = $17, updated_at = $18, name_key = $19, name_pinyin = $21 WHERE id = $20`,
			c.Name, c.IDType, u.Sealed.IDNumber, u.Sealed.IDNumberIndex, u.Sealed.Mobile, u.Sealed.MobileIndex,
			u.Sealed.Email, c.Gender, c.BirthDate, u.Sealed.Address, c.RegionCode, c.OrgID, c.OwnerID, c.RiskLevel,
			c.RiskAssessedAt, c.Industry, c.RegisteredCapital, c.UpdatedAt.UTC(), search.NameKey(c.Name), c.ID,
			search.NamePinyin(c.Name))
		if err != nil {
			if isUniqueViolation(err) {
				return kehu.Errorf(kehu.ECONFLICT, "customer %d: the identity document belongs to another customer", c.ID)
			}
			return fmt.Errorf("update customer %d: %w", c.ID, err)
		}
	}
	return nil
}

// RecordEdit implements identity.Store.
func (s *IdentityStore) RecordEdit(ctx context.Context, customerID int64, fields []string, at time.Time) error {
	rows := make([][]any, 0, len(fields))
	for _, f := range fields {
		rows = append(rows, []any{customerID, f, identity.SourceKehu, at.UTC(), nil})
	}
	return insertRows(ctx, s.db.dialect, s.db.writer(ctx), "INSERT INTO customer_field_provenance (customer_id, field, source_system, "+
		"set_at, job_id)", "ON CONFLICT (customer_id, field) DO UPDATE SET source_system = excluded.source_system, "+
		"set_at = excluded.set_at, job_id = excluded.job_id", 5, rows)
}

const candidateColumns = "d.id, d.customer_id, d.other_id, d.rule, d.score, d.evidence, d.status, COALESCE(d.job_id, 0), " +
	"d.created_at, d.decided_by, d.decided_at"

func scanCandidate(row interface{ Scan(...any) error }) (identity.Candidate, error) {
	var c identity.Candidate
	var evidence string
	var by sql.NullInt64
	var at sql.NullTime
	err := row.Scan(&c.ID, &c.CustomerID, &c.OtherID, &c.Rule, &c.Score, &evidence, &c.Status, &c.JobID, &c.CreatedAt, &by, &at)
	c.CreatedAt = c.CreatedAt.UTC()
	c.Evidence = []string{}
	if evidence != "" {
		c.Evidence = strings.Split(evidence, ",")
	}
	if by.Valid {
		c.DecidedBy = &by.Int64
	}
	if at.Valid {
		t := at.Time.UTC()
		c.DecidedAt = &t
	}
	return c, err
}

// pairScope limits pairs to those whose two customers are both in scope.
func (s *IdentityStore) pairScope(w *where, scope customer.ScopeFilter) {
	if scope.Unrestricted() {
		return
	}
	for _, col := range []string{"d.customer_id", "d.other_id"} {
		var inner where
		inner.args = w.args
		scopeWhere(s.db.dialect, &inner, scope)
		w.args = inner.args
		w.conds = append(w.conds, "EXISTS (SELECT 1 FROM customers c WHERE c.id = "+col+" AND "+
			strings.Join(inner.conds, " AND ")+")")
	}
}

// Duplicates implements identity.Store: newest first through the primary
// key (or duplicate_candidates_status for a status).
func (s *IdentityStore) Duplicates(ctx context.Context, f identity.DuplicateFilter) ([]identity.Candidate, error) {
	var w where
	if f.Status != "" {
		w.add("d.status = ?", f.Status)
	}
	if f.Before > 0 {
		w.add("d.id < ?", f.Before)
	}
	s.pairScope(&w, f.Scope)
	args := append(w.args, f.Limit)
	out := []identity.Candidate{}
	err := queryEach(ctx, s.db.reader(ctx), "suspected duplicates", "SELECT "+candidateColumns+
		" FROM duplicate_candidates d"+w.sql()+" ORDER BY d.id DESC LIMIT $"+fmt.Sprint(len(args)), args,
		func(rows *sql.Rows) error {
			c, err := scanCandidate(rows)
			out = append(out, c)
			return err
		})
	return out, err
}

// Duplicate implements identity.Store.
func (s *IdentityStore) Duplicate(ctx context.Context, id int64, scope customer.ScopeFilter) (identity.Candidate, error) {
	var w where
	w.add("d.id = ?", id)
	s.pairScope(&w, scope)
	c, err := scanCandidate(s.db.reader(ctx).QueryRowContext(ctx, "SELECT "+candidateColumns+" FROM duplicate_candidates d"+
		w.sql(), w.args...))
	if err != nil {
		return identity.Candidate{}, notFound(err, "suspected duplicate")
	}
	return c, nil
}
