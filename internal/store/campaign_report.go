package store

import (
	"context"
	"database/sql"
	"fmt"

	"kehu/internal/campaign/report"
	"kehu/internal/customer"
)

// CampaignReportStore implements report.Store.
type CampaignReportStore struct{ db *DB }

// CampaignReports returns the store of the campaign workbook.
func (db *DB) CampaignReports() *CampaignReportStore { return &CampaignReportStore{db: db} }

// MemberRows implements report.Store: members with the customer's name,
// type and owner (for masking) and the message's status, in customer id
// order through the campaign_members primary key.
func (s *CampaignReportStore) MemberRows(ctx context.Context, campaignID int64, run int, scope customer.ScopeFilter,
	after int64, limit int) ([]report.MemberRow, error) {
	var w where
	w.add("m.campaign_id = ?", campaignID)
	w.add("m.run = ?", run)
	w.add("m.customer_id > ?", after)
	scopeWhere(s.db.dialect, &w, scope)
	return listWhere(ctx, s.db.reader(ctx), "campaign report members", `SELECT m.run, m.customer_id, c.name, c.type,
		c.owner_id, m.grp, m.outcome, m.reason, COALESCE(o.status, ''), COALESCE(m.task_id, 0)
		FROM campaign_members m JOIN customers c ON c.id = m.customer_id
		LEFT JOIN outbox_messages o ON o.id = m.message_id`, w, "m.customer_id", limit,
		func(r interface{ Scan(...any) error }) (report.MemberRow, error) {
			var m report.MemberRow
			var owner sql.NullInt64
			err := r.Scan(&m.Run, &m.CustomerID, &m.Customer.Name, &m.Customer.Type, &owner, &m.Group, &m.Outcome,
				&m.Reason, &m.MessageStatus, &m.TaskID)
			if err != nil {
				return m, fmt.Errorf("campaign report member: %w", err)
			}
			m.Customer.ID = m.CustomerID
			if owner.Valid {
				m.Customer.OwnerID = &owner.Int64
			}
			return m, nil
		})
}
