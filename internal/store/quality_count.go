package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kehu/internal/governance"
)

// The data-quality measurement's counting in SQL (governance.CountingStore):
// a field's completeness and validity become CASE expressions of one
// grouped query per table, so a run reads transactions and channel events
// inside the database instead of shipping every row to Go. The expressions
// say in SQL what governance/check.go says in Go, for the rule parts that
// SQL can say exactly on both engines; Countable sends the others back to
// Go. TestCountedAsScanned (internal/governance) holds the two to the same
// results on both engines.

// blank is what Go's strings.TrimSpace trims: unicode.IsSpace.
const blank = " \t\n\v\f\r\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" +
	"\u2028\u2029\u202f\u205f\u3000"

// Countable implements governance.CountingStore.
func (s *GovernanceStore) Countable(table string, m governance.Measure) bool {
	if _, ok := scanTables[table]; !ok || !isIdentifier(m.Column) || isSealed(table, m.Column) {
		return false
	}
	r := m.Rule
	text := m.Type == governance.TypeText || m.Type == governance.TypeCode || m.Type == governance.TypeJSON
	numeric := m.Type == governance.TypeInteger || m.Type == governance.TypeMoney || m.Type == governance.TypeID
	timed := m.Type == governance.TypeDate || m.Type == governance.TypeTimestamp
	switch {
	case !text && !numeric && !timed:
		return false
	case r.MatchesID: // needs the resident ID, which is encrypted
		return false
	case r.Format != "" && (r.Format != "enum" || !text):
		return false // the built-in formats are Go (cnid, region, mail)
	case (r.Min != nil || r.Max != nil) && !numeric:
		return false
	case (r.MinDate != "" || r.NotFuture || r.FreshDays > 0) && !timed:
		return false
	case r.Reference != "" && (m.Type != governance.TypeID || referenceIDs[r.Reference] == ""):
		return false
	}
	return true
}

// referenceIDs are the ids a reference check accepts, as References reads
// them.
var referenceIDs = map[string]string{
	"orgs":     "SELECT id FROM orgs",
	"products": "SELECT id FROM products",
	"users":    "SELECT id FROM users WHERE disabled = FALSE",
}

// measureSQL holds the SQL of one measure: applies, filled and valid are
// conditions that are never NULL; args are appended as the expressions are
// written, so each expression is used once, in order.
type measureSQL struct {
	applies, filled, valid string
	required               bool
}

// countBuilder writes measure expressions with $n arguments.
type countBuilder struct {
	d    Dialect
	args []any
}

func (b *countBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

// text is col as trimmed text, as governance.normalise and
// strings.TrimSpace see it.
func (b *countBuilder) text(col string) string {
	if b.d.IsPostgres() {
		return "btrim(CAST(" + col + " AS TEXT), " + b.arg(blank) + ")"
	}
	return "trim(" + col + ", " + b.arg(blank) + ")"
}

// present is "col holds a character that is not blank": TrimSpace(col) is
// not empty. SQLite's GLOB stops at the first such character, where
// trim(col, blank) would compare every character with every blank (it
// was half of a measurement's time).
func (b *countBuilder) present(col string) string {
	if b.d.IsPostgres() {
		return b.text(col) + " <> ''"
	}
	return col + " GLOB " + b.arg("*[^"+blank+"]*")
}

// never NULL: SQL's three-valued logic must not drop a row from a NOT.
func known(cond string) string { return "COALESCE((" + cond + "), FALSE)" }

// measure returns the expressions of m on column col of a row whose
// customer is c.
func (b *countBuilder) measure(col string, m governance.Measure, at governance.MeasureAt) measureSQL {
	r := m.Rule
	out := measureSQL{applies: "TRUE", required: r.Required}
	if r.AppliesTo != "" {
		out.applies = known("c.type = " + b.arg(r.AppliesTo))
	}
	switch m.Type {
	case governance.TypeInteger, governance.TypeMoney, governance.TypeID:
		out.filled = col + " IS NOT NULL"
		if m.ZeroIsEmpty {
			out.filled += " AND " + col + " <> 0"
		}
	case governance.TypeDate, governance.TypeTimestamp:
		out.filled = col + " IS NOT NULL"
		if !b.d.IsPostgres() { // SQLite may hold any text
			out.filled = b.present(col)
		}
	default:
		out.filled = b.present(col)
	}
	out.filled = known(out.filled)
	var valid []string
	if r.Format == "enum" {
		list := func() string {
			marks := make([]string, len(r.Values))
			for i, v := range r.Values {
				marks[i] = b.arg(v)
			}
			return " IN (" + strings.Join(marks, ", ") + ")"
		}
		// The values are trimmed (QualityRule.Validate), so a value equal
		// to one untrimmed is equal trimmed too: on SQLite most rows skip
		// the trim.
		if b.d.IsPostgres() {
			valid = append(valid, b.text(col)+list())
		} else {
			valid = append(valid, "("+col+list()+" OR "+b.text(col)+list()+")")
		}
	}
	if r.Min != nil {
		valid = append(valid, col+" >= "+b.arg(*r.Min))
	}
	if r.Max != nil {
		valid = append(valid, col+" <= "+b.arg(*r.Max))
	}
	if r.MinDate != "" || r.NotFuture || r.FreshDays > 0 {
		valid = append(valid, b.timeChecks(col, m, at)...)
	}
	if r.Reference != "" {
		valid = append(valid, col+" IN ("+referenceIDs[r.Reference]+")")
	}
	out.valid = "TRUE"
	if len(valid) > 0 {
		out.valid = known(strings.Join(valid, " AND "))
	}
	return out
}

// timeChecks are the date and time parts of a rule. Go judges a value's
// instant (a date at midnight UTC): not before MinDate, not after today
// (a date) or now (a time), not older than FreshDays. SQLite compares
// julianday() of the stored text, NULL for text that is no time (which Go
// finds invalid too); PostgreSQL compares its timestamptz and date values.
func (b *countBuilder) timeChecks(col string, m governance.Measure, at governance.MeasureAt) []string {
	r := m.Rule
	isDate := m.Type == governance.TypeDate
	var min, max time.Time // the instants a valid value lies between
	if r.MinDate != "" {
		if d, err := parseDay(r.MinDate); err == nil {
			min = d
		}
	}
	if r.FreshDays > 0 {
		if f := at.Now.Add(-time.Duration(r.FreshDays) * 24 * time.Hour); f.After(min) {
			min = f
		}
	}
	if r.NotFuture {
		max = at.Now
		if isDate {
			max = at.Today.Time()
		}
	}
	var out []string
	if !b.d.IsPostgres() {
		j := "julianday(" + col + ")"
		out = append(out, j+" IS NOT NULL")
		if !min.IsZero() {
			out = append(out, j+" >= julianday("+b.arg(sqliteInstant(min))+")")
		}
		if !max.IsZero() {
			out = append(out, j+" <= julianday("+b.arg(sqliteInstant(max))+")")
		}
		return out
	}
	if isDate {
		// A date d is at or after instant t when d's midnight is: d >= the
		// first midnight at or after t. It is at or before t when d <= t's
		// date.
		if !min.IsZero() {
			day := min.UTC().Truncate(24 * time.Hour)
			if !day.Equal(min) {
				day = day.Add(24 * time.Hour)
			}
			out = append(out, col+" >= CAST("+b.arg(day.Format(time.DateOnly))+" AS DATE)")
		}
		if !max.IsZero() {
			out = append(out, col+" <= CAST("+b.arg(max.UTC().Format(time.DateOnly))+" AS DATE)")
		}
		return out
	}
	if !min.IsZero() {
		out = append(out, col+" >= "+b.arg(min.UTC()))
	}
	if !max.IsZero() {
		out = append(out, col+" <= "+b.arg(max.UTC()))
	}
	return out
}

// sqliteInstant writes t for julianday(), to the millisecond it keeps.
func sqliteInstant(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") }

func parseDay(s string) (time.Time, error) { return time.Parse(time.DateOnly, s) }

// countFrom is the FROM clause of table with its customer as c.
func countFrom(table string) (spec struct{ alias, org, customer string }, from string) {
	spec = scanTables[table]
	from = " FROM " + table + " " + spec.alias
	if table != "customers" {
		from += " JOIN customers c ON c.id = " + spec.customer
	}
	return spec, from
}

// Count implements governance.CountingStore: one grouped query over the
// table.
func (s *GovernanceStore) Count(ctx context.Context, table string, ms []governance.Measure,
	at governance.MeasureAt) ([]governance.Count, int64, error) {
	spec, from := countFrom(table)
	b := &countBuilder{d: s.db.dialect}
	var cols strings.Builder
	for _, m := range ms {
		if !s.Countable(table, m) {
			return nil, 0, fmt.Errorf("count %s.%s: not countable in SQL", table, m.Column)
		}
		x := b.measure(spec.alias+"."+m.Column, m, at)
		fmt.Fprintf(&cols, ",\n\tsum(CASE WHEN %s THEN 1 ELSE 0 END), sum(CASE WHEN %s AND %s THEN 1 ELSE 0 END),"+
			" sum(CASE WHEN %s AND %s AND %s THEN 1 ELSE 0 END)",
			x.applies, x.applies, x.filled, x.applies, x.filled, x.valid)
	}
	q := "SELECT " + spec.org + ", count(*)" + cols.String() + from + " GROUP BY " + spec.org
	rows, err := s.db.reader(ctx).QueryContext(ctx, q, b.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("count %s: %w", table, err)
	}
	defer rows.Close()
	var out []governance.Count
	var total int64
	for rows.Next() {
		var org, n int64
		sums := make([]int64, 3*len(ms))
		dest := []any{&org, &n}
		for i := range sums {
			dest = append(dest, &sums[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, 0, fmt.Errorf("count %s: %w", table, err)
		}
		total += n
		for i := range ms {
			out = append(out, governance.Count{OrgID: org, Measure: i, Applicable: sums[3*i], Filled: sums[3*i+1],
				Valid: sums[3*i+2]})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("count %s: %w", table, err)
	}
	return out, total, nil
}

// ScanIssues implements governance.CountingStore: the rows where some
// measure is missing while required or present and invalid, read in short
// keyset batches in id order.
func (s *GovernanceStore) ScanIssues(ctx context.Context, table string, ms []governance.Measure, columns []string,
	at governance.MeasureAt, fn func(governance.Row) error) error {
	spec, from := countFrom(table)
	b := &countBuilder{d: s.db.dialect}
	b.arg(int64(0)) // $1: the keyset position
	var issues []string
	for _, m := range ms {
		if !s.Countable(table, m) {
			return fmt.Errorf("scan %s.%s: not countable in SQL", table, m.Column)
		}
		x := b.measure(spec.alias+"."+m.Column, m, at)
		bad := "(" + x.filled + " AND NOT " + x.valid + ")"
		if x.required {
			bad = "(NOT " + x.filled + " OR " + x.filled + " AND NOT " + x.valid + ")"
		}
		issues = append(issues, "("+x.applies+" AND "+bad+")")
	}
	var cols strings.Builder
	for _, c := range columns {
		if !isIdentifier(c) || isSealed(table, c) {
			return fmt.Errorf("scan %s: bad column %q", table, c)
		}
		cols.WriteString(", " + spec.alias + "." + c)
	}
	q := "SELECT " + spec.alias + ".id, " + spec.org + ", " + spec.customer + ", c.type" + cols.String() + from +
		" WHERE " + spec.alias + ".id > $1 AND (" + strings.Join(issues, " OR ") + ") ORDER BY " + spec.alias +
		".id LIMIT " + strconv.Itoa(scanBatch)
	for {
		rows, err := s.db.reader(ctx).QueryContext(ctx, q, b.args...)
		if err != nil {
			return fmt.Errorf("scan %s issues: %w", table, err)
		}
		batch, err := collect(rows, table, qualityRowScanner(len(columns)))
		if err != nil {
			return err
		}
		for _, row := range batch {
			if err := fn(row); err != nil {
				return err
			}
		}
		if len(batch) < scanBatch {
			return nil
		}
		b.args[0] = batch[len(batch)-1].ID
	}
}
