package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"kehu/internal/account"
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

// customerView is the customer page.
type customerView struct {
	account.Summary
	Org org.Org
	// Masked marks the fields shown masked; Unmask those the user may ask
	// to see in clear (the 显示 button).
	Masked, Unmask map[string]bool
	// UnmaskAccounts offers 显示 next to each (masked) account number.
	UnmaskAccounts bool
}

// customerPage shows one customer. Unknown and out-of-scope ids both render
// the same 404 page, so the page cannot be used to probe for customers.
func (s *server) customerPage(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(w, r, kehu.Errorf(kehu.ENOTFOUND, "no such customer"))
		return
	}
	sum, err := s.Accounts.Summary(r.Context(), id)
	if kehu.ErrorCode(err) == kehu.ENOTFOUND && s.Entitlements != nil {
		// Unknown or out of scope, the same page: it offers to request
		// access to the id the user already holds.
		s.customerNotFound(w, r, id)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cv := customerView{Summary: sum, Masked: map[string]bool{}, Unmask: map[string]bool{}}
	// customer.unmask, or a c2_fields grant for this customer, offers 显示.
	canUnmask, err := s.Customers.MayUnmask(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, f := range sum.Customer.Masked {
		cv.Masked[f] = true
		cv.Unmask[f] = canUnmask
	}
	cv.UnmaskAccounts = canUnmask && sum.AccountNoMasked
	if cv.Org, err = s.Orgs.Get(r.Context(), sum.Customer.OrgID); err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(w, r, "customer.profile", "customers", cv)
	v.TitleText = sum.Customer.Name
	s.render(w, r, http.StatusOK, "customer", "layout.html", v)
}
