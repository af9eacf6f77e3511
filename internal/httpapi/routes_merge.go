package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"kehu/internal/access"
	"kehu/internal/identity"
	"kehu/internal/kehu"
)

// mergeRoutes are the duplicate review (docs/IMPORT.md, "Merging duplicates"):
// suspected pairs in the reviewer's scope, merge, dismiss, and the merge log
// with undo. The service limits everything to pairs whose two customers are
// both in scope; anything else is 404.
func mergeRoutes() []route {
	return []route{
		{"GET /api/v1/duplicates", signedIn, access.CustomerMerge, (*api).listDuplicates},
		{"GET /api/v1/duplicates/{id}", signedIn, access.CustomerMerge, (*api).getDuplicate},
		{"POST /api/v1/duplicates/{id}/merge", signedIn, access.CustomerMerge, (*api).mergeDuplicate},
		{"POST /api/v1/duplicates/{id}/dismiss", signedIn, access.CustomerMerge, (*api).dismissDuplicate},
		{"GET /api/v1/merges", signedIn, access.CustomerMerge, (*api).listMerges},
		{"GET /api/v1/merges/{id}", signedIn, access.CustomerMerge, (*api).getMerge},
		{"POST /api/v1/merges/{id}/undo", signedIn, access.CustomerMerge, (*api).undoMerge},
	}
}

// pairJSON is a suspected pair with its two customers side by side.
type pairJSON struct {
	ID        int64              `json:"id"`
	Rule      string             `json:"rule"`
	Score     int                `json:"score"`
	Evidence  []string           `json:"evidence"`
	Status    string             `json:"status"`
	CreatedAt time.Time          `json:"created_at"`
	DecidedBy *int64             `json:"decided_by"`
	DecidedAt *time.Time         `json:"decided_at"`
	Customers []pairCustomerJSON `json:"customers"`
}

// pairCustomerJSON is one side of a pair: the customer masked for the
// caller, the survivor it was merged into, and its rows per table.
type pairCustomerJSON struct {
	Customer   customerJSON   `json:"customer"`
	MergedInto *int64         `json:"merged_into"`
	Records    map[string]int `json:"records"`
}

func pairView(p identity.Pair) pairJSON {
	v := pairJSON{ID: p.ID, Rule: p.Rule, Score: p.Score, Evidence: p.Evidence, Status: p.Status,
		CreatedAt: p.CreatedAt.UTC(), DecidedBy: p.DecidedBy, DecidedAt: p.DecidedAt}
	if v.Evidence == nil {
		v.Evidence = []string{}
	}
	v.Customers = []pairCustomerJSON{}
	for _, s := range p.Subjects {
		if s.Customer.ID == 0 { // not loaded: a dismiss answers the pair alone
			continue
		}
		c := pairCustomerJSON{Customer: customerView(s.Customer), Records: s.Records}
		if s.MergedInto != 0 {
			c.MergedInto = &s.MergedInto
		}
		if c.Records == nil {
			c.Records = map[string]int{}
		}
		v.Customers = append(v.Customers, c)
	}
	return v
}

// mergeJSON is one merge of the log.
type mergeJSON struct {
	ID           int64          `json:"id"`
	SurvivorID   int64          `json:"survivor_id"`
	SurvivorName string         `json:"survivor_name"`
	MergedID     int64          `json:"merged_id"`
	MergedName   string         `json:"merged_name"`
	CandidateID  *int64         `json:"candidate_id"`
	Status       string         `json:"status"`
	Reason       string         `json:"reason"`
	Fields       []string       `json:"fields"`
	Moved        map[string]int `json:"moved"`
	MergedBy     int64          `json:"merged_by"`
	MergedAt     time.Time      `json:"merged_at"`
	UndoneBy     *int64         `json:"undone_by"`
	UndoneAt     *time.Time     `json:"undone_at"`
	UndoReason   string         `json:"undo_reason"`
}

func mergeView(m identity.MergeView) mergeJSON {
	v := mergeJSON{ID: m.ID, SurvivorID: m.SurvivorID, SurvivorName: m.SurvivorName, MergedID: m.MergedID,
		MergedName: m.MergedName, CandidateID: m.CandidateID, Status: m.Status, Reason: m.Reason, Fields: m.Fields,
		Moved: m.Moved, MergedBy: m.MergedBy, MergedAt: m.MergedAt.UTC(), UndoneBy: m.UndoneBy, UndoneAt: m.UndoneAt,
		UndoReason: m.UndoReason}
	if v.Fields == nil {
		v.Fields = []string{}
	}
	if v.Moved == nil {
		v.Moved = map[string]int{}
	}
	return v
}

type pairPage struct {
	Items      []pairJSON `json:"items"`
	NextCursor *string    `json:"next_cursor"`
}

type mergePage struct {
	Items      []mergeJSON `json:"items"`
	NextCursor *string     `json:"next_cursor"`
}

func (a *api) listDuplicates(w http.ResponseWriter, r *http.Request) error {
	var f identity.DuplicateFilter
	var issues []FieldIssue
	if f.Status = r.URL.Query().Get("status"); f.Status != "" && !oneOf(f.Status, []string{identity.DupPending,
		identity.DupMerged, identity.DupDismissed}) {
		issues = append(issues, FieldIssue{"status", "must be pending, merged or dismissed"})
	}
	var after kehu.Cursor
	if f.Limit, after, issues = pageParams(r, issues); len(issues) > 0 {
		return badBody("a query parameter is invalid", issues...)
	}
	f.Before = after.AfterID
	pairs, next, err := a.d.Merger.Pairs(r.Context(), f)
	if err != nil {
		return err
	}
	out := pairPage{Items: make([]pairJSON, 0, len(pairs)), NextCursor: kehu.Cursor{AfterID: next}.Next()}
	for _, p := range pairs {
		out.Items = append(out.Items, pairView(p))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *api) getDuplicate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathIDOf(r, "suspected duplicate")
	if err != nil {
		return err
	}
	p, err := a.d.Merger.Pair(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pairView(p))
	return nil
}

// mergeRequest is the body of POST /api/v1/duplicates/{id}/merge.
type mergeRequest struct {
	SurvivorID int64  `json:"survivor_id"`
	Reason     string `json:"reason"`
}

// reasonRequest is the body of dismiss and undo.
type reasonRequest struct {
	Reason string `json:"reason"`
}

func (a *api) mergeDuplicate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathIDOf(r, "suspected duplicate")
	if err != nil {
		return err
	}
	var body mergeRequest
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	m, err := a.d.Merger.Merge(r.Context(), id, body.SurvivorID, body.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, mergeView(identity.MergeView{Merge: m}))
	return nil
}

func (a *api) dismissDuplicate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathIDOf(r, "suspected duplicate")
	if err != nil {
		return err
	}
	var body reasonRequest
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	c, err := a.d.Merger.Dismiss(r.Context(), id, body.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pairView(identity.Pair{Candidate: c}))
	return nil
}

func (a *api) listMerges(w http.ResponseWriter, r *http.Request) error {
	var f identity.MergeFilter
	var issues []FieldIssue
	if s := r.URL.Query().Get("customer_id"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id < 1 {
			issues = append(issues, FieldIssue{"customer_id", "must be a positive integer"})
		}
		f.CustomerID = id
	}
	var after kehu.Cursor
	if f.Limit, after, issues = pageParams(r, issues); len(issues) > 0 {
		return badBody("a query parameter is invalid", issues...)
	}
	f.Before = after.AfterID
	merges, next, err := a.d.Merger.Merges(r.Context(), f)
	if err != nil {
		return err
	}
	out := mergePage{Items: make([]mergeJSON, 0, len(merges)), NextCursor: kehu.Cursor{AfterID: next}.Next()}
	for _, m := range merges {
		out.Items = append(out.Items, mergeView(m))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *api) getMerge(w http.ResponseWriter, r *http.Request) error {
	id, err := pathIDOf(r, "merge")
	if err != nil {
		return err
	}
	m, err := a.d.Merger.MergeByID(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, mergeView(m))
	return nil
}

func (a *api) undoMerge(w http.ResponseWriter, r *http.Request) error {
	id, err := pathIDOf(r, "merge")
	if err != nil {
		return err
	}
	var body reasonRequest
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	m, err := a.d.Merger.Undo(r.Context(), id, body.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, mergeView(identity.MergeView{Merge: m}))
	return nil
}

// pathIDOf reads the {id} path segment of a what; malformed is 404, like
// unknown (as pathID does for customers).
func pathIDOf(r *http.Request, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, newProblem(http.StatusNotFound, ProblemNotFound, "no such "+what)
	}
	return id, nil
}
