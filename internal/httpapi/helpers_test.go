package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"kehu/internal/governance"
	"kehu/internal/httpapi"
	"kehu/internal/ingest"
	"kehu/internal/level"
	"kehu/internal/org"
	"kehu/internal/privacy"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// env is one API server over a test bank. Every exchange made through it is
// checked against the OpenAPI document (see contract_test.go), so behaviour
// tests double as conformance tests.
type env struct {
	t       *testing.T
	bank    *testkit.Bank
	handler http.Handler
	metrics *httpapi.Metrics
	logs    *syncBuffer
	// notReady makes /readyz fail when set.
	notReady error
	seq      int // numbers the customers newIndividual makes
	// levels and quality run background work the tests wait for.
	levels  *level.Service
	quality *governance.Quality
	// exercised holds "METHOD /path/{template} status" of every documented
	// exchange made, so the contract test can see what it covered.
	exercised map[string]bool
}

// newIndividual returns a valid create body for a new individual at outlet A,
// with an identity number no other call returns.
func (e *env) newIndividual() map[string]any {
	e.seq++
	return map[string]any{"type": "individual", "name": "测试客户", "org_id": e.bank.OutletA.ID,
		"id_number": testkit.ResidentID(fmt.Sprintf("33010619920315%03d", e.seq)), "mobile": "+86 139 0000 0001"}
}

// id formats a customer id for a path.
func id(n int64) string { return strconv.FormatInt(n, 10) }

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	return newEnvWith(t, db, nil)
}

// newEnvWith is newEnv with edit applied to the API's dependencies (a test
// that needs one wired otherwise).
func newEnvWith(t *testing.T, db *store.DB, edit func(e *env, d *httpapi.Deps)) *env {
	t.Helper()
	b := testkit.NewBank(t, db)
	e := &env{t: t, bank: b, metrics: httpapi.NewMetrics(), logs: &syncBuffer{}, exercised: map[string]bool{}}
	// Background recomputes and measurements end before the database closes.
	e.levels, e.quality = b.LevelService(), b.QualityService()
	t.Cleanup(func() { e.levels.Wait(); e.quality.Wait() })
	logger := slog.New(slog.NewJSONHandler(e.logs, nil))
	deps := httpapi.Deps{
		Auth: b.Auth, Customers: b.CustomerService(), Entitlements: b.EntitlementService(), Orgs: org.NewService(db.Orgs()),
		Ready: func(ctx context.Context) error {
			if e.notReady != nil {
				return e.notReady
			}
			return db.Ping(ctx)
		},
		Logger: logger, Clock: b.Clock, Metrics: e.metrics, Audit: b.Audit,
		Privacy: privacy.NewService(privacy.Deps{Store: db.Privacy(), Customers: b.CustomerService(), Clock: b.Clock,
			Audit: b.Audit, Tx: db, Config: privacy.Config{BulkThreshold: privacyThreshold}}),
		Ingest: b.IngestService(t, ingest.Config{}),
		Merger: b.Merger(), Identity: b.IdentityService(),
		C360: b.C360Service(), Interactions: b.InteractionService(), Tags: b.TagService(),
		Levels: e.levels, Dictionary: b.DictionaryService(), Quality: e.quality, Segments: b.SegmentService(),
		Imports:   b.ImportService(t, importMaxBytes), // small, so the walk can send a file too large
		Templates: b.TemplateService(), Outbox: b.OutboxService(),
		Policy: b.PolicyService(), Suitability: b.SuitabilityService(),
		Tasks: b.TaskService(), Leads: b.LeadService(),
		CampaignReports: b.CampaignReportService(t),
		Journeys:        b.JourneyService(),
		JourneyReports:  b.JourneyReportService(t),
		Campaigns:       b.CampaignService(0, b.TaskService()),
	}
	if edit != nil {
		edit(e, &deps)
	}
	e.handler = httpapi.Middleware(httpapi.New(deps), logger, e.metrics)
	return e
}

// response is a finished exchange.
type response struct {
	*httptest.ResponseRecorder
	req *http.Request
}

// decode reads the JSON body into v, failing the test if it does not fit.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body.Bytes(), v); err != nil {
		t.Fatalf("%s %s: body %q: %v", r.req.Method, r.req.URL, r.Body.String(), err)
	}
}

// problem decodes a problem response.
func (r response) problem(t *testing.T) httpapi.Problem {
	t.Helper()
	if ct := r.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s %s: Content-Type %q, want application/problem+json", r.req.Method, r.req.URL, ct)
	}
	var p httpapi.Problem
	r.decode(t, &p)
	return p
}

// call describes one request.
type call struct {
	method, path string
	body         any               // marshalled to JSON unless a string or []byte
	token        string            // sent as a bearer token
	cookie       string            // sent as the session cookie
	header       map[string]string // extra headers
}

func (e *env) do(c call) response {
	e.t.Helper()
	var raw []byte
	switch b := c.body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	req := httptest.NewRequest(c.method, c.path, bytes.NewReader(raw))
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: httpapi.SessionCookieName(false), Value: c.cookie})
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if rec.Header().Get("X-Request-ID") == "" {
		e.t.Errorf("%s %s: no X-Request-ID", c.method, c.path)
	}
	if op := checkContract(e.t, req, raw, rec); op != "" {
		e.exercised[op] = true
	}
	return response{rec, req}
}

// session is a signed-in user.
type session struct {
	token, csrf string
	user        map[string]any
}

func (e *env) login(username string) session {
	e.t.Helper()
	r := e.do(call{method: "POST", path: "/api/v1/auth/login",
		body: map[string]string{"username": username, "password": testkit.Password}})
	if r.Code != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", username, r.Code, r.Body)
	}
	var out struct {
		Token     string         `json:"token"`
		CSRFToken string         `json:"csrf_token"`
		User      map[string]any `json:"user"`
	}
	r.decode(e.t, &out)
	return session{token: out.Token, csrf: out.CSRFToken, user: out.User}
}

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// issues returns the fields named by a problem.
func issues(p httpapi.Problem) string {
	var names []string
	for _, f := range p.Errors {
		names = append(names, f.Field)
	}
	return strings.Join(names, ",")
}
