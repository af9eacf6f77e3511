package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kehu/internal/kehu"
	"kehu/internal/privacy"
)

// ProblemApprovalRequired answers a bulk list or export above the threshold
// without an approved bulk-export request (docs/PRIVACY.md).
const ProblemApprovalRequired = "https://kehu.dev/problems/approval-required"

// privacyRequestJSON is a data-subject request as the API shows it.
type privacyRequestJSON struct {
	ID          int64      `json:"id"`
	Kind        string     `json:"kind"`
	CustomerID  int64      `json:"customer_id"`
	ReceivedAt  time.Time  `json:"received_at"`
	DueOn       kehu.Date  `json:"due_on"`
	Status      string     `json:"status"`
	Overdue     bool       `json:"overdue"`
	HandlerID   *int64     `json:"handler_id"`
	HandlerName string     `json:"handler_name"`
	Notes       string     `json:"notes"`
	Reason      string     `json:"reason"`
	ClosedAt    *time.Time `json:"closed_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

func privacyRequestView(r privacy.Request) privacyRequestJSON {
	return privacyRequestJSON{ID: r.ID, Kind: r.Kind, CustomerID: r.CustomerID, ReceivedAt: r.ReceivedAt,
		DueOn: r.DueOn, Status: r.Status, Overdue: r.Overdue, HandlerID: r.HandlerID, HandlerName: r.HandlerName,
		Notes: r.Notes, Reason: r.Reason, ClosedAt: r.ClosedAt, UpdatedAt: r.UpdatedAt}
}

// privacyRequestCreate is the body of POST /api/v1/privacy-requests.
type privacyRequestCreate struct {
	Kind       string `json:"kind"`
	CustomerID int64  `json:"customer_id"`
	Notes      string `json:"notes"`
}

func (a *api) filePrivacyRequest(w http.ResponseWriter, r *http.Request) error {
	var in privacyRequestCreate
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	req, err := a.d.Privacy.File(r.Context(), privacy.NewRequest{Kind: in.Kind, CustomerID: in.CustomerID, Notes: in.Notes})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/privacy-requests/"+strconv.FormatInt(req.ID, 10))
	writeJSON(w, http.StatusCreated, privacyRequestView(req))
	return nil
}

// privacyRequestPage is the body of GET /api/v1/privacy-requests.
type privacyRequestPage struct {
	Items      []privacyRequestJSON `json:"items"`
	NextCursor *string              `json:"next_cursor"`
}

func (a *api) listPrivacyRequests(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var f privacy.RequestFilter
	var issues []FieldIssue
	if f.Status = q.Get("status"); f.Status != "" && !oneOf(f.Status, privacy.Statuses) {
		issues = append(issues, FieldIssue{"status", "must be received, in_progress, completed or rejected"})
	}
	if s := q.Get("customer_id"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id < 1 {
			issues = append(issues, FieldIssue{"customer_id", "must be a positive integer"})
		}
		f.CustomerID = id
	}
	if f.Limit, f.After, issues = pageParams(r, issues); len(issues) > 0 {
		return badBody("a query parameter is invalid", issues...)
	}
	p, err := a.d.Privacy.Requests(r.Context(), f)
	if err != nil {
		return err
	}
	out := privacyRequestPage{Items: make([]privacyRequestJSON, 0, len(p.Items))}
	for _, x := range p.Items {
		out.Items = append(out.Items, privacyRequestView(x))
	}
	out.NextCursor = p.NextCursor.Next()
	writeJSON(w, http.StatusOK, out)
	return nil
}

// pageParams reads limit and cursor, adding to issues.
func pageParams(r *http.Request, issues []FieldIssue) (int, kehu.Cursor, []FieldIssue) {
	q := r.URL.Query()
	limit := 0
	var after kehu.Cursor
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			issues = append(issues, FieldIssue{"limit", "must be a positive integer"})
		}
		limit = kehu.ClampLimit(n)
	}
	if s := q.Get("cursor"); s != "" {
		c, err := kehu.DecodeCursor(s)
		if err != nil {
			issues = append(issues, FieldIssue{"cursor", "is not a cursor from a previous page"})
		}
		after = c
	}
	return limit, after, issues
}

func oneOf(s string, set []string) bool {
	for _, x := range set {
		if x == s {
			return true
		}
	}
	return false
}

// requestID reads the {id} of a privacy request or approval; malformed is 404.
func requestID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, newProblem(http.StatusNotFound, ProblemNotFound, "no such request")
	}
	return id, nil
}

func (a *api) getPrivacyRequest(w http.ResponseWriter, r *http.Request) error {
	id, err := requestID(r)
	if err != nil {
		return err
	}
	req, err := a.d.Privacy.Request(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, privacyRequestView(req))
	return nil
}

func (a *api) startPrivacyRequest(w http.ResponseWriter, r *http.Request) error {
	id, err := requestID(r)
	if err != nil {
		return err
	}
	req, err := a.d.Privacy.Start(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, privacyRequestView(req))
	return nil
}

// privacyCompletion is the body of POST .../complete: corrections for a
// rectification (members as in PATCH /customers/{id}), channels for a
// consent withdrawal (none: all).
type privacyCompletion struct {
	Notes       string         `json:"notes"`
	Corrections *customerPatch `json:"corrections"`
	Channels    []string       `json:"channels"`
}

func (a *api) completePrivacyRequest(w http.ResponseWriter, r *http.Request) error {
	id, err := requestID(r)
	if err != nil {
		return err
	}
	var in privacyCompletion
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c := privacy.Completion{Notes: in.Notes, Channels: in.Channels}
	if in.Corrections != nil {
		u := in.Corrections.domain()
		c.Corrections = &u
	}
	req, err := a.d.Privacy.Complete(r.Context(), id, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, privacyRequestView(req))
	return nil
}

// privacyRejection is the body of POST .../reject.
type privacyRejection struct {
	Reason string `json:"reason"`
}

func (a *api) rejectPrivacyRequest(w http.ResponseWriter, r *http.Request) error {
	id, err := requestID(r)
	if err != nil {
		return err
	}
	var in privacyRejection
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	req, err := a.d.Privacy.Reject(r.Context(), id, in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, privacyRequestView(req))
	return nil
}

// exportCustomerData answers a data-subject access request: everything
// about the customer, in clear, as a JSON download.
func (a *api) exportCustomerData(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	e, err := a.d.Privacy.Export(r.Context(), id)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", `attachment; filename="customer-`+strconv.FormatInt(id, 10)+`.json"`)
	writeJSON(w, http.StatusOK, e)
	return nil
}

// consentsJSON is the body of GET and PUT /api/v1/customers/{id}/consents.
type consentsJSON struct {
	Items []privacy.Consent `json:"items"`
}

func (a *api) getConsents(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	cs, err := a.d.Privacy.Consents(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, consentsJSON{Items: cs})
	return nil
}

// consentsPut is the body of PUT /api/v1/customers/{id}/consents: the
// channels to change (others are kept) and how the customer told the bank.
type consentsPut struct {
	Consents []struct {
		Channel string `json:"channel"`
		Granted bool   `json:"granted"`
	} `json:"consents"`
	Source string `json:"source"`
}

func (a *api) putConsents(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in consentsPut
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	changes := make([]privacy.ConsentChange, 0, len(in.Consents))
	for _, c := range in.Consents {
		changes = append(changes, privacy.ConsentChange{Channel: c.Channel, Granted: c.Granted})
	}
	cs, err := a.d.Privacy.SetConsents(r.Context(), id, changes, in.Source)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, consentsJSON{Items: cs})
	return nil
}

// approvalProblem turns a refused bulk request into its own problem type,
// so clients can offer to request an approval.
func approvalProblem(err error) error {
	var need *privacy.ApprovalRequiredError
	if errors.As(err, &need) {
		return &Problem{Type: ProblemApprovalRequired, Title: "Approval required", Status: http.StatusForbidden,
			Detail: need.Error()}
	}
	return err
}

// sanitizeCell keeps a spreadsheet from running a cell as a formula.
func sanitizeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
