// Package report presents a journey's results (issue 5, item 6) as an Excel
// workbook for the marketing office: every number of journey.Results over
// a period, the suppressions by reason, and one row per firing with the
// customer's name masked as the reader's role requires. It is the
// journey's counterpart of internal/campaign/report: the arithmetic is
// journey.Compute over internal/lift, shared with campaigns; the 旅程效果
// page's charts are drawn by internal/web from the same Results. Exporting
// needs customer.read, like the journey's firings list whose rows it holds
// in bulk: only the firings of customers in the reader's scope, names
// masked as on every page, under the privacy module's bulk-export rule,
// and one journey.export record committed before any byte leaves.
package report

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/i18n"
	"kehu/internal/journey"
	"kehu/internal/kehu"
	"kehu/internal/xlsxreport"
)

// AuditExport is recorded once per workbook; Count is the firing rows.
const AuditExport = "journey.export"

// MaxFirings bounds the firing rows of one workbook: an Excel sheet holds
// 1,048,576 rows, one of them the header.
const MaxFirings = xlsxreport.MaxRows

// FiringRow is one firing as the workbook lists it.
type FiringRow struct {
	ID         int64
	CustomerID int64
	Customer   customer.Customer // name, type and owner, for masking
	Group      string
	Ref        string
	FiredAt    time.Time
	Outcomes   []journey.ActionOutcome
}

// Store reads firings with their customers.
type Store interface {
	// FiringRows returns up to limit firings of the journey in period p
	// whose customers are in scope, by firing id after after.
	FiringRows(ctx context.Context, journeyID int64, p journey.Period, scope customer.ScopeFilter, after int64, limit int) ([]FiringRow, error)
}

// Journeys is what the report needs of the journey service (which checks
// the reader's permission).
type Journeys interface {
	ResultsIn(ctx context.Context, id int64, p journey.Period) (journey.Journey, journey.Results, error)
}

// Scoper gives the actor's customer read scope (customer.Service).
type Scoper = xlsxreport.Scoper

// Products names a product (the journey's conversion product).
type Products interface {
	ProductName(ctx context.Context, id int64) (string, error)
}

// ExportGate is the bulk-export rule of the privacy module
// (privacy.Service.GateExport), as for the campaign workbook: it records
// the export's audit entry, and above the bulk threshold uses up an
// approved bulk-export request or refuses with
// *privacy.ApprovalRequiredError.
type ExportGate = xlsxreport.ExportGate

// Options choose what a workbook holds.
type Options struct {
	// NoFirings leaves the firing list out: the results and suppressions
	// only, which name no customer, so no bulk-export approval is asked.
	NoFirings bool
}

// Deps are what the service needs. Bundle words the workbook (loaded when
// nil); Products may be nil (the workbook then shows the product's id);
// Bulk puts the firing list under the bulk-export rule (nil: a server
// without the privacy module records the export only).
type Deps struct {
	Journeys  Journeys
	Store     Store
	Customers Scoper
	Products  Products
	Audit     audit.Recorder
	Tx        kehu.Transactor
	Clock     kehu.Clock
	Bundle    *i18n.Bundle
	Bulk      ExportGate
}

// Service exports journey results.
type Service struct{ d Deps }

// NewService returns the report service; it panics without Journeys,
// Store, Customers, Audit or Tx.
func NewService(d Deps) (*Service, error) {
	if d.Journeys == nil || d.Store == nil || d.Customers == nil || d.Audit == nil || d.Tx == nil {
		panic("journey report: Journeys, Store, Customers, Audit and Tx are required")
	}
	if d.Clock == nil {
		d.Clock = kehu.SystemClock{}
	}
	if d.Bundle == nil {
		b, err := i18n.Load()
		if err != nil {
			return nil, err
		}
		d.Bundle = b
	}
	return &Service{d: d}, nil
}

// Export writes journey id's workbook over period p to w in lang (zh-CN or
// en) with its firing list, and returns how many firing rows it holds
// (ExportWith).
func (s *Service) Export(ctx context.Context, id int64, p journey.Period, lang string, w io.Writer) (int, error) {
	return s.ExportWith(ctx, id, p, lang, w, Options{})
}

// ExportWith writes the workbook and returns how many firing rows it
// holds. The firings are those of customers in the reader's data scope,
// names masked as on every page. The firing list is customers' data in
// bulk, so it goes through the privacy module's bulk rule (Deps.Bulk):
// above the threshold without an approved bulk-export request the whole
// workbook is refused (recorded and alerted) rather than silently cut; the
// reader asks for the aggregates alone with NoFirings. One journey.export
// record (the row count, the period, the approval used) is committed
// before the file is written.
func (s *Service) ExportWith(ctx context.Context, id int64, p journey.Period, lang string, w io.Writer, o Options) (int, error) {
	if _, err := access.ActorWith(ctx, access.CustomerRead); err != nil {
		return 0, err
	}
	j, res, err := s.d.Journeys.ResultsIn(ctx, id, p)
	if err != nil {
		return 0, err
	}
	var rows []FiringRow
	if !o.NoFirings {
		rows, err = xlsxreport.Customers(ctx, s.d.Customers,
			func(scope customer.ScopeFilter) ([]FiringRow, error) { return s.firings(ctx, id, p, scope) },
			func(f *FiringRow) *customer.Customer { return &f.Customer })
		if err != nil {
			return 0, err
		}
	}
	product := ""
	if res.ProductID != nil {
		product = strconv.FormatInt(*res.ProductID, 10)
		if s.d.Products != nil {
			if name, err := s.d.Products.ProductName(ctx, *res.ProductID); err == nil {
				product = name
			}
		}
	}
	b := book{xlsxreport.Book{T: func(key string, args ...any) string { return s.d.Bundle.T(lang, key, args...) },
		Lookup: func(key string) (string, bool) { return s.d.Bundle.Lookup(lang, key) }, Loc: kehu.LoadShanghai()}}
	f, err := b.build(j, res, product, rows, s.d.Clock.Now())
	if err != nil {
		return 0, fmt.Errorf("journey %d workbook: %w", id, err)
	}
	defer f.Close()
	reason := "results.xlsx"
	if !p.From.IsZero() || !p.To.IsZero() {
		reason += " " + p.From.String() + ".." + p.To.String()
	}
	if o.NoFirings {
		// No firing sheet at all, so an empty list is not read as a
		// journey that never fired.
		if err := f.DeleteSheet(b.sheet(SheetFirings)); err != nil {
			return 0, fmt.Errorf("journey %d workbook: %w", id, err)
		}
		reason += " without the firing list"
	}
	entry := audit.Entry{Action: AuditExport, Object: "journey:" + strconv.FormatInt(id, 10), Count: len(rows),
		Reason: reason}
	if err := xlsxreport.Release(ctx, s.d.Bulk, s.d.Tx, s.d.Audit, entry, f, w, "journey "+strconv.FormatInt(id, 10)); err != nil {
		return 0, err
	}
	return len(rows), nil
}

// firings reads the period's firings in scope, up to MaxFirings.
func (s *Service) firings(ctx context.Context, id int64, p journey.Period, scope customer.ScopeFilter) ([]FiringRow, error) {
	return xlsxreport.Page(nil, func(after int64, limit int) ([]FiringRow, error) {
		return s.d.Store.FiringRows(ctx, id, p, scope, after, limit)
	}, func(f FiringRow) int64 { return f.ID })
}
