package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"kehu/internal/access"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/privacy"
)

// privacyRoutes adds the data-subject-rights pages (docs/UI.md, "Privacy"):
// the request list and workflow, the customer's privacy panel (consents and
// filing), compliance alerts with bulk-export approvals, and the customer
// export. Every POST carries the CSRF token.
func (s *server) privacyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /privacy", s.signedIn(s.needPrivacy(s.privacyList)))
	mux.HandleFunc("GET /privacy/requests/{id}", s.signedIn(s.needPrivacy(s.privacyRequestPage)))
	mux.HandleFunc("GET /privacy/requests/{id}/export", s.signedIn(s.needPrivacy(s.privacyExport)))
	mux.HandleFunc("POST /privacy/requests/{id}/{verb}", s.signedIn(s.checkCSRF(s.needPrivacy(s.privacyStep))))
	mux.HandleFunc("GET /customers/{id}/privacy", s.signedIn(s.needPrivacy(s.privacyPanelPage)))
	mux.HandleFunc("POST /customers/{id}/privacy-requests", s.signedIn(s.checkCSRF(s.needPrivacy(s.filePrivacyRequest))))
	mux.HandleFunc("POST /customers/{id}/consents", s.signedIn(s.checkCSRF(s.needPrivacy(s.changeConsent))))
	mux.HandleFunc("POST /customers/export", s.signedIn(s.checkCSRF(s.needPrivacy(s.customerExport))))
	mux.HandleFunc("POST /bulk-export/approvals", s.signedIn(s.checkCSRF(s.needPrivacy(s.requestBulkApproval))))
	mux.HandleFunc("GET /bulk-export/requested", s.signedIn(s.needPrivacy(s.bulkRequested)))
	mux.HandleFunc("GET /compliance", s.signedIn(s.needPrivacy(s.compliancePage)))
	mux.HandleFunc("POST /compliance/approvals/{id}/{verb}", s.signedIn(s.checkCSRF(s.needPrivacy(s.decideBulkApproval))))
}

// needPrivacy answers 404 when the server runs without the privacy service,
// as if the pages did not exist.
func (s *server) needPrivacy(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Privacy == nil {
			s.fragmentFail(w, r, kehu.Errorf(kehu.ENOTFOUND, "no such page"))
			return
		}
		h(w, r)
	}
}

// fragmentFail answers a failed htmx GET with 204 (nothing swapped) and
// other requests with the error page. The customer page loads the privacy
// panel on load: fail's HX-Refresh would reload the customer page, which
// would load the panel again, forever, while the error lasts. The
// placeholder's plain link still leads to the page with the error.
func (s *server) fragmentFail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Method != http.MethodGet || r.Header.Get("HX-Request") != "true" {
		s.fail(w, r, err)
		return
	}
	if code := kehu.ErrorCode(err); code != kehu.ENOTFOUND && code != kehu.EFORBIDDEN {
		s.Logger.ErrorContext(r.Context(), "privacy panel failed", "path", kehu.LogPath(r.URL.Path), "err", err)
	}
	w.WriteHeader(http.StatusNoContent)
}

// privacyPageSize keeps the request list on one 1366×768 screen.
const privacyPageSize = 50

// privacyListView is the request list with its filters.
type privacyListView struct {
	Status   string
	Overdue  bool
	Statuses []string
	Items    []privacy.Request
	NextURL  string
	IsFirst  bool
	Invalid  bool
}

// privacyList lists the requests on customers in the actor's scope, newest
// first. The overdue filter is applied to the pages read (the store has no
// deadline index: open requests are few), reading on until a page is full.
func (s *server) privacyList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lv := privacyListView{Status: q.Get("status"), Overdue: q.Get("overdue") == "1", Statuses: privacy.Statuses}
	after, err := kehu.DecodeCursor(q.Get("after"))
	if err != nil || (lv.Status != "" && !oneOf(lv.Status, privacy.Statuses)) {
		lv.Invalid, lv.IsFirst = true, true
		s.render(w, r, http.StatusBadRequest, "privacy", "layout.html", s.newView(w, r, "privacy.title", "privacy", lv))
		return
	}
	lv.IsFirst = after.AfterID == 0
	for range 10 {
		p, err := s.Privacy.Requests(r.Context(), privacy.RequestFilter{Status: lv.Status, Limit: privacyPageSize, After: after})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, x := range p.Items {
			if !lv.Overdue || x.Overdue {
				lv.Items = append(lv.Items, x)
			}
		}
		after = p.NextCursor
		if after.AfterID == 0 || !lv.Overdue || len(lv.Items) >= privacyPageSize {
			break
		}
	}
	if after.AfterID != 0 {
		v := url.Values{"after": {after.Encode()}}
		if lv.Status != "" {
			v.Set("status", lv.Status)
		}
		if lv.Overdue {
			v.Set("overdue", "1")
		}
		lv.NextURL = "/privacy?" + v.Encode()
	}
	s.render(w, r, http.StatusOK, "privacy", "layout.html", s.newView(w, r, "privacy.title", "privacy", lv))
}

func oneOf(v string, set []string) bool {
	for _, x := range set {
		if x == v {
			return true
		}
	}
	return false
}

// privacyRequestView is the detail page of one request with the actions its
// state allows.
type privacyRequestView struct {
	privacy.Request
	Channels []string
	// CanRectify: the handler's own customer.write applies corrections, so
	// a compliance auditor is told to hand a rectification on.
	CanRectify bool
	Notice     string   // catalogue key of a done step
	ErrorKey   string   // catalogue key of a refused step
	Fields     []string // fields the service refused
	Form       url.Values
	Retained   int // AML retention in years, for the erase confirmation
}

func (s *server) privacyRequestPage(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	req, err := s.Privacy.Request(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pv := s.newRequestView(r, req)
	if d := r.URL.Query().Get("done"); oneOf(d, []string{"start", "complete", "reject"}) {
		pv.Notice = "privacy.done." + d
	}
	s.renderRequest(w, r, http.StatusOK, pv)
}

func (s *server) newRequestView(r *http.Request, req privacy.Request) privacyRequestView {
	return privacyRequestView{Request: req, Channels: privacy.Channels, Form: url.Values{},
		CanRectify: access.Can(stateOf(r).actor.Role, access.CustomerWrite), Retained: privacy.AMLRetentionYears}
}

func (s *server) renderRequest(w http.ResponseWriter, r *http.Request, status int, pv privacyRequestView) {
	s.render(w, r, status, "privacy_request", "layout.html", s.newView(w, r, "privacy.request.title", "privacy", pv))
}

// privacyStep runs start, complete or reject on request {id}. A refused
// step re-renders the page with a translated reason (the service's own
// messages are English and may name internals); success is a redirect.
func (s *server) privacyStep(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	verb := r.PathValue("verb")
	var err error
	switch verb {
	case "start":
		_, err = s.Privacy.Start(r.Context(), id)
	case "reject":
		_, err = s.Privacy.Reject(r.Context(), id, r.PostFormValue("reason"))
	case "complete":
		err = s.completeRequest(r, id)
	default:
		s.notFound(w, r)
		return
	}
	if err == nil {
		http.Redirect(w, r, "/privacy/requests/"+strconv.FormatInt(id, 10)+"?done="+verb, http.StatusSeeOther)
		return
	}
	code := kehu.ErrorCode(err)
	if code != kehu.EINVALID && code != kehu.ECONFLICT {
		s.fail(w, r, err)
		return
	}
	req, rerr := s.Privacy.Request(r.Context(), id)
	if rerr != nil {
		s.fail(w, r, rerr)
		return
	}
	pv := s.newRequestView(r, req)
	pv.Form = r.PostForm
	status := http.StatusUnprocessableEntity
	switch {
	case code == kehu.ECONFLICT && req.Kind == privacy.KindErase && req.Open():
		pv.ErrorKey, status = "privacy.error.erase_conflict", http.StatusConflict
	case code == kehu.ECONFLICT:
		pv.ErrorKey, status = "privacy.error.conflict", http.StatusConflict
	case err == errEraseUnconfirmed:
		pv.ErrorKey = "privacy.erase.unconfirmed"
	default:
		pv.ErrorKey = "privacy.error.invalid"
		var ke *kehu.Error
		if errors.As(err, &ke) {
			for _, f := range ke.Fields {
				pv.Fields = append(pv.Fields, f.Field)
			}
		}
	}
	s.renderRequest(w, r, status, pv)
}

// errEraseUnconfirmed refuses an erasure whose confirmation box was not
// ticked: the page explains what is kept and removed before anything goes.
var errEraseUnconfirmed = &kehu.Error{Code: kehu.EINVALID, Message: "erasure not confirmed"}

// completeRequest reads the completion form of the request's kind.
func (s *server) completeRequest(r *http.Request, id int64) error {
	req, err := s.Privacy.Request(r.Context(), id)
	if err != nil {
		return err
	}
	c := privacy.Completion{Notes: r.PostFormValue("notes")}
	switch req.Kind {
	case privacy.KindErase:
		if r.PostFormValue("confirm") != "erase" {
			return errEraseUnconfirmed
		}
	case privacy.KindWithdrawConsent:
		for _, ch := range r.PostForm["channel"] {
			if oneOf(ch, privacy.Channels) {
				c.Channels = append(c.Channels, ch)
			}
		}
	case privacy.KindRectify:
		u, err := corrections(r)
		if err != nil {
			return err
		}
		c.Corrections = &u
	}
	_, err = s.Privacy.Complete(r.Context(), id, c)
	return err
}

// corrections turns the rectification form into a customer update: only
// the fields filled in are changed, so an empty field never erases data.
func corrections(r *http.Request) (customer.Update, error) {
	var u customer.Update
	val := func(name string) *string {
		if v := strings.TrimSpace(r.PostFormValue(name)); v != "" {
			return &v
		}
		return nil
	}
	u.Name, u.Mobile, u.Email, u.Address = val("name"), val("mobile"), val("email"), val("address")
	if b := val("birth_date"); b != nil {
		d, err := kehu.ParseDate(*b)
		if err != nil {
			return u, &kehu.Error{Code: kehu.EINVALID, Message: "validation failed",
				Fields: []kehu.FieldError{{Field: "birth_date", Reason: "must be YYYY-MM-DD"}}}
		}
		u.BirthDate = &d
	}
	if u == (customer.Update{}) {
		return u, &kehu.Error{Code: kehu.EINVALID, Message: "validation failed",
			Fields: []kehu.FieldError{{Field: "corrections", Reason: "is required"}}}
	}
	return u, nil
}

// privacyExport downloads everything about the customer of an access
// request as JSON (recorded as customer.export by the service).
func (s *server) privacyExport(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	req, err := s.Privacy.Request(r.Context(), id)
	if err == nil && req.Kind != privacy.KindAccess {
		err = kehu.Errorf(kehu.ENOTFOUND, "only an access request has an export")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	e, err := s.Privacy.Export(r.Context(), req.CustomerID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="kehu-customer-`+strconv.FormatInt(req.CustomerID, 10)+
		"-request-"+strconv.FormatInt(id, 10)+`.json"`)
	_, _ = w.Write(body)
}

// pathInt reads a positive integer path value.
func pathInt(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}
