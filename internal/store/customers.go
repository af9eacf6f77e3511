package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/search"
	"kehu/internal/vault"
)

// CustomerStore implements customer.Store.
type CustomerStore struct{ db *DB }

// Customers returns the customer store.
func (db *DB) Customers() *CustomerStore { return &CustomerStore{db: db} }

const customerColumns = `c.id, c.type, c.name, c.id_type, c.id_number, c.mobile, c.email, c.gender, c.birth_date,
	c.address, c.region_code, c.org_id, c.owner_id, c.level, c.aum, c.risk_level, c.risk_assessed_at,
	c.industry, c.registered_capital, c.status, c.created_at, c.updated_at, COALESCE(c.merged_into, 0)`

// sealedCustomerColumns are the encrypted columns of customers, in the order
// of customerFields.
var sealedCustomerColumns = []string{colIDNumber, colMobile, colEmail, colAddress}

// sealedFields points at the encrypted fields of c, for sealAll and openAll.
func sealedFields(c *customer.Customer) []*string {
	return []*string{&c.IDNumber, &c.Mobile, &c.Email, &c.Address}
}

// scanCustomer reads a row and opens its encrypted fields.
func scanCustomer(k *vault.Keyring, row interface{ Scan(...any) error }) (customer.Customer, error) {
	c, err := scanCustomerSealed(row)
	if err != nil {
		return c, err
	}
	if err := openAll(k, sealedCustomerColumns, sealedFields(&c)); err != nil {
		return customer.Customer{}, fmt.Errorf("customer %d: %w", c.ID, err)
	}
	return c, nil
}

func scanCustomerSealed(row interface{ Scan(...any) error }) (customer.Customer, error) {
	var c customer.Customer
	var owner sql.NullInt64
	var assessed sql.NullTime
	err := row.Scan(&c.ID, &c.Type, &c.Name, &c.IDType, &c.IDNumber, &c.Mobile, &c.Email, &c.Gender, &c.BirthDate,
		&c.Address, &c.RegionCode, &c.OrgID, &owner, &c.Level, &c.AUM, &c.RiskLevel, &assessed,
		&c.Industry, &c.RegisteredCapital, &c.Status, &c.CreatedAt, &c.UpdatedAt, &c.MergedInto)
	if owner.Valid {
		c.OwnerID = &owner.Int64
	}
	if assessed.Valid {
		t := assessed.Time.UTC()
		c.RiskAssessedAt = &t
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, err
}

// where accumulates SQL conditions with numbered parameters.
type where struct {
	conds []string
	args  []any
}

// add appends a condition; each "?" in cond becomes the next $n.
func (w *where) add(cond string, args ...any) {
	for _, a := range args {
		w.args = append(w.args, a)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(w.args)), 1)
	}
	w.conds = append(w.conds, cond)
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// scopeWhere adds the data-scope restriction. A subtree is a path prefix on
// the home organisation; the range form uses the orgs path index on both
// engines. "Own" customers include those the user is a secondary RM of; an
// active access grant (approved request or break glass, unrevoked, expiring
// after s.Now) adds its customer to any restricted scope.
func scopeWhere(d Dialect, w *where, s customer.ScopeFilter) { scopeWhereBy(d, w, s, fullScope) }

// scopeForm is how scopeWhereBy writes a scope.
type scopeForm struct {
	// orgIndex false writes the subtree test so no index serves it (unary
	// +, valid on both engines), for the search of a wide subtree
	// (search.go, wideSubtree): walking the name index in order and testing
	// the organisation from the index entry stops after a page, where the
	// organisation index would gather and sort every match of every outlet
	// first.
	orgIndex bool
	// secondary false leaves out the secondary-RM arm of an "own" scope,
	// for a user known to be nobody's secondary RM (narrowScope).
	secondary bool
}

// fullScope writes every arm of the scope with its indexes usable.
var fullScope = scopeForm{orgIndex: true, secondary: true}

// scopeWhereBy is scopeWhere in the form f.
func scopeWhereBy(d Dialect, w *where, s customer.ScopeFilter, f scopeForm) {
	var base where
	base.args = w.args
	switch {
	case s.OwnerID != 0 && !f.secondary:
		base.add("c.owner_id = ?", s.OwnerID)
	case s.OwnerID != 0:
		base.add("(c.owner_id = ? OR "+d.InSubquery("c.id", "SELECT customer_id FROM customer_secondary_rms WHERE user_id = ?")+")",
			s.OwnerID, s.OwnerID)
	case s.OrgID != 0:
		base.add("c.org_id = ?", s.OrgID)
	case s.OrgPath != "":
		col := "c.org_id"
		if !f.orgIndex {
			col = "+c.org_id"
		}
		base.add(d.InSubquery(col, "SELECT id FROM orgs WHERE "+d.Prefix("path")), s.OrgPath, s.OrgPath+"\U0010FFFF")
	default:
		return
	}
	if s.GrantedTo != 0 {
		base.add(d.InSubquery("c.id", "SELECT customer_id FROM access_grants WHERE user_id = ? AND scope = 'customer'"+
			" AND expires_at > ? AND revoked_at IS NULL"), s.GrantedTo, s.Now)
		base.conds = []string{"(" + strings.Join(base.conds, " OR ") + ")"}
	}
	w.args = base.args
	w.conds = append(w.conds, base.conds...)
}

// ListCustomers returns a keyset page ordered by id, or with a query the
// ranked search hits (search.go).
func (s *CustomerStore) ListCustomers(ctx context.Context, f customer.Filter) (customer.Page, error) {
	k, err := s.db.keyring()
	if err != nil {
		return customer.Page{}, err
	}
	var w where
	search := strings.TrimSpace(f.Query) != ""
	form := fullScope
	if search && f.Scope.OrgPath != "" {
		wide, err := s.wideSubtree(ctx, f.Scope.OrgPath)
		if err != nil {
			return customer.Page{}, err
		}
		form.orgIndex = !wide
	}
	if search && s.db.dialect.IsPostgres() {
		if f.Scope, form.secondary, err = s.narrowScope(ctx, f.Scope); err != nil {
			return customer.Page{}, err
		}
	}
	scopeWhereBy(s.db.dialect, &w, f.Scope, form)
	if f.Type != "" {
		w.add("c.type = ?", f.Type)
	}
	if f.OrgID != 0 {
		w.add("c.org_id = ?", f.OrgID)
	}
	if f.Tag != "" {
		tagWhere(&w, f.Tag, f.Now)
	}
	if search {
		return s.search(ctx, k, f, form, w) // ranked by kind of match, see search.go
	}
	page := customer.Page{Total: -1}
	if f.Count {
		if err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT count(*) FROM customers c"+w.sql(), w.args...).Scan(&page.Total); err != nil {
			return page, fmt.Errorf("count customers: %w", err)
		}
	}
	if f.After.AfterID > 0 {
		w.add("c.id > ?", f.After.AfterID)
	}
	limit := kehu.ClampLimit(f.Limit)
	args := append(w.args, limit+1)
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT "+customerColumns+" FROM customers c"+w.sql()+
		" ORDER BY c.id LIMIT $"+strconv.Itoa(len(args)), args...)
	if err != nil {
		return page, fmt.Errorf("list customers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCustomer(k, rows)
		if err != nil {
			return page, fmt.Errorf("list customers: %w", err)
		}
		page.Items = append(page.Items, c)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("list customers: %w", err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.NextCursor = kehu.Cursor{AfterID: page.Items[limit-1].ID}
	}
	return page, nil
}

// GetCustomer returns one customer within scope.
func (s *CustomerStore) GetCustomer(ctx context.Context, id int64, scope customer.ScopeFilter) (customer.Customer, error) {
	k, err := s.db.keyring()
	if err != nil {
		return customer.Customer{}, err
	}
	var w where
	w.add("c.id = ?", id)
	scopeWhere(s.db.dialect, &w, scope)
	c, err := scanCustomer(k, s.db.hotReader(ctx).QueryRowContext(ctx, "SELECT "+customerColumns+" FROM customers c"+w.sql(), w.args...))
	if err != nil {
		return customer.Customer{}, notFound(err, "customer")
	}
	return c, nil
}

// CreateCustomer inserts c, its personal fields sealed and blind-indexed,
// and returns it (in clear) with its id.
func (s *CustomerStore) CreateCustomer(ctx context.Context, c customer.Customer) (customer.Customer, error) {
	k, err := s.db.keyring()
	if err != nil {
		return customer.Customer{}, err
	}
	sealed := c
	if err := sealAll(k, sealedCustomerColumns, sealedFields(&sealed)); err != nil {
		return customer.Customer{}, fmt.Errorf("insert customer: %w", err)
	}
	err = s.db.writer(ctx).QueryRowContext(ctx, `INSERT INTO customers (type, name, id_type, id_number, mobile, email, gender,
		birth_date, address, region_code, org_id, owner_id, level, aum, risk_level, risk_assessed_at, industry,
		registered_capital, status, created_at, updated_at, id_number_bidx, mobile_bidx, name_key, name_pinyin)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)
		RETURNING id`,
		c.Type, c.Name, c.IDType, sealed.IDNumber, sealed.Mobile, sealed.Email, c.Gender, c.BirthDate, sealed.Address,
		c.RegionCode, c.OrgID, c.OwnerID, c.Level, c.AUM, c.RiskLevel, c.RiskAssessedAt, c.Industry, c.RegisteredCapital,
		c.Status, c.CreatedAt, c.UpdatedAt, k.BlindIndex(vault.IndexIDNumber, c.IDNumber),
		k.BlindIndex(vault.IndexMobile, c.Mobile), search.NameKey(c.Name), search.NamePinyin(c.Name)).Scan(&c.ID)
	if err != nil {
		if isUniqueViolation(err) {
			return customer.Customer{}, conflict("a customer with this %s already exists", c.IDType)
		}
		return customer.Customer{}, fmt.Errorf("insert customer: %w", err)
	}
	return c, nil
}

// UpdateCustomer writes the editable fields of c, sealing the personal ones
// afresh (a new nonce under the active key, so an update also rotates).
func (s *CustomerStore) UpdateCustomer(ctx context.Context, c customer.Customer) (customer.Customer, error) {
	k, err := s.db.keyring()
	if err != nil {
		return customer.Customer{}, err
	}
	sealed := c
	if err := sealAll(k, sealedCustomerColumns, sealedFields(&sealed)); err != nil {
		return customer.Customer{}, fmt.Errorf("update customer %d: %w", c.ID, err)
	}
	res, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE customers SET name = $1, mobile = $2, email = $3, gender = $4,
		birth_date = $5, address = $6, org_id = $7, owner_id = $8, industry = $9, registered_capital = $10,
		updated_at = $11, mobile_bidx = $12, name_key = $13, name_pinyin = $15 WHERE id = $14`,
		c.Name, sealed.Mobile, sealed.Email, c.Gender, c.BirthDate, sealed.Address, c.OrgID, c.OwnerID, c.Industry,
		c.RegisteredCapital, c.UpdatedAt, k.BlindIndex(vault.IndexMobile, c.Mobile), search.NameKey(c.Name), c.ID,
		search.NamePinyin(c.Name))
	if err != nil {
		return customer.Customer{}, fmt.Errorf("update customer %d: %w", c.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return customer.Customer{}, kehu.Errorf(kehu.ENOTFOUND, "customer not found")
	}
	return c, nil
}

// OrgPath implements customer.Store.
func (s *CustomerStore) OrgPath(ctx context.Context, id int64) (string, error) {
	return s.db.OrgPath(ctx, id)
}

// UserExists implements customer.Store.
func (s *CustomerStore) UserExists(ctx context.Context, id int64) (bool, error) {
	return s.db.UserExists(ctx, id)
}
