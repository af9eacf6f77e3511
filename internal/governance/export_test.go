package governance

import (
	"context"
	"fmt"

	"kehu/internal/kehu"
)

// MeasureNow runs the measurement's counting without recording a run, for
// comparing it with MeasureByScan.
func (q *Quality) MeasureNow(ctx context.Context) ([]Result, int64, error) {
	run := &Run{}
	out, err := q.measure(ctx, run)
	return out, run.RowsScanned, err
}

// MeasureByScan is the measurement as it was before the database counted:
// every row of every measured table streamed to Go and checked there. It
// stays as the reference the SQL counting is held to (TestCountedAsScanned).
func (q *Quality) MeasureByScan(ctx context.Context) ([]Result, int64, error) {
	run := &Run{}
	entries, err := q.dict.Current(ctx)
	if err != nil {
		return nil, 0, err
	}
	rawRefs, err := q.store.References(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("references: %w", err)
	}
	rf := refs{}
	for name, ids := range rawRefs {
		rf[name] = make(map[int64]bool, len(ids))
		for _, id := range ids {
			rf[name][id] = true
		}
	}
	now := q.clock.Now()
	today := kehu.DateOf(now.In(q.loc))
	var fields []Entry
	cells := map[cellKey]*cell{}
	for _, table := range measuredTables {
		var measured []int // indexes into fields
		var columns []string
		types := map[string]string{}
		for _, e := range entries {
			if e.Table != table {
				continue
			}
			if !e.Rule.Empty() {
				fields = append(fields, e)
				measured = append(measured, len(fields)-1)
			}
			if !e.Rule.Empty() || table == "customers" && (e.Column == "id_type" || e.Column == "id_number") {
				columns = append(columns, e.Column)
				types[e.Column] = e.Type
			}
		}
		if len(measured) == 0 {
			continue
		}
		view := rowView{cols: map[string]int{}, types: types}
		for i, c := range columns {
			view.cols[c] = i
		}
		err := q.store.ScanRows(ctx, table, columns, func(r Row) error {
			view.values = r.Values
			for _, fi := range measured {
				e := fields[fi]
				if e.Rule.AppliesTo != "" && e.Rule.AppliesTo != r.CustomerType {
					continue
				}
				c := cells[cellKey{r.OrgID, fi}]
				if c == nil {
					c = &cell{}
					cells[cellKey{r.OrgID, fi}] = c
				}
				c.applicable++
				v := normalise(r.Values[view.cols[e.Column]], e.Type)
				if !filled(e, v) {
					if e.Rule.Required && len(c.examples) < examplesPerCell {
						c.examples = append(c.examples, Example{RowID: r.ID, CustomerID: r.CustomerID, Reason: "missing"})
					}
					continue
				}
				c.filled++
				reason := invalid(e, v, view, rf, now, today)
				if reason == "" {
					c.valid++
				} else if len(c.examples) < examplesPerCell {
					c.examples = append(c.examples, Example{RowID: r.ID, CustomerID: r.CustomerID,
						Value: exampleValue(e, v, r.CustomerType), Reason: reason})
				}
			}
			run.RowsScanned++
			return ctx.Err()
		})
		if err != nil {
			return nil, 0, fmt.Errorf("measure %s: %w", table, err)
		}
	}
	out := make([]Result, 0, len(cells))
	for k, c := range cells {
		e := fields[k.field]
		out = append(out, Result{OrgID: k.org, Table: e.Table, Column: e.Column, Applicable: c.applicable,
			Filled: c.filled, Valid: c.valid, Examples: c.examples})
	}
	return out, run.RowsScanned, nil
}
