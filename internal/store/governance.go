package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kehu/internal/governance"
	"kehu/internal/kehu"
	"kehu/internal/nightly"
)

// GovernanceStore implements governance.DictionaryStore and
// governance.QualityStore.
type GovernanceStore struct{ db *DB }

// Governance returns the data-dictionary and data-quality store.
func (db *DB) Governance() *GovernanceStore { return &GovernanceStore{db: db} }

const dictVersionColumns = `d.table_name, d.column_name, d.version, d.definition_zh, d.definition_en, d.source_system,
	d.owner, d.quality_rule, d.note, d.edited_by, COALESCE(u.display_name, ''), d.edited_at
	FROM dictionary_entries d LEFT JOIN users u ON u.id = d.edited_by`

func scanDictVersion(r *sql.Rows) (governance.Version, error) {
	var v governance.Version
	var rule string
	var by sql.NullInt64
	err := r.Scan(&v.Table, &v.Column, &v.Version, &v.DefinitionZH, &v.DefinitionEN, &v.SourceSystem, &v.Owner, &rule,
		&v.Note, &by, &v.EditedByName, &v.EditedAt)
	if err != nil {
		return v, err
	}
	v.EditedBy, v.EditedAt = optID(by), v.EditedAt.UTC()
	if err := json.Unmarshal([]byte(rule), &v.Rule); err != nil {
		return v, fmt.Errorf("quality rule of %s.%s v%d: %w", v.Table, v.Column, v.Version, err)
	}
	return v, nil
}

// LatestVersions implements governance.DictionaryStore.
func (s *GovernanceStore) LatestVersions(ctx context.Context) ([]governance.Version, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT "+dictVersionColumns+` WHERE d.version =
		(SELECT max(x.version) FROM dictionary_entries x WHERE x.table_name = d.table_name AND x.column_name = d.column_name)`)
	if err != nil {
		return nil, fmt.Errorf("dictionary versions: %w", err)
	}
	return collect(rows, "dictionary versions", scanDictVersion)
}

// EntryVersions implements governance.DictionaryStore: newest first.
func (s *GovernanceStore) EntryVersions(ctx context.Context, table, column string) ([]governance.Version, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT "+dictVersionColumns+
		" WHERE d.table_name = $1 AND d.column_name = $2 ORDER BY d.version DESC", table, column)
	if err != nil {
		return nil, fmt.Errorf("dictionary versions of %s.%s: %w", table, column, err)
	}
	return collect(rows, "dictionary versions", scanDictVersion)
}

// AddVersion implements governance.DictionaryStore; the primary key turns a
// concurrent save of the same version into ECONFLICT.
func (s *GovernanceStore) AddVersion(ctx context.Context, v governance.Version) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, `INSERT INTO dictionary_entries (table_name, column_name, version,
		definition_zh, definition_en, source_system, owner, quality_rule, note, edited_by, edited_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, v.Table, v.Column, v.Version, v.DefinitionZH,
		v.DefinitionEN, v.SourceSystem, v.Owner, v.Rule.JSON(), v.Note, v.EditedBy, v.EditedAt)
	if isUniqueViolation(err) {
		return conflict("%s.%s was changed meanwhile; reload and edit again", v.Table, v.Column)
	}
	if err != nil {
		return fmt.Errorf("save dictionary %s.%s: %w", v.Table, v.Column, err)
	}
	return nil
}

// TableColumns implements governance.DictionaryStore from the engine's own
// catalogue, so it sees columns every migration added.
func (s *GovernanceStore) TableColumns(ctx context.Context, table string) ([]string, error) {
	q := "SELECT name FROM pragma_table_info($1) ORDER BY cid"
	if s.db.dialect.IsPostgres() {
		q = `SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND table_schema = current_schema()
			ORDER BY ordinal_position`
	}
	rows, err := s.db.reader(ctx).QueryContext(ctx, q, table)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	return collect(rows, "columns", func(r *sql.Rows) (string, error) {
		var c string
		return c, r.Scan(&c)
	})
}

// References implements governance.QualityStore.
func (s *GovernanceStore) References(ctx context.Context) (map[string][]int64, error) {
	out := map[string][]int64{}
	for name, q := range map[string]string{"orgs": "SELECT id FROM orgs", "products": "SELECT id FROM products",
		"users": "SELECT id FROM users WHERE disabled = FALSE"} {
		rows, err := s.db.reader(ctx).QueryContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("reference %s: %w", name, err)
		}
		if out[name], err = collect(rows, name, func(r *sql.Rows) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scanTables says, per measured table, its alias and where a row's home
// organisation and customer come from: customers and accounts carry an
// org_id, holdings, transactions and events belong to their customer's.
var scanTables = map[string]struct{ alias, org, customer string }{
	"customers":      {"c", "c.org_id", "c.id"},
	"accounts":       {"a", "a.org_id", "a.customer_id"},
	"holdings":       {"h", "c.org_id", "h.customer_id"},
	"transactions":   {"t", "c.org_id", "t.customer_id"},
	"channel_events": {"e", "c.org_id", "e.customer_id"},
}

// scanBatch is how many rows one keyset step reads: short reads keep SQLite's
// WAL checkpoints and PostgreSQL's vacuum unblocked during a long measurement.
const scanBatch = 5_000

// ScanRows implements governance.QualityStore. Columns come from the
// dictionary's code, and are checked to be identifiers all the same.
func (s *GovernanceStore) ScanRows(ctx context.Context, table string, columns []string, fn func(governance.Row) error) error {
	spec, ok := scanTables[table]
	if !ok {
		return fmt.Errorf("scan: table %s is not measured", table)
	}
	k, err := s.db.keyring()
	if err != nil {
		return err
	}
	var cols strings.Builder
	var sealed []int
	for i, c := range columns {
		if !isIdentifier(c) {
			return fmt.Errorf("scan %s: bad column %q", table, c)
		}
		cols.WriteString(", " + spec.alias + "." + c)
		if isSealed(table, c) {
			sealed = append(sealed, i)
		}
	}
	from := " FROM " + table + " " + spec.alias
	if table != "customers" {
		from += " JOIN customers c ON c.id = " + spec.customer
	}
	q := "SELECT " + spec.alias + ".id, " + spec.org + ", " + spec.customer + ", c.type" + cols.String() + from +
		" WHERE " + spec.alias + ".id > $1 ORDER BY " + spec.alias + ".id LIMIT " + strconv.Itoa(scanBatch)
	after := int64(0)
	for {
		rows, err := s.db.reader(ctx).QueryContext(ctx, q, after)
		if err != nil {
			return fmt.Errorf("scan %s: %w", table, err)
		}
		batch, err := collect(rows, table, qualityRowScanner(len(columns)))
		if err != nil {
			return err
		}
		for _, row := range batch {
			for _, i := range sealed {
				if err := openValue(k, table+"."+columns[i], &row.Values[i]); err != nil {
					return fmt.Errorf("scan %s %d: %w", table, row.ID, err)
				}
			}
			if err := fn(row); err != nil {
				return err
			}
		}
		if len(batch) < scanBatch {
			return nil
		}
		after = batch[len(batch)-1].ID
	}
}

// isSealed reports whether table.column is stored encrypted.
func isSealed(table, column string) bool {
	switch table + "." + column {
	case colIDNumber, colMobile, colEmail, colAddress, colAccountNo:
		return true
	}
	return false
}

// openValue decrypts a sealed value read into an any.
func openValue(k interface {
	Decrypt(column, sealed string) (string, error)
}, column string, v *any) error {
	var s string
	switch x := (*v).(type) {
	case string:
		s = x
	case []byte:
		s = string(x)
	case nil:
		return nil
	default:
		return fmt.Errorf("%s: unexpected %T", column, x)
	}
	clear, err := k.Decrypt(column, s)
	if err != nil {
		return err
	}
	*v = clear
	return nil
}

const qualityRunColumns = `id, trigger, status, started_by, started_at, heartbeat_at, finished_at, rows_scanned, error
	FROM quality_runs`

func scanQualityRun(row interface{ Scan(...any) error }) (governance.Run, error) {
	var r governance.Run
	var by sql.NullInt64
	var fin sql.NullTime
	err := row.Scan(&r.ID, &r.Trigger, &r.Status, &by, &r.StartedAt, &r.HeartbeatAt, &fin, &r.RowsScanned, &r.Error)
	r.StartedBy, r.FinishedAt = optID(by), optTime(fin)
	r.StartedAt, r.HeartbeatAt = r.StartedAt.UTC(), r.HeartbeatAt.UTC()
	return r, err
}

// StartRun implements governance.QualityStore: a measurement that finds no
// live run abandons the dead ones (it starts afresh, never resumes).
func (s *GovernanceStore) StartRun(ctx context.Context, r governance.Run, staleBefore time.Time) (governance.Run, error) {
	err := qualityRuns.claim(ctx, s.db, staleBefore, func(ctx context.Context, q querier) error {
		if err := qualityRuns.abandon(ctx, q); err != nil {
			return err
		}
		return q.QueryRowContext(ctx, `INSERT INTO quality_runs (trigger, status, started_by, started_at, heartbeat_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, r.Trigger, r.Status, r.StartedBy, r.StartedAt, r.HeartbeatAt).Scan(&r.ID)
	})
	return r, err
}

// ProgressRun implements governance.QualityStore.
func (s *GovernanceStore) ProgressRun(ctx context.Context, id int64, at time.Time, rowsScanned int64) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, "UPDATE quality_runs SET heartbeat_at = $1, rows_scanned = $2 WHERE id = $3",
		at, rowsScanned, id)
	if err != nil {
		return fmt.Errorf("quality run %d progress: %w", id, err)
	}
	return nil
}

// FinishRun implements governance.QualityStore.
func (s *GovernanceStore) FinishRun(ctx context.Context, id int64, status string, at time.Time, rowsScanned int64, errText string) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE quality_runs SET status = $1, finished_at = $2, heartbeat_at = $2,
		rows_scanned = $3, error = $4 WHERE id = $5`, status, at, rowsScanned, errText, id)
	if err != nil {
		return fmt.Errorf("quality run %d finish: %w", id, err)
	}
	return nil
}

// SaveResults implements governance.QualityStore.
func (s *GovernanceStore) SaveResults(ctx context.Context, runID int64, rs []governance.Result, keep int) error {
	q := s.db.writer(ctx)
	for start := 0; start < len(rs); start += saveRows {
		part := rs[start:min(start+saveRows, len(rs))]
		var b strings.Builder
		args := make([]any, 0, len(part)*8)
		b.WriteString(`INSERT INTO quality_results (run_id, org_id, table_name, column_name, applicable, filled, valid,
			examples) VALUES `)
		for i, r := range part {
			ex, err := json.Marshal(r.Examples)
			if err != nil {
				return err
			}
			if r.Examples == nil {
				ex = []byte("[]")
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(marks(s.db.dialect, len(args)+1, 8))
			args = append(args, runID, r.OrgID, r.Table, r.Column, r.Applicable, r.Filled, r.Valid, string(ex))
		}
		if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("save quality results: %w", err)
		}
	}
	_, err := q.ExecContext(ctx, `DELETE FROM quality_results WHERE run_id <
		(SELECT min(id) FROM (SELECT id FROM quality_runs ORDER BY id DESC LIMIT $1) k)`, keep)
	if err != nil {
		return fmt.Errorf("purge quality results: %w", err)
	}
	return nil
}

// Runs implements governance.QualityStore: newest first.
func (s *GovernanceStore) Runs(ctx context.Context, limit int) ([]governance.Run, error) {
	return listWhere(ctx, s.db.reader(ctx), "quality runs", "SELECT "+qualityRunColumns, where{}, "id DESC", limit,
		scanQualityRun)
}

// LatestRun implements governance.QualityStore.
func (s *GovernanceStore) LatestRun(ctx context.Context, status string) (governance.Run, error) {
	r, err := scanQualityRun(s.db.reader(ctx).QueryRowContext(ctx, "SELECT "+qualityRunColumns+
		" WHERE status = $1 ORDER BY id DESC LIMIT 1", status))
	if err != nil {
		return r, notFound(err, "quality run")
	}
	return r, nil
}

// Results implements governance.QualityStore; the orgs path index serves the
// subtree condition.
func (s *GovernanceStore) Results(ctx context.Context, runID int64, pathPrefix string) ([]governance.Result, error) {
	var w where
	w.add("r.run_id = ?", runID)
	w.add(s.db.dialect.Prefix("o.path"), pathPrefix, pathPrefix+"\U0010FFFF")
	rows, err := s.db.reader(ctx).QueryContext(ctx, `SELECT r.org_id, o.path, r.table_name, r.column_name, r.applicable,
		r.filled, r.valid, r.examples FROM quality_results r JOIN orgs o ON o.id = r.org_id`+w.sql(), w.args...)
	if err != nil {
		return nil, fmt.Errorf("quality results: %w", err)
	}
	return collect(rows, "quality results", func(r *sql.Rows) (governance.Result, error) {
		var x governance.Result
		var ex string
		if err := r.Scan(&x.OrgID, &x.OrgPath, &x.Table, &x.Column, &x.Applicable, &x.Filled, &x.Valid, &ex); err != nil {
			return x, err
		}
		return x, json.Unmarshal([]byte(ex), &x.Examples)
	})
}

// NightlyStore implements nightly.Store.
type NightlyStore struct{ db *DB }

// Nightly returns the nightly scheduler's claim store.
func (db *DB) Nightly() *NightlyStore { return &NightlyStore{db: db} }

// Claim implements nightly.Store: the primary key (run_date, job) decides
// which server runs a job when several try at once.
func (s *NightlyStore) Claim(ctx context.Context, day kehu.Date, job string, at time.Time) (bool, error) {
	_, err := s.db.writer(ctx).ExecContext(ctx, `INSERT INTO nightly_runs (run_date, job, started_at, status)
		VALUES ($1, $2, $3, 'running')`, day, job, at)
	if isUniqueViolation(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim nightly %s: %w", job, err)
	}
	return true, nil
}

// Finish implements nightly.Store.
func (s *NightlyStore) Finish(ctx context.Context, day kehu.Date, job, status string, at time.Time, errText string) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE nightly_runs SET status = $1, finished_at = $2, error = $3
		WHERE run_date = $4 AND job = $5`, status, at, errText, day, job)
	if err != nil {
		return fmt.Errorf("finish nightly %s: %w", job, err)
	}
	return nil
}

// Created implements nightly.Store: when the first migration was applied.
// The column keeps its declared type (a min() would not on SQLite).
func (s *NightlyStore) Created(ctx context.Context) (time.Time, error) {
	var at time.Time
	err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT applied_at FROM schema_migrations ORDER BY version LIMIT 1").Scan(&at)
	if err != nil {
		return at, fmt.Errorf("database creation time: %w", err)
	}
	return at.UTC(), nil
}

// Recent implements nightly.Store.
func (s *NightlyStore) Recent(ctx context.Context, limit int) ([]nightly.Record, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, `SELECT run_date, job, started_at, finished_at, status, error
		FROM nightly_runs ORDER BY run_date DESC, started_at DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("nightly runs: %w", err)
	}
	return collect(rows, "nightly runs", func(r *sql.Rows) (nightly.Record, error) {
		var x nightly.Record
		var fin sql.NullTime
		err := r.Scan(&x.Day, &x.Job, &x.StartedAt, &fin, &x.Status, &x.Error)
		x.FinishedAt, x.StartedAt = optTime(fin), x.StartedAt.UTC()
		return x, err
	})
}

// qualityRowScanner reads a data-quality row: id, home organisation,
// customer, customer type, then n measured columns.
func qualityRowScanner(n int) func(*sql.Rows) (governance.Row, error) {
	return func(r *sql.Rows) (governance.Row, error) {
		row := governance.Row{Values: make([]any, n)}
		dest := []any{&row.ID, &row.OrgID, &row.CustomerID, &row.CustomerType}
		for i := range row.Values {
			dest = append(dest, &row.Values[i])
		}
		return row, r.Scan(dest...)
	}
}
