package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"kehu/internal/ingest"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// A feed batch is JSON lines, which kin-openapi has no decoder for; the
// document describes the body as a binary string, so it is read as one.
func init() {
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", openapi3filter.FileBodyDecoder)
}

// ingestToken creates an API token of admin carrying only data.ingest, as
// an integration would hold.
func (e *env) ingestToken(scopes ...string) string {
	e.t.Helper()
	if len(scopes) == 0 {
		scopes = []string{"data.ingest"}
	}
	admin := e.login("admin")
	r := e.do(call{method: "POST", path: "/api/v1/me/tokens", token: admin.token, body: map[string]any{
		"name": "core-feed", "scopes": scopes, "expires_at": e.bank.Clock.Now().Add(24 * time.Hour).Format(time.RFC3339)}})
	if r.Code != http.StatusCreated {
		e.t.Fatalf("create token: %d %s", r.Code, r.Body)
	}
	var out struct {
		Token string `json:"token"`
	}
	r.decode(e.t, &out)
	return out.Token
}

// feed is a POST of a batch.
func feed(kind, token, body string, header map[string]string) call {
	h := map[string]string{"Content-Type": "application/x-ndjson"}
	for k, v := range header {
		h[k] = v
	}
	return call{method: "POST", path: "/api/v1/ingest/" + kind, token: token, body: body, header: h}
}

// eventLine is one event of customer a1 in NDJSON.
func (e *env) eventLine(id string) string {
	return fmt.Sprintf(`{"event_id":%q,"channel":"wechat","kind":"message","occurred_at":%q,"customer_id":%d,"detail":{"text":"hi"}}`,
		id, e.bank.Clock.Now().Add(-time.Minute).Format(time.RFC3339), e.bank.Customers["a1"].ID)
}

// ingestCalls drives the feed route through its documented responses for
// the conformance walk.
func ingestCalls(e *env) []call {
	tok, readOnly, rm := e.ingestToken(), e.ingestToken("customer.read"), e.login("rm_a")
	key := map[string]string{"Idempotency-Key": "walk-1"}
	body := e.eventLine("walk-1") + "\n" + e.eventLine("walk-2") + "\n"
	return []call{
		feed("events", tok, body, key),
		feed("events", tok, body, key), // replayed
		feed("events", tok, e.eventLine("walk-3")+"\n", key),
		feed("events", tok, body, map[string]string{"Idempotency-Key": "bad\tkey"}),
		feed("events", "", body, nil),
		feed("events", readOnly, body, nil),
		feed("events", rm.token, body, nil),
		feed("widgets", tok, body, nil),
		feed("events", tok, strings.Repeat("{}\n", ingest.DefaultMaxLines+1), nil),
		feed("events", tok, body, map[string]string{"Content-Type": "application/json"}),
		feed("events", tok, "not json\n", nil),
	}
}

func TestIngestEventsOverHTTP(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		tok := e.ingestToken()
		before := auditCount(t, db)
		body := "\ufeff" + e.eventLine("h-1") + "\r\n\r\n" + `{"event_id":"h-2","channel":"fax"}` + "\r\n" +
			e.eventLine("h-1") + "\r\n" + e.eventLine("h-3")
		r := e.do(feed("events", tok, body, map[string]string{"Idempotency-Key": "b-77"}))
		if r.Code != http.StatusOK || r.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("%d %s", r.Code, r.Body)
		}
		var res ingest.Result
		r.decode(t, &res)
		if res.Lines != 4 || res.Accepted != 2 || res.Rejected != 1 || res.Duplicates != 1 ||
			len(res.DuplicateLines) != 1 || res.DuplicateLines[0] != 4 {
			t.Fatalf("report %s", r.Body)
		}
		fields := map[string]bool{}
		for _, le := range res.Errors {
			if le.Line != 3 || le.Key != "h-2" {
				t.Errorf("error on the wrong line: %+v", le)
			}
			fields[le.Field] = true
		}
		if !fields["channel"] || !fields["kind"] || !fields["occurred_at"] || !fields["customer_id"] {
			t.Errorf("line 3 errors %+v", res.Errors)
		}
		if n := auditCount(t, db) - before; n != 1 {
			t.Fatalf("a batch wrote %d audit records, want 1", n)
		}
		again := e.do(feed("events", tok, body, map[string]string{"Idempotency-Key": "b-77"}))
		if again.Code != http.StatusOK || again.Header().Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %d %s", again.Code, again.Body)
		}
		var replayed map[string]any
		again.decode(t, &replayed)
		var first map[string]any
		r.decode(t, &first)
		first["replayed"] = true
		a, _ := json.Marshal(first)
		b, _ := json.Marshal(replayed)
		if string(a) != string(b) {
			t.Fatalf("replay differs:\n%s\n%s", a, b)
		}
		if p := e.do(feed("events", tok, e.eventLine("h-9"), map[string]string{"Idempotency-Key": "b-77"})).problem(t); p.Status != http.StatusConflict {
			t.Fatalf("reused key: %+v", p)
		}
		if p := e.do(feed("events", tok, "x\n", nil)).problem(t); p.Status != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Field != "line 1" {
			t.Fatalf("nothing parsed: %+v", p)
		}
		// A token without the scope and a role without the permission are refused.
		if p := e.do(feed("events", e.ingestToken("customer.read"), body, nil)).problem(t); p.Status != http.StatusForbidden {
			t.Fatalf("token without data.ingest: %+v", p)
		}
	})
}

func TestIngestCustomersOverHTTP(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		tok := e.ingestToken()
		line := `{"source_system":"core_banking","source_id":"CIF-77","name":"陈明","id_number":"` +
			testkit.ResidentID("33010619800101077") + `","mobile":"13911117777","org_id":"HZ-A"}`
		r := e.do(feed("customers", tok, line+"\n"+line+"\n", map[string]string{"Idempotency-Key": "cif-1"}))
		var res ingest.Result
		r.decode(t, &res)
		if r.Code != http.StatusOK || res.Accepted != 1 || res.Rejected != 1 || res.Errors[0].Field != "source_id" ||
			res.Errors[0].Key != "CIF-77" {
			t.Fatalf("%d %s", r.Code, r.Body)
		}
		r = e.do(feed("customers", tok, line+"\n", nil))
		r.decode(t, &res)
		if res.Duplicates != 1 || res.Accepted != 0 {
			t.Fatalf("re-sent: %s", r.Body)
		}
	})
}
