package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"kehu/internal/access/entitlement"
	"kehu/internal/kehu"
)

// CustomerHome returns where customer id sits, without any scope.
func (s *EntitlementStore) CustomerHome(ctx context.Context, id int64) (entitlement.Home, error) {
	h := entitlement.Home{CustomerID: id}
	var owner sql.NullInt64
	err := s.db.reader(ctx).QueryRowContext(ctx, `SELECT c.name, c.org_id, o.path, c.owner_id
		FROM customers c JOIN orgs o ON o.id = c.org_id WHERE c.id = $1`, id).Scan(&h.Name, &h.OrgID, &h.OrgPath, &owner)
	if err != nil {
		return h, notFound(err, "customer")
	}
	h.OwnerID = optID(owner)
	return h, nil
}

// User returns user id as the ownership rules see them.
func (s *EntitlementStore) User(ctx context.Context, id int64) (entitlement.UserRef, error) {
	var u entitlement.UserRef
	err := s.db.reader(ctx).QueryRowContext(ctx, `SELECT u.id, u.username, u.role, o.path, u.disabled
		FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.id = $1`, id).Scan(&u.ID, &u.Username, &u.Role, &u.OrgPath, &u.Disabled)
	if err != nil {
		return u, notFound(err, "user")
	}
	return u, nil
}

// Owners returns the primary RM, the secondary RMs (by username) and the
// transfer history (newest first) of customer id.
func (s *EntitlementStore) Owners(ctx context.Context, id int64) (entitlement.Owners, error) {
	o := entitlement.Owners{CustomerID: id}
	h, err := s.CustomerHome(ctx, id)
	if err != nil {
		return o, err
	}
	if h.OwnerID != nil {
		u, err := s.User(ctx, *h.OwnerID)
		if err != nil {
			return o, err
		}
		o.Primary = &u
	}
	rows, err := s.db.reader(ctx).QueryContext(ctx, `SELECT u.id, u.username, u.role, g.path, u.disabled
		FROM customer_secondary_rms s JOIN users u ON u.id = s.user_id JOIN orgs g ON g.id = u.org_id
		WHERE s.customer_id = $1 ORDER BY u.username`, id)
	if err != nil {
		return o, fmt.Errorf("secondary RMs of %d: %w", id, err)
	}
	for rows.Next() {
		var u entitlement.UserRef
		if err := rows.Scan(&u.ID, &u.Username, &u.Role, &u.OrgPath, &u.Disabled); err != nil {
			rows.Close()
			return o, fmt.Errorf("secondary RMs of %d: %w", id, err)
		}
		o.Secondaries = append(o.Secondaries, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return o, err
	}
	o.History, err = s.transfers(ctx, id)
	return o, err
}

func (s *EntitlementStore) transfers(ctx context.Context, id int64) ([]entitlement.Transfer, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, `SELECT t.id, t.customer_id, t.from_owner_id,
		COALESCE(f.username, ''), t.to_owner_id, n.username, t.reason, t.transferred_by, b.username, t.transferred_at
		FROM customer_transfers t LEFT JOIN users f ON f.id = t.from_owner_id JOIN users n ON n.id = t.to_owner_id
		JOIN users b ON b.id = t.transferred_by WHERE t.customer_id = $1 ORDER BY t.id DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("transfers of %d: %w", id, err)
	}
	defer rows.Close()
	var out []entitlement.Transfer
	for rows.Next() {
		var t entitlement.Transfer
		var from sql.NullInt64
		if err := rows.Scan(&t.ID, &t.CustomerID, &from, &t.FromOwnerName, &t.ToOwnerID, &t.ToOwnerName, &t.Reason,
			&t.TransferredBy, &t.TransferredName, &t.TransferredAt); err != nil {
			return nil, fmt.Errorf("transfers of %d: %w", id, err)
		}
		t.FromOwnerID, t.TransferredAt = optID(from), t.TransferredAt.UTC()
		out = append(out, t)
	}
	return out, rows.Err()
}

// SetOwner changes the primary RM of t.CustomerID and records t. The new
// owner stops being a secondary RM of the customer.
func (s *EntitlementStore) SetOwner(ctx context.Context, t entitlement.Transfer) error {
	q := s.db.writer(ctx)
	if _, err := q.ExecContext(ctx, "UPDATE customers SET owner_id = $1, updated_at = $2 WHERE id = $3",
		t.ToOwnerID, t.TransferredAt, t.CustomerID); err != nil {
		return fmt.Errorf("transfer customer %d: %w", t.CustomerID, err)
	}
	if _, err := q.ExecContext(ctx, "DELETE FROM customer_secondary_rms WHERE customer_id = $1 AND user_id = $2",
		t.CustomerID, t.ToOwnerID); err != nil {
		return fmt.Errorf("transfer customer %d: %w", t.CustomerID, err)
	}
	_, err := q.ExecContext(ctx, `INSERT INTO customer_transfers (customer_id, from_owner_id, to_owner_id, reason,
		transferred_by, transferred_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		t.CustomerID, t.FromOwnerID, t.ToOwnerID, t.Reason, t.TransferredBy, t.TransferredAt)
	if err != nil {
		return fmt.Errorf("transfer customer %d: %w", t.CustomerID, err)
	}
	return nil
}

// AddSecondary makes user a secondary RM of customer; ECONFLICT if already.
func (s *EntitlementStore) AddSecondary(ctx context.Context, customerID, userID, by int64, at time.Time) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, `INSERT INTO customer_secondary_rms (customer_id, user_id, added_by,
		added_at) VALUES ($1, $2, $3, $4)`, customerID, userID, by, at)
	if err != nil {
		if isUniqueViolation(err) {
			return conflict("the user is already a secondary relationship manager")
		}
		return fmt.Errorf("add secondary RM to %d: %w", customerID, err)
	}
	return nil
}

// RemoveSecondary deletes the secondary RM row; ENOTFOUND when there is none.
func (s *EntitlementStore) RemoveSecondary(ctx context.Context, customerID, userID int64) error {
	res, err := s.db.writer(ctx).ExecContext(ctx, "DELETE FROM customer_secondary_rms WHERE customer_id = $1 AND user_id = $2",
		customerID, userID)
	if err != nil {
		return fmt.Errorf("remove secondary RM from %d: %w", customerID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return kehu.Errorf(kehu.ENOTFOUND, "no such secondary relationship manager")
	}
	return nil
}
