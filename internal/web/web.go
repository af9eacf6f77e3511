// Package web serves the staff user interface: server-rendered html/template
// pages enhanced with vendored htmx, every string from the i18n catalogues,
// CSRF tokens on every form. It holds no business rules: pages call the same
// services as the JSON API, so scope and permissions apply identically.
package web

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"kehu/internal/access"
	"kehu/internal/access/entitlement"
	"kehu/internal/account"
	"kehu/internal/audit"
	"kehu/internal/auth"
	"kehu/internal/c360"
	"kehu/internal/campaign"
	"kehu/internal/campaign/report"
	"kehu/internal/customer"
	"kehu/internal/governance"
	"kehu/internal/i18n"
	"kehu/internal/identity"
	"kehu/internal/importer"
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

// Deps are the services and settings the UI needs; cmd/kehu wires them.
type Deps struct {
	Auth      *auth.Service
	Customers *customer.Service
	Orgs      *org.Service
	Accounts  *account.Service
	// Entitlements serves the access page (requests, approvals, break
	// glass, review); nil hides it.
	Entitlements *entitlement.Service
	// Audit is the audit trail the audit page searches and exports; it
	// checks audit.read and records each search itself.
	Audit *audit.Log
	// Privacy serves the data-subject-rights pages, the consents panel and
	// the bulk export (docs/PRIVACY.md); nil hides them.
	Privacy *privacy.Service
	Logger  *slog.Logger
	Clock   kehu.Clock
	// SecureCookies marks cookies Secure and uses the __Host- session cookie
	// name; false only for plain-http local development and tests.
	SecureCookies bool
	// LoginLimit limits sign-in attempts per client IP and per username,
	// shared with the JSON API; nil limits nothing.
	LoginLimit *ratelimit.Limiter
	// C360 builds the customer page; Interactions and Tags serve its
	// 互动 and 标签 forms (docs/C360.md).
	C360         *c360.Service
	Interactions *interaction.Service
	Tags         *tag.Service
	// Levels serves 客户等级规则; Dictionary and Quality 数据字典 and 数据质量
	// (docs/GOVERNANCE.md). nil hides them (404).
	Levels     *level.Service
	Dictionary *governance.Dictionary
	Quality    *governance.Quality
	// Templates serves 消息模板 and Outbox 发送监控 (docs/DELIVERY.md); nil
	// hides them.
	Templates *msgtemplate.Service
	Outbox    *outbox.Service
	// Segments serves 客群 (docs/SEGMENTS.md); nil hides it.
	Segments *segment.Service
	// Tasks serves 我的待办 and Leads 线索 (docs/TASKS.md); nil hides them.
	Tasks *task.Service
	Leads *sales.Service
	// CampaignReports serves 活动效果 (docs/CAMPAIGN_RESULTS.md); nil hides it.
	CampaignReports *report.Service
	// Journeys serves 客户旅程 (docs/JOURNEYS.md); nil hides it.
	Journeys *journey.Service
	// JourneyReports serves the journey results workbook link on 旅程效果
	// (docs/JOURNEYS.md); nil hides the link.
	JourneyReports *jreport.Service
	// Campaigns serves 营销活动 (docs/CAMPAIGNS.md); nil hides it.
	Campaigns *campaign.Service
	// Merger serves 疑似重复客户 (merge, dismiss, undo); nil hides it.
	Merger *identity.Merger
	// Imports runs batch imports (docs/IMPORT.md): the 数据导入 page; nil
	// hides it.
	Imports *importer.Service
	// Identity serves the customer page's 数据来源 tab (field provenance and
	// source records); nil answers 404 there.
	Identity *identity.Service
	// Policy serves 触达策略 and Suitability the customer page's 适当性
	// panel (docs/POLICY.md); nil hides them.
	Policy      *policy.Service
	Suitability *suitability.Service
}

// server is the UI handler; it is immutable after New, so it needs no locks.
type server struct {
	Deps
	i18n   *i18n.Bundle
	pages  *pageSet
	static *assets
	loc    *time.Location
	cop    *http.CrossOriginProtection
}

// New returns the handler for every path outside /api/: the pages, the
// language switch and the embedded static assets.
func New(d Deps) (http.Handler, error) {
	if d.Auth == nil || d.Customers == nil || d.Orgs == nil || d.Accounts == nil || d.Audit == nil {
		return nil, errors.New("web: Auth, Customers, Orgs, Accounts and Audit are required")
	}
	if d.C360 == nil || d.Interactions == nil || d.Tags == nil {
		return nil, errors.New("web: C360, Interactions and Tags are required (the customer page)")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Clock == nil {
		d.Clock = kehu.SystemClock{}
	}
	bundle, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	static, err := loadAssets()
	if err != nil {
		return nil, err
	}
	s := &server{Deps: d, i18n: bundle, static: static, loc: kehu.LoadShanghai(),
		cop: http.NewCrossOriginProtection()}
	if s.pages, err = parsePages(bundle, s.funcs); err != nil {
		return nil, err
	}
	return s.routes(), nil
}

// routes is the page table. Pages needing a signed-in user are wrapped in
// signedIn; every POST is wrapped in checkCSRF.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", s.static)
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.checkCSRF(s.login))
	mux.HandleFunc("POST /login/totp", s.checkCSRF(s.loginTOTP))
	mux.HandleFunc("GET /security", s.signedIn(s.securityPage))
	mux.HandleFunc("POST /security/password", s.signedIn(s.checkCSRF(s.changePassword)))
	mux.HandleFunc("POST /security/totp", s.signedIn(s.checkCSRF(s.beginTOTP)))
	mux.HandleFunc("POST /security/totp/confirm", s.signedIn(s.checkCSRF(s.confirmTOTP)))
	mux.HandleFunc("POST /security/sessions/{id}/revoke", s.signedIn(s.checkCSRF(s.revokeSession)))
	mux.HandleFunc("POST /security/sessions/revoke-others", s.signedIn(s.checkCSRF(s.revokeOtherSessions)))
	mux.HandleFunc("POST /security/tokens", s.signedIn(s.checkCSRF(s.createToken)))
	mux.HandleFunc("POST /security/tokens/{id}/revoke", s.signedIn(s.checkCSRF(s.revokeToken)))
	mux.HandleFunc("POST /logout", s.signedIn(s.checkCSRF(s.logout)))
	mux.HandleFunc("POST /lang", s.checkCSRF(s.setLanguage))
	mux.HandleFunc("GET /customers", s.signedIn(s.customerList))
	mux.HandleFunc("GET /customers/{id}", s.signedIn(s.customerPage))
	mux.HandleFunc("GET /customers/{id}/unmask", s.signedIn(s.unmaskForm))
	mux.HandleFunc("POST /customers/{id}/unmask", s.signedIn(s.checkCSRF(s.unmask)))
	mux.HandleFunc("GET /orgs", s.signedIn(s.orgTree))
	mux.HandleFunc("GET /access", s.signedIn(s.accessPage))
	mux.HandleFunc("POST /access/requests", s.signedIn(s.checkCSRF(s.fileAccessRequest)))
	mux.HandleFunc("POST /access/requests/{id}/{verb}", s.signedIn(s.checkCSRF(s.decideAccess)))
	mux.HandleFunc("POST /access/break-glass", s.signedIn(s.checkCSRF(s.breakGlass)))
	mux.HandleFunc("POST /access/break-glass/{id}/review", s.signedIn(s.checkCSRF(s.reviewBreakGlass)))
	mux.HandleFunc("GET /audit", s.signedIn(s.auditPage))
	mux.HandleFunc("GET /audit/export", s.signedIn(s.auditExport))
	s.privacyRoutes(mux)
	s.ownersRoutes(mux)
	s.importRoutes(mux)
	s.outboxRoutes(mux)
	s.c360Routes(mux)
	s.provenanceRoutes(mux)
	s.governanceRoutes(mux)
	s.duplicatesRoutes(mux)
	s.policyRoutes(mux)
	s.segmentRoutes(mux)
	s.taskRoutes(mux)
	s.campaignResultsRoutes(mux)
	s.journeyRoutes(mux)
	s.campaignRoutes(mux)
	mux.HandleFunc("/", s.notFound)
	return s.recoverPanics(s.securityHeaders(s.identify(mux)))
}

// home sends a signed-in user to their first page and others to the login.
func (s *server) home(w http.ResponseWriter, r *http.Request) {
	if st := stateOf(r); st.signedIn {
		// A role without customers (an integration account) starts at
		// its first page instead of a 403.
		to := "/customers"
		if !access.Can(st.actor.Role, access.CustomerRead) {
			to = navFor(st.actor.Role)[0].Href
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, kehu.Errorf(kehu.ENOTFOUND, "no such page"))
}
