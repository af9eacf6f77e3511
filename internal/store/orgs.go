package store

import (
	"context"
	"database/sql"
	"fmt"

	"kehu/internal/org"
)

// OrgStore implements org.Store.
type OrgStore struct{ db *DB }

// Orgs returns the organisation store.
func (db *DB) Orgs() *OrgStore { return &OrgStore{db: db} }

const orgColumns = "id, parent_id, code, name, name_en, level, region_code, city, path, created_at"

func scanOrg(row interface{ Scan(...any) error }) (org.Org, error) {
	var o org.Org
	var parent sql.NullInt64
	err := row.Scan(&o.ID, &parent, &o.Code, &o.Name, &o.NameEN, &o.Level, &o.RegionCode, &o.City, &o.Path, &o.CreatedAt)
	if parent.Valid {
		o.ParentID = &parent.Int64
	}
	return o, err
}

// ListOrgs returns the whole tree ordered by path, so parents precede children.
func (s *OrgStore) ListOrgs(ctx context.Context) ([]org.Org, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT "+orgColumns+" FROM orgs ORDER BY path")
	if err != nil {
		return nil, fmt.Errorf("list orgs: %w", err)
	}
	defer rows.Close()
	var out []org.Org
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, fmt.Errorf("list orgs: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// GetOrg returns one organisation.
func (s *OrgStore) GetOrg(ctx context.Context, id int64) (org.Org, error) {
	o, err := scanOrg(s.db.reader(ctx).QueryRowContext(ctx, "SELECT "+orgColumns+" FROM orgs WHERE id = $1", id))
	if err != nil {
		return org.Org{}, notFound(err, "organisation")
	}
	return o, nil
}

// OrgPath returns the materialised path of an organisation.
func (db *DB) OrgPath(ctx context.Context, id int64) (string, error) {
	var p string
	if err := db.reader(ctx).QueryRowContext(ctx, "SELECT path FROM orgs WHERE id = $1", id).Scan(&p); err != nil {
		return "", notFound(err, "organisation")
	}
	return p, nil
}

// CreateOrg inserts o under its parent and sets its path. The parent must
// exist already; o.Path is computed, not taken from the caller.
func (s *OrgStore) CreateOrg(ctx context.Context, o org.Org) (org.Org, error) {
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		parentPath := "/"
		if o.ParentID != nil {
			if err := tx.QueryRowContext(ctx, "SELECT path FROM orgs WHERE id = $1", *o.ParentID).Scan(&parentPath); err != nil {
				return notFound(err, "parent organisation")
			}
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO orgs (parent_id, code, name, name_en, level, region_code, city, path, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, '', $8) RETURNING id`,
			o.ParentID, o.Code, o.Name, o.NameEN, o.Level, o.RegionCode, o.City, o.CreatedAt).Scan(&o.ID)
		if err != nil {
			if isUniqueViolation(err) {
				return conflict("organisation code %s already exists", o.Code)
			}
			return fmt.Errorf("insert org: %w", err)
		}
		o.Path = org.ChildPath(parentPath, o.ID)
		_, err = tx.ExecContext(ctx, "UPDATE orgs SET path = $1 WHERE id = $2", o.Path, o.ID)
		return err
	})
	return o, err
}

// CountOrgs returns the number of organisations; zero means an empty bank.
func (s *OrgStore) CountOrgs(ctx context.Context) (int, error) {
	var n int
	if err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT count(*) FROM orgs").Scan(&n); err != nil {
		return 0, fmt.Errorf("count orgs: %w", err)
	}
	return n, nil
}
