// Package xlsxreport holds what the campaign and the journey results
// workbooks (internal/campaign/report, internal/journey/report) share: the
// sheet and column writing over excelize, the read of a customer list in
// the reader's scope with names masked, and the release of the file
// through the privacy module's bulk-export rule with its audit record.
// The two workbooks differ only in their words and rows, which stay in
// their packages; keeping the flow here keeps their privacy behaviour the
// same by construction.
package xlsxreport

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// MaxRows bounds the listed rows of one sheet: an Excel sheet holds
// 1,048,576 rows, one of them the header.
const MaxRows = 1_048_575

// Style names a cell format of a metric line.
type Style string

// Cell formats: a plain number, a rate (0.00%) or a yuan amount.
const (
	Plain Style = ""
	Pct   Style = "pct"
	Money Style = "money"
)

// Yuan turns fen into yuan for a Money cell.
func Yuan(fen int64) float64 { return float64(fen) / 100 }

// Book builds one workbook in one language.
type Book struct {
	T      func(key string, args ...any) string
	Lookup func(key string) (string, bool)
	Loc    *time.Location
	F      *excelize.File
	pct    int
	money  int
	bold   int
}

// Start opens the file and its styles; the caller closes F.
func (b *Book) Start() error {
	b.F = excelize.NewFile()
	var err error
	if b.pct, err = b.F.NewStyle(&excelize.Style{NumFmt: 10}); err != nil { // 0.00%
		return err
	}
	fmtMoney := "#,##0.00"
	if b.money, err = b.F.NewStyle(&excelize.Style{CustomNumFmt: &fmtMoney}); err != nil {
		return err
	}
	b.bold, err = b.F.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	return err
}

// Label words a code under prefix, the code itself when the catalogue has
// no word for it.
func (b *Book) Label(prefix, code string) string {
	if s, ok := b.Lookup(prefix + code); ok {
		return s
	}
	return code
}

// Stamp words the export time in the bank's zone.
func (b *Book) Stamp(now time.Time) string { return now.In(b.Loc).Format("2006-01-02 15:04") }

// Metric is one line of a results sheet: its words, stable key and values
// (total first, then any per-run columns), all in one format.
type Metric struct {
	Label, Key string
	Values     []any
	Style      Style
}

// Results renames the first sheet to name and writes head (field, value
// lines), a blank line, the bold header and one line per metric whose
// value columns (from C) take the metric's format.
func (b *Book) Results(name string, head [][]any, header []any, metrics []Metric) error {
	if err := b.F.SetSheetName("Sheet1", name); err != nil {
		return err
	}
	for i, row := range head {
		if err := b.F.SetSheetRow(name, "A"+strconv.Itoa(i+1), &row); err != nil {
			return err
		}
	}
	top := len(head) + 2
	if err := b.F.SetSheetRow(name, "A"+strconv.Itoa(top), &header); err != nil {
		return err
	}
	if err := b.F.SetRowStyle(name, top, top, b.bold); err != nil {
		return err
	}
	for i, m := range metrics {
		n := top + 1 + i
		row := append([]any{m.Label, m.Key}, m.Values...)
		if err := b.F.SetSheetRow(name, "A"+strconv.Itoa(n), &row); err != nil {
			return err
		}
		if style := map[Style]int{Pct: b.pct, Money: b.money}[m.Style]; style != 0 {
			last, _ := excelize.ColumnNumberToName(len(row))
			if err := b.F.SetCellStyle(name, "C"+strconv.Itoa(n), last+strconv.Itoa(n), style); err != nil {
				return err
			}
		}
	}
	return b.F.SetColWidth(name, "A", "A", 24)
}

// Table adds sheet name with a header line and rows, its first column
// widened for the labels.
func (b *Book) Table(name string, header []any, rows [][]any) error {
	if _, err := b.F.NewSheet(name); err != nil {
		return err
	}
	if err := b.F.SetSheetRow(name, "A1", &header); err != nil {
		return err
	}
	for i, row := range rows {
		if err := b.F.SetSheetRow(name, "A"+strconv.Itoa(i+2), &row); err != nil {
			return err
		}
	}
	return b.F.SetColWidth(name, "A", "A", 28)
}

// Stream adds sheet name with a header line and n rows streamed from
// row(i), for lists up to MaxRows long.
func (b *Book) Stream(name string, header []any, n int, row func(i int) []any) error {
	if _, err := b.F.NewSheet(name); err != nil {
		return err
	}
	sw, err := b.F.NewStreamWriter(name)
	if err != nil {
		return err
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	for i := range n {
		if err := sw.SetRow("A"+strconv.Itoa(i+2), row(i)); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// Scoper gives the actor's customer read scope (customer.Service).
type Scoper interface {
	ReadScope(ctx context.Context) (customer.ScopeFilter, error)
}

// ExportGate is the bulk-export rule of the privacy module
// (privacy.Service.GateExport): it records the export's audit entry, and
// above the bulk threshold uses up an approved bulk-export request or
// refuses with *privacy.ApprovalRequiredError.
type ExportGate interface {
	GateExport(ctx context.Context, n int64, entry audit.Entry) error
}

// Customers reads the rows of the reader's data scope with read and masks
// each row's customer (*cust) as on every page, so a workbook never holds
// more of a customer than the reader's role may see.
func Customers[T any](ctx context.Context, s Scoper, read func(scope customer.ScopeFilter) ([]T, error), cust func(*T) *customer.Customer) ([]T, error) {
	scope, err := s.ReadScope(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := read(scope)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		c := cust(&rows[i])
		*c = customer.Present(ctx, *c)
	}
	return rows, nil
}

// Page appends to out the rows fetch gives, page by page after the key of
// the last row, until a short page or MaxRows rows in all.
func Page[T any](out []T, fetch func(after int64, limit int) ([]T, error), key func(T) int64) ([]T, error) {
	const page = 5000
	after := int64(0)
	for len(out) < MaxRows {
		rows, err := fetch(after, min(page, MaxRows-len(out)))
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
		if len(rows) < page {
			break
		}
		after = key(rows[len(rows)-1])
	}
	return out, nil
}

// Release records entry before any byte leaves, then writes f to w
// (what names the workbook in the write error). A customer list
// (entry.Count > 0) goes through the bulk-export gate, which records the
// entry itself and may refuse; without a list, or without the privacy
// module (gate nil), the entry is recorded in its own transaction.
func Release(ctx context.Context, gate ExportGate, tx kehu.Transactor, rec audit.Recorder, entry audit.Entry, f *excelize.File, w io.Writer, what string) error {
	var err error
	if entry.Count > 0 && gate != nil {
		err = gate.GateExport(ctx, int64(entry.Count), entry)
	} else {
		err = tx.WithTx(ctx, func(ctx context.Context) error { return rec.Record(ctx, entry) })
	}
	if err != nil {
		return err
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("write %s workbook: %w", what, err)
	}
	return nil
}
