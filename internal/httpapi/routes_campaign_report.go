package httpapi

// campaignReportRoutes export a campaign's results as a workbook
// (docs/CAMPAIGN_RESULTS.md). The report service asks the campaign
// service, which admits campaign.manage and campaign.approve; the members
// listed are those of the caller's data scope.
func campaignReportRoutes() []route {
	return []route{
		{"GET /api/v1/campaigns/{id}/results.xlsx", signedIn, "", (*api).campaignResultsXLSX},
	}
}
