// Package report presents a campaign's results (issue 5, item 6): the
// numbers the campaign package computes, and the members' outcomes, as an
// Excel workbook for the marketing office — results per run and in total,
// suppressions by reason, and one row per member with the customer's name
// masked as the reader's role requires. Reading and exporting go through
// the campaign service, so its permission checks hold; the export is
// scope-checked and leaves one audit record before any byte leaves. The
// page's charts are drawn by internal/web from the same Results.
package report

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"kehu/internal/audit"
	"kehu/internal/campaign"
	"kehu/internal/customer"
	"kehu/internal/i18n"
	"kehu/internal/kehu"
	"kehu/internal/xlsxreport"
)

// AuditExport is recorded once per workbook; Count is the member rows.
const AuditExport = "campaign.export"

// MaxMembers bounds the member rows of one workbook: an Excel sheet holds
// 1,048,576 rows, one of them the header.
const MaxMembers = xlsxreport.MaxRows

// MemberRow is one member of one run as the workbook lists it.
type MemberRow struct {
	Run           int
	CustomerID    int64
	Customer      customer.Customer // name, type and owner, for masking
	Group         string
	Outcome       string
	Reason        string
	MessageStatus string
	TaskID        int64
}

// Store reads members with their customers.
type Store interface {
	// MemberRows returns up to limit members of run whose customers are in
	// scope, by customer id after after.
	MemberRows(ctx context.Context, campaignID int64, run int, scope customer.ScopeFilter, after int64, limit int) ([]MemberRow, error)
}

// Campaigns is what the report needs of the campaign service (which checks
// the reader's permission).
type Campaigns interface {
	Get(ctx context.Context, id int64) (campaign.Campaign, error)
	Results(ctx context.Context, id int64) (campaign.Results, error)
}

// Scoper gives the actor's customer read scope (customer.Service).
type Scoper = xlsxreport.Scoper

// ExportGate is the bulk-export rule of the privacy module
// (privacy.Service.GateExport): it records the export's audit entry, and
// above the bulk threshold uses up an approved bulk-export request or
// refuses with *privacy.ApprovalRequiredError.
type ExportGate = xlsxreport.ExportGate

// Options choose what a workbook holds.
type Options struct {
	// NoMembers leaves the member list out: the results and suppressions
	// only, which name no customer, so no bulk-export approval is asked.
	NoMembers bool
}

// Deps are what the service needs. Bundle words the workbook (loaded when
// nil).
type Deps struct {
	Campaigns Campaigns
	Store     Store
	Customers Scoper
	Audit     audit.Recorder
	Tx        kehu.Transactor
	Clock     kehu.Clock
	Bundle    *i18n.Bundle
	// Bulk puts the member list under the bulk-export rule; nil (a
	// server without the privacy module) records the export only.
	Bulk ExportGate
}

// Service serves results and their workbook.
type Service struct{ d Deps }

// NewService returns the report service.
func NewService(d Deps) (*Service, error) {
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

// Results returns the campaign and its results, for the results page.
func (s *Service) Results(ctx context.Context, id int64) (campaign.Campaign, campaign.Results, error) {
	c, err := s.d.Campaigns.Get(ctx, id)
	if err != nil {
		return c, campaign.Results{}, err
	}
	res, err := s.d.Campaigns.Results(ctx, id)
	return c, res, err
}

// Export writes campaign id's workbook to w in lang (zh-CN or en) with its
// member list, and returns how many member rows it holds (ExportWith).
func (s *Service) Export(ctx context.Context, id int64, lang string, w io.Writer) (int, error) {
	return s.ExportWith(ctx, id, lang, w, Options{})
}

// ExportWith writes campaign id's workbook to w in lang (zh-CN or en) and
// returns how many member rows it holds. The members are those of the
// reader's data scope, names masked as on every page. The member list is
// customers' data in bulk, so it goes through the privacy module's bulk
// rule (Deps.Bulk): above the threshold without an approved bulk-export
// request the whole workbook is refused (*privacy.ApprovalRequiredError,
// recorded and alerted) rather than silently cut — the reader asks for
// the aggregates alone with NoMembers, which names no customer. One
// campaign.export record (with the member count, and the approval used)
// is committed before the file is written.
func (s *Service) ExportWith(ctx context.Context, id int64, lang string, w io.Writer, o Options) (int, error) {
	c, res, err := s.Results(ctx, id)
	if err != nil {
		return 0, err
	}
	var members []MemberRow
	if !o.NoMembers {
		members, err = xlsxreport.Customers(ctx, s.d.Customers,
			func(scope customer.ScopeFilter) ([]MemberRow, error) { return s.members(ctx, id, res, scope) },
			func(m *MemberRow) *customer.Customer { return &m.Customer })
		if err != nil {
			return 0, err
		}
	}
	b := book{xlsxreport.Book{T: func(key string, args ...any) string { return s.d.Bundle.T(lang, key, args...) },
		Lookup: func(key string) (string, bool) { return s.d.Bundle.Lookup(lang, key) }, Loc: kehu.LoadShanghai()}}
	f, err := b.build(c, res, members, s.d.Clock.Now())
	if err != nil {
		return 0, fmt.Errorf("campaign %d workbook: %w", id, err)
	}
	defer f.Close()
	entry := audit.Entry{Action: AuditExport, Object: "campaign:" + strconv.FormatInt(id, 10), Count: len(members),
		Reason: "results.xlsx"}
	if o.NoMembers {
		// No member sheet at all, so an empty list is not read as a
		// campaign without members.
		if err := f.DeleteSheet(b.sheet(SheetMembers)); err != nil {
			return 0, fmt.Errorf("campaign %d workbook: %w", id, err)
		}
		entry.Reason = "results.xlsx without the member list"
	}
	if err := xlsxreport.Release(ctx, s.d.Bulk, s.d.Tx, s.d.Audit, entry, f, w, "campaign "+strconv.FormatInt(id, 10)); err != nil {
		return 0, err
	}
	return len(members), nil
}

// members reads every run's members in scope, up to MaxMembers in all.
func (s *Service) members(ctx context.Context, id int64, res campaign.Results, scope customer.ScopeFilter) ([]MemberRow, error) {
	var out []MemberRow
	for _, r := range res.Runs {
		var err error
		out, err = xlsxreport.Page(out, func(after int64, limit int) ([]MemberRow, error) {
			return s.d.Store.MemberRows(ctx, id, r.Number, scope, after, limit)
		}, func(m MemberRow) int64 { return m.CustomerID })
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
