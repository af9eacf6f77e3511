package httpapi

import "kehu/internal/access"

// importRoutes are the batch imports (internal/importer, docs/IMPORT.md):
// uploads run as background jobs of the server. data.import (administrators,
// branch managers) guards them; the service adds the data scope and shows
// each user their own jobs (administrators everybody's).
func importRoutes() []route {
	return []route{
		{"POST /api/v1/imports/preview", signedIn, access.DataImport, (*api).previewImport},
		{"POST /api/v1/imports", signedIn, access.DataImport, (*api).createImport},
		{"GET /api/v1/imports", signedIn, access.DataImport, (*api).listImports},
		{"GET /api/v1/imports/{id}", signedIn, access.DataImport, (*api).getImport},
		{"GET /api/v1/imports/{id}/rejects", signedIn, access.DataImport, (*api).importRejects},
		{"POST /api/v1/imports/{id}/resume", signedIn, access.DataImport, (*api).resumeImport},
		{"POST /api/v1/imports/{id}/cancel", signedIn, access.DataImport, (*api).cancelImport},
		{"POST /api/v1/imports/{id}/rollback", signedIn, access.DataImport, (*api).rollbackImport},
	}
}
