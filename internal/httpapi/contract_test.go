package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"kehu/internal/httpapi"
)

// contract is the OpenAPI document loaded once for all tests.
var contract = sync.OnceValues(func() (routers.Router, error) {
	doc, err := loadDocument()
	if err != nil {
		return nil, err
	}
	return legacy.NewRouter(doc)
})

func loadDocument() (*openapi3.T, error) {
	raw, err := httpapi.OpenAPIDocument()
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, err
	}
	return doc, doc.Validate(loader.Context)
}

// checkContract validates one exchange against the document: the request when
// the server accepted it (a rejected request is usually invalid on purpose),
// and the response always, including its status, headers and body. Requests
// that match no documented operation (unknown paths, wrong methods) are
// answered by the server's fallback and have nothing to check against. It
// returns "METHOD /path/{template} status" for a documented operation.
func checkContract(t *testing.T, req *http.Request, body []byte, rec *httptest.ResponseRecorder) string {
	t.Helper()
	router, err := contract()
	if err != nil {
		t.Fatalf("OpenAPI document: %v", err)
	}
	probe := req.Clone(context.Background())
	probe.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := router.FindRoute(probe)
	if err != nil {
		return ""
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true,
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route, Options: opts}
	if rec.Code < 400 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			t.Errorf("%s %s: request does not match the OpenAPI document: %v", req.Method, req.URL, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code,
		Header: rec.Header(), Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())), Options: opts}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s → %d: response does not match the OpenAPI document: %v\n%s",
			req.Method, req.URL, rec.Code, err, rec.Body.String())
	}
	return fmt.Sprintf("%s %s %d", route.Method, route.Path, rec.Code)
}

// TestOpenAPIDocument checks the document is valid OpenAPI 3, is what the
// server serves, and describes exactly the routes of the route table.
func TestOpenAPIDocument(t *testing.T) {
	doc, err := loadDocument()
	if err != nil {
		t.Fatalf("invalid OpenAPI document: %v", err)
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	routes := httpapi.RoutePatterns()
	sort.Strings(documented)
	sort.Strings(routes)
	if !slices.Equal(documented, routes) {
		t.Errorf("route table and OpenAPI paths differ:\nroutes:     %s\ndocumented: %s",
			strings.Join(routes, ", "), strings.Join(documented, ", "))
	}
	served := httptest.NewRecorder()
	httpapi.New(httpapi.Deps{}).ServeHTTP(served, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	raw, _ := httpapi.OpenAPIDocument()
	if served.Code != http.StatusOK || !bytes.Equal(served.Body.Bytes(), raw) {
		t.Errorf("GET /api/v1/openapi.json: %d, body differs from the merged document", served.Code)
	}
}
