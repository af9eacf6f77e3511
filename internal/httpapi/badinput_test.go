package httpapi_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"kehu/internal/httpapi"
	"kehu/internal/testkit"
)

// TestBadInput sends every kind of client mistake and expects a clear 4xx
// problem naming what to fix: never a 500, never a panic.
func TestBadInput(t *testing.T) {
	e := newEnv(t, testkit.NewDB(t, "sqlite"))
	admin := e.login("admin")
	huge := `{"name":"` + strings.Repeat("x", httpapi.MaxBodyBytes) + `"}`
	tests := []struct {
		name, method, path string
		body               string
		ctype              string // "" means application/json
		status             int
		typ, field         string
	}{
		{"malformed JSON", "POST", "/api/v1/customers", `{"name": }`, "", 400, httpapi.ProblemBadRequest, ""},
		{"truncated JSON", "POST", "/api/v1/customers", `{"name": "x"`, "", 400, httpapi.ProblemBadRequest, ""},
		{"empty body", "POST", "/api/v1/customers", ``, "", 400, httpapi.ProblemBadRequest, ""},
		{"array body", "POST", "/api/v1/customers", `[1,2]`, "", 400, httpapi.ProblemBadRequest, ""},
		{"string body", "POST", "/api/v1/auth/login", `"rm_a"`, "", 400, httpapi.ProblemBadRequest, ""},
		{"trailing data", "POST", "/api/v1/customers", `{"name":"x"} {"name":"y"}`, "", 400, httpapi.ProblemBadRequest, ""},
		{"trailing garbage", "PATCH", "/api/v1/customers/1", `{"name":"x"}garbage`, "", 400, httpapi.ProblemBadRequest, ""},
		{"unknown field", "POST", "/api/v1/customers", `{"name":"x","level":"private"}`, "", 400, httpapi.ProblemBadRequest, "level"},
		{"unknown login field", "POST", "/api/v1/auth/login", `{"username":"a","password":"b","otp":1}`, "", 400, httpapi.ProblemBadRequest, "otp"},
		{"string for integer", "POST", "/api/v1/customers", `{"org_id":"7"}`, "", 400, httpapi.ProblemBadRequest, "org_id"},
		{"number for string", "POST", "/api/v1/customers", `{"name":42}`, "", 400, httpapi.ProblemBadRequest, "name"},
		{"float for integer", "PATCH", "/api/v1/customers/1", `{"registered_capital":1.5}`, "", 400, httpapi.ProblemBadRequest, "registered_capital"},
		{"bool for owner", "POST", "/api/v1/customers", `{"owner_id":true}`, "", 400, httpapi.ProblemBadRequest, "owner_id"},
		{"bad date", "POST", "/api/v1/customers", `{"birth_date":"1992-02-30"}`, "", 400, httpapi.ProblemBadRequest, "birth_date"},
		{"number date", "POST", "/api/v1/customers", `{"birth_date":19920315}`, "", 400, httpapi.ProblemBadRequest, "birth_date"},
		{"object for name", "POST", "/api/v1/auth/login", `{"username":{"a":1},"password":"x"}`, "", 400, httpapi.ProblemBadRequest, "username"},
		{"integer overflow", "POST", "/api/v1/customers", `{"org_id":99999999999999999999}`, "", 400, httpapi.ProblemBadRequest, "org_id"},
		{"missing fields", "POST", "/api/v1/customers", `{}`, "", 422, httpapi.ProblemValidation, "type,name,org_id"},
		{"null fields", "POST", "/api/v1/customers", `{"type":null,"name":null,"org_id":null}`, "", 422, httpapi.ProblemValidation, "type,name,org_id"},
		{"oversize body", "POST", "/api/v1/customers", huge, "", 413, httpapi.ProblemTooLarge, ""},
		{"oversize login", "POST", "/api/v1/auth/login", huge, "", 413, httpapi.ProblemTooLarge, ""},
		{"text content type", "POST", "/api/v1/customers", `{}`, "text/plain", 415, httpapi.ProblemMediaType, ""},
		{"form content type", "POST", "/api/v1/auth/login", `username=a`, "application/x-www-form-urlencoded", 415, httpapi.ProblemMediaType, ""},
		{"no content type", "PATCH", "/api/v1/customers/1", `{}`, "-", 415, httpapi.ProblemMediaType, ""},
		{"bad content type", "POST", "/api/v1/customers", `{}`, "application/json; ===", 415, httpapi.ProblemMediaType, ""},
		{"unknown route", "GET", "/api/v1/nothing-here", ``, "", 404, httpapi.ProblemNotFound, ""},
		{"unknown sub-route", "GET", "/api/v1/customers/1/accounts", ``, "", 404, httpapi.ProblemNotFound, ""},
		{"wrong method", "DELETE", "/api/v1/customers/1", ``, "", 405, httpapi.ProblemMethodNotAllowed, ""},
		{"wrong method on list", "PUT", "/api/v1/customers", `{}`, "", 405, httpapi.ProblemMethodNotAllowed, ""},
		{"GET login", "GET", "/api/v1/auth/login", ``, "", 405, httpapi.ProblemMethodNotAllowed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := call{method: tt.method, path: tt.path, body: []byte(tt.body), token: admin.token,
				header: map[string]string{"Content-Type": tt.ctype}}
			switch tt.ctype {
			case "":
				c.header["Content-Type"] = "application/json"
			case "-":
				c.header["Content-Type"] = ""
			}
			r := e.do(c)
			p := r.problem(t)
			if r.Code != tt.status || p.Type != tt.typ || p.Status != tt.status || issues(p) != tt.field {
				t.Errorf("%d %s, want %d %s naming %q", r.Code, r.Body, tt.status, tt.typ, tt.field)
			}
			if tt.status == 405 && r.Header().Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
}

// TestOversizeStream checks the limit holds when the client announces no
// length and streams, which a Content-Length check alone would miss.
func TestOversizeStream(t *testing.T) {
	e := newEnv(t, testkit.NewDB(t, "sqlite"))
	s := e.login("admin")
	body := `{"name":"` + strings.Repeat("x", 2*httpapi.MaxBodyBytes) + `"}`
	req := httptest.NewRequest("POST", "/api/v1/customers", struct{ *bytes.Reader }{bytes.NewReader([]byte(body))})
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.token)
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("streamed oversize body: %d %s", rec.Code, rec.Body)
	}
}
