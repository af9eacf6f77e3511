package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"kehu/internal/journey"
	"kehu/internal/policy"
)

// JourneyStore implements journey.Store and journey.Refs.
type JourneyStore struct{ db *DB }

// Journeys returns the journey store.
func (db *DB) Journeys() *JourneyStore { return &JourneyStore{db: db} }

const journeyColumns = `id, name, description, status, version, definition, created_by, updated_by, created_at, updated_at`

func scanJourney(r interface{ Scan(...any) error }) (journey.Journey, error) {
	var j journey.Journey
	var def string
	if err := r.Scan(&j.ID, &j.Name, &j.Description, &j.Status, &j.Version, &def, &j.CreatedBy, &j.UpdatedBy,
		&j.CreatedAt, &j.UpdatedAt); err != nil {
		return j, err
	}
	if err := json.Unmarshal([]byte(def), &j.Definition); err != nil {
		return j, fmt.Errorf("journey %d: stored definition: %w", j.ID, err)
	}
	j.CreatedAt, j.UpdatedAt = j.CreatedAt.UTC(), j.UpdatedAt.UTC()
	return j, nil
}

// ListJourneys returns every journey by name.
func (s *JourneyStore) ListJourneys(ctx context.Context) ([]journey.Journey, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT "+journeyColumns+" FROM journeys ORDER BY name, id")
	if err != nil {
		return nil, fmt.Errorf("list journeys: %w", err)
	}
	return collect(rows, "journeys", func(r *sql.Rows) (journey.Journey, error) { return scanJourney(r) })
}

// GetJourney returns one journey.
func (s *JourneyStore) GetJourney(ctx context.Context, id int64) (journey.Journey, error) {
	j, err := scanJourney(s.db.reader(ctx).QueryRowContext(ctx, "SELECT "+journeyColumns+" FROM journeys WHERE id = $1", id))
	if err != nil {
		return j, notFound(err, "journey")
	}
	return j, nil
}

// CreateJourney inserts a journey and its first version.
func (s *JourneyStore) CreateJourney(ctx context.Context, j journey.Journey) (journey.Journey, error) {
	err := s.db.writer(ctx).QueryRowContext(ctx, `INSERT INTO journeys (name, description, trigger, definition, status,
		version, created_by, updated_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		RETURNING id`, j.Name, j.Description, j.Definition.Trigger, j.Definition.JSON(), j.Status, j.Version,
		j.CreatedBy, j.UpdatedBy, j.CreatedAt.UTC(), j.UpdatedAt.UTC()).Scan(&j.ID)
	if isUniqueViolation(err) {
		return j, conflict("a journey named %q exists", j.Name)
	}
	if err != nil {
		return j, fmt.Errorf("insert journey: %w", err)
	}
	return j, s.insertVersion(ctx, j)
}

func (s *JourneyStore) insertVersion(ctx context.Context, j journey.Journey) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, `INSERT INTO journey_versions (journey_id, version, name, definition,
		created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)`, j.ID, j.Version, j.Name, j.Definition.JSON(),
		j.UpdatedBy, j.UpdatedAt.UTC())
	if err != nil {
		return fmt.Errorf("insert journey %d version %d: %w", j.ID, j.Version, err)
	}
	return nil
}

// UpdateJourney stores a new version of a journey.
func (s *JourneyStore) UpdateJourney(ctx context.Context, j journey.Journey) error {
	res, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE journeys SET name = $1, description = $2, trigger = $3,
		definition = $4, status = $5, version = $6, updated_by = $7, updated_at = $8 WHERE id = $9`, j.Name,
		j.Description, j.Definition.Trigger, j.Definition.JSON(), j.Status, j.Version, j.UpdatedBy, j.UpdatedAt.UTC(), j.ID)
	if isUniqueViolation(err) {
		return conflict("a journey named %q exists", j.Name)
	}
	if err != nil {
		return fmt.Errorf("update journey %d: %w", j.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound(sql.ErrNoRows, "journey")
	}
	return s.insertVersion(ctx, j)
}

// SetStatus pauses or resumes a journey without a new version.
func (s *JourneyStore) SetStatus(ctx context.Context, id int64, status string, by int64, at time.Time) error {
	res, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE journeys SET status = $1, updated_by = $2, updated_at = $3
		WHERE id = $4`, status, by, at.UTC(), id)
	if err != nil {
		return fmt.Errorf("set journey %d status: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound(sql.ErrNoRows, "journey")
	}
	return nil
}

// Versions returns a journey's versions, newest first.
func (s *JourneyStore) Versions(ctx context.Context, id int64) ([]journey.Version, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, `SELECT version, name, definition, created_by, created_at
		FROM journey_versions WHERE journey_id = $1 ORDER BY version DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("journey %d versions: %w", id, err)
	}
	return collect(rows, "journey versions", func(r *sql.Rows) (journey.Version, error) {
		var v journey.Version
		var def string
		if err := r.Scan(&v.Version, &v.Name, &def, &v.CreatedBy, &v.CreatedAt); err != nil {
			return v, err
		}
		v.CreatedAt = v.CreatedAt.UTC()
		return v, json.Unmarshal([]byte(def), &v.Definition)
	})
}

// ListFirings returns a page of a journey's firings of customers in scope,
// newest first.
func (s *JourneyStore) ListFirings(ctx context.Context, f journey.FiringFilter) ([]journey.Firing, error) {
	var w where
	w.add("f.journey_id = ?", f.JourneyID)
	if f.Before > 0 {
		w.add("f.id < ?", f.Before)
	}
	scopeWhere(s.db.dialect, &w, f.Scope)
	w.args = append(w.args, f.Limit)
	out := []journey.Firing{}
	err := queryEach(ctx, s.db.reader(ctx), "list journey firings", `SELECT f.id, f.journey_id, f.version,
		f.customer_id, f.ref, f.grp, f.occurred_at, f.fired_at, f.fired_on, f.outcomes
		FROM journey_firings f JOIN customers c ON c.id = f.customer_id`+w.sql()+`
		ORDER BY f.id DESC LIMIT $`+strconv.Itoa(len(w.args)), w.args, func(r *sql.Rows) error {
		var x journey.Firing
		var outcomes string
		if err := r.Scan(&x.ID, &x.JourneyID, &x.Version, &x.CustomerID, &x.Ref, &x.Group, &x.OccurredAt, &x.FiredAt,
			&x.FiredOn, &outcomes); err != nil {
			return err
		}
		x.OccurredAt, x.FiredAt = x.OccurredAt.UTC(), x.FiredAt.UTC()
		if err := json.Unmarshal([]byte(outcomes), &x.Outcomes); err != nil {
			return fmt.Errorf("firing %d outcomes: %w", x.ID, err)
		}
		out = append(out, x)
		return nil
	})
	for i := range out {
		if out[i].Outcomes == nil {
			out[i].Outcomes = []journey.ActionOutcome{}
		}
	}
	return out, err
}

// ResultCounts implements journey.Store: five grouped reads over the
// journey's firings of the period (journey_firings_day), their actions,
// its messages in the outbox (outbox_messages_source) and, with a product,
// the customers of each group who acquired it within the window of one of
// their firings.
func (s *JourneyStore) ResultCounts(ctx context.Context, q journey.ResultsQuery) (journey.Counts, error) {
	c := journey.Counts{Actions: []journey.Count{}}
	r := s.db.reader(ctx)
	firings := func() *where {
		w := &where{}
		w.add("f.journey_id = ?", q.JourneyID)
		if !q.From.IsZero() {
			w.add("f.fired_on >= ?", q.From)
		}
		if !q.To.IsZero() {
			w.add("f.fired_on <= ?", q.To)
		}
		return w
	}
	w := firings()
	err := queryEach(ctx, r, "journey groups", `SELECT f.grp, COUNT(*), COUNT(DISTINCT f.customer_id)
		FROM journey_firings f`+w.sql()+` GROUP BY f.grp`, w.args, func(rows *sql.Rows) error {
		var grp string
		var n, customers int64
		if err := rows.Scan(&grp, &n, &customers); err != nil {
			return err
		}
		if grp == journey.Control {
			c.FiredControl, c.Control = n, customers
		} else {
			c.FiredTreatment, c.Treatment = n, customers
		}
		return nil
	})
	if err != nil {
		return c, err
	}
	if err := r.QueryRowContext(ctx, `SELECT COUNT(DISTINCT f.customer_id) FROM journey_firings f`+w.sql(),
		w.args...).Scan(&c.Customers); err != nil {
		return c, fmt.Errorf("journey %d customers: %w", q.JourneyID, err)
	}
	// Actions: without a period the journey's own index answers alone.
	actions := `SELECT a.kind, a.outcome, a.reason, COUNT(*) FROM journey_actions a WHERE a.journey_id = $1`
	args := []any{q.JourneyID}
	if !q.From.IsZero() || !q.To.IsZero() {
		actions = `SELECT a.kind, a.outcome, a.reason, COUNT(*) FROM journey_firings f
			JOIN journey_actions a ON a.firing_id = f.id` + w.sql()
		args = w.args
	}
	err = queryEach(ctx, r, "journey actions", actions+` GROUP BY a.kind, a.outcome, a.reason
		ORDER BY a.kind, a.outcome, a.reason`, args, func(rows *sql.Rows) error {
		var n journey.Count
		if err := rows.Scan(&n.Kind, &n.Outcome, &n.Reason, &n.Count); err != nil {
			return err
		}
		c.Actions = append(c.Actions, n)
		return nil
	})
	if err != nil {
		return c, err
	}
	var m where
	m.add("o.source_kind = ?", policy.SourceJourney)
	m.add("o.source_id = ?", q.JourneyID)
	if !q.FromAt.IsZero() {
		m.add("o.created_at >= ?", q.FromAt.UTC())
	}
	if !q.ToAt.IsZero() {
		m.add("o.created_at < ?", q.ToAt.UTC())
	}
	err = r.QueryRowContext(ctx, `SELECT COUNT(o.sent_at), COUNT(o.delivered_at), COUNT(o.opened_at), COUNT(o.clicked_at),
		COALESCE(SUM(CASE WHEN o.status = 'failed' THEN 1 ELSE 0 END), 0) FROM outbox_messages o`+m.sql(), m.args...).
		Scan(&c.Sent, &c.Delivered, &c.Opened, &c.Clicked, &c.Failed)
	if err != nil {
		return c, fmt.Errorf("journey %d messages: %w", q.JourneyID, err)
	}
	if q.ProductID == 0 {
		return c, nil
	}
	w = firings()
	w.args = append(w.args, q.ProductID, q.ConversionDays)
	product, days := "$"+strconv.Itoa(len(w.args)-1), "$"+strconv.Itoa(len(w.args))
	// The campaigns' conversion (boughtSQL) with each firing's window.
	bought := boughtSQL("f.customer_id", product, "f.fired_on", s.db.dialect.addDays("f.fired_on", days))
	err = queryEach(ctx, r, "journey conversions", `SELECT f.grp, COUNT(DISTINCT f.customer_id) FROM journey_firings f`+
		w.sql()+` AND `+bought+` GROUP BY f.grp`, w.args, func(rows *sql.Rows) error {
		var grp string
		var n int64
		if err := rows.Scan(&grp, &n); err != nil {
			return err
		}
		if grp == journey.Control {
			c.ConvertedControl = n
		} else {
			c.ConvertedTreatment = n
		}
		return nil
	})
	return c, err
}

// addDays is the SQL date days (a parameter) after the date column col.
func (d Dialect) addDays(col, days string) string {
	if d.IsPostgres() {
		return "(" + col + " + " + days + "::integer)"
	}
	return "date(" + col + ", '+' || " + days + " || ' days')"
}
