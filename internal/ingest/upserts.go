package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"

	"kehu/internal/access"
	"kehu/internal/identity"
	"kehu/internal/importer"
	"kehu/internal/kehu"
)

// record is one line of an upsert batch: its canonical columns as cells,
// exactly as an import file's row (docs/IMPORT.md lists the columns).
type record struct {
	line   int
	source string
	cells  map[string]string
}

// upsertKeys are the members echoed back in a line's errors: the source's
// own id of the record (never an account number, which is personal data).
var upsertKeys = map[Kind]string{Customers: "source_id", Transactions: "reference"}

// parseRecords decodes the lines of an upsert batch. Members must be
// columns of the kind; values strings, numbers, true/false or null (an
// empty cell). source_system is required on every line: a batch may carry
// records of several systems.
func (s *Service) parseRecords(kind Kind, lines []line) parsed {
	known := map[string]bool{}
	for _, c := range importer.ColumnsOf(string(kind)) {
		known[c.Name] = true
	}
	var p parsed
	for _, l := range lines {
		cells, le, object := decodeRecord(l, known)
		if object {
			p.decoded++
		}
		if le != nil {
			le.Key = cells[upsertKeys[kind]]
			p.errs = append(p.errs, *le)
			continue
		}
		src := cells["source_system"]
		if src == "" {
			p.errs = append(p.errs, LineError{Line: l.no, Field: "source_system", Key: cells[upsertKeys[kind]],
				Reason: "is required: the system the record comes from (core_banking, credit, cards, wealth, crm_legacy)"})
			continue
		}
		p.records = append(p.records, record{line: l.no, source: src, cells: cells})
	}
	return p
}

// decodeRecord reads one line into cells. object is true when the line is
// a JSON object, even one with a bad member.
func decodeRecord(l line, known map[string]bool) (map[string]string, *LineError, bool) {
	dec := json.NewDecoder(bytes.NewReader(l.text))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) || obj == nil && err == nil {
			return nil, &LineError{Line: l.no, Reason: "the line must be a JSON object"}, false
		}
		return nil, &LineError{Line: l.no, Reason: "the line is not valid JSON"}, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &LineError{Line: l.no, Reason: "the line must hold exactly one JSON object"}, false
	}
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	sort.Strings(names)
	cells := make(map[string]string, len(obj))
	for _, k := range names {
		switch v := obj[k].(type) {
		case string:
			cells[k] = v
		case json.Number:
			cells[k] = v.String()
		case bool:
			cells[k] = strconv.FormatBool(v)
		case nil:
			cells[k] = ""
		default:
			return cells, &LineError{Line: l.no, Field: k, Reason: "must be a string, a number, true, false or null"}, true
		}
	}
	for _, k := range names {
		if !known[k] {
			return cells, &LineError{Line: l.no, Field: k, Reason: "is not a known field"}, true
		}
	}
	return cells, nil, true
}

// storeRecords applies the records through the importer, one call per
// source system, in the transaction in ctx. A created or changed record is
// accepted; one that changed nothing is a duplicate (a retry, or a source
// re-sending what Kehu holds); a rejected one is reported with the column
// and reason the import would give.
func (s *Service) storeRecords(ctx context.Context, kind Kind, p *parsed, res *Result) (Committed, error) {
	// Writes stay in the actor's own scope; an access grant is for reading.
	scope, err := s.d.Customers.WriteScope(ctx, access.DataIngest)
	if err != nil {
		return Committed{}, err
	}
	a, _ := kehu.ActorFrom(ctx)
	bySource := map[string][]record{}
	var sources []string
	for _, r := range p.records {
		if bySource[r.source] == nil {
			sources = append(sources, r.source)
		}
		bySource[r.source] = append(bySource[r.source], r)
	}
	known, err := s.d.Store.SourceSystems(ctx)
	if err != nil {
		return Committed{}, err
	}
	committed := Committed{Kind: kind}
	for _, src := range sources {
		recs := bySource[src]
		if !known[src] {
			for _, r := range recs {
				p.errs = append(p.errs, LineError{Line: r.line, Field: "source_system", Key: r.cells[upsertKeys[kind]],
					Reason: "is not a configured source system"})
			}
			continue
		}
		job, err := s.d.Store.FeedJob(ctx, string(kind), src, a, s.d.Clock.Now())
		if err != nil {
			return Committed{}, err
		}
		cells := make([]map[string]string, len(recs))
		for i, r := range recs {
			cells[i] = r.cells
		}
		outcomes, touched, err := s.d.Upserts.ApplyFeed(ctx, job, cells, &scope)
		if err != nil {
			return Committed{}, fmt.Errorf("apply %s records of %s: %w", kind, src, err)
		}
		for i, o := range outcomes {
			r := recs[i]
			switch o.Status {
			case identity.OutcomeUnchanged:
				res.DuplicateLines = append(res.DuplicateLines, r.line)
			case identity.OutcomeRejected:
				for _, pr := range o.Problems {
					p.errs = append(p.errs, LineError{Line: r.line, Field: pr.Column, Reason: pr.Reason,
						Key: r.cells[upsertKeys[kind]]})
				}
			}
		}
		committed.CustomerIDs = append(committed.CustomerIDs, touched...)
	}
	slices.Sort(res.DuplicateLines)
	slices.Sort(committed.CustomerIDs)
	committed.CustomerIDs = slices.Compact(committed.CustomerIDs)
	return committed, nil
}
