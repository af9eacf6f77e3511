package governance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"kehu/internal/kehu"
)

// Measure is what the database is asked to count for one field: the
// column, its dictionary type and emptiness, and its rule.
type Measure struct {
	Column      string
	Type        string
	ZeroIsEmpty bool
	Rule        QualityRule
}

// Count is one measure's counts at one home organisation.
type Count struct {
	OrgID      int64
	Measure    int // index into the measures counted
	Applicable int64
	Filled     int64
	Valid      int64
}

// MeasureAt is the moment a measurement judges dates and times by: now, and
// today's Shanghai calendar date (a date is in the future after today).
type MeasureAt struct {
	Now   time.Time
	Today kehu.Date
}

// CountingStore is the part of QualityStore that counts in the database:
// one grouped query per table does the work a row-by-row scan in Go did.
type CountingStore interface {
	// Countable reports whether the database can decide m of table by
	// itself: its column is not encrypted and its rule needs no Go (the
	// built-in formats other than enum, and the match against the resident
	// ID, do).
	Countable(table string, m Measure) bool
	// Count counts countable measures of table per home organisation in one
	// grouped query and returns the rows of the table.
	Count(ctx context.Context, table string, ms []Measure, at MeasureAt) ([]Count, int64, error)
	// ScanIssues calls fn, in id order, for the rows of table where some
	// countable measure of ms is missing while required or present and
	// invalid, with columns (unencrypted ones), until fn returns an error.
	ScanIssues(ctx context.Context, table string, ms []Measure, columns []string, at MeasureAt, fn func(Row) error) error
}

// errEnough stops a scan for examples once every cell has its examples.
var errEnough = errors.New("enough examples")

// measure counts every measured table and returns the counts per
// organisation and field. Fields the database can judge are counted by one
// grouped query per table (Count); the rest (encrypted columns, the ID
// number's check digit, mobiles, e-mails, names, regions, the match of birth
// date and gender against the resident ID) are checked in Go over the rows
// streamed with only their columns, as the whole measurement once was. The
// examples of database-counted fields come from a second pass over only the
// rows with an issue, stopping once every cell has its examples; the same Go
// checks that judge streamed rows give their reasons and masked values.
// Values are checked in memory and only counts (and masked examples) leave
// this function: nothing is logged.
func (q *Quality) measure(ctx context.Context, run *Run) ([]Result, error) {
	entries, err := q.dict.Current(ctx)
	if err != nil {
		return nil, err
	}
	rawRefs, err := q.store.References(ctx)
	if err != nil {
		return nil, fmt.Errorf("references: %w", err)
	}
	rf := refs{}
	for name, ids := range rawRefs {
		rf[name] = make(map[int64]bool, len(ids))
		for _, id := range ids {
			rf[name][id] = true
		}
	}
	now := q.clock.Now()
	at := MeasureAt{Now: now, Today: kehu.DateOf(now.In(q.loc))}
	m := measurement{fields: nil, cells: map[cellKey]*cell{}, rf: rf, at: at}
	for _, table := range measuredTables {
		var inDB, inGo []int // indexes into m.fields
		var goColumns []string
		types := map[string]string{}
		for _, e := range entries {
			if e.Table != table || e.Rule.Empty() {
				continue
			}
			m.fields = append(m.fields, e)
			types[e.Column] = e.Type
			if q.store.Countable(table, measureOf(e)) {
				inDB = append(inDB, len(m.fields)-1)
			} else {
				inGo = append(inGo, len(m.fields)-1)
				goColumns = append(goColumns, e.Column)
			}
		}
		if len(inDB)+len(inGo) == 0 {
			continue
		}
		base := run.RowsScanned
		if len(inGo) > 0 {
			// The ID type and number decide what an ID number, a birth date
			// or a gender must look like.
			for _, e := range entries {
				if table == "customers" && (e.Column == "id_type" || e.Column == "id_number") && !slices.Contains(goColumns, e.Column) {
					goColumns = append(goColumns, e.Column)
					types[e.Column] = e.Type
				}
			}
			var streamed int64
			err := q.store.ScanRows(ctx, table, goColumns, func(r Row) error {
				m.row(r, inGo, newView(goColumns, types, r.Values), true)
				streamed++
				if streamed%progressEvery == 0 {
					return q.store.ProgressRun(ctx, run.ID, q.clock.Now(), base+streamed)
				}
				return ctx.Err()
			})
			if err != nil {
				return nil, fmt.Errorf("measure %s: %w", table, err)
			}
			run.RowsScanned = base + streamed
		}
		if len(inDB) > 0 {
			if err := q.count(ctx, run, base, table, inDB, types, &m); err != nil {
				return nil, fmt.Errorf("measure %s: %w", table, err)
			}
		}
		if err := q.store.ProgressRun(ctx, run.ID, q.clock.Now(), run.RowsScanned); err != nil {
			return nil, err
		}
	}
	out := make([]Result, 0, len(m.cells))
	for k, c := range m.cells {
		e := m.fields[k.field]
		out = append(out, Result{OrgID: k.org, Table: e.Table, Column: e.Column, Applicable: c.applicable,
			Filled: c.filled, Valid: c.valid, Examples: c.examples})
	}
	slices.SortFunc(out, func(a, b Result) int {
		if a.OrgID != b.OrgID {
			return int(a.OrgID - b.OrgID)
		}
		if a.Table != b.Table {
			return slices.Index(measuredTables, a.Table) - slices.Index(measuredTables, b.Table)
		}
		return 0
	})
	return out, nil
}

// count counts the database-judged fields of table and then collects their
// examples from the rows with an issue.
func (q *Quality) count(ctx context.Context, run *Run, base int64, table string, fields []int, types map[string]string,
	m *measurement) error {
	ms := make([]Measure, len(fields))
	columns := make([]string, 0, len(fields))
	for i, fi := range fields {
		ms[i] = measureOf(m.fields[fi])
		if !slices.Contains(columns, ms[i].Column) {
			columns = append(columns, ms[i].Column)
		}
	}
	stop := q.heartbeat(ctx, run.ID, base)
	counts, rows, err := q.store.Count(ctx, table, ms, m.at)
	stop()
	if err != nil {
		return err
	}
	run.RowsScanned = base + rows
	wanted := 0 // examples still to find
	for _, c := range counts {
		if c.Applicable == 0 {
			continue // no row of this organisation is under the rule
		}
		fi := fields[c.Measure]
		cl := &cell{applicable: c.Applicable, filled: c.Filled, valid: c.Valid}
		m.cells[cellKey{c.OrgID, fi}] = cl
		wanted += cl.exampleCount(m.fields[fi].Rule.Required)
	}
	if wanted == 0 {
		return nil
	}
	stop = q.heartbeat(ctx, run.ID, run.RowsScanned)
	defer stop()
	err = q.store.ScanIssues(ctx, table, ms, columns, m.at, func(r Row) error {
		wanted -= m.row(r, fields, newView(columns, types, r.Values), false)
		if wanted <= 0 {
			return errEnough
		}
		return ctx.Err()
	})
	if errors.Is(err, errEnough) {
		return nil
	}
	return err
}

// heartbeatEvery is how often a run that waits on one long query (a
// table's count at a million customers) says it is alive, well inside
// kehu.RunStaleAfter, so no other server takes the run over as stale.
const heartbeatEvery = time.Minute

// heartbeat records progress rows every heartbeatEvery until stop is called.
func (q *Quality) heartbeat(ctx context.Context, runID, rows int64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := q.store.ProgressRun(ctx, runID, q.clock.Now(), rows); err != nil {
					q.log.Warn("data-quality heartbeat", "run", runID, "err", err)
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// measureOf is what the database is asked about e.
func measureOf(e Entry) Measure {
	return Measure{Column: e.Column, Type: e.Type, ZeroIsEmpty: e.ZeroIsEmpty, Rule: e.Rule}
}

// cell accumulates one (organisation, field).
type cell struct {
	applicable, filled, valid int64
	examples                  []Example
}

// exampleCount is how many examples the cell keeps: one per issue, at most
// examplesPerCell.
func (c *cell) exampleCount(required bool) int {
	issues := c.filled - c.valid
	if required {
		issues += c.applicable - c.filled
	}
	return int(min(issues, examplesPerCell))
}

type cellKey struct {
	org   int64
	field int
}

// measurement is the state of one run.
type measurement struct {
	fields []Entry
	cells  map[cellKey]*cell
	rf     refs
	at     MeasureAt
}

func newView(columns []string, types map[string]string, values []any) rowView {
	v := rowView{cols: make(map[string]int, len(columns)), types: types, values: values}
	for i, c := range columns {
		v.cols[c] = i
	}
	return v
}

// row checks the fields of one row. When counting it adds the row to the
// counts of its cells and keeps the first examples; otherwise (the rows
// with an issue of database-counted fields) it only adds examples to the
// cells that still lack some, and returns how many it added.
func (m *measurement) row(r Row, fields []int, view rowView, counting bool) int {
	added := 0
	for _, fi := range fields {
		e := m.fields[fi]
		if e.Rule.AppliesTo != "" && e.Rule.AppliesTo != r.CustomerType {
			continue
		}
		k := cellKey{r.OrgID, fi}
		c := m.cells[k]
		if c == nil {
			if !counting {
				continue
			}
			c = &cell{}
			m.cells[k] = c
		}
		room := examplesPerCell
		if !counting {
			room = c.exampleCount(e.Rule.Required)
		}
		if counting {
			c.applicable++
		}
		v, _ := view.get(e.Column)
		if !filled(e, v) {
			if e.Rule.Required && len(c.examples) < room {
				c.examples = append(c.examples, Example{RowID: r.ID, CustomerID: r.CustomerID, Reason: "missing"})
				added++
			}
			continue
		}
		if counting {
			c.filled++
		}
		reason := invalid(e, v, view, m.rf, m.at.Now, m.at.Today)
		if reason == "" {
			if counting {
				c.valid++
			}
		} else if len(c.examples) < room {
			c.examples = append(c.examples, Example{RowID: r.ID, CustomerID: r.CustomerID,
				Value: exampleValue(e, v, r.CustomerType), Reason: reason})
			added++
		}
	}
	return added
}
