package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kehu/internal/level"
)

// LevelStore implements level.Store.
type LevelStore struct{ db *DB }

// Levels returns the customer-level store.
func (db *DB) Levels() *LevelStore { return &LevelStore{db: db} }

const versionColumns = `v.version, v.status, v.rule, v.note, v.created_by, v.created_at, v.updated_at, v.activated_by,
	v.activated_at, v.retired_at, COALESCE(cu.display_name, ''), COALESCE(au.display_name, '')
	FROM level_rules v LEFT JOIN users cu ON cu.id = v.created_by LEFT JOIN users au ON au.id = v.activated_by`

func scanVersion(row interface{ Scan(...any) error }) (level.Version, error) {
	var v level.Version
	var raw string
	var created, activated sql.NullInt64
	var activatedAt, retiredAt sql.NullTime
	err := row.Scan(&v.Version, &v.Status, &raw, &v.Note, &created, &v.CreatedAt, &v.UpdatedAt, &activated,
		&activatedAt, &retiredAt, &v.CreatedByName, &v.ActivatedByName)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal([]byte(raw), &v.Rule); err != nil {
		return v, fmt.Errorf("level rule %d: %w", v.Version, err)
	}
	v.CreatedBy, v.ActivatedBy = optID(created), optID(activated)
	v.ActivatedAt, v.RetiredAt = optTime(activatedAt), optTime(retiredAt)
	v.CreatedAt, v.UpdatedAt = v.CreatedAt.UTC(), v.UpdatedAt.UTC()
	return v, nil
}

// Versions implements level.Store: newest first.
func (s *LevelStore) Versions(ctx context.Context) ([]level.Version, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT "+versionColumns+" ORDER BY v.version DESC")
	if err != nil {
		return nil, fmt.Errorf("level rules: %w", err)
	}
	return collect(rows, "level rules", func(r *sql.Rows) (level.Version, error) { return scanVersion(r) })
}

// Version implements level.Store.
func (s *LevelStore) Version(ctx context.Context, version int) (level.Version, error) {
	v, err := scanVersion(s.db.reader(ctx).QueryRowContext(ctx, "SELECT "+versionColumns+" WHERE v.version = $1", version))
	if err != nil {
		return v, notFound(err, "level rule version "+strconv.Itoa(version))
	}
	return v, nil
}

// ActiveVersion implements level.Store.
func (s *LevelStore) ActiveVersion(ctx context.Context) (level.Version, error) {
	v, err := scanVersion(s.db.reader(ctx).QueryRowContext(ctx, "SELECT "+versionColumns+" WHERE v.status = 'active'"))
	if err != nil {
		return v, notFound(err, "active level rule")
	}
	return v, nil
}

// CreateVersion implements level.Store. Versions are consecutive; on
// PostgreSQL two concurrent drafts may collide on the number, which answers
// ECONFLICT (try again) rather than skipping a number.
func (s *LevelStore) CreateVersion(ctx context.Context, v level.Version) (level.Version, error) {
	q := s.db.writer(ctx)
	if err := q.QueryRowContext(ctx, "SELECT COALESCE(max(version), 0) + 1 FROM level_rules").Scan(&v.Version); err != nil {
		return v, fmt.Errorf("next level rule version: %w", err)
	}
	_, err := q.ExecContext(ctx, `INSERT INTO level_rules (version, status, rule, note, created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, v.Version, v.Status, v.Rule.JSON(), v.Note, v.CreatedBy, v.CreatedAt, v.UpdatedAt)
	if err != nil {
		if isUniqueViolation(err) {
			return v, conflict("another draft was created at the same moment; try again")
		}
		return v, fmt.Errorf("insert level rule: %w", err)
	}
	return v, nil
}

// UpdateDraft implements level.Store.
func (s *LevelStore) UpdateDraft(ctx context.Context, version int, rule level.Rule, note string, at time.Time) error {
	res, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE level_rules SET rule = $1, note = $2, updated_at = $3
		WHERE version = $4 AND status = 'draft'`, rule.JSON(), note, at, version)
	if err != nil {
		return fmt.Errorf("update level rule %d: %w", version, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return conflict("level rule version %d is not a draft", version)
	}
	return nil
}

// Activate implements level.Store: the current version retires first so the
// one-active index holds at every statement.
func (s *LevelStore) Activate(ctx context.Context, version int, by int64, at time.Time) error {
	q := s.db.writer(ctx)
	var status string
	if err := q.QueryRowContext(ctx, "SELECT status FROM level_rules WHERE version = $1", version).Scan(&status); err != nil {
		return notFound(err, "level rule version "+strconv.Itoa(version))
	}
	if status != level.StatusDraft {
		return conflict("level rule version %d is %s; only a draft can be activated", version, status)
	}
	if _, err := q.ExecContext(ctx, "UPDATE level_rules SET status = 'retired', retired_at = $1 WHERE status = 'active'", at); err != nil {
		return fmt.Errorf("retire level rule: %w", err)
	}
	if _, err := q.ExecContext(ctx, `UPDATE level_rules SET status = 'active', activated_by = $1, activated_at = $2,
		updated_at = $2 WHERE version = $3`, by, at, version); err != nil {
		return fmt.Errorf("activate level rule %d: %w", version, err)
	}
	return nil
}

// CustomerIDBounds implements level.Store.
func (s *LevelStore) CustomerIDBounds(ctx context.Context) (int64, int64, error) {
	var lo, hi sql.NullInt64
	if err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT min(id), max(id) FROM customers").Scan(&lo, &hi); err != nil {
		return 0, 0, fmt.Errorf("customer id bounds: %w", err)
	}
	return lo.Int64, hi.Int64, nil
}

// selection renders sel as a condition on column with its arguments,
// numbered from $1.
func selection(d Dialect, column string, sel level.Selection) (string, []any) {
	if sel.IDs == nil {
		return column + " >= $1 AND " + column + " < $2", []any{sel.From, sel.To}
	}
	if len(sel.IDs) == 0 {
		return "1 = 0", nil
	}
	args := make([]any, len(sel.IDs))
	for i, id := range sel.IDs {
		args[i] = id
	}
	return column + " IN " + marks(d, 1, len(args)), args
}

// marks returns "($first, …, $first+n-1)" on PostgreSQL and "(?, …, ?)" on
// SQLite, which looks "$n" parameters up by name in a list: binding
// thousands of them is quadratic there. A "?" takes the number after the
// highest before it, so the marks must follow parameters $1 … $first-1.
func marks(d Dialect, first, n int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if d.IsPostgres() {
			b.WriteString("$" + strconv.Itoa(first+i))
		} else {
			b.WriteByte('?')
		}
	}
	b.WriteByte(')')
	return b.String()
}

// LoadBatch implements level.Store with four set-based queries per batch,
// each driven by a customer-id index (customers' primary key,
// accounts_customer, holdings_customer and transactions_customer, whose
// second column bounds the posting window).
func (s *LevelStore) LoadBatch(ctx context.Context, sel level.Selection, since time.Time) (level.Batch, error) {
	var b level.Batch
	q := s.db.reader(ctx)
	cond, args := selection(s.db.dialect, "c.id", sel)
	rows, err := q.QueryContext(ctx, "SELECT c.id, c.type, c.level, c.aum FROM customers c WHERE "+cond+" ORDER BY c.id", args...)
	if err != nil {
		return b, fmt.Errorf("level batch customers: %w", err)
	}
	if b.Subjects, err = collect(rows, "level batch customers", func(r *sql.Rows) (level.Subject, error) {
		var x level.Subject
		return x, r.Scan(&x.ID, &x.Type, &x.Level, &x.AUM)
	}); err != nil || len(b.Subjects) == 0 {
		return b, err
	}
	cond, args = selection(s.db.dialect, "a.customer_id", sel)
	rows, err = q.QueryContext(ctx, `SELECT a.id, a.customer_id, p.type, a.balance, a.opened_on
		FROM accounts a JOIN products p ON p.id = a.product_id
		WHERE `+cond+` AND p.type IN ('current_deposit', 'time_deposit')`, args...)
	if err != nil {
		return b, fmt.Errorf("level batch deposits: %w", err)
	}
	if b.Deposits, err = collect(rows, "level batch deposits", func(r *sql.Rows) (level.Deposit, error) {
		var x level.Deposit
		return x, r.Scan(&x.AccountID, &x.CustomerID, &x.Type, &x.Balance, &x.OpenedOn)
	}); err != nil {
		return b, err
	}
	cond, args = selection(s.db.dialect, "h.customer_id", sel)
	rows, err = q.QueryContext(ctx, `SELECT h.customer_id, p.type, SUM(h.amount)
		FROM holdings h JOIN products p ON p.id = h.product_id WHERE `+cond+` GROUP BY h.customer_id, p.type`, args...)
	if err != nil {
		return b, fmt.Errorf("level batch holdings: %w", err)
	}
	if b.Holdings, err = collect(rows, "level batch holdings", func(r *sql.Rows) (level.HoldingSum, error) {
		var x level.HoldingSum
		return x, r.Scan(&x.CustomerID, &x.Type, &x.Amount)
	}); err != nil {
		return b, err
	}
	cond, args = selection(s.db.dialect, "t.customer_id", sel)
	args = append(args, since)
	rows, err = q.QueryContext(ctx, `SELECT t.id, t.customer_id, t.account_id, t.occurred_at, t.amount, t.balance_after, t.kind
		FROM transactions t WHERE `+cond+` AND t.occurred_at >= $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return b, fmt.Errorf("level batch postings: %w", err)
	}
	b.Postings, err = collect(rows, "level batch postings", func(r *sql.Rows) (level.Posting, error) {
		var x level.Posting
		err := r.Scan(&x.ID, &x.CustomerID, &x.AccountID, &x.At, &x.Amount, &x.BalanceAfter, &x.Kind)
		return x, err
	})
	return b, err
}

const metricColumns = `aum, aum_avg3m, transactions_90d, current_deposit, time_deposit, wealth, fund, insurance, card_spend_90d`

func metricValues(m *level.Metrics) []any {
	return []any{&m.AUM, &m.AUMAvg3M, &m.Transactions90D, &m.CurrentDeposit, &m.TimeDeposit, &m.Wealth, &m.Fund,
		&m.Insurance, &m.CardSpend90D}
}

// StoredMetrics implements level.Store.
func (s *LevelStore) StoredMetrics(ctx context.Context, from, to int64) ([]level.Stored, []int64, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, `SELECT c.id, c.type, c.level, c.aum, cl.computed_at,
		cl.aum, cl.aum_avg3m, cl.transactions_90d, cl.current_deposit, cl.time_deposit, cl.wealth, cl.fund, cl.insurance,
		cl.card_spend_90d
		FROM customers c LEFT JOIN customer_levels cl ON cl.customer_id = c.id WHERE c.id >= $1 AND c.id < $2`, from, to)
	if err != nil {
		return nil, nil, fmt.Errorf("stored level metrics: %w", err)
	}
	defer rows.Close()
	var stored []level.Stored
	var missing []int64
	for rows.Next() {
		var st level.Stored
		var at sql.NullTime
		var ms [9]sql.NullInt64
		dest := []any{&st.Subject.ID, &st.Subject.Type, &st.Subject.Level, &st.Subject.AUM, &at}
		for i := range ms {
			dest = append(dest, &ms[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, fmt.Errorf("stored level metrics: %w", err)
		}
		if !at.Valid {
			missing = append(missing, st.Subject.ID)
			continue
		}
		for i, p := range metricValues(&st.Metrics) {
			*(p.(*int64)) = ms[i].Int64
		}
		st.ComputedAt = at.Time.UTC()
		stored = append(stored, st)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("stored level metrics: %w", err)
	}
	return stored, missing, nil
}

// saveRows is how many outcomes one multi-row statement carries: 16 values
// each stays far below both engines' parameter limits.
const saveRows = 200

// SaveOutcomes implements level.Store.
func (s *LevelStore) SaveOutcomes(ctx context.Context, outs []level.Outcome, trigger string, at time.Time) (int, error) {
	q := s.db.writer(ctx)
	changed := 0
	for start := 0; start < len(outs); start += saveRows {
		part := outs[start:min(start+saveRows, len(outs))]
		var b strings.Builder
		args := make([]any, 0, len(part)*16)
		b.WriteString(`INSERT INTO customer_levels (customer_id, level, rule_version, contribution, reasons, computed_at, ` +
			metricColumns + `) VALUES `)
		for i, o := range part {
			reasons, err := json.Marshal(o.Reasons)
			if err != nil {
				return 0, err
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(marks(s.db.dialect, len(args)+1, 15))
			m := o.Metrics
			args = append(args, o.Subject.ID, o.Level, o.RuleVersion, o.Contribution, string(reasons), at,
				m.AUM, m.AUMAvg3M, m.Transactions90D, m.CurrentDeposit, m.TimeDeposit, m.Wealth, m.Fund, m.Insurance,
				m.CardSpend90D)
		}
		b.WriteString(` ON CONFLICT (customer_id) DO UPDATE SET level = excluded.level, rule_version = excluded.rule_version,
			contribution = excluded.contribution, reasons = excluded.reasons, computed_at = excluded.computed_at,
			aum = excluded.aum, aum_avg3m = excluded.aum_avg3m, transactions_90d = excluded.transactions_90d,
			current_deposit = excluded.current_deposit, time_deposit = excluded.time_deposit, wealth = excluded.wealth,
			fund = excluded.fund, insurance = excluded.insurance, card_spend_90d = excluded.card_spend_90d`)
		if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
			return 0, fmt.Errorf("save customer levels: %w", err)
		}
	}
	for _, o := range outs {
		if o.Level == o.Subject.Level && o.Metrics.AUM == o.Subject.AUM {
			continue
		}
		if _, err := q.ExecContext(ctx, "UPDATE customers SET level = $1, aum = $2 WHERE id = $3",
			o.Level, o.Metrics.AUM, o.Subject.ID); err != nil {
			return 0, fmt.Errorf("update customer %d level: %w", o.Subject.ID, err)
		}
		if o.Level == o.Subject.Level {
			continue
		}
		changed++
		if _, err := q.ExecContext(ctx, `INSERT INTO level_changes (customer_id, from_level, to_level, rule_version, trigger,
			changed_at) VALUES ($1, $2, $3, $4, $5, $6)`, o.Subject.ID, o.Subject.Level, o.Level, o.RuleVersion, trigger, at); err != nil {
			return 0, fmt.Errorf("record level change of %d: %w", o.Subject.ID, err)
		}
	}
	return changed, nil
}

// Assessment implements level.Store.
func (s *LevelStore) Assessment(ctx context.Context, customerID int64) (level.Assessment, error) {
	a := level.Assessment{CustomerID: customerID, Computed: true}
	var reasons string
	dest := append([]any{&a.Level, &a.RuleVersion, &a.Contribution, &reasons, &a.ComputedAt}, metricValues(&a.Metrics)...)
	err := s.db.hotReader(ctx).QueryRowContext(ctx, `SELECT level, rule_version, contribution, reasons, computed_at, `+
		metricColumns+` FROM customer_levels WHERE customer_id = $1`, customerID).Scan(dest...)
	if err != nil {
		return level.Assessment{}, notFound(err, "customer level")
	}
	a.ComputedAt = a.ComputedAt.UTC()
	if err := json.Unmarshal([]byte(reasons), &a.Reasons); err != nil {
		return level.Assessment{}, fmt.Errorf("customer %d level reasons: %w", customerID, err)
	}
	return a, nil
}

// CustomerLevel implements level.Store.
func (s *LevelStore) CustomerLevel(ctx context.Context, customerID int64) (string, error) {
	var l string
	err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT level FROM customers WHERE id = $1", customerID).Scan(&l)
	if err != nil {
		return "", notFound(err, "customer")
	}
	return l, nil
}

const changeColumns = "id, customer_id, from_level, to_level, rule_version, trigger, changed_at FROM level_changes"

func scanChange(r *sql.Rows) (level.Change, error) {
	var c level.Change
	err := r.Scan(&c.ID, &c.CustomerID, &c.From, &c.To, &c.RuleVersion, &c.Trigger, &c.ChangedAt)
	c.ChangedAt = c.ChangedAt.UTC()
	return c, err
}

// Changes implements level.Store: newest first (level_changes_customer).
func (s *LevelStore) Changes(ctx context.Context, customerID int64, limit int) ([]level.Change, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT "+changeColumns+
		" WHERE customer_id = $1 ORDER BY id DESC LIMIT $2", customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("level changes of %d: %w", customerID, err)
	}
	return collect(rows, "level changes", scanChange)
}

// ChangesSince implements level.Store.
func (s *LevelStore) ChangesSince(ctx context.Context, after int64, limit int) ([]level.Change, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT "+changeColumns+" WHERE id > $1 ORDER BY id LIMIT $2", after, limit)
	if err != nil {
		return nil, fmt.Errorf("level changes: %w", err)
	}
	return collect(rows, "level changes", scanChange)
}

const runColumns = `id, trigger, status, rule_version, started_by, started_at, heartbeat_at, finished_at, customers, changed,
	error FROM level_runs`

func scanLevelRun(row interface{ Scan(...any) error }) (level.Run, error) {
	var r level.Run
	var by sql.NullInt64
	var fin sql.NullTime
	err := row.Scan(&r.ID, &r.Trigger, &r.Status, &r.RuleVersion, &by, &r.StartedAt, &r.HeartbeatAt, &fin, &r.Customers,
		&r.Changed, &r.Error)
	r.StartedBy, r.FinishedAt = optID(by), optTime(fin)
	r.StartedAt, r.HeartbeatAt = r.StartedAt.UTC(), r.HeartbeatAt.UTC()
	return r, err
}

// StartRun implements level.Store: a run that finds no live run abandons the
// dead ones (a level recompute starts afresh, never resumes).
func (s *LevelStore) StartRun(ctx context.Context, r level.Run, staleBefore time.Time) (level.Run, error) {
	err := levelRuns.claim(ctx, s.db, staleBefore, func(ctx context.Context, q querier) error {
		if err := levelRuns.abandon(ctx, q); err != nil {
			return err
		}
		return q.QueryRowContext(ctx, `INSERT INTO level_runs (trigger, status, rule_version, started_by, started_at,
			heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, r.Trigger, r.Status, r.RuleVersion, r.StartedBy,
			r.StartedAt, r.HeartbeatAt).Scan(&r.ID)
	})
	return r, err
}

// ProgressRun implements level.Store.
func (s *LevelStore) ProgressRun(ctx context.Context, id int64, at time.Time, customers, changed int64) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, "UPDATE level_runs SET heartbeat_at = $1, customers = $2, changed = $3 WHERE id = $4",
		at, customers, changed, id)
	if err != nil {
		return fmt.Errorf("level run %d progress: %w", id, err)
	}
	return nil
}

// FinishRun implements level.Store.
func (s *LevelStore) FinishRun(ctx context.Context, id int64, status string, at time.Time, customers, changed int64, errText string) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE level_runs SET status = $1, finished_at = $2, heartbeat_at = $2,
		customers = $3, changed = $4, error = $5 WHERE id = $6`, status, at, customers, changed, errText, id)
	if err != nil {
		return fmt.Errorf("level run %d finish: %w", id, err)
	}
	return nil
}

// Runs implements level.Store: newest first.
func (s *LevelStore) Runs(ctx context.Context, limit int) ([]level.Run, error) {
	return listWhere(ctx, s.db.reader(ctx), "level runs", "SELECT "+runColumns, where{}, "id DESC", limit, scanLevelRun)
}

// Run implements level.Store.
func (s *LevelStore) Run(ctx context.Context, id int64) (level.Run, error) {
	r, err := scanLevelRun(s.db.reader(ctx).QueryRowContext(ctx, "SELECT "+runColumns+" WHERE id = $1", id))
	if err != nil {
		return r, notFound(err, "level run")
	}
	return r, nil
}
