package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"kehu/internal/i18n"
	"kehu/internal/identity"
	"kehu/internal/kehu"
)

// duplicatesRoutes are 疑似重复客户: the suspected-duplicate pairs of the
// reviewer's scope side by side, merge into either side, dismiss, and the
// merge log with undo (docs/IMPORT.md, "Merging duplicates").
func (s *server) duplicatesRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /duplicates", s.signedIn(s.duplicatesPage))
	mux.HandleFunc("POST /duplicates/{id}/merge", s.signedIn(s.checkCSRF(s.mergePair)))
	mux.HandleFunc("POST /duplicates/{id}/dismiss", s.signedIn(s.checkCSRF(s.dismissPair)))
	mux.HandleFunc("POST /merges/{id}/undo", s.signedIn(s.checkCSRF(s.undoMerge)))
}

// duplicatesView is the page: one status of the queue, a page of it, and
// the latest merges.
type duplicatesView struct {
	Status   string
	Statuses []string
	Pairs    []pairView
	Next     string // query of the next page, "" on the last
	Merges   []identity.MergeView
	Done     string // the action just completed, confirmed on the page
	ErrorKey string // why the last action was refused (catalogue key)
	Records  []string
}

// pairView is one pair on the page: the two customers (as the reviewer may
// see them) and the compared rows.
type pairView struct {
	identity.Pair
	Left, Right identity.Subject
	Rows        []compareRow
}

// compareRow is one field side by side. Prefix, when set, is the catalogue
// prefix that translates the stored codes; Matched marks the fields the
// matching rule found equal (the evidence), which masked values cannot show.
type compareRow struct {
	Label, Prefix, Left, Right string
	Matched                    bool
}

// compareRows lays out the two customers field by field.
func (s *server) compareRows(r *http.Request, p identity.Pair, orgs map[int64]string) []compareRow {
	evidence := map[string]bool{}
	for _, e := range p.Evidence {
		evidence[e] = true
	}
	a, b := p.Subjects[0].Customer, p.Subjects[1].Customer
	org := func(id int64) string {
		if _, ok := orgs[id]; !ok {
			orgs[id] = strconv.FormatInt(id, 10)
			if o, err := s.Orgs.Get(r.Context(), id); err == nil {
				orgs[id] = o.Name
				if stateOf(r).lang == i18n.English && o.NameEN != "" {
					orgs[id] = o.NameEN
				}
			}
		}
		return orgs[id]
	}
	return []compareRow{
		{"customer.field.name", "", a.Name, b.Name, evidence["name"]},
		{"customer.field.id_type", "idtype.", a.IDType, b.IDType, evidence["identity"]},
		{"customer.field.id_number", "", a.IDNumber, b.IDNumber, evidence["identity"]},
		{"customer.field.mobile", "", a.Mobile, b.Mobile, evidence["mobile"]},
		{"customer.field.email", "", a.Email, b.Email, evidence["email"]},
		{"customer.field.gender", "gender.", a.Gender, b.Gender, evidence["gender"]},
		{"customer.field.birth_date", "", a.BirthDate.String(), b.BirthDate.String(), evidence["birth_date"]},
		{"customer.field.address", "", a.Address, b.Address, evidence["address"]},
		{"customer.field.outlet", "", org(a.OrgID), org(b.OrgID), false},
		{"customer.field.status", "status.", a.Status, b.Status, false},
	}
}

// recordTables are the row counts shown per customer, to choose the survivor.
var recordTables = []string{"accounts", "holdings", "transactions", "channel_events", "interactions", "customer_tags",
	"relationships", "customer_sources"}

// duplicatesDone lists the actions the page confirms after a redirect.
var duplicatesDone = []string{"merged", "dismissed", "undone"}

func (s *server) duplicatesPage(w http.ResponseWriter, r *http.Request) {
	s.renderDuplicates(w, r, http.StatusOK, "")
}

// renderDuplicates shows the page, with errorKey explaining a refused
// action (the page answers with that action's status).
func (s *server) renderDuplicates(w http.ResponseWriter, r *http.Request, status int, errorKey string) {
	if s.Merger == nil {
		s.fail(w, r, kehu.Errorf(kehu.ENOTFOUND, "no such page"))
		return
	}
	q := r.URL.Query()
	dv := duplicatesView{Status: identity.DupPending, Statuses: []string{identity.DupPending, identity.DupMerged,
		identity.DupDismissed}, Records: recordTables, ErrorKey: errorKey}
	if st := q.Get("status"); slices.Contains(dv.Statuses, st) {
		dv.Status = st
	}
	if done := q.Get("done"); slices.Contains(duplicatesDone, done) {
		dv.Done = done
	}
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	// One call, one audit record for the queue and the merge log shown.
	pairs, next, merges, err := s.Merger.Review(r.Context(), identity.DuplicateFilter{Status: dv.Status,
		Before: before, Limit: 20}, 20)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	dv.Merges = merges
	orgs := map[int64]string{}
	for _, p := range pairs {
		dv.Pairs = append(dv.Pairs, pairView{Pair: p, Left: p.Subjects[0], Right: p.Subjects[1],
			Rows: s.compareRows(r, p, orgs)})
	}
	if next != 0 {
		dv.Next = url.Values{"status": {dv.Status}, "before": {strconv.FormatInt(next, 10)}}.Encode()
	}
	s.render(w, r, status, "duplicates", "layout.html", s.newView(w, r, "duplicates.title", "duplicates", dv))
}

// mergePair merges pair {id} into the survivor the reviewer chose.
func (s *server) mergePair(w http.ResponseWriter, r *http.Request) {
	id, ok := s.formID(w, r)
	if !ok {
		return
	}
	survivor, _ := strconv.ParseInt(r.PostFormValue("survivor_id"), 10, 64)
	_, err := s.Merger.Merge(r.Context(), id, survivor, r.PostFormValue("reason"))
	s.afterDuplicatePost(w, r, "merged", err)
}

func (s *server) dismissPair(w http.ResponseWriter, r *http.Request) {
	id, ok := s.formID(w, r)
	if !ok {
		return
	}
	_, err := s.Merger.Dismiss(r.Context(), id, r.PostFormValue("reason"))
	s.afterDuplicatePost(w, r, "dismissed", err)
}

func (s *server) undoMerge(w http.ResponseWriter, r *http.Request) {
	id, ok := s.formID(w, r)
	if !ok {
		return
	}
	_, err := s.Merger.Undo(r.Context(), id, r.PostFormValue("reason"))
	s.afterDuplicatePost(w, r, "undone", err)
}

// formID reads the {id} of a form's target; a malformed one is a 404.
func (s *server) formID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 || s.Merger == nil {
		s.fail(w, r, kehu.Errorf(kehu.ENOTFOUND, "no such page"))
		return 0, false
	}
	return id, true
}

// afterDuplicatePost returns to the page (post/redirect/get) with a
// confirmation. A refusal the reviewer can act on (no reason given; the pair
// decided or the merge undone meanwhile, or its survivor merged since) shows
// the page again with the reason; anything else is the error page.
func (s *server) afterDuplicatePost(w http.ResponseWriter, r *http.Request, done string, err error) {
	switch kehu.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/duplicates?done="+done, http.StatusSeeOther)
	case kehu.ECONFLICT:
		key := "duplicates.error.decided"
		if done == "undone" {
			key = "duplicates.error.undo"
		}
		s.renderDuplicates(w, r, http.StatusConflict, key)
	case kehu.EINVALID:
		key := "duplicates.error.invalid"
		if f := kehu.ErrorFields(err); len(f) > 0 && f[0].Field == "reason" {
			key = "duplicates.error.reason"
		}
		s.renderDuplicates(w, r, http.StatusUnprocessableEntity, key)
	default:
		s.fail(w, r, err)
	}
}
