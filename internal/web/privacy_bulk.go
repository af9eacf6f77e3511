package web

import (
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"kehu/internal/customer"
	"kehu/internal/i18n"
	"kehu/internal/kehu"
	"kehu/internal/privacy"
)

// bulkView is the page shown when an export crosses the bulk threshold: the
// numbers, and the form asking for an approval with the query and a reason.
type bulkView struct {
	Query     string
	Customers int64
	UsedToday int64
	Threshold int64
	Reason    string
	ErrorKey  string
	// RequestedID is a filed approval (the page after the request).
	RequestedID int64
}

// customerCSVColumns are the catalogue keys of the export's header row.
var customerCSVColumns = []string{"bulk.csv.no", "bulk.csv.name", "bulk.csv.type", "bulk.csv.id_number",
	"bulk.csv.mobile", "bulk.csv.level", "bulk.csv.aum_fen", "bulk.csv.org_id", "bulk.csv.status"}

// customerExport is the 导出 button of the customer list: the customers the
// search matches, masked as the user sees them, as CSV. privacy.BulkExport
// decides: above the threshold without an approval nothing is sent, the
// refusal is recorded, compliance is alerted, and this page says so and
// offers the approval request. A POST with a CSRF token, not a link, because
// even a refused export writes an alert in the user's name.
func (s *server) customerExport(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.PostFormValue("q"))
	if utf8.RuneCountInString(q) > 100 {
		q = string([]rune(q)[:100])
	}
	lang := stateOf(r).lang
	var cw *csv.Writer
	_, err := s.Privacy.BulkExport(r.Context(), customer.Filter{Query: q}, func(c customer.Customer) error {
		if cw == nil {
			cw = s.startCustomerCSV(w, lang)
		}
		return cw.Write(cells(strconv.FormatInt(c.ID, 10), c.Name, s.i18n.T(lang, "ctype."+c.Type), c.IDNumber,
			c.Mobile, s.i18n.T(lang, "level."+c.Level), strconv.FormatInt(c.AUM, 10), strconv.FormatInt(c.OrgID, 10),
			c.Status))
	})
	if cw != nil {
		cw.Flush()
		if err != nil {
			// Headers are sent; the customer.export record still shows the
			// attempt and the log has the cause.
			s.Logger.ErrorContext(r.Context(), "customer export failed", "path", kehu.LogPath(r.URL.Path), "err", err)
		}
		return
	}
	var need *privacy.ApprovalRequiredError
	switch {
	case errors.As(err, &need):
		bv := bulkView{Query: q, Customers: need.Customers, UsedToday: need.UsedToday, Threshold: need.Threshold}
		s.render(w, r, http.StatusForbidden, "bulk", "layout.html", s.newView(w, r, "bulk.title", "customers", bv))
	case err != nil:
		s.fail(w, r, err)
	default:
		s.startCustomerCSV(w, lang).Flush() // nothing matched: the header row alone
	}
}

// startCustomerCSV sends the download headers, a BOM for spreadsheet
// programs in Chinese offices, and the header row in the page's language.
func (s *server) startCustomerCSV(w http.ResponseWriter, lang string) *csv.Writer {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="kehu-customers-`+
		s.Clock.Now().In(s.loc).Format("20060102-150405")+`.csv"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("\ufeff"))
	cw := csv.NewWriter(w)
	head := make([]string, len(customerCSVColumns))
	for i, k := range customerCSVColumns {
		head[i] = s.i18n.T(lang, k)
	}
	_ = cw.Write(head)
	return cw
}

// requestBulkApproval files an approval request for the export that was
// refused. The approval stores a reason, not a query, so the query is
// appended to the reason the approver reads.
func (s *server) requestBulkApproval(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.PostFormValue("q"))
	n, _ := strconv.Atoi(r.PostFormValue("max_customers"))
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	full := reason
	if reason != "" {
		full = reason + "\n" + s.i18n.T(i18n.Default, "bulk.query_line", queryText(q))
	}
	ap, err := s.Privacy.RequestApproval(r.Context(), full, n)
	if kehu.ErrorCode(err) == kehu.EINVALID {
		bv := bulkView{Query: q, Customers: int64(n), Threshold: s.Privacy.BulkThreshold(), Reason: reason,
			ErrorKey: "bulk.error.reason"}
		s.render(w, r, http.StatusUnprocessableEntity, "bulk", "layout.html", s.newView(w, r, "bulk.title", "customers", bv))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/bulk-export/requested?"+url.Values{"id": {strconv.FormatInt(ap.ID, 10)}, "q": {q}}.Encode(),
		http.StatusSeeOther)
}

// queryText names the search in the approval's reason: "*" for all.
func queryText(q string) string {
	if q == "" {
		return "*"
	}
	return q
}

// bulkRequested confirms a filed approval request and says what happens next.
func (s *server) bulkRequested(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.URL.Query().Get("id"), 10, 64)
	q := r.URL.Query().Get("q")
	if utf8.RuneCountInString(q) > 100 {
		q = string([]rune(q)[:100])
	}
	bv := bulkView{Query: q, RequestedID: id, Threshold: s.Privacy.BulkThreshold()}
	s.render(w, r, http.StatusOK, "bulk", "layout.html", s.newView(w, r, "bulk.requested.title", "customers", bv))
}

// complianceView is 合规提醒: bulk-export approvals waiting for a decision
// (never the approver's own), recent decisions, and the alerts.
type complianceView struct {
	Pending  []privacy.Approval
	Decided  []privacy.Approval
	Alerts   []privacy.Alert
	NextURL  string
	Me       int64
	Notice   string
	ErrorKey string
}

func (s *server) compliancePage(w http.ResponseWriter, r *http.Request) {
	after, err := kehu.DecodeCursor(r.URL.Query().Get("after"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cv := complianceView{Me: stateOf(r).actor.UserID}
	switch r.URL.Query().Get("done") {
	case "approve", "deny":
		cv.Notice = "compliance.done." + r.URL.Query().Get("done")
	case "conflict":
		cv.ErrorKey = "compliance.error.conflict"
	}
	aps, err := s.Privacy.Approvals(r.Context(), "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, a := range aps {
		if a.Status == privacy.ApprovalPending {
			cv.Pending = append(cv.Pending, a)
		} else if len(cv.Decided) < 20 {
			cv.Decided = append(cv.Decided, a)
		}
	}
	p, err := s.Privacy.Alerts(r.Context(), privacy.AlertFilter{Limit: privacyPageSize, After: after})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cv.Alerts = p.Items
	if p.NextCursor.AfterID != 0 {
		cv.NextURL = "/compliance?" + url.Values{"after": {p.NextCursor.Encode()}}.Encode()
	}
	s.render(w, r, http.StatusOK, "compliance", "layout.html", s.newView(w, r, "compliance.title", "compliance", cv))
}

// decideBulkApproval approves or denies an approval; the service refuses
// the requester's own (403) and one already decided (shown as a notice).
func (s *server) decideBulkApproval(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	verb := r.PathValue("verb")
	if !ok || (verb != "approve" && verb != "deny") {
		s.notFound(w, r)
		return
	}
	_, err := s.Privacy.Decide(r.Context(), id, verb == "approve", r.PostFormValue("comment"))
	switch kehu.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/compliance?done="+verb, http.StatusSeeOther)
	case kehu.ECONFLICT:
		http.Redirect(w, r, "/compliance?done=conflict", http.StatusSeeOther)
	default:
		s.fail(w, r, err)
	}
}
