package web

import (
	"net/http"
	"net/url"
	"strconv"

	"kehu/internal/journey"
	"kehu/internal/kehu"
	"kehu/internal/lift"
)

// journeyResultsView is the 旅程效果 page (/journeys/{id}/results): the
// firing funnel, the suppressions by reason and treatment against control
// with the lift's interval, drawn by the same SVG code as 活动效果
// (campaign_results_svg.go), over an optional period, with the Excel
// export (docs/JOURNEYS.md "Results").
type journeyResultsView struct {
	Journey     journey.Journey
	Results     journey.Results
	From, To    string // the period as typed
	Funnel      hbarChart
	Suppression hbarChart
	Conversion  conversionChart
	ROI         string
	Export      string // the workbook's URL ("" when the server has none)
	// ExportAggregates is the workbook without the firing list, and
	// BulkThreshold the bulk-export threshold the list falls under (0 when
	// the privacy module is not wired).
	ExportAggregates string
	BulkThreshold    int64
	ErrorKey         string
}

func (s *server) journeyResultsPage(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	q := r.URL.Query()
	v := journeyResultsView{From: q.Get("from"), To: q.Get("to")}
	var p journey.Period
	for _, f := range []struct {
		s string
		d *kehu.Date
	}{{v.From, &p.From}, {v.To, &p.To}} {
		if f.s == "" {
			continue
		}
		d, err := kehu.ParseDate(f.s)
		if err != nil {
			v.ErrorKey = "journeys.results.bad_date"
			break
		}
		*f.d = d
	}
	status := http.StatusOK
	if v.ErrorKey != "" {
		// The period cannot be read: say so and show no numbers rather
		// than numbers of another period.
		j, err := s.Journeys.Get(r.Context(), id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Journey, status = j, http.StatusBadRequest
		s.render(w, r, status, "journey_results", "layout.html", s.newView(w, r, "journeys.results.title", "journeys", v))
		return
	}
	j, res, err := s.Journeys.ResultsIn(r.Context(), id, p)
	switch {
	case kehu.ErrorCode(err) == kehu.EINVALID:
		if v.Journey, err = s.Journeys.Get(r.Context(), id); err != nil {
			s.fail(w, r, err)
			return
		}
		v.ErrorKey = "journeys.results.bad_period"
		s.render(w, r, http.StatusUnprocessableEntity, "journey_results", "layout.html",
			s.newView(w, r, "journeys.results.title", "journeys", v))
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	v.Journey, v.Results = j, res
	v.Funnel = journeyFunnel(j.Definition, res)
	v.Suppression = reasonChart("journeys.reason.", res.Suppressed, res.SuppressedTotal)
	v.Conversion = rateChart("campaign_report.conversion.", lift.Groups{Treatment: res.Treatment, Control: res.Control,
		ConvertedTreatment: res.ConvertedTreatment, ConvertedControl: res.ConvertedControl}, res.Lift)
	if res.ROI != nil {
		v.ROI = ratePct(*res.ROI)
	}
	if s.JourneyReports != nil {
		x := url.Values{"lang": {stateOf(r).lang}}
		if v.From != "" {
			x.Set("from", v.From)
		}
		if v.To != "" {
			x.Set("to", v.To)
		}
		v.Export = "/api/v1/journeys/" + strconv.FormatInt(id, 10) + "/results.xlsx?" + x.Encode()
		x.Set("firings", "none")
		v.ExportAggregates = "/api/v1/journeys/" + strconv.FormatInt(id, 10) + "/results.xlsx?" + x.Encode()
		if s.Privacy != nil {
			v.BulkThreshold = s.Privacy.BulkThreshold()
		}
	}
	s.render(w, r, status, "journey_results", "layout.html", s.newView(w, r, "journeys.results.title", "journeys", v))
}

// journeyFunnel is fired → treatment (actions run) → sent → delivered (a
// journey with messages) → tasks, leads and tags (one with such actions) →
// customers converted (one with a product), each bar a share of the
// firings.
func journeyFunnel(d journey.Definition, res journey.Results) hbarChart {
	keys := []string{"fired", "treatment"}
	counts := []int64{res.Fired, res.FiredTreatment}
	if d.HasMessages() {
		keys, counts = append(keys, "sent", "delivered"), append(counts, res.Sent, res.Delivered)
	}
	if n := res.Tasks + res.Leads + res.Tagged; n > 0 || len(d.Actions) > 0 && !d.HasMessages() {
		keys, counts = append(keys, "actions"), append(counts, n)
	}
	if res.ProductID != nil {
		keys, counts = append(keys, "converted"), append(counts, res.ConvertedTreatment)
	}
	labels := make([]string, len(keys))
	for i, k := range keys {
		labels[i] = "journeys.funnel." + k
	}
	return newHBars(labels, keys, counts, res.Fired)
}

// Pct shows a rate as a percentage.
func (journeyResultsView) Pct(v float64) string { return ratePct(v) }

// Yuan shows fen as yuan.
func (journeyResultsView) Yuan(fen int64) string {
	return strconv.FormatFloat(float64(fen)/100, 'f', 2, 64)
}
