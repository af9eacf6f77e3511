package httpapi

import "kehu/internal/access"

// outboxRoutes are message templates (marketing.write) and the outbox:
// the send monitor (outbox.monitor; the list shows customers in the
// actor's scope and is audited) and the providers' signed receipts, which
// carry no session — the HMAC signature under the channel's secret is the
// credential (docs/DELIVERY.md).
func outboxRoutes() []route {
	return []route{
		{"GET /api/v1/templates", signedIn, access.MarketingWrite, (*api).listTemplates},
		{"POST /api/v1/templates", signedIn, access.MarketingWrite, (*api).createTemplate},
		{"POST /api/v1/templates/preview", signedIn, access.MarketingWrite, (*api).previewTemplate},
		{"GET /api/v1/templates/{id}", signedIn, access.MarketingWrite, (*api).getTemplate},
		{"PUT /api/v1/templates/{id}", signedIn, access.MarketingWrite, (*api).updateTemplate},
		{"GET /api/v1/templates/{id}/versions", signedIn, access.MarketingWrite, (*api).templateVersions},

		{"GET /api/v1/outbox", signedIn, access.OutboxMonitor, (*api).listOutbox},
		{"GET /api/v1/outbox/stats", signedIn, access.OutboxMonitor, (*api).outboxStats},
		{"POST /api/v1/outbox/{id}/retry", signedIn, access.OutboxMonitor, (*api).retryOutbox},
		{"POST /api/v1/outbox/receipts", public, "", (*api).outboxReceipts},
	}
}
