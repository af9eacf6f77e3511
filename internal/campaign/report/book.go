package report

import (
	"time"

	"github.com/xuri/excelize/v2"

	"kehu/internal/campaign"
	"kehu/internal/lift"
	"kehu/internal/xlsxreport"
)

// book builds the workbook in one language.
type book struct{ xlsxreport.Book }

// metric is one line of the results sheet: its key (also the catalogue
// key's tail), how to read it from Numbers and how to format it.
type metric struct {
	key   string
	value func(n campaign.Numbers) any
	style xlsxreport.Style
}

var yuan = xlsxreport.Yuan

var metrics = []metric{
	{"audience", func(n campaign.Numbers) any { return n.Audience }, xlsxreport.Plain},
	{"control", func(n campaign.Numbers) any { return n.Control }, xlsxreport.Plain},
	{"treatment", func(n campaign.Numbers) any { return n.Treatment }, xlsxreport.Plain},
	{"suppressed", func(n campaign.Numbers) any { return n.SuppressedTotal }, xlsxreport.Plain},
	{"queued", func(n campaign.Numbers) any { return n.Queued }, xlsxreport.Plain},
	{"deferred", func(n campaign.Numbers) any { return n.Deferred }, xlsxreport.Plain},
	{"tasks", func(n campaign.Numbers) any { return n.Tasks }, xlsxreport.Plain},
	{"sent", func(n campaign.Numbers) any { return n.Sent }, xlsxreport.Plain},
	{"delivered", func(n campaign.Numbers) any { return n.Delivered }, xlsxreport.Plain},
	{"opened", func(n campaign.Numbers) any { return n.Opened }, xlsxreport.Plain},
	{"clicked", func(n campaign.Numbers) any { return n.Clicked }, xlsxreport.Plain},
	{"failed", func(n campaign.Numbers) any { return n.Failed }, xlsxreport.Plain},
	{"converted_treatment", func(n campaign.Numbers) any { return n.ConvertedTreatment }, xlsxreport.Plain},
	{"converted_control", func(n campaign.Numbers) any { return n.ConvertedControl }, xlsxreport.Plain},
	{"rate_treatment", func(n campaign.Numbers) any { return n.RateTreatment }, xlsxreport.Pct},
	{"rate_control", func(n campaign.Numbers) any { return n.RateControl }, xlsxreport.Pct},
	{"lift", defined(func(n campaign.Numbers) float64 { return n.Lift.Difference }), xlsxreport.Pct},
	{"lift_low", defined(func(n campaign.Numbers) float64 { return n.Lift.Low }), xlsxreport.Pct},
	{"lift_high", defined(func(n campaign.Numbers) float64 { return n.Lift.High }), xlsxreport.Pct},
	{"incremental", defined(func(n campaign.Numbers) float64 { return n.Incremental }), xlsxreport.Plain},
	{"cost", func(n campaign.Numbers) any { return yuan(n.Cost) }, xlsxreport.Money},
	{"value", func(n campaign.Numbers) any { return yuan(n.Value) }, xlsxreport.Money},
	{"incremental_value", func(n campaign.Numbers) any { return yuan(n.IncrementalValue) }, xlsxreport.Money},
	{"roi", func(n campaign.Numbers) any {
		if n.ROI == nil {
			return ""
		}
		return *n.ROI
	}, xlsxreport.Pct},
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

func (b *book) build(c campaign.Campaign, res campaign.Results, members []MemberRow, now time.Time) (*excelize.File, error) {
	if err := b.Start(); err != nil {
		return b.F, err
	}
	steps := []func() error{
		func() error { return b.results(c, res, now) },
		func() error { return b.suppressions(res) },
		func() error { return b.memberSheet(members) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return b.F, err
		}
	}
	return b.F, nil
}

// Sheet names (also the tests' handles).
const (
	SheetResults      = "results"
	SheetSuppressions = "suppressions"
	SheetMembers      = "members"
)

func (b *book) sheet(key string) string { return b.T("campaign_report.sheet." + key) }

// results is the first sheet: what the campaign is, then one line per
// metric with the key, the total and each run.
func (b *book) results(c campaign.Campaign, res campaign.Results, now time.Time) error {
	head := [][]any{
		{b.T("campaign_report.field.campaign"), c.Name},
		{b.T("campaign_report.field.id"), c.ID},
		{b.T("campaign_report.field.channel"), b.Label("campaign_report.channel.", c.Channel)},
		{b.T("campaign_report.field.status"), b.Label("campaign_report.status.", c.Status)},
		{b.T("campaign_report.field.product"), c.ProductName},
		{b.T("campaign_report.field.window"), res.ConversionDays},
		{b.T("campaign_report.field.method"), res.Total.Lift.Method},
		{b.T("campaign_report.field.exported"), b.Stamp(now)},
	}
	header := []any{b.T("campaign_report.col.metric"), b.T("campaign_report.col.key"), b.T("campaign_report.col.total")}
	for _, r := range res.Runs {
		header = append(header, b.T("campaign_report.col.run", r.Number))
	}
	lines := make([]xlsxreport.Metric, 0, len(metrics))
	for _, m := range metrics {
		values := []any{m.value(res.Total)}
		for _, r := range res.Runs {
			values = append(values, m.value(r.Numbers))
		}
		lines = append(lines, xlsxreport.Metric{Label: b.T("campaign_report.metric." + m.key), Key: m.key, Values: values, Style: m.style})
	}
	return b.Results(b.sheet(SheetResults), head, header, lines)
}

// suppressions is one line per reason: label, code, total, each run.
func (b *book) suppressions(res campaign.Results) error {
	header := []any{b.T("campaign_report.col.reason"), b.T("campaign_report.col.code"), b.T("campaign_report.col.total")}
	for _, r := range res.Runs {
		header = append(header, b.T("campaign_report.col.run", r.Number))
	}
	var rows [][]any
	for _, code := range ReasonsByCount(res.Total.Suppressed) {
		row := []any{b.Label("campaign_report.reason.", code), code, res.Total.Suppressed[code]}
		for _, r := range res.Runs {
			row = append(row, r.Numbers.Suppressed[code])
		}
		rows = append(rows, row)
	}
	return b.Table(b.sheet(SheetSuppressions), header, rows)
}

// ReasonsByCount orders suppression codes by count, largest first, then by
// code (lift.ReasonsByCount, shared with the journey workbook).
func ReasonsByCount(m map[string]int64) []string { return lift.ReasonsByCount(m) }

// memberSheet streams one row per member.
func (b *book) memberSheet(members []MemberRow) error {
	header := []any{b.T("campaign_report.col.run_no"), b.T("campaign_report.col.customer_id"), b.T("campaign_report.col.customer"),
		b.T("campaign_report.col.group"), b.T("campaign_report.col.outcome"), b.T("campaign_report.col.reason"),
		b.T("campaign_report.col.message"), b.T("campaign_report.col.task")}
	return b.Stream(b.sheet(SheetMembers), header, len(members), func(i int) []any {
		m := members[i]
		var task any = ""
		if m.TaskID != 0 {
			task = m.TaskID
		}
		reason := ""
		if m.Reason != "" {
			reason = b.Label("campaign_report.reason.", m.Reason)
		}
		return []any{m.Run, m.CustomerID, m.Customer.Name, b.Label("campaign_report.group.", m.Group),
			b.Label("campaign_report.outcome.", m.Outcome), reason, b.Label("campaign_report.message.", m.MessageStatus), task}
	})
}
