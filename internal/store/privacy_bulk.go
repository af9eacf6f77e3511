package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"kehu/internal/kehu"
	"kehu/internal/privacy"
)

const approvalColumns = `a.id, a.requester_id, u.username, a.reason, a.max_customers, a.status, a.created_at,
	a.decided_by, a.decided_at, a.comment, a.expires_at, a.used_at`

func scanApproval(row interface{ Scan(...any) error }) (privacy.Approval, error) {
	var a privacy.Approval
	var by sql.NullInt64
	var decided, expires, used sql.NullTime
	err := row.Scan(&a.ID, &a.RequesterID, &a.RequesterName, &a.Reason, &a.MaxCustomers, &a.Status, &a.CreatedAt,
		&by, &decided, &a.Comment, &expires, &used)
	a.CreatedAt = a.CreatedAt.UTC()
	if by.Valid {
		a.DecidedBy = &by.Int64
	}
	a.DecidedAt, a.ExpiresAt, a.UsedAt = nullTime(decided), nullTime(expires), nullTime(used)
	return a, err
}

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

func timeOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

// CreateApproval inserts a bulk-export approval request.
func (s *PrivacyStore) CreateApproval(ctx context.Context, a privacy.Approval) (privacy.Approval, error) {
	err := s.db.writer(ctx).QueryRowContext(ctx, `INSERT INTO bulk_export_approvals (requester_id, reason, max_customers,
		status, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		a.RequesterID, a.Reason, a.MaxCustomers, a.Status, a.CreatedAt.UTC()).Scan(&a.ID)
	if err != nil {
		return a, fmt.Errorf("insert bulk approval: %w", err)
	}
	return a, nil
}

// approvalFrom joins the requester and their organisation, whose path
// limits approvers to their subtree.
const approvalFrom = ` FROM bulk_export_approvals a JOIN users u ON u.id = a.requester_id
	JOIN orgs o ON o.id = u.org_id`

// GetApproval returns one approval of a requester homed under orgPath.
func (s *PrivacyStore) GetApproval(ctx context.Context, id int64, orgPath string) (privacy.Approval, error) {
	var w where
	w.add("a.id = ?", id)
	w.add(s.db.dialect.Prefix("o.path"), orgPath, orgPath+"\U0010FFFF")
	a, err := scanApproval(s.db.reader(ctx).QueryRowContext(ctx, "SELECT "+approvalColumns+approvalFrom+w.sql(), w.args...))
	if err != nil {
		return a, notFound(err, "bulk-export approval")
	}
	return a, nil
}

// ListApprovals returns approvals of requesters homed under orgPath, newest
// first.
func (s *PrivacyStore) ListApprovals(ctx context.Context, status, orgPath string, limit int) ([]privacy.Approval, error) {
	var w where
	w.add(s.db.dialect.Prefix("o.path"), orgPath, orgPath+"\U0010FFFF")
	if status != "" {
		w.add("a.status = ?", status)
	}
	return listWhere(ctx, s.db.reader(ctx), "bulk approvals", "SELECT "+approvalColumns+approvalFrom, w, "a.id DESC", limit,
		scanApproval)
}

// UpdateApproval writes the decision and use of a.
func (s *PrivacyStore) UpdateApproval(ctx context.Context, a privacy.Approval) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE bulk_export_approvals SET status = $1, decided_by = $2,
		decided_at = $3, comment = $4, expires_at = $5, used_at = $6 WHERE id = $7`,
		a.Status, a.DecidedBy, timeOrNil(a.DecidedAt), a.Comment, timeOrNil(a.ExpiresAt), timeOrNil(a.UsedAt), a.ID)
	if err != nil {
		return fmt.Errorf("update bulk approval %d: %w", a.ID, err)
	}
	return nil
}

// UsableApproval returns the oldest approved, unexpired approval of user for
// at least n customers.
func (s *PrivacyStore) UsableApproval(ctx context.Context, userID int64, n int64, now time.Time) (privacy.Approval, error) {
	a, err := scanApproval(s.db.writer(ctx).QueryRowContext(ctx, "SELECT "+approvalColumns+approvalFrom+`
		WHERE a.requester_id = $1 AND a.status = 'approved' AND a.max_customers >= $2 AND a.expires_at > $3
		ORDER BY a.id LIMIT 1`, userID, n, now.UTC()))
	if err != nil {
		return a, notFound(err, "bulk-export approval")
	}
	return a, nil
}

// CreateAlert inserts a compliance alert.
func (s *PrivacyStore) CreateAlert(ctx context.Context, a privacy.Alert) (privacy.Alert, error) {
	err := s.db.writer(ctx).QueryRowContext(ctx, `INSERT INTO compliance_alerts (kind, user_id, customers, threshold,
		detail, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		a.Kind, a.UserID, a.Customers, a.Threshold, a.Detail, a.CreatedAt.UTC()).Scan(&a.ID)
	if err != nil {
		return a, fmt.Errorf("insert compliance alert: %w", err)
	}
	return a, nil
}

func scanAlert(row interface{ Scan(...any) error }) (privacy.Alert, error) {
	var a privacy.Alert
	err := row.Scan(&a.ID, &a.Kind, &a.UserID, &a.Username, &a.Customers, &a.Threshold, &a.Detail, &a.CreatedAt)
	a.CreatedAt = a.CreatedAt.UTC()
	return a, err
}

// ListAlerts returns alerts about users homed under f.OrgPath, newest first.
func (s *PrivacyStore) ListAlerts(ctx context.Context, f privacy.AlertFilter) (privacy.AlertPage, error) {
	var w where
	w.add(s.db.dialect.Prefix("o.path"), f.OrgPath, f.OrgPath+"\U0010FFFF")
	if f.After.AfterID > 0 {
		w.add("al.id < ?", f.After.AfterID)
	}
	limit := kehu.ClampLimit(f.Limit)
	items, err := listWhere(ctx, s.db.reader(ctx), "compliance alerts", `SELECT al.id, al.kind, al.user_id, u.username,
		al.customers, al.threshold, al.detail, al.created_at FROM compliance_alerts al JOIN users u ON u.id = al.user_id
		JOIN orgs o ON o.id = u.org_id`, w, "al.id DESC", limit+1, scanAlert)
	if err != nil {
		return privacy.AlertPage{}, err
	}
	p := privacy.AlertPage{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		p.NextCursor = kehu.Cursor{AfterID: p.Items[limit-1].ID}
	}
	return p, nil
}

// compile-time check that the store satisfies the module's interface.
var _ privacy.Store = (*PrivacyStore)(nil)
