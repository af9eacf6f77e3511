package httpapi

import (
	"net/http"

	"kehu/internal/access"
)

// identityRoutes serve what identity resolution knows about a customer
// (docs/IMPORT.md, "Survivorship and provenance"): which source system set
// each field and when, and the customer's records in the source systems.
// The service applies the read scope and records one customer.provenance.
func identityRoutes() []route {
	return []route{
		{"GET /api/v1/customers/{id}/provenance", signedIn, access.CustomerRead, (*api).customerProvenance},
	}
}

func (a *api) customerProvenance(w http.ResponseWriter, r *http.Request) error {
	if a.d.Identity == nil {
		return newProblem(http.StatusNotFound, ProblemNotFound, "provenance is not enabled on this server")
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := a.d.Identity.Provenance(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}
