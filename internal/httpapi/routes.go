package httpapi

import (
	"net/http"
	"slices"

	"kehu/internal/access"
)

// accessMode says who may call a route at all.
type accessMode int

const (
	public   accessMode = iota // anyone, no credentials
	signedIn                   // any authenticated user; perm narrows it further
)

// route is one line of the route table: the ServeMux pattern, who may call
// it, and the handler.
type route struct {
	pattern string
	access  accessMode
	perm    access.Permission // "" when any signed-in user may call it
	handle  func(a *api, w http.ResponseWriter, r *http.Request) error
}

// routes is the route table, the single place that says which endpoint needs
// which permission. The services check permission and scope again, so a
// mistake here cannot widen access; it only fails earlier. The OpenAPI
// conformance test checks this table and the document describe the same set.
// Each capability keeps its part of the table in its own file (routes_*.go).
func routes() []route {
	return slices.Concat(
		foundationRoutes(),
		c360Routes(),
		ingestRoutes(),
		mergeRoutes(),
		identityRoutes(),
		governanceRoutes(),
		importRoutes(),
		outboxRoutes(),
		segmentRoutes(),
		journeyRoutes(),
		policyRoutes(),
		taskRoutes(),
		campaignReportRoutes(),
		campaignRoutes(),
	)
}

// foundationRoutes are the routes of the foundation and trust issues:
// operations, sessions, customers, ownership, access, audit and privacy.
func foundationRoutes() []route {
	return []route{
		// Operations: probes and metrics for the platform, no credentials.
		{"GET /healthz", public, "", (*api).healthz},
		{"GET /readyz", public, "", (*api).readyz},
		{"GET /metrics", public, "", (*api).metrics},
		{"GET /api/v1/openapi.json", public, "", (*api).openapi},

		// Sessions. Login needs no CSRF token: it only accepts
		// application/json, which a cross-site form cannot send.
		{"POST /api/v1/auth/login", public, "", (*api).login},
		{"POST /api/v1/auth/logout", signedIn, "", (*api).logout},
		{"GET /api/v1/me", signedIn, "", (*api).me},

		// Security settings of the signed-in user (docs/SECURITY.md). They
		// need a session: authorize refuses API tokens here.
		{"POST /api/v1/me/password", signedIn, "", (*api).changePassword},
		{"GET /api/v1/me/sessions", signedIn, "", (*api).listSessions},
		{"DELETE /api/v1/me/sessions", signedIn, "", (*api).revokeOtherSessions},
		{"DELETE /api/v1/me/sessions/{id}", signedIn, "", (*api).revokeSession},
		{"POST /api/v1/me/totp", signedIn, "", (*api).beginTOTP},
		{"POST /api/v1/me/totp/confirm", signedIn, "", (*api).confirmTOTP},
		{"GET /api/v1/me/tokens", signedIn, "", (*api).listTokens},
		{"POST /api/v1/me/tokens", signedIn, "", (*api).createMyToken},
		{"DELETE /api/v1/me/tokens/{id}", signedIn, "", (*api).revokeToken},
		{"DELETE /api/v1/users/{id}/sessions", signedIn, access.UserManage, (*api).revokeUserSessions},
		{"POST /api/v1/users/{id}/tokens", signedIn, access.UserManage, (*api).createUserToken},

		// Customers; the service limits every call to the actor's data scope.
		{"GET /api/v1/customers", signedIn, access.CustomerRead, (*api).listCustomers},
		{"POST /api/v1/customers", signedIn, access.CustomerWrite, (*api).createCustomer},
		{"GET /api/v1/customers/{id}", signedIn, access.CustomerRead, (*api).getCustomer},
		{"PATCH /api/v1/customers/{id}", signedIn, access.CustomerWrite, (*api).updateCustomer},
		// Clear values of masked fields, with a reason; audited (docs/SECURITY.md).
		// No route permission: customer.unmask or an approved c2_fields
		// grant for this customer opens it, which only the service can
		// tell; API tokens still need the customer.unmask scope (tokenScopes).
		{"POST /api/v1/customers/{id}/unmask", signedIn, "", (*api).unmaskCustomer},

		// Ownership: who looks after a customer, and managers moving
		// customers between their RMs (internal/access/entitlement).
		{"GET /api/v1/customers/{id}/owners", signedIn, access.CustomerRead, (*api).customerOwners},
		{"POST /api/v1/customers/{id}/transfer", signedIn, access.CustomerTransfer, (*api).transferCustomer},
		{"POST /api/v1/customer-transfers", signedIn, access.CustomerTransfer, (*api).transferCustomers},
		{"POST /api/v1/customers/{id}/secondary-rms", signedIn, access.CustomerTransfer, (*api).addSecondaryRM},
		{"DELETE /api/v1/customers/{id}/secondary-rms/{user_id}", signedIn, access.CustomerTransfer, (*api).removeSecondaryRM},

		// Wider access: requests decided by approvers, break glass reviewed
		// by compliance. Filing and listing one's own requests needs only
		// customer.read; the service applies the approver rules.
		{"POST /api/v1/access-requests", signedIn, access.CustomerRead, (*api).createAccessRequest},
		{"GET /api/v1/access-requests", signedIn, access.CustomerRead, (*api).listAccessRequests},
		{"POST /api/v1/access-requests/{id}/approve", signedIn, access.AccessApprove, (*api).approveAccessRequest},
		{"POST /api/v1/access-requests/{id}/deny", signedIn, access.AccessApprove, (*api).denyAccessRequest},
		{"POST /api/v1/access-requests/{id}/revoke", signedIn, access.CustomerRead, (*api).revokeAccessRequest},
		{"POST /api/v1/break-glass", signedIn, access.BreakGlass, (*api).breakGlass},
		{"GET /api/v1/break-glass", signedIn, access.AccessReview, (*api).listBreakGlass},
		{"POST /api/v1/break-glass/{id}/review", signedIn, access.AccessReview, (*api).reviewBreakGlass},

		// The organisation tree is not personal data and every user's scope
		// is drawn from it (forms pick a home outlet), so any user may read it.
		{"GET /api/v1/orgs", signedIn, "", (*api).listOrgs},

		// The audit trail, for compliance; searches and exports are recorded.
		{"GET /api/v1/audit", signedIn, access.AuditRead, (*api).searchAudit},
		{"GET /api/v1/audit/export", signedIn, access.AuditRead, (*api).exportAudit},

		// Data-subject rights under PIPL and bulk-export control
		// (docs/PRIVACY.md). Anyone may file a request for a customer in
		// scope or withdraw consent; privacy managers handle requests. The
		// customer export above the bulk threshold needs an approval.
		{"POST /api/v1/privacy-requests", signedIn, access.CustomerRead, (*api).filePrivacyRequest},
		{"GET /api/v1/privacy-requests", signedIn, access.PrivacyManage, (*api).listPrivacyRequests},
		{"GET /api/v1/privacy-requests/{id}", signedIn, access.PrivacyManage, (*api).getPrivacyRequest},
		{"POST /api/v1/privacy-requests/{id}/start", signedIn, access.PrivacyManage, (*api).startPrivacyRequest},
		{"POST /api/v1/privacy-requests/{id}/complete", signedIn, access.PrivacyManage, (*api).completePrivacyRequest},
		{"POST /api/v1/privacy-requests/{id}/reject", signedIn, access.PrivacyManage, (*api).rejectPrivacyRequest},
		{"GET /api/v1/customers/{id}/export", signedIn, access.PrivacyManage, (*api).exportCustomerData},
		{"GET /api/v1/customers/{id}/consents", signedIn, access.CustomerRead, (*api).getConsents},
		{"PUT /api/v1/customers/{id}/consents", signedIn, access.CustomerRead, (*api).putConsents},
		{"GET /api/v1/customers/export", signedIn, access.CustomerRead, (*api).exportCustomers},
		{"GET /api/v1/compliance/alerts", signedIn, access.PrivacyManage, (*api).listComplianceAlerts},
		{"POST /api/v1/bulk-export-approvals", signedIn, access.CustomerRead, (*api).requestBulkApproval},
		{"GET /api/v1/bulk-export-approvals", signedIn, access.PrivacyManage, (*api).listBulkApprovals},
		{"POST /api/v1/bulk-export-approvals/{id}/decision", signedIn, access.PrivacyManage, (*api).decideBulkApproval},
	}
}
