package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"kehu/internal/customer"
)

// customerPage is the body of GET /api/v1/customers. NextCursor is null on
// the last page; Total is present only when the client asked with count=true,
// because counting a large scope costs a full index scan.
type customerPage struct {
	Items      []customerJSON `json:"items"`
	NextCursor *string        `json:"next_cursor"`
	Total      *int64         `json:"total,omitempty"`
}

func (a *api) listCustomers(w http.ResponseWriter, r *http.Request) error {
	f, err := customerFilter(r)
	if err != nil {
		return err
	}
	p, err := a.d.Customers.List(r.Context(), f)
	if err != nil {
		return err
	}
	out := customerPage{Items: make([]customerJSON, 0, len(p.Items))}
	for _, c := range p.Items {
		out.Items = append(out.Items, customerView(c))
	}
	out.NextCursor = p.NextCursor.Next()
	if f.Count {
		out.Total = &p.Total
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// maxQueryRunes bounds the search text; no name, mobile or ID number is longer.
const maxQueryRunes = 100

// customerFilter reads the list's query parameters. Each bad one is named in
// a 400 problem; a limit above the maximum is clamped, not refused.
func customerFilter(r *http.Request) (customer.Filter, error) {
	q := r.URL.Query()
	var f customer.Filter
	var issues []FieldIssue
	f.Query = strings.TrimSpace(q.Get("q"))
	if utf8.RuneCountInString(f.Query) > maxQueryRunes {
		issues = append(issues, FieldIssue{"q", "must have at most 100 characters"})
	}
	f.Limit, f.After, issues = pageParams(r, issues)
	if s := q.Get("count"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			issues = append(issues, FieldIssue{"count", "must be true or false"})
		}
		f.Count = b
	}
	switch f.Type = q.Get("type"); f.Type {
	case "", customer.Individual, customer.Corporate:
	default:
		issues = append(issues, FieldIssue{"type", "must be individual or corporate"})
	}
	if s, issue := tagFilterParam(q.Get("tag")); issue != nil {
		issues = append(issues, *issue)
	} else {
		f.Tag = s
	}
	if s := q.Get("org_id"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id < 1 {
			issues = append(issues, FieldIssue{"org_id", "must be a positive integer"})
		}
		f.OrgID = id
	}
	if len(issues) > 0 {
		return customer.Filter{}, badBody("a query parameter is invalid", issues...)
	}
	return f, nil
}

func (a *api) getCustomer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := a.d.Customers.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, customerView(c))
	return nil
}

func (a *api) createCustomer(w http.ResponseWriter, r *http.Request) error {
	var in customerCreate
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := a.d.Customers.Create(r.Context(), in.domain())
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/customers/"+strconv.FormatInt(c.ID, 10))
	writeJSON(w, http.StatusCreated, customerView(c))
	return nil
}

func (a *api) updateCustomer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in customerPatch
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := a.d.Customers.Update(r.Context(), id, in.domain())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, customerView(c))
	return nil
}

// pathID reads the {id} path segment. A malformed id names no resource, so it
// is a 404 like an unknown one, not a 400.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, newProblem(http.StatusNotFound, ProblemNotFound, "no such customer")
	}
	return id, nil
}
