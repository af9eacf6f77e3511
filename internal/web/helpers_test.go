package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"kehu/internal/governance"
	"kehu/internal/level"
	"kehu/internal/org"
	"kehu/internal/store"
	"kehu/internal/testkit"
	"kehu/internal/web"
)

// app is a UI server over a test bank.
type app struct {
	*testkit.Bank
	srv  *httptest.Server
	logs *syncBuffer // the UI's slog output, JSON lines, scanned for personal data
	// levels and quality run the background work tests wait for.
	levels  *level.Service
	quality *governance.Quality
}

func newApp(t *testing.T, db *store.DB) *app {
	t.Helper()
	b := testkit.NewBank(t, db)
	logs := &syncBuffer{}
	// Background recomputes and measurements end before the database closes.
	levels, quality := b.LevelService(), b.QualityService()
	t.Cleanup(func() { levels.Wait(); quality.Wait() })
	h, err := web.New(web.Deps{Auth: b.Auth, Customers: b.CustomerService(), Orgs: org.NewService(db.Orgs()),
		Accounts: b.AccountService(), Entitlements: b.EntitlementService(), Audit: b.Audit, Clock: b.Clock,
		Privacy: privacyService(b, 0), Logger: testLogger(logs),
		C360: b.C360Service(), Interactions: b.InteractionService(), Tags: b.TagService(),
		Levels: levels, Dictionary: b.DictionaryService(), Quality: quality, Merger: b.Merger(), Identity: b.IdentityService(), Segments: b.SegmentService(),
		Imports: b.ImportService(t, 0), Policy: b.PolicyService(), Suitability: b.SuitabilityService(),
		Tasks: b.TaskService(), Leads: b.LeadService(), CampaignReports: b.CampaignReportService(t),
		Templates: b.TemplateService(), Outbox: b.OutboxService(), Journeys: b.JourneyService(),
		JourneyReports: b.JourneyReportService(t), Campaigns: b.CampaignService(0, b.TaskService())})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &app{Bank: b, srv: srv, logs: logs, levels: levels, quality: quality}
}

// client is a browser stand-in: a cookie jar, redirects not followed so
// tests see them, and the page last fetched.
type client struct {
	t    *testing.T
	app  *app
	http *http.Client
	lang string
}

func (a *app) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, app: a, http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// response is a fetched page.
type response struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, body: string(b), location: res.Header.Get("Location"), header: res.Header}
}

func (c *client) get(path string, headers ...string) response {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.app.srv.URL+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

func (c *client) post(path string, form url.Values, headers ...string) response {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.app.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the form token of a page.
func (c *client) csrf(page response) string {
	c.t.Helper()
	m := csrfField.FindStringSubmatch(page.body)
	if m == nil {
		c.t.Fatalf("no csrf field in page (status %d)", page.status)
	}
	return m[1]
}

// login signs in through the form and returns the client.
func (a *app) login(t *testing.T, username string) *client {
	t.Helper()
	c := a.client(t)
	form := c.get("/login")
	res := c.post("/login", url.Values{"csrf": {c.csrf(form)}, "username": {username}, "password": {testkit.Password}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("login %s: status %d", username, res.status)
	}
	return c
}

func mustContain(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("page does not contain %q", w)
		}
	}
}

func mustNotContain(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("page contains %q", w)
		}
	}
}

// testLogger logs everything, debug included, as JSON lines into buf.
func testLogger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
