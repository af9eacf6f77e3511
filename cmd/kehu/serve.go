package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"kehu/internal/access/entitlement"
	"kehu/internal/account"
	"kehu/internal/audit"
	"kehu/internal/auth"
	"kehu/internal/campaign/report"
	"kehu/internal/customer"
	"kehu/internal/httpapi"
	"kehu/internal/identity"
	jreport "kehu/internal/journey/report"
	"kehu/internal/kehu"
	"kehu/internal/nightly"
	"kehu/internal/org"
	"kehu/internal/privacy"
	"kehu/internal/sales"
	"kehu/internal/segment"
	"kehu/internal/store"
	"kehu/internal/task"
	"kehu/internal/web"
)

// serveConfig is what `kehu serve` was asked to do.
type serveConfig struct {
	addr            string
	dbURL           string
	insecureCookies bool
	demoCustomers   int
	demoPassword    string
	logLevel        string
	logFormat       string
	nightlyWindow   time.Duration
}

func runServe(ctx context.Context, e env, args []string) error {
	fs := flags(e, "serve")
	var c serveConfig
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port)")
	fs.StringVar(&c.dbURL, "db", "sqlite:data/kehu.db", "database URL: sqlite:PATH or postgres://...")
	fs.BoolVar(&c.insecureCookies, "insecure-cookies", false,
		"send the session cookie without Secure and __Host- (only for plain-HTTP development on your own machine)")
	fs.IntVar(&c.demoCustomers, "demo-customers", 0, "when the database is empty, first create a demo bank with this many customers")
	fs.StringVar(&c.demoPassword, "demo-password", defaultDemoPassword, "password of the demo users")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "text", "text or json")
	fs.DurationVar(&c.nightlyWindow, "nightly-window", nightly.DefaultWindow,
		"how long after 02:00 (Asia/Shanghai) the nightly jobs may still begin; a server started later leaves them to the next night")
	keysFile := keysFlag(fs)
	sec := securityFlags(fs)
	priv := privacyFlags(fs)
	c3 := c360Flags(fs)
	ing := ingestFlags(fs)
	imp := importServeFlags(fs)
	ob := outboxFlags(fs)
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if err := sec.validate(c.insecureCookies); err != nil {
		return err
	}
	privacyCfg, err := priv.config()
	if err != nil {
		return err
	}
	if err := c3.validate(); err != nil {
		return err
	}
	if err := ing.validate(); err != nil {
		return err
	}
	if err := imp.validate(c.dbURL); err != nil {
		return err
	}
	if err := ob.validate(c.dbURL); err != nil {
		return err
	}
	if c.nightlyWindow < time.Minute || c.nightlyWindow > nightly.MaxWindow {
		return usageError{fmt.Sprintf("serve: --nightly-window %s: want between 1m and %s", c.nightlyWindow, nightly.MaxWindow)}
	}
	logger, err := newLogger(e, c.logLevel, c.logFormat)
	if err != nil {
		return err
	}
	db, err := openKeyedDB(ctx, e, c.dbURL, *keysFile, true, func(msg string) { logger.Warn(msg) })
	if err != nil {
		return err
	}
	defer db.Close()
	if c.demoCustomers > 0 {
		if err := ensureDemo(ctx, e, db, c.demoCustomers, c.demoPassword); err != nil {
			return fmt.Errorf("demo bank: %w", err)
		}
	} else if n, err := db.Orgs().CountOrgs(ctx); err == nil && n == 0 {
		logger.Warn("the database is empty: create a bank with `kehu init` or a demo bank with `kehu demo`")
	}
	if err := ensureTagCatalogue(ctx, db); err != nil {
		return err
	}
	// Levels, the data dictionary and data quality, with the nightly
	// scheduler (02:00 Asia/Shanghai) that stops with the server.
	gov := newGovernanceSet(ctx)
	gov.window = c.nightlyWindow
	handler, err := buildHandler(db, logger, !c.insecureCookies, sec, privacyCfg, c3, gov, ing, imp, ob)
	if err != nil {
		return err
	}
	if c.demoCustomers > 0 {
		// A demo bank starts with templates, segments, a campaign awaiting
		// approval and journeys, once (docs/DEMO.md).
		if err := seedMarketing(ctx, db, ob.marketing); err != nil {
			return fmt.Errorf("demo bank: %w", err)
		}
	}
	wait := gov.start()
	defer wait()
	// Import jobs run in this process until it stops (docs/IMPORT.md).
	defer imp.start(ctx)()
	// The outbox dispatcher sends queued messages until the server stops.
	defer ob.start(ctx)()
	// Journeys act on the feeds' events until the server stops.
	defer ing.journeys.start(ctx)()
	// Campaign launches run when due until the server stops.
	defer ob.startCampaigns(ctx)()
	return listenAndServe(ctx, e, logger, c.addr, handler, sec)
}

// newLogger builds the structured logger every request and job writes to.
func newLogger(e env, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Sprintf("serve: --log-level %q: want debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(e.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(e.stderr, opts)), nil
	}
	return nil, usageError{fmt.Sprintf("serve: --log-format %q: want text or json", format)}
}

// buildHandler wires the services to the API and the UI: the one place where
// the packages meet.
func buildHandler(db *store.DB, logger *slog.Logger, secureCookies bool, sec *securityConfig,
	privacyCfg privacy.Config, c3 *c360Config, gov *governanceSet, ing *ingestConfig, imp *importServeConfig, ob *outboxConfig) (http.Handler, error) {
	clock := kehu.SystemClock{}
	trail := audit.NewLog(db.Audit(), db, clock)
	authCfg := auth.DefaultConfig
	authCfg.Audit, authCfg.Tx = trail, db
	sec.apply(&authCfg)
	if k := db.Keys(); k != nil {
		authCfg.Sealer = keyringSealer{k}
	}
	loginLimit, apiLimit := sec.limiters(clock)
	authSvc, err := auth.NewService(db.Users(), clock, authCfg)
	if err != nil {
		return nil, err
	}
	// A c2_fields grant lets its holder unmask that customer without
	// customer.unmask (docs/SECURITY.md).
	// Edits through Kehu record their provenance ("kehu"), so imports do not
	// undo a person's correction (docs/IMPORT.md).
	customers := customer.NewService(customer.Deps{Store: identity.TrackEdits(db.Customers(), db.Identity(), clock),
		Clock: clock, Audit: trail, Tx: db,
		Grants: entitlement.NewGrants(db.Entitlements(), clock)})
	orgs := org.NewService(db.Orgs())
	entitlements := entitlement.NewService(entitlement.Deps{Store: db.Entitlements(), Clock: clock, Audit: trail,
		Tx: db, Customers: customers})
	accounts := account.NewService(account.Deps{Store: db.Accounts(), Customers: customers, Clock: clock})
	// Bulk threshold and the holiday calendar come from --bulk-threshold,
	// --privacy-holidays and --privacy-workdays (docs/PRIVACY.md).
	privacySvc := privacy.NewService(privacy.Deps{Store: db.Privacy(), Customers: customers, Clock: clock,
		Audit: trail, Tx: db, Config: privacyCfg})
	// The 360 view, interactions (--pitch-quiet-days) and tags (docs/C360.md).
	gov.wire(db, clock, trail, customers, orgs, logger)
	svc360 := c3.services(db, clock, trail, customers, accounts, levelExplainer{gov.levels})
	gov.addJob("tags", func(ctx context.Context) error {
		_, err := svc360.tags.RecomputeAll(ctx, nil)
		return err
	})
	// Feeds (--ingest-*) and the duplicate review (docs/INGEST.md, docs/IMPORT.md).
	if ing == nil {
		ing = defaultIngestConfig()
	}
	ingSvc, err := ing.services(db, clock, trail, customers, gov.levels, logger)
	if err != nil {
		return nil, err
	}
	gov.addJob("ingest-keys", func(ctx context.Context) error {
		_, err := ingSvc.feeds.Purge(ctx)
		return err
	})
	imports, err := imp.services(db, clock, trail, customers, gov.levels, logger)
	if err != nil {
		return nil, err
	}
	// Customer segments (docs/SEGMENTS.md).
	segments := segment.NewService(segment.Deps{Store: db.Segments(), Customers: customers, Clock: clock, Audit: trail,
		Tx: db, Tags: segment.TagCatalogue{Tags: svc360.tags}})
	// Suitability and the contact policy (docs/POLICY.md).
	pol := newPolicySet(db, clock, trail, customers, svc360.interactions)
	// Message templates and the outbox (docs/DELIVERY.md); each send asks
	// the contact policy again, so consent withdrawn after queueing wins.
	if err := ob.wire(db, clock, trail, customers, logger, pol.sendCheck); err != nil {
		return nil, err
	}
	templates, monitor := ob.services()
	// To-do lists and leads (docs/TASKS.md), which campaigns and journeys fill.
	tasks := task.NewService(task.Deps{Store: db.Tasks(), Customers: customers, Clock: clock, Audit: trail, Tx: db})
	leads := sales.NewService(sales.Deps{Store: db.Leads(), Customers: customers, Clock: clock, Audit: trail, Tx: db})
	// Journeys (docs/JOURNEYS.md): woken by the feeds, daily triggers at night.
	ing.journeys.wire(db, clock, trail, customers, segments, pol.policy, tasks, leads, logger)
	gov.addJob("journeys", ing.journeys.daily)
	// Campaigns (docs/CAMPAIGNS.md): launched by a runner in this server.
	ob.wireCampaigns(db, clock, trail, customers, segments, pol.policy, tasks, logger)
	campaigns := ob.campaignService()
	if ob != nil && ing != nil {
		ob.marketing = marketingServices{templates: templates, segments: segments, campaigns: campaigns,
			journeys: ing.journeys.service}
	}
	// Campaign results as charts and a workbook (docs/CAMPAIGN_RESULTS.md).
	reports, err := report.NewService(report.Deps{Campaigns: campaigns, Store: db.CampaignReports(), Customers: customers,
		Audit: trail, Tx: db, Clock: clock, Bulk: privacySvc})
	if err != nil {
		return nil, err
	}
	// Journey results as a workbook (docs/JOURNEYS.md).
	var journeyReports *jreport.Service
	if ing.journeys.service != nil {
		if journeyReports, err = jreport.NewService(jreport.Deps{Journeys: ing.journeys.service,
			Store: db.JourneyReports(), Customers: customers, Products: db.Journeys(), Audit: trail, Tx: db,
			Clock: clock, Bulk: privacySvc}); err != nil {
			return nil, err
		}
	}
	// Field provenance and source records of a customer (数据来源).
	ids := identity.NewService(identity.Deps{Store: db.Identity(), Tx: db, Audit: trail, Customers: customers})
	metrics := httpapi.NewMetrics()
	api := httpapi.New(httpapi.Deps{Auth: authSvc, Customers: customers, Entitlements: entitlements, Orgs: orgs, Ready: db.Ping,
		Logger: logger, Clock: clock, SecureCookies: secureCookies, Metrics: metrics,
		LoginLimit: loginLimit, APILimit: apiLimit, Audit: trail, Privacy: privacySvc,
		Templates: templates, Outbox: monitor,
		C360: svc360.view, Interactions: svc360.interactions, Tags: svc360.tags,
		Levels: gov.levels, Dictionary: gov.dictionary, Quality: gov.quality,
		Policy: pol.policy, Suitability: pol.suitability,
		Ingest: ingSvc.feeds, Merger: ingSvc.merger, Imports: imports, Identity: ids, Segments: segments,
		Tasks: tasks, Leads: leads, Journeys: ing.journeys.service, Campaigns: campaigns,
		CampaignReports: reports, JourneyReports: journeyReports})
	ui, err := web.New(web.Deps{Auth: authSvc, Customers: customers, Orgs: orgs, Accounts: accounts, Entitlements: entitlements, Audit: trail,
		Privacy: privacySvc, Logger: logger, Clock: clock, SecureCookies: secureCookies, LoginLimit: loginLimit,
		Templates: templates, Outbox: monitor,
		C360: svc360.view, Interactions: svc360.interactions, Tags: svc360.tags,
		Policy: pol.policy, Suitability: pol.suitability,
		Levels: gov.levels, Dictionary: gov.dictionary, Quality: gov.quality, Merger: ingSvc.merger, Imports: imports,
		Tasks: tasks, Leads: leads, CampaignReports: reports,
		Segments: segments, Identity: ids, Journeys: ing.journeys.service, JourneyReports: journeyReports})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	for _, p := range []string{"/api/", "/healthz", "/readyz", "/metrics"} {
		mux.Handle(p, api)
	}
	mux.Handle("/", ui)
	return withHSTS(httpapi.Middleware(mux, logger, metrics), secureCookies), nil
}

// listenAndServe serves until ctx is cancelled (SIGINT/SIGTERM), then lets
// requests in flight finish.
func listenAndServe(ctx context.Context, e env, logger *slog.Logger, addr string, h http.Handler, sec *securityConfig) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return kehu.Errorf(kehu.EUNAVAILABLE, "cannot listen on %s: %v", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	fmt.Fprintf(e.stdout, "Kehu is serving at %s\n", sec.scheme()+strings.TrimPrefix(serveURL(ln.Addr()), "http"))
	errc := make(chan error, 1)
	go func() { errc <- sec.serveOn(srv, ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveURL is the address a person can click: a wildcard listen address is
// shown as localhost.
func serveURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String() + "/"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return "http://" + host + ":" + port + "/"
}
