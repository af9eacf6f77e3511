package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kehu/internal/kehu"
	"kehu/internal/segment"
)

// SegmentFacts loads what segment.Plan.Eval reads about the customers ids:
// the row, the products held (accounts not closed, holdings with a positive
// amount), postings and channel events between since and now, tags with
// their expiry, granted consents, do-not-call and static memberships. A
// journey evaluating a segment on a live event loads its customer here and
// adds the event; the property test checks Eval over these facts against the
// SQL compiler.
func (s *SegmentStore) SegmentFacts(ctx context.Context, ids []int64, since, now time.Time) (map[int64]*segment.Facts, error) {
	out := map[int64]*segment.Facts{}
	if len(ids) == 0 {
		return out, nil
	}
	ps := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ps[i], args[i] = "$"+strconv.Itoa(i+1), id
	}
	in := "(" + strings.Join(ps, ", ") + ")"
	n := len(ids)
	window := append(append([]any{}, args...), since.UTC(), now.UTC())
	q := s.db.reader(ctx)
	each := func(what, query string, args []any, scan func(r *sql.Rows) error) error {
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("segment facts %s: %w", what, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return fmt.Errorf("segment facts %s: %w", what, err)
			}
		}
		return rows.Err()
	}
	err := each("customers", `SELECT c.id, c.type, c.gender, c.birth_date, c.region_code, c.industry, c.status,
		c.created_at, o.path, c.owner_id, c.risk_level, c.risk_assessed_at, c.level, c.aum
		FROM customers c JOIN orgs o ON o.id = c.org_id WHERE c.id IN `+in, args, func(r *sql.Rows) error {
		var f segment.Facts
		var owner sql.NullInt64
		var assessed sql.NullTime
		var birth kehu.Date
		if err := r.Scan(&f.ID, &f.Type, &f.Gender, &birth, &f.RegionCode, &f.Industry, &f.Status, &f.CreatedAt,
			&f.OrgPath, &owner, &f.RiskLevel, &assessed, &f.Level, &f.AUM); err != nil {
			return err
		}
		f.BirthDate, f.OwnerID, f.CreatedAt = birth, owner.Int64, f.CreatedAt.UTC()
		if assessed.Valid {
			t := assessed.Time.UTC()
			f.RiskAssessedAt = &t
		}
		out[f.ID] = &f
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The products query names each id twice; the second list is numbered after the first.
	ps2 := make([]string, n)
	for i := range ids {
		ps2[i] = "$" + strconv.Itoa(n+i+1)
	}
	twice := append(append([]any{}, args...), args...)
	if err := each("products", `SELECT a.customer_id, p.type, p.code, p.risk_level FROM accounts a
		JOIN products p ON p.id = a.product_id WHERE a.status <> 'closed' AND a.customer_id IN `+in+`
		UNION ALL SELECT h.customer_id, p.type, p.code, p.risk_level FROM holdings h JOIN products p ON p.id = h.product_id
		WHERE h.amount > 0 AND h.customer_id IN (`+strings.Join(ps2, ", ")+`)`, twice, func(r *sql.Rows) error {
		var id int64
		var h segment.HeldProduct
		if err := r.Scan(&id, &h.Type, &h.Code, &h.Risk); err != nil {
			return err
		}
		if f := out[id]; f != nil {
			f.Products = append(f.Products, h)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	w := "$" + strconv.Itoa(n+1)
	w2 := "$" + strconv.Itoa(n+2)
	if err := each("transactions", `SELECT t.customer_id, t.occurred_at, t.amount FROM transactions t
		WHERE t.customer_id IN `+in+` AND t.occurred_at >= `+w+` AND t.occurred_at <= `+w2, window, func(r *sql.Rows) error {
		var id int64
		var x segment.Transaction
		if err := r.Scan(&id, &x.At, &x.Amount); err != nil {
			return err
		}
		if f := out[id]; f != nil {
			x.At = x.At.UTC()
			f.Transactions = append(f.Transactions, x)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := each("events", `SELECT e.customer_id, e.occurred_at, e.channel, e.kind FROM channel_events e
		WHERE e.customer_id IN `+in+` AND e.occurred_at >= `+w+` AND e.occurred_at <= `+w2, window, func(r *sql.Rows) error {
		var id int64
		var x segment.Event
		if err := r.Scan(&id, &x.At, &x.Channel, &x.Kind); err != nil {
			return err
		}
		if f := out[id]; f != nil {
			x.At = x.At.UTC()
			f.Events = append(f.Events, x)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := each("tags", `SELECT customer_id, tag_id, expires_at FROM customer_tags WHERE customer_id IN `+in, args,
		func(r *sql.Rows) error {
			var id int64
			var exp sql.NullTime
			var t segment.TagFact
			if err := r.Scan(&id, &t.ID, &exp); err != nil {
				return err
			}
			if exp.Valid {
				e := exp.Time.UTC()
				t.ExpiresAt = &e
			}
			if f := out[id]; f != nil {
				f.Tags = append(f.Tags, t)
			}
			return nil
		}); err != nil {
		return nil, err
	}
	if err := each("consents", `SELECT customer_id, channel FROM customer_consents WHERE granted = TRUE AND customer_id IN `+in,
		args, func(r *sql.Rows) error {
			var id int64
			var ch string
			if err := r.Scan(&id, &ch); err != nil {
				return err
			}
			if f := out[id]; f != nil {
				f.Consents = append(f.Consents, ch)
			}
			return nil
		}); err != nil {
		return nil, err
	}
	if err := each("preferences", `SELECT customer_id FROM customer_preferences WHERE do_not_call = TRUE AND customer_id IN `+in,
		args, func(r *sql.Rows) error {
			var id int64
			if err := r.Scan(&id); err != nil {
				return err
			}
			if f := out[id]; f != nil {
				f.DoNotCall = true
			}
			return nil
		}); err != nil {
		return nil, err
	}
	err = each("segments", `SELECT customer_id, segment_id FROM segment_members WHERE customer_id IN `+in, args,
		func(r *sql.Rows) error {
			var id, seg int64
			if err := r.Scan(&id, &seg); err != nil {
				return err
			}
			if f := out[id]; f != nil {
				f.Static = append(f.Static, seg)
			}
			return nil
		})
	return out, err
}
