// Package httpapi serves Kehu's JSON API under /api/v1 and the operational
// endpoints (/healthz, /readyz, /metrics). Handlers only decode, call a domain
// service and encode; errors leave as RFC 9457 problem documents. The OpenAPI
// document served at /api/v1/openapi.json is the contract, checked by tests.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"kehu/internal/access/entitlement"
	"kehu/internal/audit"
	"kehu/internal/auth"
	"kehu/internal/c360"
	"kehu/internal/campaign"
	"kehu/internal/campaign/report"
	"kehu/internal/customer"
	"kehu/internal/governance"
	"kehu/internal/identity"
	"kehu/internal/importer"
	"kehu/internal/ingest"
	"kehu/internal/interaction"
	"kehu/internal/journey"
	jreport "kehu/internal/journey/report"
	"kehu/internal/kehu"
	"kehu/internal/level"
	"kehu/internal/msgtemplate"
	"kehu/internal/org"
	"kehu/internal/outbox"
	"kehu/internal/policy"
	"kehu/internal/privacy"
	"kehu/internal/ratelimit"
	"kehu/internal/sales"
	"kehu/internal/segment"
	"kehu/internal/suitability"
	"kehu/internal/tag"
	"kehu/internal/task"
)

// Deps are what the API needs; cmd/kehu wires them once.
type Deps struct {
	Auth      *auth.Service
	Customers *customer.Service
	// Entitlements serves ownership, access requests and break glass.
	Entitlements *entitlement.Service
	Orgs         *org.Service
	// Ready checks the database for /readyz (store.DB.Ping); nil means ready.
	Ready  func(ctx context.Context) error
	Logger *slog.Logger
	Clock  kehu.Clock
	// SecureCookies is false only for plain-HTTP local development and tests:
	// the cookie is then named "kehu_session", without __Host- and Secure.
	SecureCookies bool
	// Metrics is served at /metrics; nil answers 404 there.
	Metrics *Metrics
	// Audit serves the audit trail to auditors (GET /api/v1/audit).
	Audit *audit.Log
	// Privacy handles data-subject requests, consents, exports and the
	// bulk-export control (docs/PRIVACY.md).
	Privacy *privacy.Service
	// LoginLimit limits sign-in attempts per client IP and per username;
	// APILimit limits requests per user. nil limits nothing (tests); cmd/kehu
	// shares LoginLimit with the web UI so both forms draw on one budget.
	LoginLimit *ratelimit.Limiter
	APILimit   *ratelimit.Limiter
	// C360 builds the customer 360 view; Interactions and Tags serve the
	// contacts and tags on a customer and the tag catalogue (docs/C360.md).
	C360         *c360.Service
	Interactions *interaction.Service
	Tags         *tag.Service
	// Ingest applies feed batches from source systems (docs/INGEST.md).
	Ingest *ingest.Service
	// Merger serves the suspected-duplicate review: merge, dismiss, undo.
	Merger *identity.Merger
	// Identity serves a customer's field provenance and source records;
	// nil answers 404 there.
	Identity *identity.Service
	// Imports runs batch imports of source-system files (docs/IMPORT.md);
	// nil answers 404 on their routes.
	Imports *importer.Service
	// Levels is the customer-level engine; Dictionary and Quality the data
	// dictionary and data-quality results (docs/GOVERNANCE.md). nil answers
	// 404 on their routes.
	Levels     *level.Service
	Dictionary *governance.Dictionary
	Quality    *governance.Quality
	// Templates are the message templates and Outbox the send monitor and
	// the providers' receipts (docs/DELIVERY.md); nil answers 404.
	Templates *msgtemplate.Service
	Outbox    *outbox.Service
	// Segments serves customer segments (docs/SEGMENTS.md); nil answers 404
	// on their routes.
	Segments *segment.Service
	// Journeys serves event-triggered journeys (docs/JOURNEYS.md); nil
	// answers 404 on their routes.
	Journeys *journey.Service
	// JourneyReports exports journey results as a workbook
	// (docs/JOURNEYS.md); nil answers 404 there.
	JourneyReports *jreport.Service
	// Policy is the contact policy and Suitability the suitability rule
	// (docs/POLICY.md); nil answers 404 on their routes.
	Policy      *policy.Service
	Suitability *suitability.Service
	// Tasks are the to-do lists and Leads the leads (docs/TASKS.md); nil
	// answers 404 on their routes.
	Tasks *task.Service
	Leads *sales.Service
	// CampaignReports exports campaign results as a workbook
	// (docs/CAMPAIGN_RESULTS.md); nil answers 404 there.
	CampaignReports *report.Service
	// Campaigns serves campaigns (docs/CAMPAIGNS.md); nil answers 404 on
	// their routes.
	Campaigns *campaign.Service
}

// api is the handlers' shared state: the dependencies, never request data.
type api struct {
	d   Deps
	log *slog.Logger
}

// New returns the handler for /api/v1/..., /healthz, /readyz and /metrics.
// Wrap it (with the UI) in Middleware for request ids, logs and metrics.
func New(d Deps) http.Handler {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Clock == nil {
		d.Clock = kehu.SystemClock{}
	}
	a := &api{d: d, log: d.Logger}
	mux := http.NewServeMux()
	for _, rt := range routes() {
		mux.Handle(rt.pattern, a.handler(rt))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			unrouted(mux, w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// handler applies the route's authentication and permission, then runs it
// and turns a returned error into a problem response.
func (a *api) handler(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setRoute(r.Context(), rt.pattern)
		if rt.access != public {
			ctx, err := a.authenticate(r)
			if err != nil {
				writeError(w, r, a.log, err)
				return
			}
			if err := a.authorize(ctx, rt); err != nil {
				a.recordRefusal(ctx, r, rt, err)
				writeError(w, r, a.log, err)
				return
			}
			r = r.WithContext(ctx)
		}
		if err := rt.handle(a, w, r); err != nil {
			writeError(w, r, a.log, err)
		}
	})
}

// unrouted answers a request no route matched with a 404 or 405 problem
// instead of ServeMux's plain-text replies. The mux's own handler is run
// against a scratch writer only to learn which of the two it chose and the
// Allow header that goes with a 405.
func unrouted(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) {
	h, _ := mux.Handler(r)
	probe := &statusProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if probe.code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		writeProblem(w, r, newProblem(http.StatusMethodNotAllowed, ProblemMethodNotAllowed,
			r.Method+" is not supported here; allowed: "+probe.header.Get("Allow")))
		return
	}
	writeProblem(w, r, newProblem(http.StatusNotFound, ProblemNotFound, "no such endpoint"))
}

// statusProbe is a ResponseWriter that keeps only the status and headers.
type statusProbe struct {
	header http.Header
	code   int
}

func (p *statusProbe) Header() http.Header         { return p.header }
func (p *statusProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *statusProbe) WriteHeader(code int)        { p.code = code }
