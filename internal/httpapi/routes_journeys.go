package httpapi

import "kehu/internal/access"

// journeyRoutes are event-triggered journeys (docs/JOURNEYS.md): reading
// definitions and results needs customer.read (they name no customer);
// creating, changing, pausing and resuming needs marketing.write, each
// audited; firings name customers, so a page holds only those in the
// caller's scope, with one audit record. The results workbook lists those
// firings in bulk (names masked, the caller's scope only) with one
// journey.export record.
func journeyRoutes() []route {
	return []route{
		{"GET /api/v1/journeys", signedIn, access.CustomerRead, (*api).listJourneys},
		{"POST /api/v1/journeys", signedIn, access.MarketingWrite, (*api).createJourney},
		{"GET /api/v1/journeys/{id}", signedIn, access.CustomerRead, (*api).getJourney},
		{"PUT /api/v1/journeys/{id}", signedIn, access.MarketingWrite, (*api).updateJourney},
		{"POST /api/v1/journeys/{id}/pause", signedIn, access.MarketingWrite, (*api).pauseJourney},
		{"POST /api/v1/journeys/{id}/resume", signedIn, access.MarketingWrite, (*api).resumeJourney},
		{"GET /api/v1/journeys/{id}/versions", signedIn, access.CustomerRead, (*api).journeyVersions},
		{"GET /api/v1/journeys/{id}/firings", signedIn, access.CustomerRead, (*api).journeyFirings},
		{"GET /api/v1/journeys/{id}/results", signedIn, access.CustomerRead, (*api).journeyResults},
		{"GET /api/v1/journeys/{id}/results.xlsx", signedIn, access.CustomerRead, (*api).journeyResultsXLSX},
	}
}
