package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kehu/internal/access/entitlement"
	"kehu/internal/kehu"
)

// EntitlementStore implements entitlement.Store: requests, grants, break
// glass and ownership (0005_access).
type EntitlementStore struct{ db *DB }

// Entitlements returns the entitlement store.
func (db *DB) Entitlements() *EntitlementStore { return &EntitlementStore{db: db} }

// requestSelect joins what a request shows: requester, customer name and
// home (absent for an id that matches no customer), decider and the grant an
// approval created (at most one per request).
const requestSelect = `SELECT r.id, r.requester_id, ru.username, r.customer_id, COALESCE(c.name, ''), COALESCE(o.path, ''),
	r.scope, r.reason, r.hours, r.status, r.created_at, r.decided_by, COALESCE(du.username, ''), r.decided_at,
	r.decision_comment, g.expires_at
	FROM access_requests r
	JOIN users ru ON ru.id = r.requester_id
	LEFT JOIN customers c ON c.id = r.customer_id
	LEFT JOIN orgs o ON o.id = c.org_id
	LEFT JOIN users du ON du.id = r.decided_by
	LEFT JOIN access_grants g ON g.request_id = r.id`

func scanRequest(row interface{ Scan(...any) error }) (entitlement.Request, error) {
	var r entitlement.Request
	var decidedBy sql.NullInt64
	var decidedAt, expires sql.NullTime
	err := row.Scan(&r.ID, &r.RequesterID, &r.RequesterName, &r.CustomerID, &r.CustomerName, &r.CustomerOrgPath,
		&r.Scope, &r.Reason, &r.Hours, &r.Status, &r.CreatedAt, &decidedBy, &r.DeciderName, &decidedAt,
		&r.Comment, &expires)
	r.CreatedAt = r.CreatedAt.UTC()
	r.DecidedBy = optID(decidedBy)
	r.DecidedAt, r.ExpiresAt = optTime(decidedAt), optTime(expires)
	return r, err
}

func optID(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	return &n.Int64
}

func optTime(n sql.NullTime) *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.Time.UTC()
	return &t
}

// CreateRequest inserts r and returns it with its id.
func (s *EntitlementStore) CreateRequest(ctx context.Context, r entitlement.Request) (entitlement.Request, error) {
	err := s.db.writer(ctx).QueryRowContext(ctx, `INSERT INTO access_requests (requester_id, customer_id, scope,
		reason, hours, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		r.RequesterID, r.CustomerID, r.Scope, r.Reason, r.Hours, r.Status, r.CreatedAt).Scan(&r.ID)
	if err != nil {
		return r, fmt.Errorf("insert access request: %w", err)
	}
	return r, nil
}

// GetRequest returns request id.
func (s *EntitlementStore) GetRequest(ctx context.Context, id int64) (entitlement.Request, error) {
	r, err := scanRequest(s.db.reader(ctx).QueryRowContext(ctx, requestSelect+" WHERE r.id = $1", id))
	if err != nil {
		return r, notFound(err, "access request")
	}
	return r, nil
}

// ListRequests returns requests newest first. An approver's list is limited
// to customers homed under ApproverPath (the orgs path index).
func (s *EntitlementStore) ListRequests(ctx context.Context, f entitlement.RequestFilter) ([]entitlement.Request, error) {
	var w where
	if f.RequesterID != 0 {
		w.add("r.requester_id = ?", f.RequesterID)
	}
	if f.ApproverPath != "" {
		w.add(s.db.dialect.Prefix("o.path"), f.ApproverPath, f.ApproverPath+"\U0010FFFF")
		w.add("r.requester_id <> ?", f.ExcludeUser)
	}
	switch f.Status {
	case "":
	case entitlement.StatusApproved:
		w.add("r.status = 'approved' AND g.expires_at > ?", f.Now)
	case entitlement.StatusExpired:
		w.add("r.status = 'approved' AND g.expires_at <= ?", f.Now)
	default:
		w.add("r.status = ?", f.Status)
	}
	return listWhere(ctx, s.db.reader(ctx), "access requests", requestSelect, w, "r.id DESC", kehu.ClampLimit(f.Limit),
		scanRequest)
}

// DecideRequest moves request id from status from to status to.
func (s *EntitlementStore) DecideRequest(ctx context.Context, id int64, from, to string, by int64, at time.Time, comment string) error {
	res, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE access_requests SET status = $1, decided_by = $2,
		decided_at = $3, decision_comment = $4 WHERE id = $5 AND status = $6`, to, by, at, comment, id, from)
	if err != nil {
		return fmt.Errorf("decide access request %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return conflict("the access request is no longer %s", from)
	}
	return nil
}

const grantSelect = `SELECT g.id, g.user_id, u.username, g.customer_id, COALESCE(c.name, ''), g.scope, g.kind,
	g.request_id, g.reason, g.ticket, g.granted_by, g.created_at, g.expires_at, g.revoked_at, g.revoked_by,
	g.reviewed_by, COALESCE(ru.username, ''), g.reviewed_at, g.review_comment
	FROM access_grants g
	JOIN users u ON u.id = g.user_id
	JOIN customers c ON c.id = g.customer_id
	LEFT JOIN users ru ON ru.id = g.reviewed_by`

func scanGrant(row interface{ Scan(...any) error }) (entitlement.Grant, error) {
	var g entitlement.Grant
	var req, grantedBy, revokedBy, reviewedBy sql.NullInt64
	var revokedAt, reviewedAt sql.NullTime
	err := row.Scan(&g.ID, &g.UserID, &g.UserName, &g.CustomerID, &g.CustomerName, &g.Scope, &g.Kind, &req,
		&g.Reason, &g.Ticket, &grantedBy, &g.CreatedAt, &g.ExpiresAt, &revokedAt, &revokedBy, &reviewedBy,
		&g.ReviewerName, &reviewedAt, &g.Comment)
	g.RequestID, g.GrantedBy, g.RevokedBy, g.ReviewedBy = optID(req), optID(grantedBy), optID(revokedBy), optID(reviewedBy)
	g.CreatedAt, g.ExpiresAt = g.CreatedAt.UTC(), g.ExpiresAt.UTC()
	g.RevokedAt, g.ReviewedAt = optTime(revokedAt), optTime(reviewedAt)
	return g, err
}

// CreateGrant inserts g. A customer id that does not exist is ENOTFOUND
// (the foreign key refuses it).
func (s *EntitlementStore) CreateGrant(ctx context.Context, g entitlement.Grant) (entitlement.Grant, error) {
	err := s.db.writer(ctx).QueryRowContext(ctx, `INSERT INTO access_grants (user_id, customer_id, scope, kind,
		request_id, reason, ticket, granted_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		g.UserID, g.CustomerID, g.Scope, g.Kind, g.RequestID, g.Reason, g.Ticket, g.GrantedBy, g.CreatedAt,
		g.ExpiresAt).Scan(&g.ID)
	if err != nil {
		if isForeignKeyViolation(err) {
			return g, kehu.Errorf(kehu.ENOTFOUND, "customer not found")
		}
		return g, fmt.Errorf("insert grant: %w", err)
	}
	return g, nil
}

// RevokeRequestGrants ends the unrevoked grants of request id.
func (s *EntitlementStore) RevokeRequestGrants(ctx context.Context, requestID, by int64, at time.Time) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE access_grants SET revoked_at = $1, revoked_by = $2
		WHERE request_id = $3 AND revoked_at IS NULL`, at, by, requestID)
	if err != nil {
		return fmt.Errorf("revoke grants of request %d: %w", requestID, err)
	}
	return nil
}

// GetGrant returns grant id.
func (s *EntitlementStore) GetGrant(ctx context.Context, id int64) (entitlement.Grant, error) {
	g, err := scanGrant(s.db.reader(ctx).QueryRowContext(ctx, grantSelect+" WHERE g.id = $1", id))
	if err != nil {
		return g, notFound(err, "grant")
	}
	return g, nil
}

// ListBreakGlass returns break-glass grants, newest first (access_grants_review).
func (s *EntitlementStore) ListBreakGlass(ctx context.Context, f entitlement.BreakGlassFilter) ([]entitlement.Grant, error) {
	var w where
	w.add("g.kind = ?", entitlement.KindBreakGlass)
	if f.Reviewed != nil && *f.Reviewed {
		w.add("g.reviewed_at IS NOT NULL")
	} else if f.Reviewed != nil {
		w.add("g.reviewed_at IS NULL")
	}
	return listWhere(ctx, s.db.reader(ctx), "break-glass grants", grantSelect, w, "g.id DESC", kehu.ClampLimit(f.Limit),
		scanGrant)
}

// ReviewGrant records the review of grant id, once.
func (s *EntitlementStore) ReviewGrant(ctx context.Context, id, by int64, at time.Time, comment string) error {
	res, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE access_grants SET reviewed_by = $1, reviewed_at = $2,
		review_comment = $3 WHERE id = $4 AND reviewed_at IS NULL`, by, at, comment, id)
	if err != nil {
		return fmt.Errorf("review grant %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return conflict("the opening has already been reviewed")
	}
	return nil
}

// ActiveGrant returns the id of user's active grant of scope for customer
// (the one lasting longest), 0 when there is none.
func (s *EntitlementStore) ActiveGrant(ctx context.Context, userID, customerID int64, scope string, now time.Time) (int64, error) {
	var id int64
	err := s.db.reader(ctx).QueryRowContext(ctx, `SELECT id FROM access_grants WHERE user_id = $1
		AND customer_id = $2 AND scope = $3 AND expires_at > $4 AND revoked_at IS NULL
		ORDER BY expires_at DESC, id DESC LIMIT 1`,
		userID, customerID, scope, now).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("active grant: %w", err)
	}
	return id, nil
}

var _ entitlement.Store = (*EntitlementStore)(nil)
