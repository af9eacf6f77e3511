package httpapi

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kehu/internal/audit"
)

// auditRecordJSON is one audit record as the API shows it. Hashes are left
// out: they matter to `kehu audit verify`, not to a reviewer.
type auditRecordJSON struct {
	ID         int64          `json:"id"`
	At         time.Time      `json:"at"`
	Actor      string         `json:"actor"`
	ActorID    *int64         `json:"actor_id"`
	Role       string         `json:"role"`
	OrgID      *int64         `json:"org_id"`
	SessionID  *int64         `json:"session_id"`
	IP         string         `json:"ip"`
	UserAgent  string         `json:"user_agent"`
	Action     string         `json:"action"`
	CustomerID *int64         `json:"customer_id"`
	Object     string         `json:"object"`
	Changes    []audit.Change `json:"changes"`
	Reason     string         `json:"reason"`
	Count      int            `json:"count"`
	Outcome    string         `json:"outcome"`
}

// auditPage is the body of GET /api/v1/audit.
type auditPage struct {
	Items      []auditRecordJSON `json:"items"`
	NextCursor *string           `json:"next_cursor"`
}

// idOrNull turns the "none" id 0 into null.
func idOrNull(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func auditView(r audit.Record) auditRecordJSON {
	ch := r.Changes
	if ch == nil {
		ch = []audit.Change{}
	}
	return auditRecordJSON{ID: r.ID, At: r.At, Actor: r.Username, ActorID: idOrNull(r.ActorID), Role: r.Role,
		OrgID: idOrNull(r.OrgID), SessionID: idOrNull(r.SessionID), IP: r.IP, UserAgent: r.UserAgent,
		Action: r.Action, CustomerID: idOrNull(r.CustomerID), Object: r.Object, Changes: ch, Reason: r.Reason,
		Count: r.Count, Outcome: r.Outcome}
}

func (a *api) searchAudit(w http.ResponseWriter, r *http.Request) error {
	f, err := auditFilter(r)
	if err != nil {
		return err
	}
	p, err := a.d.Audit.Search(r.Context(), f)
	if err != nil {
		return err
	}
	out := auditPage{Items: make([]auditRecordJSON, 0, len(p.Items))}
	for _, rec := range p.Items {
		out.Items = append(out.Items, auditView(rec))
	}
	out.NextCursor = p.NextCursor.Next()
	writeJSON(w, http.StatusOK, out)
	return nil
}

// exportAudit streams the matching records as CSV (UTF-8 with a BOM, so
// spreadsheet programs used in Chinese offices read it right). The export is
// recorded by the audit log itself.
func (a *api) exportAudit(w http.ResponseWriter, r *http.Request) error {
	f, err := auditFilter(r)
	if err != nil {
		return err
	}
	started := false
	var cw *csv.Writer
	err = a.d.Audit.Export(r.Context(), f, func(rec audit.Record) error {
		if !started {
			started = true
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="audit.csv"`)
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("\ufeff"))
			cw = csv.NewWriter(w)
			_ = cw.Write(auditCSVHeader)
		}
		return cw.Write(auditCSVRow(rec))
	})
	if err != nil && !started {
		return err
	}
	if !started { // nothing matched: the header alone
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="audit.csv"`)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("\ufeff"))
		cw = csv.NewWriter(w)
		_ = cw.Write(auditCSVHeader)
	}
	cw.Flush()
	if err != nil { // headers are gone; the log has the cause
		a.log.ErrorContext(r.Context(), "audit export failed", "err", err)
	}
	return nil
}

var auditCSVHeader = []string{"id", "at", "actor", "role", "org_id", "ip", "user_agent", "action", "customer_id",
	"object", "changes", "reason", "count", "outcome"}

func auditCSVRow(r audit.Record) []string {
	num := func(n int64) string {
		if n == 0 {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	var ch []string
	for _, c := range r.Changes {
		ch = append(ch, c.Field+": "+c.Old+" → "+c.New)
	}
	return []string{strconv.FormatInt(r.ID, 10), r.At.UTC().Format(time.RFC3339), r.Username, r.Role,
		num(r.OrgID), r.IP, r.UserAgent, r.Action, num(r.CustomerID), r.Object, strings.Join(ch, "; "), r.Reason,
		strconv.Itoa(r.Count), r.Outcome}
}

// auditFilter reads the search's query parameters; each bad one is named in
// a 400 problem. from and to are RFC 3339 times or YYYY-MM-DD dates (a day in
// Asia/Shanghai, to inclusive).
func auditFilter(r *http.Request) (audit.Filter, error) {
	q := r.URL.Query()
	var f audit.Filter
	var issues []FieldIssue
	if s := q.Get("customer_id"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id < 1 {
			issues = append(issues, FieldIssue{"customer_id", "must be a positive integer"})
		}
		f.CustomerID = id
	}
	f.Actor = strings.TrimSpace(q.Get("actor"))
	f.Action = strings.TrimSpace(q.Get("action"))
	if len(f.Actor) > 64 {
		issues = append(issues, FieldIssue{"actor", "must have at most 64 characters"})
	}
	if len(f.Action) > 64 {
		issues = append(issues, FieldIssue{"action", "must have at most 64 characters"})
	}
	var ok bool
	if f.From, ok = auditTime(q.Get("from"), false); !ok {
		issues = append(issues, FieldIssue{"from", "must be an RFC 3339 time or a YYYY-MM-DD date"})
	}
	if f.To, ok = auditTime(q.Get("to"), true); !ok {
		issues = append(issues, FieldIssue{"to", "must be an RFC 3339 time or a YYYY-MM-DD date"})
	}
	f.Limit, f.After, issues = pageParams(r, issues)
	if len(issues) > 0 {
		return audit.Filter{}, badBody("a query parameter is invalid", issues...)
	}
	return f, nil
}

// shanghai is the bank's business time zone; a date filter means a day there.
var shanghai = time.FixedZone("CST", 8*3600)

// auditTime parses a from/to bound. A date alone is the start of that day in
// Asia/Shanghai, or for an upper bound the start of the next day, so
// to=2026-03-02 includes the whole of 2 March.
func auditTime(s string, upper bool) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	d, err := time.ParseInLocation("2006-01-02", s, shanghai)
	if err != nil {
		return time.Time{}, false
	}
	if upper {
		d = d.AddDate(0, 0, 1)
	}
	return d, true
}
