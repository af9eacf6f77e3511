package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/i18n"
	"kehu/internal/kehu"
)

// auditPageSize is denser than the customer list: auditors scan many short
// rows, and the table still fits 1366×768 with the pager in reach.
const auditPageSize = 50

// auditForm is the filter as typed, echoed back into the form so a refused
// value stays visible for correction.
type auditForm struct {
	CustomerID string
	Actor      string
	Action     string
	From       string // YYYY-MM-DD, a day in Asia/Shanghai
	To         string // YYYY-MM-DD, inclusive
}

// query is the form as URL parameters, empty ones left out, for the pager
// and export links.
func (f auditForm) query() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"customer_id": f.CustomerID, "actor": f.Actor, "action": f.Action,
		"from": f.From, "to": f.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// auditRow is one record with what the page computes for it: the time in
// Asia/Shanghai to the second and the organisation's name in the page's
// language.
type auditRow struct {
	audit.Record
	When    string
	OrgName string
}

// auditView is the audit page.
type auditView struct {
	Form      auditForm
	Actions   []string
	Invalid   map[string]bool // form fields refused, by parameter name
	Rows      []auditRow
	IsFirst   bool
	FirstURL  string
	NextURL   string
	ExportURL string
}

// auditPage searches the audit trail. The permission is checked by
// audit.Log, which also records a refused attempt, so the handler does not
// pre-empt it: a role without audit.read gets the 403 page and leaves a
// "denied" record. Like the customer list, htmx asks for the "results"
// fragment and the same URL renders the whole page without JavaScript.
func (s *server) auditPage(w http.ResponseWriter, r *http.Request) {
	form, f, invalid := s.auditFilter(r.URL.Query())
	after, err := kehu.DecodeCursor(r.URL.Query().Get("after"))
	if err != nil {
		invalid["after"] = true
	}
	// The filter offers audit.Actions, the one list of what services
	// record; an action typed into the URL that is not in it stays
	// visible in the select.
	av := auditView{Form: form, Actions: audit.Actions, Invalid: invalid, IsFirst: after.AfterID == 0}
	if form.Action != "" && !audit.KnownAction(form.Action) {
		av.Actions = append([]string{form.Action}, audit.Actions...)
	}
	if len(invalid) > 0 {
		// Nothing is searched with a half-understood filter; the form comes
		// back with the bad fields marked. A role without audit.read is
		// still sent through the log, which refuses and records the attempt.
		if !access.Can(stateOf(r).actor.Role, access.AuditRead) {
			_, err := s.Audit.Search(r.Context(), audit.Filter{})
			if err == nil { // unreachable while the log checks the same permission
				err = kehu.Errorf(kehu.EFORBIDDEN, "audit.read required")
			}
			s.fail(w, r, err)
			return
		}
		s.renderAudit(w, r, http.StatusBadRequest, av)
		return
	}
	f.Limit, f.After = auditPageSize, after
	page, err := s.Audit.Search(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	av.Rows = s.auditRows(r, page.Items)
	q := form.query()
	av.FirstURL = "/audit?" + q.Encode()
	av.ExportURL = "/audit/export?" + q.Encode()
	if next := page.NextCursor.Encode(); next != "" {
		q.Set("after", next)
		av.NextURL = "/audit?" + q.Encode()
	}
	s.renderAudit(w, r, http.StatusOK, av)
}

func (s *server) renderAudit(w http.ResponseWriter, r *http.Request, status int, av auditView) {
	block := "layout.html"
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Target") == "results" {
		block = "results"
	}
	s.render(w, r, status, "audit", block, s.newView(w, r, "audit.title", "audit", av))
}

// auditFilter reads the filter parameters shared by the page and the export.
// Dates are days in Asia/Shanghai, the bank's business day: from is the start
// of its day and to the start of the day after, so to=2026-03-02 includes
// all of 2 March. invalid names each refused parameter.
func (s *server) auditFilter(q url.Values) (auditForm, audit.Filter, map[string]bool) {
	form := auditForm{CustomerID: strings.TrimSpace(q.Get("customer_id")), Actor: strings.TrimSpace(q.Get("actor")),
		Action: strings.TrimSpace(q.Get("action")), From: strings.TrimSpace(q.Get("from")),
		To: strings.TrimSpace(q.Get("to"))}
	var f audit.Filter
	invalid := map[string]bool{}
	if form.CustomerID != "" {
		id, err := strconv.ParseInt(form.CustomerID, 10, 64)
		if err != nil || id < 1 {
			invalid["customer_id"] = true
		}
		f.CustomerID = id
	}
	if len(form.Actor) > 64 {
		invalid["actor"] = true
	}
	if len(form.Action) > 64 {
		invalid["action"] = true
	}
	f.Actor, f.Action = form.Actor, form.Action
	var ok bool
	if f.From, ok = s.shanghaiDay(form.From, 0); !ok {
		invalid["from"] = true
	}
	if f.To, ok = s.shanghaiDay(form.To, 1); !ok {
		invalid["to"] = true
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		invalid["to"] = true
	}
	return form, f, invalid
}

// shanghaiDay returns the UTC instant starting the day YYYY-MM-DD plus
// addDays in Asia/Shanghai; "" is no bound.
func (s *server) shanghaiDay(day string, addDays int) (time.Time, bool) {
	if day == "" {
		return time.Time{}, true
	}
	d, err := time.ParseInLocation("2006-01-02", day, s.loc)
	if err != nil {
		return time.Time{}, false
	}
	return d.AddDate(0, 0, addDays).UTC(), true
}

// auditRows resolves the organisations of a page of records, one lookup per
// distinct id. A failed lookup shows the id rather than failing the page: an
// auditor must still see the record of a since-deleted branch.
func (s *server) auditRows(r *http.Request, recs []audit.Record) []auditRow {
	lang := stateOf(r).lang
	names := map[int64]string{}
	rows := make([]auditRow, 0, len(recs))
	for _, rec := range recs {
		name, seen := names[rec.OrgID]
		if !seen && rec.OrgID != 0 {
			name = "#" + strconv.FormatInt(rec.OrgID, 10)
			if o, err := s.Orgs.Get(r.Context(), rec.OrgID); err == nil {
				name = o.Name
				if lang == i18n.English && o.NameEN != "" {
					name = o.NameEN
				}
			}
			names[rec.OrgID] = name
		}
		rows = append(rows, auditRow{Record: rec, When: rec.At.In(s.loc).Format("2006-01-02 15:04:05"), OrgName: name})
	}
	return rows
}
