package web

import (
	"net/http"
	"strconv"

	"kehu/internal/campaign"
)

// campaignResultsRoutes are 活动效果 (/campaigns/{id}/results): the funnel,
// the suppressions by reason and treatment against control with the lift's
// interval, each run's numbers, and the Excel export
// (docs/CAMPAIGN_RESULTS.md).
func (s *server) campaignResultsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /campaigns/{id}/results", s.signedIn(s.campaignResultsPage))
}

// campaignResultsView is the 活动效果 page.
type campaignResultsView struct {
	Campaign    campaign.Campaign
	Results     campaign.Results
	Funnel      hbarChart
	Suppression hbarChart
	Conversion  conversionChart
	ROI         string
	Export      string // the workbook's URL
	// BulkThreshold is the privacy module's bulk-export threshold the
	// workbook's member list falls under (0 when not wired).
	BulkThreshold int64
}

func (s *server) campaignResultsPage(w http.ResponseWriter, r *http.Request) {
	if s.CampaignReports == nil {
		s.notFound(w, r)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		s.notFound(w, r)
		return
	}
	c, res, err := s.CampaignReports.Results(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := campaignResultsView{Campaign: c, Results: res, Funnel: funnelChart(c.Channel, res.Total),
		Suppression: suppressionChart(res.Total), Conversion: newConversionChart(res.Total),
		Export: "/api/v1/campaigns/" + strconv.FormatInt(id, 10) + "/results.xlsx?lang=" + stateOf(r).lang}
	if res.Total.ROI != nil {
		v.ROI = ratePct(*res.Total.ROI)
	}
	if s.Privacy != nil {
		v.BulkThreshold = s.Privacy.BulkThreshold()
	}
	s.render(w, r, http.StatusOK, "campaign_results", "layout.html", s.newView(w, r, "campaign_report.title", "campaigns", v))
}

// Pct shows a rate as a percentage.
func (campaignResultsView) Pct(v float64) string { return ratePct(v) }
