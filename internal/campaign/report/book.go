package report

import (
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"kehu/internal/campaign"
	"kehu/internal/lift"
)

// book builds the workbook in one language.
type book struct {
	t      func(key string, args ...any) string
	lookup func(key string) (string, bool)
	loc    *time.Location
	f      *excelize.File
	pct    int // style of rates
	money  int // style of yuan amounts
	bold   int
}

// metric is one line of the results sheet: its key (also the catalogue
// key's tail), how to read it from Numbers and how to format it.
type metric struct {
	key   string
	value func(n campaign.Numbers) any
	style string // "", "pct" or "money"
}

func yuan(fen int64) float64 { return float64(fen) / 100 }

var metrics = []metric{
	{"audience", func(n campaign.Numbers) any { return n.Audience }, ""},
	{"control", func(n campaign.Numbers) any { return n.Control }, ""},
	{"treatment", func(n campaign.Numbers) any { return n.Treatment }, ""},
	{"suppressed", func(n campaign.Numbers) any { return n.SuppressedTotal }, ""},
	{"queued", func(n campaign.Numbers) any { return n.Queued }, ""},
	{"deferred", func(n campaign.Numbers) any { return n.Deferred }, ""},
	{"tasks", func(n campaign.Numbers) any { return n.Tasks }, ""},
	{"sent", func(n campaign.Numbers) any { return n.Sent }, ""},
	{"delivered", func(n campaign.Numbers) any { return n.Delivered }, ""},
	{"opened", func(n campaign.Numbers) any { return n.Opened }, ""},
	{"clicked", func(n campaign.Numbers) any { return n.Clicked }, ""},
	{"failed", func(n campaign.Numbers) any { return n.Failed }, ""},
	{"converted_treatment", func(n campaign.Numbers) any { return n.ConvertedTreatment }, ""},
	{"converted_control", func(n campaign.Numbers) any { return n.ConvertedControl }, ""},
	{"rate_treatment", func(n campaign.Numbers) any { return n.RateTreatment }, "pct"},
	{"rate_control", func(n campaign.Numbers) any { return n.RateControl }, "pct"},
	{"lift", defined(func(n campaign.Numbers) float64 { return n.Lift.Difference }), "pct"},
	{"lift_low", defined(func(n campaign.Numbers) float64 { return n.Lift.Low }), "pct"},
	{"lift_high", defined(func(n campaign.Numbers) float64 { return n.Lift.High }), "pct"},
	{"incremental", defined(func(n campaign.Numbers) float64 { return n.Incremental }), ""},
	{"cost", func(n campaign.Numbers) any { return yuan(n.Cost) }, "money"},
	{"value", func(n campaign.Numbers) any { return yuan(n.Value) }, "money"},
	{"incremental_value", func(n campaign.Numbers) any { return yuan(n.IncrementalValue) }, "money"},
	{"roi", func(n campaign.Numbers) any {
		if n.ROI == nil {
			return ""
		}
		return *n.ROI
	}, "pct"},
}

// defined leaves the cell empty when there is no control group to compare.
func defined(v func(n campaign.Numbers) float64) func(n campaign.Numbers) any {
	return func(n campaign.Numbers) any {
		if !n.Lift.Defined {
			return ""
		}
		return v(n)
	}
}

// label words a code under prefix, the code itself when the catalogue has
// no word for it.
func (b *book) label(prefix, code string) string {
	if s, ok := b.lookup(prefix + code); ok {
		return s
	}
	return code
}

func (b *book) build(c campaign.Campaign, res campaign.Results, members []MemberRow, now time.Time) (*excelize.File, error) {
	b.f = excelize.NewFile()
	var err error
	if b.pct, err = b.f.NewStyle(&excelize.Style{NumFmt: 10}); err != nil { // 0.00%
		return b.f, err
	}
	fmtMoney := "#,##0.00"
	if b.money, err = b.f.NewStyle(&excelize.Style{CustomNumFmt: &fmtMoney}); err != nil {
		return b.f, err
	}
	if b.bold, err = b.f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err != nil {
		return b.f, err
	}
	steps := []func() error{
		func() error { return b.results(c, res, now) },
		func() error { return b.suppressions(res) },
		func() error { return b.memberSheet(members) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return b.f, err
		}
	}
	return b.f, nil
}

// Sheet names (also the tests' handles).
const (
	SheetResults      = "results"
	SheetSuppressions = "suppressions"
	SheetMembers      = "members"
)

func (b *book) sheet(key string) string { return b.t("campaign_report.sheet." + key) }

// results is the first sheet: what the campaign is, then one line per
// metric with the key, the total and each run.
func (b *book) results(c campaign.Campaign, res campaign.Results, now time.Time) error {
	name := b.sheet(SheetResults)
	if err := b.f.SetSheetName("Sheet1", name); err != nil {
		return err
	}
	product := c.ProductName
	head := [][]any{
		{b.t("campaign_report.field.campaign"), c.Name},
		{b.t("campaign_report.field.id"), c.ID},
		{b.t("campaign_report.field.channel"), b.label("campaign_report.channel.", c.Channel)},
		{b.t("campaign_report.field.status"), b.label("campaign_report.status.", c.Status)},
		{b.t("campaign_report.field.product"), product},
		{b.t("campaign_report.field.window"), res.ConversionDays},
		{b.t("campaign_report.field.method"), res.Total.Lift.Method},
		{b.t("campaign_report.field.exported"), now.In(b.loc).Format("2006-01-02 15:04")},
	}
	for i, row := range head {
		if err := b.f.SetSheetRow(name, "A"+strconv.Itoa(i+1), &row); err != nil {
			return err
		}
	}
	top := len(head) + 2
	header := []any{b.t("campaign_report.col.metric"), b.t("campaign_report.col.key"), b.t("campaign_report.col.total")}
	for _, r := range res.Runs {
		header = append(header, b.t("campaign_report.col.run", r.Number))
	}
	if err := b.f.SetSheetRow(name, "A"+strconv.Itoa(top), &header); err != nil {
		return err
	}
	if err := b.f.SetRowStyle(name, top, top, b.bold); err != nil {
		return err
	}
	for i, m := range metrics {
		row := []any{b.t("campaign_report.metric." + m.key), m.key, m.value(res.Total)}
		for _, r := range res.Runs {
			row = append(row, m.value(r.Numbers))
		}
		n := top + 1 + i
		if err := b.f.SetSheetRow(name, "A"+strconv.Itoa(n), &row); err != nil {
			return err
		}
		if style := map[string]int{"pct": b.pct, "money": b.money}[m.style]; style != 0 {
			last, _ := excelize.ColumnNumberToName(len(row))
			if err := b.f.SetCellStyle(name, "C"+strconv.Itoa(n), last+strconv.Itoa(n), style); err != nil {
				return err
			}
		}
	}
	return b.f.SetColWidth(name, "A", "A", 24)
}

// suppressions is one line per reason: label, code, total, each run.
func (b *book) suppressions(res campaign.Results) error {
	name := b.sheet(SheetSuppressions)
	if _, err := b.f.NewSheet(name); err != nil {
		return err
	}
	header := []any{b.t("campaign_report.col.reason"), b.t("campaign_report.col.code"), b.t("campaign_report.col.total")}
	for _, r := range res.Runs {
		header = append(header, b.t("campaign_report.col.run", r.Number))
	}
	if err := b.f.SetSheetRow(name, "A1", &header); err != nil {
		return err
	}
	for i, code := range ReasonsByCount(res.Total.Suppressed) {
		row := []any{b.label("campaign_report.reason.", code), code, res.Total.Suppressed[code]}
		for _, r := range res.Runs {
			row = append(row, r.Numbers.Suppressed[code])
		}
		if err := b.f.SetSheetRow(name, "A"+strconv.Itoa(i+2), &row); err != nil {
			return err
		}
	}
	return b.f.SetColWidth(name, "A", "A", 28)
}

// ReasonsByCount orders suppression codes by count, largest first, then by
// code (lift.ReasonsByCount, shared with the journey workbook).
func ReasonsByCount(m map[string]int64) []string { return lift.ReasonsByCount(m) }

// memberSheet streams one row per member.
func (b *book) memberSheet(members []MemberRow) error {
	name := b.sheet(SheetMembers)
	if _, err := b.f.NewSheet(name); err != nil {
		return err
	}
	sw, err := b.f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	header := []any{b.t("campaign_report.col.run_no"), b.t("campaign_report.col.customer_id"), b.t("campaign_report.col.customer"),
		b.t("campaign_report.col.group"), b.t("campaign_report.col.outcome"), b.t("campaign_report.col.reason"),
		b.t("campaign_report.col.message"), b.t("campaign_report.col.task")}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	for i, m := range members {
		var task any = ""
		if m.TaskID != 0 {
			task = m.TaskID
		}
		reason := ""
		if m.Reason != "" {
			reason = b.label("campaign_report.reason.", m.Reason)
		}
		row := []any{m.Run, m.CustomerID, m.Customer.Name, b.label("campaign_report.group.", m.Group),
			b.label("campaign_report.outcome.", m.Outcome), reason, b.label("campaign_report.message.", m.MessageStatus), task}
		if err := sw.SetRow("A"+strconv.Itoa(i+2), row); err != nil {
			return err
		}
	}
	return sw.Flush()
}
