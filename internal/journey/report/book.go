package report

import (
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"kehu/internal/journey"
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

// metric is one line of the results sheet: its catalogue key, its stable
// key (the second column, for formulas and scripts), how to read it and
// how to format it. The words campaigns and journeys share come from the
// campaign report's catalogue.
type metric struct {
	label, key string
	value      func(r journey.Results) any
	style      string // "", "pct" or "money"
}

func yuan(fen int64) float64 { return float64(fen) / 100 }

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
	{"journeys.metric.fired", "fired", func(r journey.Results) any { return r.Fired }, ""},
	{"journeys.metric.fired_treatment", "fired_treatment", func(r journey.Results) any { return r.FiredTreatment }, ""},
	{"journeys.metric.fired_control", "fired_control", func(r journey.Results) any { return r.FiredControl }, ""},
	{"journeys.metric.customers", "customers", func(r journey.Results) any { return r.Customers }, ""},
	{"journeys.metric.treatment", "treatment", func(r journey.Results) any { return r.Treatment }, ""},
	{"journeys.metric.control", "control", func(r journey.Results) any { return r.Control }, ""},
	{cm + "suppressed", "suppressed", func(r journey.Results) any { return r.SuppressedTotal }, ""},
	{cm + "queued", "queued", func(r journey.Results) any { return r.Queued }, ""},
	{cm + "deferred", "deferred", func(r journey.Results) any { return r.Deferred }, ""},
	{"journeys.metric.tasks", "tasks", func(r journey.Results) any { return r.Tasks }, ""},
	{"journeys.metric.leads", "leads", func(r journey.Results) any { return r.Leads }, ""},
	{"journeys.metric.tagged", "tagged", func(r journey.Results) any { return r.Tagged }, ""},
	{"journeys.metric.actions_failed", "actions_failed", func(r journey.Results) any { return r.ActionsFailed }, ""},
	{cm + "sent", "sent", func(r journey.Results) any { return r.Sent }, ""},
	{cm + "delivered", "delivered", func(r journey.Results) any { return r.Delivered }, ""},
	{cm + "opened", "opened", func(r journey.Results) any { return r.Opened }, ""},
	{cm + "clicked", "clicked", func(r journey.Results) any { return r.Clicked }, ""},
	{cm + "failed", "failed", func(r journey.Results) any { return r.Failed }, ""},
	{cm + "converted_treatment", "converted_treatment", func(r journey.Results) any { return r.ConvertedTreatment }, ""},
	{cm + "converted_control", "converted_control", func(r journey.Results) any { return r.ConvertedControl }, ""},
	{cm + "rate_treatment", "rate_treatment", func(r journey.Results) any { return r.RateTreatment }, "pct"},
	{cm + "rate_control", "rate_control", func(r journey.Results) any { return r.RateControl }, "pct"},
	{cm + "lift", "lift", defined(func(r journey.Results) float64 { return r.Lift.Difference }), "pct"},
	{cm + "lift_low", "lift_low", defined(func(r journey.Results) float64 { return r.Lift.Low }), "pct"},
	{cm + "lift_high", "lift_high", defined(func(r journey.Results) float64 { return r.Lift.High }), "pct"},
	{cm + "incremental", "incremental", defined(func(r journey.Results) float64 { return r.Incremental }), ""},
	{cm + "cost", "cost", func(r journey.Results) any { return yuan(r.Cost) }, "money"},
	{cm + "value", "value", func(r journey.Results) any { return yuan(r.Value) }, "money"},
	{cm + "incremental_value", "incremental_value", func(r journey.Results) any { return yuan(r.IncrementalValue) }, "money"},
	{cm + "roi", "roi", func(r journey.Results) any {
		if r.ROI == nil {
			return ""
		}
		return *r.ROI
	}, "pct"},
}

// Sheet names (also the tests' handles).
const (
	SheetResults      = "results"
	SheetSuppressions = "suppressions"
	SheetFirings      = "firings"
)

func (b *book) sheet(key string) string { return b.t("journeys.sheet." + key) }

// label words a code under prefix, the code itself when the catalogue has
// no word for it.
func (b *book) label(prefix, code string) string {
	if s, ok := b.lookup(prefix + code); ok {
		return s
	}
	return code
}

func (b *book) build(j journey.Journey, res journey.Results, product string, rows []FiringRow, now time.Time) (*excelize.File, error) {
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
	for _, step := range []func() error{
		func() error { return b.results(j, res, product, now) },
		func() error { return b.suppressions(res) },
		func() error { return b.firingSheet(rows) },
	} {
		if err := step(); err != nil {
			return b.f, err
		}
	}
	return b.f, nil
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
	name := b.sheet(SheetResults)
	if err := b.f.SetSheetName("Sheet1", name); err != nil {
		return err
	}
	head := [][]any{
		{b.t("journeys.field.journey"), j.Name},
		{b.t("journeys.field.id"), j.ID},
		{b.t("journeys.field.trigger"), b.label("journeys.trigger.", j.Definition.Trigger)},
		{b.t("journeys.col.status"), b.label("journeys.status.", j.Status)},
		{b.t("journeys.field.period"), period(res)},
		{b.t("journeys.field.control_pct"), res.ControlPct},
		{b.t("campaign_report.field.product"), product},
		{b.t("campaign_report.field.window"), res.ConversionDays},
		{b.t("campaign_report.field.method"), res.Lift.Method},
		{b.t("campaign_report.field.exported"), now.In(b.loc).Format("2006-01-02 15:04")},
	}
	for i, row := range head {
		if err := b.f.SetSheetRow(name, "A"+strconv.Itoa(i+1), &row); err != nil {
			return err
		}
	}
	top := len(head) + 2
	header := []any{b.t("campaign_report.col.metric"), b.t("campaign_report.col.key"), b.t("journeys.col.value")}
	if err := b.f.SetSheetRow(name, "A"+strconv.Itoa(top), &header); err != nil {
		return err
	}
	if err := b.f.SetRowStyle(name, top, top, b.bold); err != nil {
		return err
	}
	for i, m := range metrics {
		n := top + 1 + i
		row := []any{b.t(m.label), m.key, m.value(res)}
		if err := b.f.SetSheetRow(name, "A"+strconv.Itoa(n), &row); err != nil {
			return err
		}
		if style := map[string]int{"pct": b.pct, "money": b.money}[m.style]; style != 0 {
			if err := b.f.SetCellStyle(name, "C"+strconv.Itoa(n), "C"+strconv.Itoa(n), style); err != nil {
				return err
			}
		}
	}
	return b.f.SetColWidth(name, "A", "A", 24)
}

// suppressions is one line per reason: label, code, count.
func (b *book) suppressions(res journey.Results) error {
	name := b.sheet(SheetSuppressions)
	if _, err := b.f.NewSheet(name); err != nil {
		return err
	}
	header := []any{b.t("campaign_report.col.reason"), b.t("campaign_report.col.code"), b.t("campaign_report.col.total")}
	if err := b.f.SetSheetRow(name, "A1", &header); err != nil {
		return err
	}
	for i, code := range lift.ReasonsByCount(res.Suppressed) {
		row := []any{b.label("journeys.reason.", code), code, res.Suppressed[code]}
		if err := b.f.SetSheetRow(name, "A"+strconv.Itoa(i+2), &row); err != nil {
			return err
		}
	}
	return b.f.SetColWidth(name, "A", "A", 28)
}

// firingSheet streams one row per firing.
func (b *book) firingSheet(rows []FiringRow) error {
	name := b.sheet(SheetFirings)
	if _, err := b.f.NewSheet(name); err != nil {
		return err
	}
	sw, err := b.f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	header := []any{b.t("journeys.col.firing"), b.t("journeys.col.fired_at"), b.t("campaign_report.col.customer_id"),
		b.t("journeys.col.customer"), b.t("journeys.col.group"), b.t("journeys.col.event"), b.t("journeys.col.outcomes")}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	for i, f := range rows {
		outs := make([]string, 0, len(f.Outcomes))
		for _, o := range f.Outcomes {
			s := b.label("journeys.action.", o.Kind) + ": " + b.label("journeys.outcome.", o.Outcome)
			if o.Reason != "" {
				s += " (" + b.label("journeys.reason.", o.Reason) + ")"
			}
			outs = append(outs, s)
		}
		row := []any{f.ID, f.FiredAt.In(b.loc).Format("2006-01-02 15:04:05"), f.CustomerID, f.Customer.Name,
			b.label("journeys.group.", f.Group), f.Ref, strings.Join(outs, "; ")}
		if err := sw.SetRow("A"+strconv.Itoa(i+2), row); err != nil {
			return err
		}
	}
	return sw.Flush()
}
