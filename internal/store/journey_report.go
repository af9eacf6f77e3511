package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"kehu/internal/customer"
	"kehu/internal/journey"
	"kehu/internal/journey/report"
)

// JourneyReportStore implements report.Store of the journey workbook.
type JourneyReportStore struct{ db *DB }

// JourneyReports returns the store of the journey workbook.
func (db *DB) JourneyReports() *JourneyReportStore { return &JourneyReportStore{db: db} }

// FiringRows implements report.Store: a period's firings with the
// customer's name, type and owner (for masking), in firing id order, of
// the customers in scope.
func (s *JourneyReportStore) FiringRows(ctx context.Context, journeyID int64, p journey.Period, scope customer.ScopeFilter,
	after int64, limit int) ([]report.FiringRow, error) {
	var w where
	w.add("f.journey_id = ?", journeyID)
	w.add("f.id > ?", after)
	if !p.From.IsZero() {
		w.add("f.fired_on >= ?", p.From)
	}
	if !p.To.IsZero() {
		w.add("f.fired_on <= ?", p.To)
	}
	scopeWhere(s.db.dialect, &w, scope)
	return listWhere(ctx, s.db.reader(ctx), "journey report firings", `SELECT f.id, f.customer_id, c.name, c.type,
		c.owner_id, f.grp, f.ref, f.fired_at, f.outcomes
		FROM journey_firings f JOIN customers c ON c.id = f.customer_id`, w, "f.id", limit,
		func(r interface{ Scan(...any) error }) (report.FiringRow, error) {
			var x report.FiringRow
			var owner sql.NullInt64
			var outcomes string
			if err := r.Scan(&x.ID, &x.CustomerID, &x.Customer.Name, &x.Customer.Type, &owner, &x.Group, &x.Ref,
				&x.FiredAt, &outcomes); err != nil {
				return x, fmt.Errorf("journey report firing: %w", err)
			}
			x.Customer.ID, x.FiredAt = x.CustomerID, x.FiredAt.UTC()
			if owner.Valid {
				x.Customer.OwnerID = &owner.Int64
			}
			if err := json.Unmarshal([]byte(outcomes), &x.Outcomes); err != nil {
				return x, fmt.Errorf("firing %d outcomes: %w", x.ID, err)
			}
			return x, nil
		})
}
