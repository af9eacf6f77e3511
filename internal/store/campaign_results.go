package store

import (
	"context"
	"fmt"

	"kehu/internal/campaign"
)

// RunCounts implements campaign.Store: three grouped reads of the members
// (groups and outcomes; their messages' delivery; their purchases of the
// product within each run's window).
func (s *CampaignStore) RunCounts(ctx context.Context, campaignID int64, productID *int64, windows []campaign.Window) ([]campaign.RunCounts, error) {
	byRun := map[int]*campaign.RunCounts{}
	get := func(run int) *campaign.RunCounts {
		if byRun[run] == nil {
			byRun[run] = &campaign.RunCounts{Run: run, Suppressed: map[string]int64{}}
		}
		return byRun[run]
	}
	q := s.db.reader(ctx)
	rows, err := q.QueryContext(ctx, `SELECT run, grp, outcome, reason, COUNT(*) FROM campaign_members
		WHERE campaign_id = $1 GROUP BY run, grp, outcome, reason`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("campaign member counts: %w", err)
	}
	err = eachRow(rows, func(scan func(...any) error) error {
		var run int
		var grp, outcome, reason string
		var n int64
		if err := scan(&run, &grp, &outcome, &reason, &n); err != nil {
			return err
		}
		c := get(run)
		if grp == campaign.Control {
			c.Control += n
		} else {
			c.Treatment += n
		}
		switch outcome {
		case campaign.OutcomeQueued:
			c.Queued += n
		case campaign.OutcomeDeferred:
			c.Deferred += n
		case campaign.OutcomeTask:
			c.Tasks += n
		case campaign.OutcomeSuppressed:
			c.Suppressed[reason] += n
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rows, err = q.QueryContext(ctx, `SELECT m.run, COUNT(o.sent_at), COUNT(o.delivered_at), COUNT(o.opened_at),
		COUNT(o.clicked_at), SUM(CASE WHEN o.status = 'failed' THEN 1 ELSE 0 END)
		FROM campaign_members m JOIN outbox_messages o ON o.id = m.message_id
		WHERE m.campaign_id = $1 GROUP BY m.run`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("campaign delivery counts: %w", err)
	}
	err = eachRow(rows, func(scan func(...any) error) error {
		var run int
		var sent, delivered, opened, clicked, failed int64
		if err := scan(&run, &sent, &delivered, &opened, &clicked, &failed); err != nil {
			return err
		}
		c := get(run)
		c.Sent, c.Delivered, c.Opened, c.Clicked, c.Failed = sent, delivered, opened, clicked, failed
		return nil
	})
	if err != nil {
		return nil, err
	}
	if productID != nil {
		for _, w := range windows {
			if err := s.conversions(ctx, campaignID, *productID, w, get(w.Run)); err != nil {
				return nil, err
			}
		}
	}
	out := make([]campaign.RunCounts, 0, len(byRun))
	for _, c := range byRun {
		out = append(out, *c)
	}
	return out, nil
}

// conversions counts, per group, the members of one run who bought the
// product in the window: a holding of it acquired, or an account of it
// opened, on a day of the window (the product tables keep days).
func (s *CampaignStore) conversions(ctx context.Context, campaignID, productID int64, w campaign.Window, c *campaign.RunCounts) error {
	rows, err := s.db.reader(ctx).QueryContext(ctx, `SELECT m.grp, COUNT(*) FROM campaign_members m
		WHERE m.campaign_id = $1 AND m.run = $2 AND `+boughtSQL("m.customer_id", "$3", "$4", "$5")+`
		GROUP BY m.grp`, campaignID, w.Run, productID, w.From, w.To)
	if err != nil {
		return fmt.Errorf("campaign conversions: %w", err)
	}
	return eachRow(rows, func(scan func(...any) error) error {
		var grp string
		var n int64
		if err := scan(&grp, &n); err != nil {
			return err
		}
		if grp == campaign.Control {
			c.ConvertedControl = n
		} else {
			c.ConvertedTreatment = n
		}
		return nil
	})
}

// boughtSQL is the condition of a conversion, for campaigns and journeys:
// the customer in column customer acquired a holding, or opened an account,
// of the product (a parameter) on a day from from (inclusive) to to
// (exclusive) — SQL date expressions; the product tables keep days.
func boughtSQL(customer, product, from, to string) string {
	return `(EXISTS (SELECT 1 FROM holdings h WHERE h.customer_id = ` + customer + ` AND h.product_id = ` + product + `
			AND h.acquired_on >= ` + from + ` AND h.acquired_on < ` + to + `)
		OR EXISTS (SELECT 1 FROM accounts a WHERE a.customer_id = ` + customer + ` AND a.product_id = ` + product + `
			AND a.opened_on >= ` + from + ` AND a.opened_on < ` + to + `))`
}

// eachRow calls fn with the scanner of every row, then closes rows.
func eachRow(rows interface {
	Next() bool
	Scan(...any) error
	Close() error
	Err() error
}, fn func(scan func(...any) error) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}
