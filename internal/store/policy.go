package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"kehu/internal/policy"
	"kehu/internal/suitability"
)

// SuitabilityStore implements suitability.Store.
type SuitabilityStore struct{ db *DB }

// Suitability returns the store of the suitability rule.
func (db *DB) Suitability() *SuitabilityStore { return &SuitabilityStore{db: db} }

// PolicyStore implements policy.Store: the settings versions, the facts of
// a batch, the contact log and the suppression tallies.
type PolicyStore struct{ db *DB }

// Policy returns the store of the contact policy.
func (db *DB) Policy() *PolicyStore { return &PolicyStore{db: db} }

const suitProductColumns = "p.id, p.code, p.name, p.name_en, p.type, p.risk_level"

func scanSuitProduct(r interface{ Scan(...any) error }) (suitability.Product, error) {
	var p suitability.Product
	err := r.Scan(&p.ID, &p.Code, &p.Name, &p.NameEN, &p.Type, &p.RiskLevel)
	return p, err
}

// Assessment implements suitability.Store.
func (s *SuitabilityStore) Assessment(ctx context.Context, customerID int64) (suitability.Assessment, error) {
	var a suitability.Assessment
	var at sql.NullTime
	err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT risk_level, risk_assessed_at FROM customers WHERE id = $1",
		customerID).Scan(&a.Level, &at)
	if err != nil {
		return a, notFound(err, "customer")
	}
	if at.Valid {
		t := at.Time.UTC()
		a.AssessedAt = &t
	}
	return a, nil
}

// ShelfProducts implements suitability.Store.
func (s *SuitabilityStore) ShelfProducts(ctx context.Context) ([]suitability.Product, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT "+suitProductColumns+
		" FROM products p WHERE p.status = 'on_sale' ORDER BY p.code")
	if err != nil {
		return nil, fmt.Errorf("products: %w", err)
	}
	return collect(rows, "products", func(r *sql.Rows) (suitability.Product, error) { return scanSuitProduct(r) })
}

// ProductByRef implements suitability.Store and policy.Store: a code, or a
// numeric id.
func (s *SuitabilityStore) ProductByRef(ctx context.Context, ref string) (suitability.Product, error) {
	id, err := strconv.ParseInt(ref, 10, 64)
	if err != nil {
		id = -1
	}
	p, err := scanSuitProduct(s.db.reader(ctx).QueryRowContext(ctx, "SELECT "+suitProductColumns+
		" FROM products p WHERE p.code = $1 OR p.id = $2 ORDER BY p.code = $1 DESC LIMIT 1", ref, id))
	if err != nil {
		return p, notFound(err, "product")
	}
	return p, nil
}

// Product implements policy.Store.
func (s *PolicyStore) Product(ctx context.Context, id int64) (suitability.Product, error) {
	p, err := scanSuitProduct(s.db.reader(ctx).QueryRowContext(ctx, "SELECT "+suitProductColumns+
		" FROM products p WHERE p.id = $1", id))
	if err != nil {
		return p, notFound(err, "product")
	}
	return p, nil
}

// ProductByRef implements policy.Store.
func (s *PolicyStore) ProductByRef(ctx context.Context, ref string) (suitability.Product, error) {
	return s.db.Suitability().ProductByRef(ctx, ref)
}

// LatestSettings implements policy.Store.
func (s *PolicyStore) LatestSettings(ctx context.Context) (policy.Settings, bool, error) {
	var v int64
	var body string
	var at time.Time
	var by sql.NullInt64
	err := s.db.reader(ctx).QueryRowContext(ctx, `SELECT version, settings, created_at, created_by
		FROM contact_policy_versions ORDER BY version DESC LIMIT 1`).Scan(&v, &body, &at, &by)
	if errors.Is(err, sql.ErrNoRows) {
		return policy.Settings{}, false, nil
	}
	if err != nil {
		return policy.Settings{}, false, fmt.Errorf("contact policy: %w", err)
	}
	var st policy.Settings
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		return policy.Settings{}, false, fmt.Errorf("contact policy version %d: %w", v, err)
	}
	at = at.UTC()
	st.Version, st.UpdatedAt = v, &at
	if by.Valid {
		st.UpdatedBy = &by.Int64
	}
	return st, true, nil
}

// SaveSettings implements policy.Store. Two saves at the same moment on
// PostgreSQL collide on the version: the second is ECONFLICT.
func (s *PolicyStore) SaveSettings(ctx context.Context, st policy.Settings) (int64, error) {
	q := s.db.writer(ctx)
	var v int64
	if err := q.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) + 1 FROM contact_policy_versions").Scan(&v); err != nil {
		return 0, fmt.Errorf("contact policy version: %w", err)
	}
	body := st
	body.Version, body.UpdatedAt, body.UpdatedBy = 0, nil, nil
	js, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	var at time.Time
	if st.UpdatedAt != nil {
		at = st.UpdatedAt.UTC()
	}
	_, err = q.ExecContext(ctx, `INSERT INTO contact_policy_versions (version, settings, created_at, created_by)
		VALUES ($1, $2, $3, $4)`, v, string(js), at, st.UpdatedBy)
	if isUniqueViolation(err) {
		return 0, conflict("the contact policy was changed at the same moment; try again")
	}
	if err != nil {
		return 0, fmt.Errorf("save contact policy: %w", err)
	}
	return v, nil
}

// idSet is a chunk of customer ids and how to select them: a dense chunk
// (a campaign's audience in id order) is read as a range, which scans an
// index without binding a thousand parameters; a sparse one as an IN list.
type idSet struct {
	ids    []int64
	want   map[int64]bool
	lo, hi int64
	dense  bool
}

func newIDSet(ids []int64) idSet {
	s := idSet{ids: ids, want: make(map[int64]bool, len(ids))}
	for i, id := range ids {
		s.want[id] = true
		if i == 0 || id < s.lo {
			s.lo = id
		}
		if i == 0 || id > s.hi {
			s.hi = id
		}
	}
	// A range reading at most four rows per wanted id beats the IN list.
	s.dense = s.hi-s.lo < 4*int64(len(ids))
	return s
}

// cond returns the condition on col and its arguments; fixed parameters
// $1..$from-1 come before it in the statement (SQLite's anonymous "?" take
// the following numbers, see paramList).
func (s idSet) cond(d Dialect, col string, from int) (string, []any) {
	if s.dense {
		return col + " BETWEEN $" + strconv.Itoa(from) + " AND $" + strconv.Itoa(from+1), []any{s.lo, s.hi}
	}
	args := make([]any, len(s.ids))
	for i, id := range s.ids {
		args[i] = id
	}
	return col + " IN (" + paramList(d, from, len(s.ids)) + ")", args
}

// Concurrent implements policy.Store: the read pool serves several chunks
// at once; a transaction is one connection.
func (s *PolicyStore) Concurrent(ctx context.Context) bool {
	_, inTx := s.db.txFrom(ctx)
	return !inTx
}

// Facts implements policy.Store with at most five queries for the chunk:
// customers, preferences, and for marketing consents, refusals of the
// product and the contact log.
func (s *PolicyStore) Facts(ctx context.Context, q policy.FactQuery, ids []int64) (map[int64]policy.Facts, error) {
	out := make(map[int64]policy.Facts, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	set := newIDSet(ids)
	d, rd := s.db.dialect, s.db.reader(ctx)
	each := func(what, query string, args []any, scan func(*sql.Rows) error) error {
		rows, err := rd.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		return rows.Err()
	}
	cond, args := set.cond(d, "c.id", 1)
	err := each("customers", "SELECT c.id, c.status, c.risk_level, c.risk_assessed_at FROM customers c WHERE "+cond, args,
		func(r *sql.Rows) error {
			var id int64
			var f policy.Facts
			var at sql.NullTime
			if err := r.Scan(&id, &f.Status, &f.Assessment.Level, &at); err != nil {
				return err
			}
			if !set.want[id] {
				return nil
			}
			if at.Valid {
				t := at.Time.UTC()
				f.Assessment.AssessedAt = &t
			}
			f.Found = true
			out[id] = f
			return nil
		})
	if err != nil {
		return nil, err
	}
	update := func(id int64, fn func(*policy.Facts)) {
		if f, ok := out[id]; ok {
			fn(&f)
			out[id] = f
		}
	}
	cond, args = set.cond(d, "p.customer_id", 1)
	err = each("preferences", "SELECT p.customer_id, "+preferenceColumns+" FROM customer_preferences p WHERE "+cond, args,
		func(r *sql.Rows) error {
			var id int64
			var p preferenceScan
			if err := r.Scan(append([]any{&id}, p.dest()...)...); err != nil {
				return err
			}
			update(id, func(f *policy.Facts) { f.Prefs = p.value() })
			return nil
		})
	if err != nil || !q.Marketing {
		return out, err
	}
	// On SQLite "channel || ''" keeps it off customer_consents_channel
	// (channel, granted, customer_id), which it would pick and then walk
	// every customer of the channel for each chunk; the primary key
	// (customer_id, channel) reads just the chunk's range. PostgreSQL uses
	// the channel index with both conditions.
	channel := "channel"
	if !d.IsPostgres() {
		channel = "channel || ''"
	}
	cond, args = set.cond(d, "customer_id", 2)
	err = each("consents", "SELECT customer_id, granted FROM customer_consents WHERE "+channel+" = $1 AND "+cond,
		append([]any{q.Channel}, args...), func(r *sql.Rows) error {
			var id int64
			var granted bool
			if err := r.Scan(&id, &granted); err != nil {
				return err
			}
			update(id, func(f *policy.Facts) {
				f.Consent = policy.ConsentWithdrawn
				if granted {
					f.Consent = policy.ConsentGranted
				}
			})
			return nil
		})
	if err != nil {
		return nil, err
	}
	if q.ProductID != 0 {
		// A refusal names the product in interaction_products, or (rows
		// written before that table) in interactions.product_id alone.
		cond, args = set.cond(d, "i.customer_id", 3)
		err = each("refusals", `SELECT i.customer_id, i.occurred_at FROM interactions i
			WHERE i.occurred_at >= $1 AND i.response = 'declined'
			  AND (EXISTS (SELECT 1 FROM interaction_products ip WHERE ip.interaction_id = i.id AND ip.product_id = $2)
			    OR (i.product_id = $2 AND NOT EXISTS (SELECT 1 FROM interaction_products x WHERE x.interaction_id = i.id)))
			  AND `+cond,
			append([]any{q.DeclinedSince.UTC(), q.ProductID}, args...), func(r *sql.Rows) error {
				var id int64
				var at time.Time
				if err := r.Scan(&id, &at); err != nil {
					return err
				}
				at = at.UTC()
				update(id, func(f *policy.Facts) {
					if f.DeclinedAt == nil || at.After(*f.DeclinedAt) {
						f.DeclinedAt = &at
					}
				})
				return nil
			})
		if err != nil {
			return nil, err
		}
	}
	since := q.PeriodSince
	if q.DayStart.Before(since) {
		since = q.DayStart
	}
	cond, args = set.cond(d, "customer_id", 2)
	err = each("contact log", `SELECT customer_id, channel, contacted_at FROM contact_log
		WHERE contacted_at >= $1 AND purpose = 'marketing' AND `+cond,
		append([]any{since.UTC()}, args...), func(r *sql.Rows) error {
			var id int64
			var ch string
			var at time.Time
			if err := r.Scan(&id, &ch, &at); err != nil {
				return err
			}
			update(id, func(f *policy.Facts) {
				if !at.Before(q.PeriodSince) {
					f.Marketing++
				}
				if ch == q.Channel && !at.Before(q.DayStart) && at.Before(q.DayEnd) {
					f.ChannelDay++
				}
			})
			return nil
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RecordContacts implements policy.Store: multi-row inserts on the
// transaction in ctx, if any.
func (s *PolicyStore) RecordContacts(ctx context.Context, cs []policy.Contact) error {
	if err := s.lockContacts(ctx); err != nil {
		return err
	}
	var err error
	if s.db.dialect.IsPostgres() {
		err = recordContactsArrays(ctx, s.db.writer(ctx), cs)
	} else {
		rows := make([][]any, len(cs))
		for i, c := range cs {
			var product sql.NullInt64
			if c.ProductID != 0 {
				product = sql.NullInt64{Int64: c.ProductID, Valid: true}
			}
			rows[i] = []any{c.CustomerID, c.Channel, c.Purpose, c.SourceKind, c.SourceID, product, c.At.UTC()}
		}
		err = insertRows(ctx, s.db.dialect, s.db.writer(ctx),
			"INSERT INTO contact_log (customer_id, channel, purpose, source_kind, source_id, product_id, contacted_at)", "", 7, rows)
	}
	if err != nil {
		return fmt.Errorf("record contacts: %w", err)
	}
	return nil
}

// recordContactsArrays inserts contacts on PostgreSQL with one array
// parameter per column, in order (so their ids are drawn in the order of
// cs), for the reason insertMembersArrays gives.
func recordContactsArrays(ctx context.Context, q querier, cs []policy.Contact) error {
	n := len(cs)
	customers, sources := make([]int64, n), make([]int64, n)
	channels, purposes, kinds := make([]string, n), make([]string, n), make([]string, n)
	products, at := make([]*int64, n), make([]time.Time, n)
	for i, c := range cs {
		customers[i], sources[i] = c.CustomerID, c.SourceID
		channels[i], purposes[i], kinds[i] = c.Channel, c.Purpose, c.SourceKind
		if c.ProductID != 0 {
			products[i] = &cs[i].ProductID
		}
		at[i] = c.At.UTC()
	}
	_, err := q.ExecContext(ctx, `INSERT INTO contact_log (customer_id, channel, purpose, source_kind, source_id,
		product_id, contacted_at)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[],
			$7::timestamptz[])`, customers, channels, purposes, kinds, sources, products, at)
	return err
}

// contactLogLock is the PostgreSQL advisory lock every transaction that
// writes the contact log holds until it commits (pg_advisory_xact_lock). It
// makes contact_log ids commit in the order they are drawn, so "contacts
// after position m" (ContactedAfter) misses none still in flight, and it
// lets a launch re-read the caps of its batch without another launch
// logging contacts in between. On SQLite the write transaction
// (BEGIN IMMEDIATE) already excludes every other writer.
const contactLogLock = 7340020

// lockContacts takes the contact-log lock for the transaction in ctx.
func (s *PolicyStore) lockContacts(ctx context.Context) error {
	if !s.db.dialect.IsPostgres() {
		return nil
	}
	if _, err := s.db.writer(ctx).ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", contactLogLock); err != nil {
		return fmt.Errorf("lock the contact log: %w", err)
	}
	return nil
}

// ContactMark implements policy.Store: the newest committed contact_log id.
func (s *PolicyStore) ContactMark(ctx context.Context) (int64, error) {
	var id int64
	if err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT COALESCE(max(id), 0) FROM contact_log").Scan(&id); err != nil {
		return 0, fmt.Errorf("contact log position: %w", err)
	}
	return id, nil
}

// ContactedAfter implements policy.Store: it takes the contact-log lock
// (held to the end of the caller's transaction), then reads the customers
// contacted after mark — a range of the primary key: between a launch's
// decision and its commit only the contacts of other launches and
// journeys running beside it are there.
func (s *PolicyStore) ContactedAfter(ctx context.Context, mark int64) (map[int64]bool, error) {
	if err := s.lockContacts(ctx); err != nil {
		return nil, err
	}
	out := map[int64]bool{}
	err := queryEach(ctx, s.db.writer(ctx), "contacts since the decision", "SELECT customer_id FROM contact_log WHERE id > $1",
		[]any{mark}, func(rows *sql.Rows) error {
			var id int64
			err := rows.Scan(&id)
			out[id] = true
			return err
		})
	return out, err
}

// AddSuppressions implements policy.Store.
func (s *PolicyStore) AddSuppressions(ctx context.Context, kind string, id int64, counts map[string]int64, at time.Time) error {
	reasons := make([]string, 0, len(counts))
	for r := range counts {
		reasons = append(reasons, r)
	}
	if len(reasons) == 0 {
		return nil
	}
	// One statement for every reason (a launch batch has about six), its
	// rows in a fixed order so two runs lock the rows alike.
	slices.Sort(reasons)
	args := make([]any, 0, 5*len(reasons))
	for _, r := range reasons {
		args = append(args, kind, id, r, counts[r], at.UTC())
	}
	_, err := s.db.writer(ctx).ExecContext(ctx, `INSERT INTO contact_suppressions (source_kind, source_id, reason, count,
		updated_at) VALUES `+s.db.dialect.valuesClause(len(reasons), 5)+`
		ON CONFLICT (source_kind, source_id, reason) DO UPDATE SET count = contact_suppressions.count + excluded.count,
		  updated_at = excluded.updated_at`, args...)
	if err != nil {
		return fmt.Errorf("suppressions of %s %d: %w", kind, id, err)
	}
	return nil
}

// Suppressions implements policy.Store.
func (s *PolicyStore) Suppressions(ctx context.Context, kind string, id int64) (map[string]int64, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, `SELECT reason, count FROM contact_suppressions
		WHERE source_kind = $1 AND source_id = $2`, kind, id)
	if err != nil {
		return nil, fmt.Errorf("suppressions: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var r string
		var n int64
		if err := rows.Scan(&r, &n); err != nil {
			return nil, fmt.Errorf("suppressions: %w", err)
		}
		out[r] = n
	}
	return out, rows.Err()
}
