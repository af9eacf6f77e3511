package httpapi_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"kehu/internal/httpapi"
	"kehu/internal/testkit"
)

func TestRequestID(t *testing.T) {
	e := newEnv(t, testkit.NewDB(t, "sqlite"))
	r := e.do(call{method: "GET", path: "/api/v1/me", header: map[string]string{"X-Request-ID": "lb-7f3a.12_x"}})
	if got := r.Header().Get("X-Request-ID"); got != "lb-7f3a.12_x" || r.problem(t).RequestID != got {
		t.Errorf("incoming id not kept: header %q, body %s", got, r.Body)
	}
	hex := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, bad := range []string{"", "<script>", strings.Repeat("a", 65), "a b", "é"} {
		r := e.do(call{method: "GET", path: "/healthz", header: map[string]string{"X-Request-ID": bad}})
		if got := r.Header().Get("X-Request-ID"); !hex.MatchString(got) {
			t.Errorf("incoming %q gave id %q", bad, got)
		}
	}
	a := e.do(call{method: "GET", path: "/healthz"}).Header().Get("X-Request-ID")
	b := e.do(call{method: "GET", path: "/healthz"}).Header().Get("X-Request-ID")
	if a == b {
		t.Error("two requests got the same id")
	}
	var seen string
	h := httpapi.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = httpapi.RequestID(r.Context())
	}), nil, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if seen == "" || seen != rec.Header().Get("X-Request-ID") {
		t.Errorf("RequestID in context %q, header %q", seen, rec.Header().Get("X-Request-ID"))
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, testkit.NewDB(t, "sqlite"))
	ui := httpapi.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "<!doctype html><p>page</p>")
	}), nil, nil)
	uiRec := httptest.NewRecorder()
	ui.ServeHTTP(uiRec, httptest.NewRequest("GET", "/customers", nil))
	for name, h := range map[string]http.Header{"api": e.do(call{method: "GET", path: "/api/v1/me"}).Header(), "ui": uiRec.Header()} {
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
			"X-Frame-Options": "DENY", "Content-Security-Policy": httpapi.ContentSecurityPolicy} {
			if h.Get(k) != want {
				t.Errorf("%s: %s = %q, want %q", name, k, h.Get(k), want)
			}
		}
	}
	for _, d := range []string{"default-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(httpapi.ContentSecurityPolicy, d) {
			t.Errorf("CSP lacks %s", d)
		}
	}
}

// TestPanicRecovery checks a panicking handler yields a 500 problem that
// reveals nothing, the panic is logged, and the server keeps serving.
func TestPanicRecovery(t *testing.T) {
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("secret detail 42") })
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "fine") })
	srv := httptest.NewServer(httpapi.Middleware(mux, logger, httpapi.NewMetrics()))
	defer srv.Close()
	for range 2 {
		resp, err := http.Get(srv.URL + "/boom")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 500 || resp.Header.Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(string(body), httpapi.ProblemInternal) || strings.Contains(string(body), "secret") {
			t.Errorf("panic answered %d %s", resp.StatusCode, body)
		}
		if id := resp.Header.Get("X-Request-ID"); id == "" || !strings.Contains(logs.String(), id) {
			t.Errorf("request id %q not in the log", id)
		}
	}
	resp, err := http.Get(srv.URL + "/ok")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("server after panics: %v %v", resp, err)
	}
	resp.Body.Close()
	if !strings.Contains(logs.String(), "secret detail 42") || !strings.Contains(logs.String(), `"route":"GET /boom"`) {
		t.Errorf("panic not logged with its route: %s", logs)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t, testkit.NewDB(t, "sqlite"))
	for _, path := range []string{"/healthz", "/readyz"} {
		if r := e.do(call{method: "GET", path: path}); r.Code != 200 || !strings.Contains(r.Body.String(), `"ok"`) {
			t.Errorf("%s: %d %s", path, r.Code, r.Body)
		}
	}
	e.notReady = errors.New("dial tcp 10.1.2.3:5432: connection refused")
	r := e.do(call{method: "GET", path: "/readyz"})
	if p := r.problem(t); r.Code != 503 || p.Type != httpapi.ProblemUnavailable || strings.Contains(r.Body.String(), "10.1.2.3") {
		t.Errorf("readyz with the database down: %d %s", r.Code, r.Body)
	}
	if !strings.Contains(e.logs.String(), "10.1.2.3") {
		t.Error("the readiness failure is not logged")
	}
	if r := e.do(call{method: "GET", path: "/healthz"}); r.Code != 200 {
		t.Errorf("healthz follows the database: %d", r.Code)
	}
}

func TestMetricsAndAccessLog(t *testing.T) {
	e := newEnv(t, testkit.NewDB(t, "sqlite"))
	s := e.login("admin")
	e.do(call{method: "GET", path: "/api/v1/customers?q=%E5%BC%A0%E4%BC%9F&limit=3", token: s.token})
	e.do(call{method: "GET", path: "/api/v1/customers/" + id(e.bank.Customers["a1"].ID), token: s.token})
	e.do(call{method: "GET", path: "/api/v1/no/such/13800000001"})
	r := e.do(call{method: "GET", path: "/metrics"})
	body := r.Body.String()
	for _, want := range []string{
		`http_requests_total{code="200",method="GET",route="GET /api/v1/customers"} 1`,
		`http_requests_total{code="200",method="GET",route="GET /api/v1/customers/{id}"} 1`,
		`http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`http_request_duration_seconds_bucket{method="POST",route="POST /api/v1/auth/login"`,
		"go_goroutines", "process_",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "13800000001") {
		t.Error("a raw path leaked into metric labels")
	}
	logs := e.logs.String()
	if !strings.Contains(logs, `"route":"GET /api/v1/customers/{id}"`) || !strings.Contains(logs, `"status":200`) ||
		!strings.Contains(logs, `"path":"/api/v1/customers"`) || !strings.Contains(logs, `"duration_ms"`) {
		t.Errorf("access log lacks fields: %s", logs)
	}
	for _, secret := range []string{"张伟", "%E5", "limit=3", s.token} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q", secret)
		}
	}
}

// TestInternalErrorIsGeneric breaks the database under a live server: the
// client gets a 500 problem with no detail of the cause, the log gets it all.
func TestInternalErrorIsGeneric(t *testing.T) {
	db := testkit.NewDB(t, "sqlite")
	e := newEnv(t, db)
	s := e.login("admin")
	db.Close()
	r := e.do(call{method: "GET", path: "/api/v1/customers", token: s.token})
	p := r.problem(t)
	if r.Code != 500 || p.Type != httpapi.ProblemInternal || strings.Contains(strings.ToLower(r.Body.String()), "sql") {
		t.Errorf("internal error: %d %s", r.Code, r.Body)
	}
	if !strings.Contains(e.logs.String(), `"request_id":"`+p.RequestID+`"`) || !strings.Contains(e.logs.String(), "closed") {
		t.Errorf("internal error not logged with its cause: %s", e.logs)
	}
}
