package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"kehu/internal/httpapi"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

type page struct {
	Items []struct {
		ID        int64
		Name      string
		Type      string
		IDNumber  string  `json:"id_number"`
		Mobile    *string `json:"mobile"`
		BirthDate *string `json:"birth_date"`
		Gender    *string `json:"gender"`
		Level     string
		OrgID     int64  `json:"org_id"`
		OwnerID   *int64 `json:"owner_id"`
	}
	NextCursor *string `json:"next_cursor"`
	Total      *int64
}

func TestListCustomersPaging(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.login("admin")
		var seen []int64
		path := "/api/v1/customers?limit=2&count=true"
		for range 5 {
			var p page
			r := e.do(call{method: "GET", path: path, token: admin.token})
			if r.decode(t, &p); r.Code != http.StatusOK {
				t.Fatalf("%s: %d %s", path, r.Code, r.Body)
			}
			if p.Total == nil || *p.Total != 5 {
				t.Errorf("%s: total %v, want 5", path, p.Total)
			}
			for _, c := range p.Items {
				seen = append(seen, c.ID)
			}
			if p.NextCursor == nil {
				break
			}
			path = "/api/v1/customers?limit=2&count=true&cursor=" + *p.NextCursor
		}
		if len(seen) != 5 || !slices.IsSorted(seen) {
			t.Errorf("paged through %v, want 5 ascending ids", seen)
		}
		r := e.do(call{method: "GET", path: "/api/v1/customers", token: admin.token})
		var raw map[string]json.RawMessage
		if r.decode(t, &raw); raw["total"] != nil || string(raw["next_cursor"]) != "null" {
			t.Errorf("without count=true: %s", r.Body)
		}
		// Over-large limits are clamped, not refused.
		var p page
		if r := e.do(call{method: "GET", path: "/api/v1/customers?limit=100000", token: admin.token}); r.Code != http.StatusOK {
			t.Errorf("limit=100000: %d %s", r.Code, r.Body)
		} else if r.decode(t, &p); len(p.Items) != 5 {
			t.Errorf("limit=100000 returned %d items", len(p.Items))
		}
		for query, field := range map[string]string{
			"cursor=bogus": "cursor", "cursor=azE6LTU": "cursor", "limit=ten": "limit", "limit=0": "limit",
			"limit=-3": "limit", "count=maybe": "count", "type=robot": "type", "org_id=x": "org_id",
			"q=" + strings.Repeat("长", 101): "q",
		} {
			r := e.do(call{method: "GET", path: "/api/v1/customers?" + query, token: admin.token})
			if p := r.problem(t); r.Code != http.StatusBadRequest || p.Type != httpapi.ProblemBadRequest || issues(p) != field {
				t.Errorf("%s: %d %s", query, r.Code, r.Body)
			}
		}
		p = page{}
		e.do(call{method: "GET", path: "/api/v1/customers?type=corporate&count=1", token: admin.token}).decode(t, &p)
		if len(p.Items) != 1 || p.Items[0].ID != e.bank.Customers["corp_a"].ID || *p.Total != 1 {
			t.Errorf("type=corporate: %+v", p)
		}
		p = page{}
		e.do(call{method: "GET", path: "/api/v1/customers?q=13800000004", token: admin.token}).decode(t, &p)
		if len(p.Items) != 1 || p.Items[0].ID != e.bank.Customers["b1"].ID {
			t.Errorf("q=mobile: %+v", p)
		}
	})
}

func TestCustomerScope(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		rm := e.login("rm_a")
		var p page
		e.do(call{method: "GET", path: "/api/v1/customers?count=true", token: rm.token}).decode(t, &p)
		var got []int64
		for _, c := range p.Items {
			got = append(got, c.ID)
		}
		cs := e.bank.Customers
		if want := []int64{cs["a1"].ID, cs["a2"].ID, cs["corp_a"].ID}; !slices.Equal(got, want) || *p.Total != 3 {
			t.Errorf("rm_a sees %v, want %v", got, want)
		}
		r := e.do(call{method: "GET", path: "/api/v1/customers/" + id(cs["a1"].ID), token: rm.token})
		var c map[string]any
		if r.decode(t, &c); r.Code != http.StatusOK {
			t.Fatalf("own customer: %d %s", r.Code, r.Body)
		}
		for _, f := range []string{"id", "type", "name", "org_id", "owner_id", "level", "id_number", "mobile", "birth_date", "gender"} {
			if c[f] == nil {
				t.Errorf("customer lacks %s: %s", f, r.Body)
			}
		}
		// Out of scope, unknown and malformed ids all answer the same 404.
		for _, path := range []string{id(cs["b1"].ID), id(cs["a3"].ID), "999999", "abc", "0", "-1", "1.5",
			"99999999999999999999", "%20"} {
			for _, m := range []string{"GET", "PATCH"} {
				r := e.do(call{method: m, path: "/api/v1/customers/" + path, token: rm.token, body: map[string]string{"name": "x"}})
				if r.Code != http.StatusNotFound || r.problem(t).Type != httpapi.ProblemNotFound {
					t.Errorf("%s customer %s as rm_a: %d %s", m, path, r.Code, r.Body)
				}
			}
		}
		tb := e.login("teller_b")
		p = page{}
		e.do(call{method: "GET", path: "/api/v1/customers", token: tb.token}).decode(t, &p)
		if len(p.Items) != 1 || p.Items[0].ID != cs["b1"].ID {
			t.Errorf("teller_b sees %+v", p.Items)
		}
	})
}

func TestCreateAndUpdateCustomer(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		rm := e.login("rm_a")
		body := e.newIndividual()
		r := e.do(call{method: "POST", path: "/api/v1/customers", token: rm.token, body: body})
		var c struct {
			ID                  int64
			Level, Gender, Name string
			Mobile              string
			OwnerID             int64  `json:"owner_id"`
			BirthDate           string `json:"birth_date"`
			RegisteredCapital   *int64 `json:"registered_capital"`
		}
		if r.decode(t, &c); r.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Code, r.Body)
		}
		if r.Header().Get("Location") != "/api/v1/customers/"+id(c.ID) || c.Level != "standard" ||
			c.OwnerID != e.bank.Users["rm_a"].ID || c.BirthDate != "1992-03-15" || c.Mobile != "13900000001" {
			t.Errorf("created: Location %q, %s", r.Header().Get("Location"), r.Body)
		}
		if r := e.do(call{method: "GET", path: r.Header().Get("Location"), token: rm.token}); r.Code != http.StatusOK {
			t.Errorf("GET Location: %d", r.Code)
		}
		r = e.do(call{method: "POST", path: "/api/v1/customers", token: rm.token, body: body})
		if r.Code != http.StatusConflict || r.problem(t).Type != httpapi.ProblemConflict {
			t.Errorf("duplicate identity: %d %s", r.Code, r.Body)
		}
		r = e.do(call{method: "POST", path: "/api/v1/customers", token: rm.token,
			body: map[string]any{"type": "individual", "id_number": "123", "mobile": "12", "email": "not-mail"}})
		if p := r.problem(t); r.Code != http.StatusUnprocessableEntity || p.Type != httpapi.ProblemValidation ||
			issues(p) != "id_number,name,mobile,email,org_id" {
			t.Errorf("invalid create: %d %s", r.Code, r.Body)
		}
		// Placing a customer at another outlet is outside an RM's scope.
		body = e.newIndividual()
		body["org_id"] = e.bank.OutletB.ID
		if r := e.do(call{method: "POST", path: "/api/v1/customers", token: rm.token, body: body}); r.Code != http.StatusForbidden {
			t.Errorf("create at outlet B as rm_a: %d %s", r.Code, r.Body)
		}

		path := "/api/v1/customers/" + id(c.ID)
		r = e.do(call{method: "PATCH", path: path, token: rm.token,
			body: map[string]any{"name": " 测试新名 ", "mobile": "13700000009", "email": nil}})
		if r.decode(t, &c); r.Code != http.StatusOK || c.Name != "测试新名" || c.Mobile != "13700000009" {
			t.Errorf("patch: %d %s", r.Code, r.Body)
		}
		r = e.do(call{method: "PATCH", path: path, token: rm.token, body: map[string]any{"gender": "F", "name": ""}})
		if p := r.problem(t); r.Code != http.StatusUnprocessableEntity || issues(p) != "name,gender" {
			t.Errorf("invalid patch: %d %s", r.Code, r.Body)
		}
		for body, field := range map[string]string{`{"level":"private"}`: "level", `{"aum":1}`: "aum",
			`{"owner_id":"me"}`: "owner_id", `{"birth_date":"15/03/1992"}`: "birth_date"} {
			r := e.do(call{method: "PATCH", path: path, token: rm.token, body: body})
			if p := r.problem(t); r.Code != http.StatusBadRequest || issues(p) != field {
				t.Errorf("patch %s: %d %s", body, r.Code, r.Body)
			}
		}
	})
}

func TestListOrgs(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		teller := e.login("teller_a")
		var out struct {
			Items []struct {
				ID       int64
				ParentID *int64 `json:"parent_id"`
				Name     string
				Level    string
			}
		}
		r := e.do(call{method: "GET", path: "/api/v1/orgs", token: teller.token})
		if r.decode(t, &out); r.Code != http.StatusOK || len(out.Items) != 5 {
			t.Fatalf("orgs: %d %s", r.Code, r.Body)
		}
		ho := out.Items[0]
		if ho.ID != e.bank.HeadOffice.ID || ho.ParentID != nil || ho.Level != "head_office" || ho.Name != "总行" {
			t.Errorf("first org: %+v", ho)
		}
		if r := e.do(call{method: "GET", path: "/api/v1/orgs"}); r.Code != http.StatusUnauthorized {
			t.Errorf("orgs without credentials: %d", r.Code)
		}
	})
}
