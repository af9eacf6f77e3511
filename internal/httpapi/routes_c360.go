package httpapi

import "kehu/internal/access"

// c360Routes are the customer 360 (issue 4): the view, its transactions,
// interactions, the tags on a customer and the tag catalogue. Every
// customer route needs only customer.read: the services limit it to the
// caller's scope, so whoever may see a customer may record a contact or tag
// them. Contact preferences are the customer's data: customer.write and the
// write scope. Editing the catalogue needs tag.manage.
func c360Routes() []route {
	return []route{
		{"GET /api/v1/customers/{id}/360", signedIn, access.CustomerRead, (*api).customer360},
		{"GET /api/v1/customers/{id}/transactions", signedIn, access.CustomerRead, (*api).customerTransactions},
		{"GET /api/v1/customers/{id}/interactions", signedIn, access.CustomerRead, (*api).listInteractions},
		{"POST /api/v1/customers/{id}/interactions", signedIn, access.CustomerRead, (*api).recordInteraction},
		{"POST /api/v1/customers/{id}/tags", signedIn, access.CustomerRead, (*api).tagCustomer},
		{"DELETE /api/v1/customers/{id}/tags/{tag_id}", signedIn, access.CustomerRead, (*api).untagCustomer},
		{"PUT /api/v1/customers/{id}/preferences", signedIn, access.CustomerWrite, (*api).setPreferences},
		{"GET /api/v1/tags", signedIn, "", (*api).listTags},
		{"POST /api/v1/tags", signedIn, access.TagManage, (*api).createTag},
		{"PATCH /api/v1/tags/{id}", signedIn, access.TagManage, (*api).updateTag},
		{"DELETE /api/v1/tags/{id}", signedIn, access.TagManage, (*api).deleteTag},
	}
}
