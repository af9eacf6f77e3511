package httpapi

import (
	"context"
	"net/http"
	"time"
)

// orgJSON is an organisation as the API shows it; the materialised path is an
// internal index, so it is left out.
type orgJSON struct {
	ID         int64  `json:"id"`
	ParentID   *int64 `json:"parent_id"`
	Code       string `json:"code"`
	Name       string `json:"name"`
	NameEN     string `json:"name_en"`
	Level      string `json:"level"`
	RegionCode string `json:"region_code"`
	City       string `json:"city"`
}

// listOrgs returns the whole organisation tree, parents before children.
func (a *api) listOrgs(w http.ResponseWriter, r *http.Request) error {
	orgs, err := a.d.Orgs.List(r.Context())
	if err != nil {
		return err
	}
	items := make([]orgJSON, 0, len(orgs))
	for _, o := range orgs {
		items = append(items, orgJSON{ID: o.ID, ParentID: o.ParentID, Code: o.Code, Name: o.Name,
			NameEN: o.NameEN, Level: o.Level, RegionCode: o.RegionCode, City: o.City})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

// healthz reports that the process serves requests; it checks nothing else,
// so a slow database does not get a healthy process restarted.
func (a *api) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz reports whether the database answers, so a load balancer stops
// sending traffic to an instance that cannot serve it.
func (a *api) readyz(w http.ResponseWriter, r *http.Request) error {
	if a.d.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.d.Ready(ctx); err != nil {
			a.log.WarnContext(ctx, "not ready", "request_id", RequestID(ctx), "err", err)
			return newProblem(http.StatusServiceUnavailable, ProblemUnavailable, "the database is not reachable")
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// metrics serves Prometheus metrics. They hold no personal data, but the
// port should still be reachable only from the monitoring network.
func (a *api) metrics(w http.ResponseWriter, r *http.Request) error {
	if a.d.Metrics == nil {
		return newProblem(http.StatusNotFound, ProblemNotFound, "metrics are not enabled")
	}
	a.d.Metrics.Handler().ServeHTTP(w, r)
	return nil
}

// openapi serves the OpenAPI document.
func (a *api) openapi(w http.ResponseWriter, r *http.Request) error {
	doc, err := OpenAPIDocument()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(doc)
	return err
}
