package httpapi

import (
	"net/http"

	"kehu/internal/access"
	"kehu/internal/policy"
	"kehu/internal/suitability"
)

// policyRoutes are suitability and the contact policy (issue 5, items 2 and
// 3; docs/POLICY.md). A customer's suitability report and a contact check
// need only customer.read (the services limit them to the caller's scope
// and record one audit entry each); reading the settings needs customer.read
// too (staff see why a contact is refused), changing them marketing.write.
func policyRoutes() []route {
	return []route{
		{"GET /api/v1/customers/{id}/suitability", signedIn, access.CustomerRead, (*api).customerSuitability},
		{"GET /api/v1/contact-policy", signedIn, access.CustomerRead, (*api).getContactPolicy},
		{"PUT /api/v1/contact-policy", signedIn, access.MarketingWrite, (*api).putContactPolicy},
		{"POST /api/v1/contact-policy/check", signedIn, access.CustomerRead, (*api).checkContactPolicy},
	}
}

// policyEnabled answers 404 when the server runs without the engines.
func (a *api) policyEnabled() error {
	if a.d.Policy == nil || a.d.Suitability == nil {
		return newProblem(http.StatusNotFound, ProblemNotFound, "the contact policy is not enabled on this server")
	}
	return nil
}

func (a *api) customerSuitability(w http.ResponseWriter, r *http.Request) error {
	if err := a.policyEnabled(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	rep, err := a.d.Suitability.ForCustomer(r.Context(), id, r.URL.Query().Get("product"))
	if err != nil {
		return err
	}
	rep.Results = append([]suitability.Result{}, rep.Results...)
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (a *api) getContactPolicy(w http.ResponseWriter, r *http.Request) error {
	if err := a.policyEnabled(); err != nil {
		return err
	}
	s, err := a.d.Policy.Settings(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

func (a *api) putContactPolicy(w http.ResponseWriter, r *http.Request) error {
	if err := a.policyEnabled(); err != nil {
		return err
	}
	var in policy.Input
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	s, err := a.d.Policy.UpdateSettings(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

func (a *api) checkContactPolicy(w http.ResponseWriter, r *http.Request) error {
	if err := a.policyEnabled(); err != nil {
		return err
	}
	var in policy.CheckRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	d, err := a.d.Policy.Check(r.Context(), in)
	if err != nil {
		return err
	}
	if d.Reasons == nil {
		d.Reasons = []policy.Reason{}
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}
