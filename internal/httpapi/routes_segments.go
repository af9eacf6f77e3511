package httpapi

import "kehu/internal/access"

// segmentRoutes are customer segments (docs/SEGMENTS.md): the field
// catalogue and the live count need customer.read (the count is limited to
// the caller's scope); saving, changing, deleting and snapshotting need
// marketing.write; a segment's members are customer data, read in the
// caller's scope with one audit record per page.
func segmentRoutes() []route {
	return []route{
		{"GET /api/v1/segments/fields", signedIn, access.CustomerRead, (*api).segmentFields},
		{"POST /api/v1/segments/count", signedIn, access.CustomerRead, (*api).countSegment},
		{"GET /api/v1/segments", signedIn, access.CustomerRead, (*api).listSegments},
		{"POST /api/v1/segments", signedIn, access.MarketingWrite, (*api).createSegment},
		{"GET /api/v1/segments/{id}", signedIn, access.CustomerRead, (*api).getSegment},
		{"PUT /api/v1/segments/{id}", signedIn, access.MarketingWrite, (*api).updateSegment},
		{"DELETE /api/v1/segments/{id}", signedIn, access.MarketingWrite, (*api).deleteSegment},
		{"GET /api/v1/segments/{id}/members", signedIn, access.CustomerRead, (*api).segmentMembers},
		{"POST /api/v1/segments/{id}/snapshot", signedIn, access.MarketingWrite, (*api).snapshotSegment},
	}
}
