package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/search"
	"kehu/internal/vault"
)

// searchClass is one group of search hits. A page lists the hits of a
// class before those of the next, each class in its own index order, so
// every class is a range or point lookup on one index and paging stays a
// keyset walk: the cursor holds the class rank, the sort key and the id.
type searchClass struct {
	rank  int
	cond  string // SQL condition, "?" for each of args
	args  []any
	order string // sort column ("c.name", "c.name_key", "c.name_pinyin"), "" for id order
}

// queryArgs are the arguments of a query of the class. The name and word
// classes range over prefixes of any width ('张' is thousands of rows,
// "zhangwei" a few), so on PostgreSQL they are planned for their values each
// time (Dialect.CustomPlan); the exact class is point lookups whatever the
// value, and keeps pgx's cached statement.
func (cl searchClass) queryArgs(d Dialect, args []any) []any {
	if cl.rank == rankExact {
		return args
	}
	return d.CustomPlan(args)
}

// Search ranks. Exact identifiers first, then names.
const (
	rankExact = 1 + iota
	rankNamePrefix
	rankInitials
	rankPinyin
	rankContains
)

// identityTypes are every id_type, so an ID-number lookup uses the unique
// index on (id_type, id_number_bidx) whatever the document is.
var identityTypes = "'" + strings.Join([]string{customer.ResidentID, customer.Passport, customer.HKMacauPermit,
	customer.TaiwanPermit, customer.USCC}, "','") + "'"

// searchClasses turns a parsed query into its classes, in rank order.
// Identifiers are compared through their blind indexes: the columns hold
// ciphertext. Contains needs a database look-up and is added by the caller.
func searchClasses(d Dialect, k *vault.Keyring, q search.Query) []searchClass {
	var out []searchClass
	if q.Exact() {
		var parts []string
		var args []any
		if q.CustomerID != 0 {
			parts, args = append(parts, "SELECT CAST(? AS BIGINT)"), append(args, q.CustomerID)
		}
		if q.IDNumber != "" {
			parts = append(parts, "SELECT id FROM customers WHERE id_type IN ("+identityTypes+") AND id_number_bidx = ?")
			args = append(args, k.BlindIndex(vault.IndexIDNumber, q.IDNumber))
		}
		if q.Mobile != "" {
			parts, args = append(parts, "SELECT id FROM customers WHERE mobile_bidx = ?"),
				append(args, k.BlindIndex(vault.IndexMobile, q.Mobile))
		}
		if q.AccountNo != "" {
			parts, args = append(parts, "SELECT customer_id FROM accounts WHERE account_no_bidx = ?"),
				append(args, k.BlindIndex(vault.IndexAccountNo, q.AccountNo))
		}
		out = append(out, searchClass{rank: rankExact, cond: "c.id IN (" + strings.Join(parts, " UNION ALL ") + ")", args: args})
	}
	if q.NamePrefix != "" {
		out = append(out, searchClass{rank: rankNamePrefix, cond: d.Prefix("c.name"),
			args: []any{q.NamePrefix, q.NamePrefix + "\U0010FFFF"}, order: "c.name"})
	}
	for _, p := range q.Initials {
		out = append(out, searchClass{rank: rankInitials, cond: d.Prefix("c.name_key"),
			args: []any{p, p + "\U0010FFFF"}, order: "c.name_key"})
	}
	if q.Pinyin != "" {
		out = append(out, searchClass{rank: rankPinyin, cond: d.Prefix("c.name_pinyin"),
			args: []any{q.Pinyin, q.Pinyin + "\U0010FFFF"}, order: "c.name_pinyin"})
	}
	return out
}

// containsClass is the corporate-name word class: the rows holding the
// word's rarest two-character piece, narrowed to the scope on the pieces
// table itself (it carries org_id and owner_id), checked for the whole
// word. ok is false when some piece occurs in no name, so nothing can match.
func (s *CustomerStore) containsClass(ctx context.Context, q search.Query, scope customer.ScopeFilter, form scopeForm) (searchClass, bool, error) {
	best, bestN := "", -1
	for _, g := range q.Grams {
		var n int
		// Counting stops at 1,000: past that any piece is as good.
		err := s.db.reader(ctx).QueryRowContext(ctx,
			"SELECT count(*) FROM (SELECT 1 FROM customer_name_grams WHERE gram = $1 LIMIT 1000) t", g).Scan(&n)
		if err != nil {
			return searchClass{}, false, fmt.Errorf("search: %w", err)
		}
		if n == 0 {
			return searchClass{}, false, nil
		}
		if bestN < 0 || n < bestN {
			best, bestN = g, n
		}
	}
	like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q.Contains) + "%"
	inScope, args := gramScope(s.db.dialect, scope, form)
	// Only companies have pieces (the triggers), so no type test.
	return searchClass{rank: rankContains, args: append(append([]any{best}, args...), like),
		cond: "c.id IN (SELECT g.customer_id FROM customer_name_grams g WHERE g.gram = ?" + inScope +
			`) AND c.name LIKE ? ESCAPE '\'`}, true, nil
}

// gramScope narrows the pieces table to the scope as scopeWhere narrows
// customers: " AND (...)" with "?" placeholders, "" for the whole bank. It
// only saves work: the customer rows it lets through are still checked by
// scopeWhere, so it can never widen what a user sees.
func gramScope(d Dialect, s customer.ScopeFilter, form scopeForm) (string, []any) {
	var conds []string
	var args []any
	switch {
	case s.OwnerID != 0 && !form.secondary:
		conds, args = append(conds, "g.owner_id = ?"), append(args, s.OwnerID)
	case s.OwnerID != 0:
		conds, args = append(conds, "(g.owner_id = ? OR "+d.InSubquery("g.customer_id", "SELECT customer_id FROM customer_secondary_rms WHERE user_id = ?")+")"),
			append(args, s.OwnerID, s.OwnerID)
	case s.OrgID != 0:
		conds, args = append(conds, "g.org_id = ?"), append(args, s.OrgID)
	case s.OrgPath != "":
		conds, args = append(conds, d.InSubquery("g.org_id", "SELECT id FROM orgs WHERE "+d.Prefix("path"))),
			append(args, s.OrgPath, s.OrgPath+"\U0010FFFF")
	default:
		return "", nil
	}
	if s.GrantedTo != 0 {
		conds, args = append(conds, d.InSubquery("g.customer_id", "SELECT customer_id FROM access_grants WHERE user_id = ? AND scope = 'customer'"+
			" AND expires_at > ? AND revoked_at IS NULL")), append(args, s.GrantedTo, s.Now)
	}
	return " AND (" + strings.Join(conds, " OR ") + ")", args
}

// wideShare is the share of the bank's outlets from which a subtree is
// searched through the global name indexes rather than outlet by outlet.
// A page needs about 51 / share index entries walked in name order, or
// every match of the subtree gathered and sorted by outlet: for a common
// initial ("zh", a fifth of all names) in a province of a tenth of the
// bank that is 510 entries against 20,000.
const wideShare = 0.05

// wideSubtree reports whether the subtree under path holds at least
// wideShare of the outlets (two counts over the small orgs table).
func (s *CustomerStore) wideSubtree(ctx context.Context, path string) (bool, error) {
	var mine, all int
	var in where
	in.add(s.db.dialect.Prefix("path"), path, path+"\U0010FFFF")
	err := s.db.reader(ctx).QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE `+in.conds[0]+`), count(*)
		FROM orgs WHERE level = 'sub_branch'`, in.args...).Scan(&mine, &all)
	if err != nil {
		return false, fmt.Errorf("search: %w", err)
	}
	return all > 0 && float64(mine) >= wideShare*float64(all), nil
}

// narrowScope drops from a search's scope, on PostgreSQL, the arms that
// hold no customer for this user: the secondary-RM arm of an "own" scope
// (secondary reports whether to keep it) and the access-grant arm. Each arm
// is an OR beside the organisation or owner test, and an OR makes
// PostgreSQL combine bitmaps of every match and sort them, where the scope
// alone walks its (org_id|owner_id, name…) index in order and stops after
// a page: an outlet manager's "z" read 700 heap pages for 51 names. Nearly
// every user holds neither, nearly always; one index probe each finds out.
// SQLite serves the OR with an index per arm and keeps its query as it is.
func (s *CustomerStore) narrowScope(ctx context.Context, sc customer.ScopeFilter) (customer.ScopeFilter, bool, error) {
	secondary := false
	var err error
	if sc.OwnerID != 0 {
		secondary, err = s.holds(ctx, "SELECT 1 FROM customer_secondary_rms WHERE user_id = $1", sc.OwnerID)
		if err != nil {
			return sc, true, err
		}
	}
	if sc.GrantedTo != 0 {
		granted, err := s.holds(ctx, "SELECT 1 FROM access_grants WHERE user_id = $1 AND scope = 'customer'"+
			" AND expires_at > $2 AND revoked_at IS NULL", sc.GrantedTo, sc.Now)
		if err != nil {
			return sc, true, err
		}
		if !granted {
			sc.GrantedTo, sc.Now = 0, time.Time{}
		}
	}
	return sc, secondary, nil
}

// holds reports whether the query finds a row.
func (s *CustomerStore) holds(ctx context.Context, query string, args ...any) (bool, error) {
	var found bool
	if err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT EXISTS ("+query+")", args...).Scan(&found); err != nil {
		return false, fmt.Errorf("search scope: %w", err)
	}
	return found, nil
}

// hit is a row of a search page with its place in the ranked order.
type hit struct {
	c    customer.Customer
	rank int
	key  string
}

// search answers ListCustomers for a query: each class in rank order, with
// the conditions of base (scope and filters) and without the rows an
// earlier class already listed, until the page (and one more row, to know
// whether another page follows) is full.
func (s *CustomerStore) search(ctx context.Context, k *vault.Keyring, f customer.Filter, form scopeForm, base where) (customer.Page, error) {
	q := search.Parse(f.Query)
	classes := searchClasses(s.db.dialect, k, q)
	if q.Contains != "" {
		c, ok, err := s.containsClass(ctx, q, f.Scope, form)
		if err != nil {
			return customer.Page{Total: -1}, err
		}
		if ok {
			classes = append(classes, c)
		}
	}
	page := customer.Page{Total: -1}
	if f.Count {
		page.Total = 0
		for i := range classes {
			w := s.classWhere(base, classes, i)
			var n int64
			err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT count(*) FROM customers c"+w.sql(), classes[i].queryArgs(s.db.dialect, w.args)...).Scan(&n)
			if err != nil {
				return page, fmt.Errorf("count search hits: %w", err)
			}
			page.Total += n
		}
	}
	limit := kehu.ClampLimit(f.Limit)
	var hits []hit
	for i, cl := range classes {
		if len(hits) > limit {
			break
		}
		if f.After.Rank > cl.rank {
			continue
		}
		w := s.classWhere(base, classes, i)
		if f.After.Rank == cl.rank {
			s.afterWhere(&w, cl, f.After)
		}
		got, err := s.searchQuery(ctx, k, w, cl, limit+1-len(hits))
		if err != nil {
			return page, err
		}
		hits = append(hits, got...)
	}
	for _, h := range hits {
		page.Items = append(page.Items, h.c)
	}
	if len(hits) > limit {
		page.Items = page.Items[:limit]
		last := hits[limit-1]
		page.NextCursor = kehu.Cursor{AfterID: last.c.ID, Rank: last.rank, Key: last.key}
	}
	return page, nil
}

// classWhere is base plus class i, minus every earlier class of a lower
// rank (coalesce: a NULL name_key or name_pinyin must not hide a row from a
// later class).
func (s *CustomerStore) classWhere(base where, classes []searchClass, i int) where {
	w := where{conds: slices.Clone(base.conds), args: slices.Clone(base.args)}
	w.add(classes[i].cond, classes[i].args...)
	for _, prev := range classes[:i] {
		if prev.rank < classes[i].rank {
			w.add("NOT coalesce(("+prev.cond+"), FALSE)", prev.args...)
		}
	}
	return w
}

// afterWhere adds the keyset condition "after the cursor's row" within its
// class. The lower bound on the sort column lets the index range start at
// the cursor rather than at the start of the prefix.
func (s *CustomerStore) afterWhere(w *where, cl searchClass, after kehu.Cursor) {
	if cl.order == "" {
		w.add("c.id > ?", after.AfterID)
		return
	}
	col := s.sortExpr(cl.order)
	w.add(col+" >= ? AND ("+col+" > ? OR c.id > ?)", after.Key, after.Key, after.AfterID)
}

// sortExpr compares a text column byte-wise on PostgreSQL as well, the
// order of its {{collate_c}} index and of SQLite.
func (s *CustomerStore) sortExpr(col string) string {
	if s.db.dialect.IsPostgres() {
		return col + ` COLLATE "C"`
	}
	return col
}

// searchQuery reads up to n hits of one class in its order. The inner
// query finds the ids from indexes alone — scope columns (org_id, owner_id)
// sit in the search indexes beside name, name_key and name_pinyin, grants and secondary
// RMs are rowid lists — and only the page's rows are read from the table:
// a common surname in a province is thousands of index entries but never
// thousands of row reads.
func (s *CustomerStore) searchQuery(ctx context.Context, k *vault.Keyring, w where, cl searchClass, n int) ([]hit, error) {
	cols, order := customerColumns, "c.id"
	if cl.order != "" {
		cols += ", " + cl.order
		order = s.sortExpr(cl.order) + ", c.id"
	}
	args := append(w.args, n)
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT "+cols+" FROM customers c WHERE c.id IN (SELECT c.id FROM customers c"+
		w.sql()+" ORDER BY "+order+" LIMIT $"+strconv.Itoa(len(args))+") ORDER BY "+order, cl.queryArgs(s.db.dialect, args)...)
	if err != nil {
		return nil, fmt.Errorf("search customers: %w", err)
	}
	defer rows.Close()
	var out []hit
	for rows.Next() {
		h := hit{rank: cl.rank}
		var key sql.NullString
		var row interface{ Scan(...any) error } = rows
		if cl.order != "" {
			row = withExtra{rows, &key}
		}
		if h.c, err = scanCustomer(k, row); err != nil {
			return nil, fmt.Errorf("search customers: %w", err)
		}
		h.key = key.String
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search customers: %w", err)
	}
	return out, nil
}

// withExtra scans one more column after the customer's.
type withExtra struct {
	rows  *sql.Rows
	extra any
}

func (e withExtra) Scan(dest ...any) error { return e.rows.Scan(append(dest, e.extra)...) }

// nameKeyBatch is how many customers one backfill transaction updates.
const nameKeyBatch = 2000

// nameKeys are the search keys computed in Go from customers.name.
var nameKeys = []struct {
	column string
	of     func(string) string
}{{"name_key", search.NameKey}, {"name_pinyin", search.NamePinyin}}

// BackfillNameKeys computes customers.name_key and customers.name_pinyin
// where they are NULL: rows from before migrations 0010 and 0014, or written
// by a writer that did not set them. Each batch commits on its own, so a
// killed run continues where it stopped; on a database with every key set it
// is one index probe per key. Migrate calls it.
func (db *DB) BackfillNameKeys(ctx context.Context) (int64, error) {
	var done int64
	for _, k := range nameKeys {
		for {
			n, err := db.backfillNameKeyBatch(ctx, k.column, k.of)
			done += n
			if err != nil {
				return done, err
			}
			if n < nameKeyBatch {
				break
			}
		}
	}
	return done, nil
}

func (db *DB) backfillNameKeyBatch(ctx context.Context, column string, of func(string) string) (int64, error) {
	var n int64
	err := db.WithTx(ctx, func(ctx context.Context) error {
		q := db.writer(ctx)
		rows, err := q.QueryContext(ctx, "SELECT id, name FROM customers WHERE "+column+" IS NULL ORDER BY id LIMIT $1", nameKeyBatch)
		if err != nil {
			return err
		}
		type row struct {
			id   int64
			name string
		}
		var todo []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.name); err != nil {
				rows.Close()
				return err
			}
			todo = append(todo, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range todo {
			if _, err := q.ExecContext(ctx, "UPDATE customers SET "+column+" = $1 WHERE id = $2", of(r.name), r.id); err != nil {
				return err
			}
		}
		n = int64(len(todo))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("backfill %s: %w", column, err)
	}
	return n, nil
}
