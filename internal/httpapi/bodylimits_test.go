package httpapi_test

import (
	"regexp"
	"strings"
	"testing"

	"kehu/internal/access"
	"kehu/internal/httpapi"
)

// bodyLimitsLater are JSON routes the walk leaves out, each with the reason.
var bodyLimitsLater = map[string]string{}

// malformedAnswer is the answer to malformed JSON where it is not 400: the
// gateway's receipts are read raw (their signature covers the bytes) and
// judged whole.
var malformedAnswer = map[string]int{"POST /api/v1/outbox/receipts": 422}

// walkBodyLimits sends every route whose document takes a JSON body the
// three requests the shared decoder (decodeJSON) refuses before a handler
// does anything else: a body that is not JSON (415), one over
// httpapi.MaxBodyBytes (413) and malformed JSON (400), as a user whose role
// holds the route's permission. env.do validates each answer against the
// document, so a route that can answer one of them without declaring it
// fails here; TestConformance then finds all three seen.
func walkBodyLimits(t *testing.T, e *env) {
	doc, err := loadDocument()
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{}
	tokenFor := func(perm string) string {
		for _, u := range []string{"admin", "rm_a", "branch_manager", "hq_compliance", "hq_callcenter", "hq_steward"} {
			role := e.bank.Users[u].Role
			if perm != "" && !access.Can(role, access.Permission(perm)) {
				continue
			}
			if tokens[u] == "" {
				tokens[u] = e.login(u).token
			}
			return tokens[u]
		}
		t.Fatalf("no test user holds %s", perm)
		return ""
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	big := `{"note":"` + strings.Repeat("x", httpapi.MaxBodyBytes) + `"}`
	for pattern, perm := range httpapi.RoutePermissions() {
		method, path, _ := strings.Cut(pattern, " ")
		item := doc.Paths.Find(path)
		if item == nil {
			continue
		}
		op := item.GetOperation(method)
		if _, later := bodyLimitsLater[pattern]; later || op == nil || op.RequestBody == nil || op.RequestBody.Value.Content.Get("application/json") == nil {
			continue
		}
		url := param.ReplaceAllString(path, "1")
		token := tokenFor(perm)
		e.expect(call{method: method, path: url, token: token, body: "x", header: map[string]string{"Content-Type": "text/plain"}}, 415)
		e.expect(call{method: method, path: url, token: token, body: big}, 413)
		malformed := 400
		if status, ok := malformedAnswer[pattern]; ok {
			malformed = status
		}
		e.expect(call{method: method, path: url, token: token, body: `{"note":`}, malformed)
	}
}
