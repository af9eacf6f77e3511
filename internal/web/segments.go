package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"kehu/internal/access"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/segment"
)

// segmentRoutes are the 客群 pages (docs/SEGMENTS.md, docs/UI.md): the list,
// the editor (the visual rule builder in static/segments.js over a JSON
// text area that alone is enough to save without JavaScript), the live
// count the builder posts to, a segment's members, snapshot and delete.
func (s *server) segmentRoutes(mux *http.ServeMux) {
	if s.Segments == nil {
		return
	}
	mux.HandleFunc("GET /segments", s.signedIn(s.segmentsPage))
	mux.HandleFunc("GET /segments/new", s.signedIn(s.needMarketing(s.newSegmentPage)))
	mux.HandleFunc("POST /segments", s.signedIn(s.checkCSRF(s.needMarketing(s.createSegment))))
	mux.HandleFunc("POST /segments/count", s.signedIn(s.checkCSRF(s.countSegment)))
	mux.HandleFunc("GET /segments/{id}", s.signedIn(s.segmentPage))
	mux.HandleFunc("POST /segments/{id}", s.signedIn(s.checkCSRF(s.needMarketing(s.saveSegment))))
	mux.HandleFunc("POST /segments/{id}/snapshot", s.signedIn(s.checkCSRF(s.needMarketing(s.snapshotSegment))))
	mux.HandleFunc("POST /segments/{id}/delete", s.signedIn(s.checkCSRF(s.needMarketing(s.deleteSegment))))
	mux.HandleFunc("GET /segments/{id}/members", s.signedIn(s.segmentMembersPage))
}

func (s *server) needMarketing(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !access.Can(stateOf(r).actor.Role, access.MarketingWrite) {
			s.fail(w, r, kehu.Errorf(kehu.EFORBIDDEN, "your role may not edit segments"))
			return
		}
		h(w, r)
	}
}

// segmentsView is the list page.
type segmentsView struct {
	Segments []segment.Segment
	CanEdit  bool
	Notice   string
}

var segmentNotices = map[string]string{"deleted": "segments.done.deleted"}

func (s *server) segmentsPage(w http.ResponseWriter, r *http.Request) {
	gs, err := s.Segments.List(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := segmentsView{Segments: gs, CanEdit: access.Can(stateOf(r).actor.Role, access.MarketingWrite),
		Notice: segmentNotices[r.URL.Query().Get("done")]}
	s.render(w, r, http.StatusOK, "segments", "layout.html", s.newView(w, r, "segments.title", "segments", v))
}

// segmentForm is the editor as typed: the rule is JSON text (what the
// builder writes, or what a user without JavaScript types).
type segmentForm struct {
	ID          int64
	Name        string
	Description string
	Kind        string
	Rule        string
	Errors      map[string]bool
}

// segmentEditView is the editor page.
type segmentEditView struct {
	Form    segmentForm
	Segment *segment.Segment
	CanEdit bool
	// Fields is the catalogue as JSON for the builder.
	Fields string
	// Error is the service's message about the rule (it names the bad
	// part by its path); ErrorKey a catalogue message for the rest.
	Error    string
	ErrorKey string
	Notice   string
}

var segmentEditNotices = map[string]string{"created": "segments.done.created", "saved": "segments.done.saved",
	"snapshot": "segments.done.snapshot"}

func (s *server) showSegmentEditor(w http.ResponseWriter, r *http.Request, status int, v segmentEditView) {
	fs, err := s.Segments.Fields(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := json.Marshal(struct {
		Categories []string        `json:"categories"`
		Fields     []segment.Field `json:"fields"`
	}{segment.Categories, fs})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Fields = string(b)
	v.CanEdit = access.Can(stateOf(r).actor.Role, access.MarketingWrite)
	if v.Form.Errors == nil {
		v.Form.Errors = map[string]bool{}
	}
	title := "segments.new"
	if v.Form.ID != 0 {
		title = "segments.edit"
	}
	s.render(w, r, status, "segment_edit", "layout.html", s.newView(w, r, title, "segments", v))
}

func (s *server) newSegmentPage(w http.ResponseWriter, r *http.Request) {
	s.showSegmentEditor(w, r, http.StatusOK, segmentEditView{Form: segmentForm{Kind: segment.Dynamic, Rule: `{"all":[]}`}})
}

func (s *server) segmentPage(w http.ResponseWriter, r *http.Request) {
	g, ok := s.loadSegment(w, r)
	if !ok {
		return
	}
	s.showSegmentEditor(w, r, http.StatusOK, segmentEditView{Form: formOfSegment(g), Segment: &g,
		Notice: segmentEditNotices[r.URL.Query().Get("done")]})
}

func formOfSegment(g segment.Segment) segmentForm {
	return segmentForm{ID: g.ID, Name: g.Name, Description: g.Description, Kind: g.Kind, Rule: string(g.Rule.JSON())}
}

func (s *server) loadSegment(w http.ResponseWriter, r *http.Request) (segment.Segment, bool) {
	id, ok := pathInt(r, "id")
	if !ok {
		s.fail(w, r, kehu.Errorf(kehu.ENOTFOUND, "no such segment"))
		return segment.Segment{}, false
	}
	g, err := s.Segments.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return g, false
	}
	return g, true
}

func segmentFormOf(r *http.Request) segmentForm {
	return segmentForm{Name: r.PostFormValue("name"), Description: r.PostFormValue("description"),
		Kind: r.PostFormValue("kind"), Rule: r.PostFormValue("rule"), Errors: map[string]bool{}}
}

// refused shows the editor again with what the service refused.
func (s *server) segmentRefused(w http.ResponseWriter, r *http.Request, f segmentForm, g *segment.Segment, err error) {
	v := segmentEditView{Form: f, Segment: g}
	switch kehu.ErrorCode(err) {
	case kehu.EINVALID:
		for _, fe := range kehu.ErrorFields(err) {
			field := fe.Field
			if strings.HasPrefix(field, "rule") {
				field = "rule"
				v.Error = kehu.ErrorMessage(err)
			}
			f.Errors[field] = true
		}
		if v.Error == "" && len(kehu.ErrorFields(err)) == 0 {
			v.Error = kehu.ErrorMessage(err)
		}
		v.ErrorKey = "segments.error.invalid"
		s.showSegmentEditor(w, r, http.StatusUnprocessableEntity, v)
	case kehu.ECONFLICT:
		f.Errors["name"] = true
		v.ErrorKey = "segments.error.name_taken"
		s.showSegmentEditor(w, r, http.StatusConflict, v)
	default:
		s.fail(w, r, err)
	}
}

func (s *server) createSegment(w http.ResponseWriter, r *http.Request) {
	f := segmentFormOf(r)
	g, err := s.Segments.Create(r.Context(), segment.Input{Name: f.Name, Description: f.Description,
		Kind: f.Kind, Rule: json.RawMessage(f.Rule)})
	if err != nil {
		s.segmentRefused(w, r, f, nil, err)
		return
	}
	http.Redirect(w, r, "/segments/"+strconv.FormatInt(g.ID, 10)+"?done=created", http.StatusSeeOther)
}

func (s *server) saveSegment(w http.ResponseWriter, r *http.Request) {
	old, ok := s.loadSegment(w, r)
	if !ok {
		return
	}
	f := segmentFormOf(r)
	f.ID = old.ID
	if _, err := s.Segments.Update(r.Context(), old.ID, segment.Input{Name: f.Name, Description: f.Description,
		Kind: f.Kind, Rule: json.RawMessage(f.Rule)}); err != nil {
		s.segmentRefused(w, r, f, &old, err)
		return
	}
	http.Redirect(w, r, "/segments/"+strconv.FormatInt(old.ID, 10)+"?done=saved", http.StatusSeeOther)
}

func (s *server) snapshotSegment(w http.ResponseWriter, r *http.Request) {
	g, ok := s.loadSegment(w, r)
	if !ok {
		return
	}
	if _, err := s.Segments.Snapshot(r.Context(), g.ID); err != nil {
		s.segmentRefused(w, r, formOfSegment(g), &g, err)
		return
	}
	http.Redirect(w, r, "/segments/"+strconv.FormatInt(g.ID, 10)+"?done=snapshot", http.StatusSeeOther)
}

func (s *server) deleteSegment(w http.ResponseWriter, r *http.Request) {
	g, ok := s.loadSegment(w, r)
	if !ok {
		return
	}
	if err := s.Segments.Delete(r.Context(), g.ID); err != nil {
		if kehu.ErrorCode(err) == kehu.ECONFLICT {
			s.showSegmentEditor(w, r, http.StatusConflict, segmentEditView{Form: formOfSegment(g), Segment: &g,
				ErrorKey: "segments.error.referenced", Error: kehu.ErrorMessage(err)})
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/segments?done=deleted", http.StatusSeeOther)
}

// countSegment is the builder's live count: the form field "rule" (JSON)
// counted in the user's scope, answered as JSON {"count": n} or, for a rule
// the service refuses, 422 {"error": message, "field": path}.
func (s *server) countSegment(w http.ResponseWriter, r *http.Request) {
	n, err := s.Segments.Count(r.Context(), []byte(r.PostFormValue("rule")))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	switch kehu.ErrorCode(err) {
	case "":
		_ = json.NewEncoder(w).Encode(map[string]int64{"count": n})
	case kehu.EINVALID:
		out := map[string]string{"error": kehu.ErrorMessage(err)}
		if fs := kehu.ErrorFields(err); len(fs) > 0 {
			out["field"] = fs[0].Field
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		_ = json.NewEncoder(w).Encode(out)
	default:
		code := http.StatusInternalServerError
		switch kehu.ErrorCode(err) {
		case kehu.EFORBIDDEN:
			code = http.StatusForbidden
		case kehu.EUNAUTHORIZED:
			code = http.StatusUnauthorized
		}
		if code == http.StatusInternalServerError {
			s.Logger.ErrorContext(r.Context(), "segment count", "err", err)
		}
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": kehu.ErrorMessage(err)})
	}
}

// segmentMembersView is a page of members.
type segmentMembersView struct {
	Segment segment.Segment
	Items   []customer.Customer
	Next    *string
}

func (s *server) segmentMembersPage(w http.ResponseWriter, r *http.Request) {
	g, ok := s.loadSegment(w, r)
	if !ok {
		return
	}
	var after kehu.Cursor
	if c := r.URL.Query().Get("cursor"); c != "" {
		var err error
		if after, err = kehu.DecodeCursor(c); err != nil {
			s.fail(w, r, kehu.Errorf(kehu.EINVALID, "the page link is not valid"))
			return
		}
	}
	p, err := s.Segments.Members(r.Context(), g.ID, after, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := segmentMembersView{Segment: g, Items: p.Items, Next: p.NextCursor.Next()}
	s.render(w, r, http.StatusOK, "segment_members", "layout.html", s.newView(w, r, "segments.members", "segments", v))
}
