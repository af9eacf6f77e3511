package web

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/org"
)

// listPageSize fits a 1366×768 screen without scrolling past the pager.
const listPageSize = 20

// listView is the customer list page.
type listView struct {
	Query   string
	Items   []customer.Customer
	Orgs    map[int64]org.Org
	Owners  map[int64]string
	NextURL string
	IsFirst bool
}

// customerList searches customers in the actor's scope. With JavaScript, htmx
// asks for the "results" fragment only; without it the same URL renders the
// whole page, so search and paging work either way.
func (s *server) customerList(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if utf8.RuneCountInString(q) > 100 {
		q = string([]rune(q)[:100])
	}
	after, err := kehu.DecodeCursor(r.URL.Query().Get("after"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := s.Customers.List(r.Context(), customer.Filter{Query: q, Limit: listPageSize, After: after})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lv := listView{Query: q, Items: page.Items, IsFirst: after.AfterID == 0}
	if page.NextCursor.AfterID != 0 {
		lv.NextURL = "/customers?" + url.Values{"q": {q}, "after": {page.NextCursor.Encode()}}.Encode()
	}
	if lv.Orgs, lv.Owners, err = s.namesFor(r, page.Items); err != nil {
		s.fail(w, r, err)
		return
	}
	block := "layout.html"
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Target") == "results" {
		block = "results"
	}
	s.render(w, r, http.StatusOK, "customers", block, s.newView(w, r, "customers.title", "customers", lv))
}

// namesFor resolves the outlets and relationship managers of a page of
// customers: one lookup per distinct id, at most a page's worth.
func (s *server) namesFor(r *http.Request, items []customer.Customer) (map[int64]org.Org, map[int64]string, error) {
	orgs := map[int64]org.Org{}
	var owners []int64
	seen := map[int64]bool{}
	for _, c := range items {
		if _, ok := orgs[c.OrgID]; !ok {
			o, err := s.Orgs.Get(r.Context(), c.OrgID)
			if err != nil {
				return nil, nil, err
			}
			orgs[c.OrgID] = o
		}
		if c.OwnerID != nil && !seen[*c.OwnerID] {
			seen[*c.OwnerID] = true
			owners = append(owners, *c.OwnerID)
		}
	}
	names, err := s.Accounts.StaffNames(r.Context(), owners)
	return orgs, names, err
}
