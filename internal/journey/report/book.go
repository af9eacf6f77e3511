package report

import (
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"kehu/internal/journey"
	"kehu/internal/lift"
	"kehu/internal/xlsxreport"
)

// book builds the workbook in one language.
type book struct{ xlsxreport.Book }

// metric is one line of the results sheet: its catalogue key, its stable
// key (the second column, for formulas and scripts), how to read it and
// how to format it. The words campaigns and journeys share come from the
// campaign report's catalogue.
type metric struct {
	label, key string
	value      func(r journey.Results) any
	style      xlsxreport.Style
}

var yuan = xlsxreport.Yuan

// defined leaves the cell empty when there is no control group to compare.
func defined(v func(r journey.Results) float64) func(r journey.Results) any {
	return func(r journey.Results) any {
		if !r.Lift.Defined {
			return ""
		}
		return v(r)
	}
}

const cm = "campaign_report.metric."

var metrics = []metric{
	{"journeys.metric.fired", "fired", func(r journey.Results) any { return r.Fired }, xlsxreport.Plain},
	{"journeys.metric.fired_treatment", "fired_treatment", func(r journey.Results) any { return r.FiredTreatment }, xlsxreport.Plain},
	{"journeys.metric.fired_control", "fired_control", func(r journey.Results) any { return r.FiredControl }, xlsxreport.Plain},
	{"journeys.metric.customers", "customers", func(r journey.Results) any { return r.Customers }, xlsxreport.Plain},
	{"journeys.metric.treatment", "treatment", func(r journey.Results) any { return r.Treatment }, xlsxreport.Plain},
	{"journeys.metric.control", "control", func(r journey.Results) any { return r.Control }, xlsxreport.Plain},
	{cm + "suppressed", "suppressed", func(r journey.Results) any { return r.SuppressedTotal }, xlsxreport.Plain},
	{cm + "queued", "queued", func(r journey.Results) any { return r.Queued }, xlsxreport.Plain},
	{cm + "deferred", "deferred", func(r journey.Results) any { return r.Deferred }, xlsxreport.Plain},
	{"journeys.metric.tasks", "tasks", func(r journey.Results) any { return r.Tasks }, xlsxreport.Plain},
	{"journeys.metric.leads", "leads", func(r journey.Results) any { return r.Leads }, xlsxreport.Plain},
	{"journeys.metric.tagged", "tagged", func(r journey.Results) any { return r.Tagged }, xlsxreport.Plain},
	{"journeys.metric.actions_failed", "actions_failed", func(r journey.Results) any { return r.ActionsFailed }, xlsxreport.Plain},
	{cm + "sent", "sent", func(r journey.Results) any { return r.Sent }, xlsxreport.Plain},
	{cm + "delivered", "delivered", func(r journey.Results) any { return r.Delivered }, xlsxreport.Plain},
	{cm + "opened", "opened", func(r journey.Results) any { return r.Opened }, xlsxreport.Plain},
	{cm + "clicked", "clicked", func(r journey.Results) any { return r.Clicked }, xlsxreport.Plain},
	{cm + "failed", "failed", func(r journey.Results) any { return r.Failed }, xlsxreport.Plain},
	{cm + "converted_treatment", "converted_treatment", func(r journey.Results) any { return r.ConvertedTreatment }, xlsxreport.Plain},
	{cm + "converted_control", "converted_control", func(r journey.Results) any { return r.ConvertedControl }, xlsxreport.Plain},
	{cm + "rate_treatment", "rate_treatment", func(r journey.Results) any { return r.RateTreatment }, xlsxreport.Pct},
	{cm + "rate_control", "rate_control", func(r journey.Results) any { return r.RateControl }, xlsxreport.Pct},
	{cm + "lift", "lift", defined(func(r journey.Results) float64 { return r.Lift.Difference }), xlsxreport.Pct},
	{cm + "lift_low", "lift_low", defined(func(r journey.Results) float64 { return r.Lift.Low }), xlsxreport.Pct},
	{cm + "lift_high", "lift_high", defined(func(r journey.Results) float64 { return r.Lift.High }), xlsxreport.Pct},
	{cm + "incremental", "incremental", defined(func(r journey.Results) float64 { return r.Incremental }), xlsxreport.Plain},
	{cm + "cost", "cost", func(r journey.Results) any { return yuan(r.Cost) }, xlsxreport.Money},
	{cm + "value", "value", func(r journey.Results) any { return yuan(r.Value) }, xlsxreport.Money},
	{cm + "incremental_value", "incremental_value", func(r journey.Results) any { return yuan(r.IncrementalValue) }, xlsxreport.Money},
	{cm + "roi", "roi", func(r journey.Results) any {
		if r.ROI == nil {
			return ""
		}
		return *r.ROI
	}, xlsxreport.Pct},
}

// Sheet names (also the tests' handles).
const (
	SheetResults      = "results"
	SheetSuppressions = "suppressions"
	SheetFirings      = "firings"
)

func (b *book) sheet(key string) string { return b.T("journeys.sheet." + key) }

func (b *book) build(j journey.Journey, res journey.Results, product string, rows []FiringRow, now time.Time) (*excelize.File, error) {
	if err := b.Start(); err != nil {
		return b.F, err
	}
	for _, step := range []func() error{
		func() error { return b.results(j, res, product, now) },
		func() error { return b.suppressions(res) },
		func() error { return b.firingSheet(rows) },
	} {
		if err := step(); err != nil {
			return b.F, err
		}
	}
	return b.F, nil
}

// period words the results' period ("—" for an open end).
func period(res journey.Results) string {
	from, to := res.From.String(), res.To.String()
	if from == "" {
		from = "—"
	}
	if to == "" {
		to = "—"
	}
	return from + " ~ " + to
}

// results is the first sheet: what the journey is, then one line per
// metric with its label, key and value.
func (b *book) results(j journey.Journey, res journey.Results, product string, now time.Time) error {
	head := [][]any{
		{b.T("journeys.field.journey"), j.Name},
		{b.T("journeys.field.id"), j.ID},
		{b.T("journeys.field.trigger"), b.Label("journeys.trigger.", j.Definition.Trigger)},
		{b.T("journeys.col.status"), b.Label("journeys.status.", j.Status)},
		{b.T("journeys.field.period"), period(res)},
		{b.T("journeys.field.control_pct"), res.ControlPct},
		{b.T("campaign_report.field.product"), product},
		{b.T("campaign_report.field.window"), res.ConversionDays},
		{b.T("campaign_report.field.method"), res.Lift.Method},
		{b.T("campaign_report.field.exported"), b.Stamp(now)},
	}
	header := []any{b.T("campaign_report.col.metric"), b.T("campaign_report.col.key"), b.T("journeys.col.value")}
	lines := make([]xlsxreport.Metric, 0, len(metrics))
	for _, m := range metrics {
		lines = append(lines, xlsxreport.Metric{Label: b.T(m.label), Key: m.key, Values: []any{m.value(res)}, Style: m.style})
	}
	return b.Results(b.sheet(SheetResults), head, header, lines)
}

// suppressions is one line per reason: label, code, count.
func (b *book) suppressions(res journey.Results) error {
	header := []any{b.T("campaign_report.col.reason"), b.T("campaign_report.col.code"), b.T("campaign_report.col.total")}
	var rows [][]any
	for _, code := range lift.ReasonsByCount(res.Suppressed) {
		rows = append(rows, []any{b.Label("journeys.reason.", code), code, res.Suppressed[code]})
	}
	return b.Table(b.sheet(SheetSuppressions), header, rows)
}

// firingSheet streams one row per firing.
func (b *book) firingSheet(rows []FiringRow) error {
	header := []any{b.T("journeys.col.firing"), b.T("journeys.col.fired_at"), b.T("campaign_report.col.customer_id"),
		b.T("journeys.col.customer"), b.T("journeys.col.group"), b.T("journeys.col.event"), b.T("journeys.col.outcomes")}
	return b.Stream(b.sheet(SheetFirings), header, len(rows), func(i int) []any {
		f := rows[i]
		outs := make([]string, 0, len(f.Outcomes))
		for _, o := range f.Outcomes {
			s := b.Label("journeys.action.", o.Kind) + ": " + b.Label("journeys.outcome.", o.Outcome)
			if o.Reason != "" {
				s += " (" + b.Label("journeys.reason.", o.Reason) + ")"
			}
			outs = append(outs, s)
		}
		return []any{f.ID, f.FiredAt.In(b.Loc).Format("2006-01-02 15:04:05"), f.CustomerID, f.Customer.Name,
			b.Label("journeys.group.", f.Group), f.Ref, strings.Join(outs, "; ")}
	})
}
