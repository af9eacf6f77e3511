package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kehu/internal/journey"
	"kehu/internal/kehu"
)

// journeySources maps a journey source to its table (never user input).
var journeySources = map[string]string{
	journey.SourceTransactions: "transactions",
	journey.SourceEvents:       "channel_events",
	journey.SourceLevels:       "level_changes",
}

// Cursor returns a source's stored position. Outside a transaction it is
// read on the read pool: the engine reads it at the start of every pass, and
// on SQLite the write pool's one connection is busy with the feeds' batches
// (waiting for it there cost the engine a feed transaction per pass).
func (s *JourneyStore) Cursor(ctx context.Context, source string) (int64, bool, error) {
	var pos int64
	err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT position FROM journey_cursors WHERE name = $1", source).Scan(&pos)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("journey cursor %s: %w", source, err)
	}
	return pos, true, nil
}

// SetCursor stores a source's position.
func (s *JourneyStore) SetCursor(ctx context.Context, source string, pos int64, at time.Time) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, `INSERT INTO journey_cursors (name, position, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
		source, pos, at.UTC())
	if err != nil {
		return fmt.Errorf("set journey cursor %s: %w", source, err)
	}
	return nil
}

// MaxID returns the largest id of a source's table (0 when empty).
func (s *JourneyStore) MaxID(ctx context.Context, source string) (int64, error) {
	table, ok := journeySources[source]
	if !ok {
		return 0, fmt.Errorf("unknown journey source %q", source)
	}
	var id sql.NullInt64
	if err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT MAX(id) FROM "+table).Scan(&id); err != nil {
		return 0, fmt.Errorf("max id of %s: %w", table, err)
	}
	return id.Int64, nil
}

// TransactionsIn returns the credits with after < id <= upto (a range of
// the primary key, then the sign).
func (s *JourneyStore) TransactionsIn(ctx context.Context, after, upto int64) ([]journey.Txn, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, `SELECT id, customer_id, occurred_at, amount, kind, description,
		counterparty FROM transactions WHERE id > $1 AND id <= $2 AND amount > 0 ORDER BY id`, after, upto)
	if err != nil {
		return nil, fmt.Errorf("transactions for journeys: %w", err)
	}
	return collect(rows, "transactions", func(r *sql.Rows) (journey.Txn, error) {
		var t journey.Txn
		err := r.Scan(&t.ID, &t.CustomerID, &t.OccurredAt, &t.Amount, &t.Kind, &t.Description, &t.Counterparty)
		t.OccurredAt = t.OccurredAt.UTC()
		return t, err
	})
}

// BranchVisitsIn returns the branch visits with after < id <= upto, with
// the organisation of the outlet code in their detail.
func (s *JourneyStore) BranchVisitsIn(ctx context.Context, after, upto int64) ([]journey.Event, error) {
	type visit struct {
		e      journey.Event
		outlet string
	}
	var vs []visit
	err := queryEach(ctx, s.db.reader(ctx), "branch visits for journeys", `SELECT id, customer_id, occurred_at, detail
		FROM channel_events WHERE id > $1 AND id <= $2 AND kind = 'branch_visit' ORDER BY id`, []any{after, upto},
		func(r *sql.Rows) error {
			var v visit
			var detail sql.NullString
			if err := r.Scan(&v.e.ID, &v.e.CustomerID, &v.e.OccurredAt, &detail); err != nil {
				return err
			}
			v.e.Kind, v.e.OccurredAt = "branch_visit", v.e.OccurredAt.UTC()
			var d struct {
				Outlet string `json:"outlet"`
			}
			if detail.Valid && json.Unmarshal([]byte(detail.String), &d) == nil {
				v.outlet = d.Outlet
			}
			vs = append(vs, v)
			return nil
		})
	if err != nil {
		return nil, err
	}
	orgs := map[string]int64{}
	out := make([]journey.Event, len(vs))
	for i, v := range vs {
		if id, ok := orgs[v.outlet]; ok || v.outlet == "" {
			v.e.OutletOrgID = id
		} else {
			err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT id FROM orgs WHERE code = $1", v.outlet).Scan(&id)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, fmt.Errorf("outlet %q: %w", v.outlet, err)
			}
			orgs[v.outlet], v.e.OutletOrgID = id, id
		}
		out[i] = v.e
	}
	return out, nil
}

// LevelChangesIn returns the level changes with after < id <= upto.
func (s *JourneyStore) LevelChangesIn(ctx context.Context, after, upto int64) ([]journey.LevelChangeRow, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, `SELECT id, customer_id, from_level, to_level, changed_at
		FROM level_changes WHERE id > $1 AND id <= $2 ORDER BY id`, after, upto)
	if err != nil {
		return nil, fmt.Errorf("level changes for journeys: %w", err)
	}
	return collect(rows, "level changes", func(r *sql.Rows) (journey.LevelChangeRow, error) {
		var c journey.LevelChangeRow
		err := r.Scan(&c.ID, &c.CustomerID, &c.From, &c.To, &c.ChangedAt)
		c.ChangedAt = c.ChangedAt.UTC()
		return c, err
	})
}

// InflowBetween sums a customer's credits in a window (the index on
// customer and time).
func (s *JourneyStore) InflowBetween(ctx context.Context, customerID int64, since, until time.Time, uptoID int64) (int64, error) {
	var sum sql.NullInt64
	err := s.db.reader(ctx).QueryRowContext(ctx, `SELECT SUM(amount) FROM transactions WHERE customer_id = $1
		AND occurred_at >= $2 AND occurred_at <= $3 AND id <= $4 AND amount > 0`, customerID, since.UTC(), until.UTC(),
		uptoID).Scan(&sum)
	if err != nil {
		return 0, fmt.Errorf("inflow of customer %d: %w", customerID, err)
	}
	return sum.Int64, nil
}

// ViewedNotBought returns the products a customer viewed in [since,
// before), most recent view first, without a holding or account of the
// product opened on or after the (Shanghai) day of the view.
func (s *JourneyStore) ViewedNotBought(ctx context.Context, customerID int64, since, before time.Time) ([]int64, error) {
	q := s.db.reader(ctx)
	type view struct {
		product int64
		day     kehu.Date
	}
	var views []view
	loc := kehu.LoadShanghai()
	err := queryEach(ctx, q, "product views", `SELECT product_id, occurred_at FROM channel_events
		WHERE customer_id = $1 AND occurred_at >= $2 AND occurred_at < $3 AND kind = 'product_view'
		AND product_id IS NOT NULL ORDER BY occurred_at DESC`, []any{customerID, since.UTC(), before.UTC()},
		func(r *sql.Rows) error {
			var v view
			var at time.Time
			if err := r.Scan(&v.product, &at); err != nil {
				return err
			}
			v.day = kehu.DateOf(at.In(loc))
			views = append(views, v)
			return nil
		})
	if err != nil || len(views) == 0 {
		return nil, err
	}
	bought := map[int64]kehu.Date{} // product → latest day bought
	err = queryEach(ctx, q, "products bought", `SELECT product_id, acquired_on FROM holdings WHERE customer_id = $1
		UNION ALL SELECT product_id, opened_on FROM accounts WHERE customer_id = $1`, []any{customerID},
		func(r *sql.Rows) error {
			var p int64
			var d kehu.Date
			if err := r.Scan(&p, &d); err != nil {
				return err
			}
			if b, ok := bought[p]; !ok || d.Time().After(b.Time()) {
				bought[p] = d
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	var out []int64
	seen := map[int64]bool{}
	for _, v := range views {
		if seen[v.product] {
			continue
		}
		seen[v.product] = true
		if b, ok := bought[v.product]; ok && !b.Time().Before(v.day.Time()) {
			continue
		}
		out = append(out, v.product)
	}
	return out, nil
}

// LastFiring returns a customer's latest firing of a journey.
func (s *JourneyStore) LastFiring(ctx context.Context, journeyID, customerID int64) (time.Time, bool, error) {
	var at time.Time
	err := s.db.writer(ctx).QueryRowContext(ctx, `SELECT fired_at FROM journey_firings WHERE journey_id = $1
		AND customer_id = $2 ORDER BY fired_at DESC LIMIT 1`, journeyID, customerID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("last firing: %w", err)
	}
	return at.UTC(), true, nil
}

// FiredRefs returns which of the refs a journey already fired on for each
// customer ("customer_id ref" keys), from the unique index of firings.
func (s *JourneyStore) FiredRefs(ctx context.Context, journeyID int64, customerIDs []int64) (map[string]bool, error) {
	out := map[string]bool{}
	if len(customerIDs) == 0 {
		return out, nil
	}
	args := []any{journeyID}
	for _, id := range customerIDs {
		args = append(args, id)
	}
	err := queryEach(ctx, s.db.reader(ctx), "journey firings", `SELECT customer_id, ref FROM journey_firings
		WHERE journey_id = $1 AND customer_id IN (`+paramList(s.db.dialect, 2, len(customerIDs))+")", args,
		func(r *sql.Rows) error {
			var id int64
			var ref string
			if err := r.Scan(&id, &ref); err != nil {
				return err
			}
			out[strconv.FormatInt(id, 10)+" "+ref] = true
			return nil
		})
	return out, err
}

// InsertFiring stores a firing unless its (journey, customer, ref) is.
func (s *JourneyStore) InsertFiring(ctx context.Context, f *journey.Firing) (bool, error) {
	if f.Group == "" {
		f.Group = journey.Treatment
	}
	err := s.db.writer(ctx).QueryRowContext(ctx, `INSERT INTO journey_firings (journey_id, version, customer_id, ref,
		grp, occurred_at, fired_at, fired_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (journey_id, customer_id, ref) DO NOTHING RETURNING id`, f.JourneyID, f.Version, f.CustomerID,
		f.Ref, f.Group, f.OccurredAt.UTC(), f.FiredAt.UTC(), f.FiredOn).Scan(&f.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("insert journey firing: %w", err)
	}
	return true, nil
}

// SaveOutcomes stores a firing's outcomes on it and one journey_actions
// row per action.
func (s *JourneyStore) SaveOutcomes(ctx context.Context, f journey.Firing) error {
	b, err := json.Marshal(f.Outcomes)
	if err != nil {
		return err
	}
	w := s.db.writer(ctx)
	if _, err := w.ExecContext(ctx, "UPDATE journey_firings SET outcomes = $1 WHERE id = $2", string(b), f.ID); err != nil {
		return fmt.Errorf("firing %d outcomes: %w", f.ID, err)
	}
	if len(f.Outcomes) == 0 {
		return nil
	}
	var sb strings.Builder
	args := make([]any, 0, 7*len(f.Outcomes))
	for i, o := range f.Outcomes {
		if i > 0 {
			sb.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&sb, "($%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7)
		args = append(args, f.ID, i, f.JourneyID, o.Kind, o.Outcome, o.Reason, o.RefID)
	}
	_, err = w.ExecContext(ctx, `INSERT INTO journey_actions (firing_id, seq, journey_id, kind, outcome, reason, ref_id)
		VALUES `+sb.String(), args...)
	if err != nil {
		return fmt.Errorf("firing %d actions: %w", f.ID, err)
	}
	return nil
}

// Who returns a customer's RM and organisation (read pool outside a
// transaction: the engine reads it before its write transaction).
func (s *JourneyStore) Who(ctx context.Context, customerID int64) (journey.Who, error) {
	var w journey.Who
	var owner sql.NullInt64
	err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT owner_id, org_id FROM customers WHERE id = $1", customerID).
		Scan(&owner, &w.OrgID)
	if err != nil {
		return w, notFound(err, "customer")
	}
	w.OwnerID = owner.Int64
	return w, nil
}

// ProductName returns a product's name (read pool outside a transaction).
func (s *JourneyStore) ProductName(ctx context.Context, id int64) (string, error) {
	var name string
	if err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT name FROM products WHERE id = $1", id).Scan(&name); err != nil {
		return "", notFound(err, "product")
	}
	return name, nil
}

// MaturingHoldings returns the open time deposits and the holdings of the
// types maturing from from to to, of active customers.
func (s *JourneyStore) MaturingHoldings(ctx context.Context, from, to kehu.Date, types []string) ([]journey.Holding, error) {
	var out []journey.Holding
	scan := func(prefix string) func(*sql.Rows) error {
		return func(r *sql.Rows) error {
			var h journey.Holding
			var id int64
			if err := r.Scan(&id, &h.CustomerID, &h.ProductID, &h.ProductName, &h.Amount, &h.MaturesOn); err != nil {
				return err
			}
			h.Ref = prefix + strconv.FormatInt(id, 10)
			out = append(out, h)
			return nil
		}
	}
	var held []string
	deposits := false
	for _, t := range types {
		if t == "time_deposit" {
			deposits = true
		} else {
			held = append(held, t)
		}
	}
	q := s.db.reader(ctx)
	if deposits {
		err := queryEach(ctx, q, "maturing deposits", `SELECT a.id, a.customer_id, a.product_id, p.name, a.balance,
			a.matures_on FROM accounts a JOIN products p ON p.id = a.product_id JOIN customers c ON c.id = a.customer_id
			WHERE a.matures_on >= $1 AND a.matures_on <= $2 AND a.status = 'active' AND a.balance > 0
			AND p.type = 'time_deposit' AND c.status = 'active' ORDER BY a.id`, []any{from, to}, scan("account:"))
		if err != nil {
			return nil, err
		}
	}
	if len(held) > 0 {
		w := where{args: []any{from, to}}
		ps := make([]string, len(held))
		for i, t := range held {
			w.args = append(w.args, t)
			ps[i] = "$" + strconv.Itoa(len(w.args))
		}
		err := queryEach(ctx, q, "maturing holdings", `SELECT h.id, h.customer_id, h.product_id, p.name, h.amount,
			h.matures_on FROM holdings h JOIN products p ON p.id = h.product_id JOIN customers c ON c.id = h.customer_id
			WHERE h.matures_on >= $1 AND h.matures_on <= $2 AND h.amount > 0 AND c.status = 'active'
			AND p.type IN (`+strings.Join(ps, ", ")+`) ORDER BY h.id`, w.args, scan("holding:"))
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Births returns a page of active individual customers with a birth date
// and their birthday calendar.
func (s *JourneyStore) Births(ctx context.Context, after int64, limit int) ([]journey.Birth, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, `SELECT c.id, c.birth_date, COALESCE(p.birthday_calendar, 'solar')
		FROM customers c LEFT JOIN customer_preferences p ON p.customer_id = c.id
		WHERE c.id > $1 AND c.birth_date IS NOT NULL AND c.status = 'active' AND c.type = 'individual'
		ORDER BY c.id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("births: %w", err)
	}
	return collect(rows, "births", func(r *sql.Rows) (journey.Birth, error) {
		var b journey.Birth
		var cal string
		err := r.Scan(&b.CustomerID, &b.BirthDate, &cal)
		b.Lunar = cal == "lunar"
		return b, err
	})
}

// Dormant returns a page of active customers created before since with no
// login and no transaction since (the customer-and-time indexes of both).
func (s *JourneyStore) Dormant(ctx context.Context, since time.Time, after int64, limit int) ([]int64, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, `SELECT c.id FROM customers c
		WHERE c.id > $1 AND c.status = 'active' AND c.created_at < $2
		AND NOT EXISTS (SELECT 1 FROM transactions t WHERE t.customer_id = c.id AND t.occurred_at >= $2)
		AND NOT EXISTS (SELECT 1 FROM channel_events e WHERE e.customer_id = c.id AND e.occurred_at >= $2
			AND e.kind IN ('login', 'app_login'))
		ORDER BY c.id LIMIT $3`, after, since.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("dormant customers: %w", err)
	}
	return collect(rows, "dormant customers", func(r *sql.Rows) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	})
}

// TemplateChannel returns a message template's channel.
func (s *JourneyStore) TemplateChannel(ctx context.Context, id int64) (string, error) {
	var ch string
	if err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT channel FROM message_templates WHERE id = $1", id).Scan(&ch); err != nil {
		return "", notFound(err, "template")
	}
	return ch, nil
}

func (s *JourneyStore) exists(ctx context.Context, table string, id int64) (bool, error) {
	var n int
	err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+" WHERE id = $1", id).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("%s %d: %w", table, id, err)
	}
	return n > 0, nil
}

// SegmentExists reports whether a segment exists.
func (s *JourneyStore) SegmentExists(ctx context.Context, id int64) (bool, error) {
	return s.exists(ctx, "segments", id)
}

// TagExists reports whether a tag exists.
func (s *JourneyStore) TagExists(ctx context.Context, id int64) (bool, error) {
	return s.exists(ctx, "tags", id)
}

// ProductExists reports whether a product exists.
func (s *JourneyStore) ProductExists(ctx context.Context, id int64) (bool, error) {
	return s.exists(ctx, "products", id)
}
