package httpapi

import (
	"kehu/internal/access"
	"kehu/internal/campaign"
)

// campaignRoutes are campaigns (docs/CAMPAIGNS.md), maker-checker: makers
// hold campaign.manage (write, submit, launch, pause, resume, cancel),
// checkers campaign.approve (approve, reject); reads need either, which the
// service checks (the table cannot say "one of two"). Members are customer
// data: read in the caller's scope with one audit record per page.
func campaignRoutes() []route {
	return []route{
		{"GET /api/v1/campaigns", signedIn, "", (*api).listCampaigns},
		{"POST /api/v1/campaigns", signedIn, access.CampaignManage, (*api).createCampaign},
		{"GET /api/v1/campaigns/{id}", signedIn, "", campaignVerb((*campaign.Service).Get)},
		{"PUT /api/v1/campaigns/{id}", signedIn, access.CampaignManage, (*api).updateCampaign},
		{"POST /api/v1/campaigns/{id}/submit", signedIn, access.CampaignManage, campaignVerb((*campaign.Service).Submit)},
		{"POST /api/v1/campaigns/{id}/approve", signedIn, access.CampaignApprove, campaignVerb((*campaign.Service).Approve)},
		{"POST /api/v1/campaigns/{id}/reject", signedIn, access.CampaignApprove, (*api).rejectCampaign},
		{"POST /api/v1/campaigns/{id}/launch", signedIn, access.CampaignManage, campaignVerb((*campaign.Service).Launch)},
		{"POST /api/v1/campaigns/{id}/pause", signedIn, access.CampaignManage, campaignVerb((*campaign.Service).Pause)},
		{"POST /api/v1/campaigns/{id}/resume", signedIn, access.CampaignManage, campaignVerb((*campaign.Service).Resume)},
		{"POST /api/v1/campaigns/{id}/cancel", signedIn, access.CampaignManage, (*api).cancelCampaign},
		{"GET /api/v1/campaigns/{id}/runs", signedIn, "", (*api).campaignRuns},
		{"GET /api/v1/campaigns/{id}/members", signedIn, "", (*api).campaignMembers},
		{"GET /api/v1/campaigns/{id}/results", signedIn, "", (*api).campaignResults},
	}
}
