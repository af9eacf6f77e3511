package httpapi

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"kehu/internal/customer"
	"kehu/internal/privacy"
)

var customerCSVHeader = []string{"id", "type", "name", "id_type", "id_number", "mobile", "email", "birth_date",
	"address", "org_id", "owner_id", "level", "aum_fen", "status"}

// exportCustomers streams the customers a search matches as CSV, masked as
// the caller sees them. Above the bulk threshold it needs an approval: the
// refusal is a 403 approval-required problem, sent before any row.
func (a *api) exportCustomers(w http.ResponseWriter, r *http.Request) error {
	f, err := customerFilter(r)
	if err != nil {
		return err
	}
	var cw *csv.Writer
	_, err = a.d.Privacy.BulkExport(r.Context(), f, func(c customer.Customer) error {
		if cw == nil {
			cw = startCSV(w, "customers.csv", customerCSVHeader)
		}
		owner := ""
		if c.OwnerID != nil {
			owner = strconv.FormatInt(*c.OwnerID, 10)
		}
		return cw.Write([]string{strconv.FormatInt(c.ID, 10), c.Type, sanitizeCell(c.Name), c.IDType, c.IDNumber,
			c.Mobile, sanitizeCell(c.Email), c.BirthDate.String(), sanitizeCell(c.Address), strconv.FormatInt(c.OrgID, 10),
			owner, c.Level, strconv.FormatInt(c.AUM, 10), c.Status})
	})
	if err != nil && cw == nil {
		return approvalProblem(err)
	}
	if cw == nil {
		cw = startCSV(w, "customers.csv", customerCSVHeader)
	}
	cw.Flush()
	if err != nil {
		a.log.ErrorContext(r.Context(), "customer export failed", "err", err)
	}
	return nil
}

// startCSV sends the headers of a CSV download (UTF-8 with a BOM, which
// spreadsheet programs in Chinese offices need) and its header row.
func startCSV(w http.ResponseWriter, name string, header []string) *csv.Writer {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("\ufeff"))
	cw := csv.NewWriter(w)
	_ = cw.Write(header)
	return cw
}

// alertJSON is a compliance alert as the API shows it.
type alertJSON struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	UserID    int64     `json:"user_id"`
	Username  string    `json:"username"`
	Customers int64     `json:"customers"`
	Threshold int64     `json:"threshold"`
	Detail    string    `json:"detail"`
	CreatedAt time.Time `json:"created_at"`
}

type alertPage struct {
	Items      []alertJSON `json:"items"`
	NextCursor *string     `json:"next_cursor"`
}

func (a *api) listComplianceAlerts(w http.ResponseWriter, r *http.Request) error {
	limit, after, issues := pageParams(r, nil)
	if len(issues) > 0 {
		return badBody("a query parameter is invalid", issues...)
	}
	p, err := a.d.Privacy.Alerts(r.Context(), privacy.AlertFilter{Limit: limit, After: after})
	if err != nil {
		return err
	}
	out := alertPage{Items: make([]alertJSON, 0, len(p.Items))}
	for _, x := range p.Items {
		out.Items = append(out.Items, alertJSON{ID: x.ID, Kind: x.Kind, UserID: x.UserID, Username: x.Username,
			Customers: x.Customers, Threshold: x.Threshold, Detail: x.Detail, CreatedAt: x.CreatedAt})
	}
	out.NextCursor = p.NextCursor.Next()
	writeJSON(w, http.StatusOK, out)
	return nil
}

// approvalJSON is a bulk-export approval as the API shows it.
type approvalJSON struct {
	ID           int64      `json:"id"`
	RequesterID  int64      `json:"requester_id"`
	Requester    string     `json:"requester"`
	Reason       string     `json:"reason"`
	MaxCustomers int        `json:"max_customers"`
	Status       string     `json:"status"`
	CreatedAt    time.Time  `json:"created_at"`
	DecidedBy    *int64     `json:"decided_by"`
	DecidedAt    *time.Time `json:"decided_at"`
	Comment      string     `json:"comment"`
	ExpiresAt    *time.Time `json:"expires_at"`
	UsedAt       *time.Time `json:"used_at"`
}

func approvalView(x privacy.Approval) approvalJSON {
	return approvalJSON{ID: x.ID, RequesterID: x.RequesterID, Requester: x.RequesterName, Reason: x.Reason,
		MaxCustomers: x.MaxCustomers, Status: x.Status, CreatedAt: x.CreatedAt, DecidedBy: x.DecidedBy,
		DecidedAt: x.DecidedAt, Comment: x.Comment, ExpiresAt: x.ExpiresAt, UsedAt: x.UsedAt}
}

type approvalCreate struct {
	Reason       string `json:"reason"`
	MaxCustomers int    `json:"max_customers"`
}

func (a *api) requestBulkApproval(w http.ResponseWriter, r *http.Request) error {
	var in approvalCreate
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	ap, err := a.d.Privacy.RequestApproval(r.Context(), in.Reason, in.MaxCustomers)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, approvalView(ap))
	return nil
}

func (a *api) listBulkApprovals(w http.ResponseWriter, r *http.Request) error {
	status := r.URL.Query().Get("status")
	if status != "" && !oneOf(status, []string{privacy.ApprovalPending, privacy.ApprovalApproved,
		privacy.ApprovalDenied, privacy.ApprovalUsed}) {
		return badBody("a query parameter is invalid", FieldIssue{"status", "must be pending, approved, denied or used"})
	}
	list, err := a.d.Privacy.Approvals(r.Context(), status)
	if err != nil {
		return err
	}
	out := struct {
		Items []approvalJSON `json:"items"`
	}{Items: make([]approvalJSON, 0, len(list))}
	for _, x := range list {
		out.Items = append(out.Items, approvalView(x))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type approvalDecision struct {
	Approve bool   `json:"approve"`
	Comment string `json:"comment"`
}

func (a *api) decideBulkApproval(w http.ResponseWriter, r *http.Request) error {
	id, err := requestID(r)
	if err != nil {
		return err
	}
	var in approvalDecision
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	ap, err := a.d.Privacy.Decide(r.Context(), id, in.Approve, in.Comment)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, approvalView(ap))
	return nil
}
