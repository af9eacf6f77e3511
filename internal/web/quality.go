package web

import (
	"net/http"
	"strconv"

	"kehu/internal/access"
	"kehu/internal/governance"
	"kehu/internal/i18n"
	"kehu/internal/kehu"
	"kehu/internal/org"
)

// qualityRoutes adds 数据质量 (docs/GOVERNANCE.md): completeness and validity
// per field and per branch of the latest measurement, drilled down through
// the organisation tree within the user's scope, and a button to measure now.
func (s *server) qualityRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /data-quality", s.signedIn(s.needQuality(s.qualityPage)))
	mux.HandleFunc("POST /data-quality/runs", s.signedIn(s.checkCSRF(s.needQuality(s.startQualityRun))))
}

func (s *server) needQuality(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Quality == nil || s.Dictionary == nil {
			s.notFound(w, r)
			return
		}
		h(w, r)
	}
}

// pct is a share in basis points shown as a percentage with one decimal;
// an undefined share (no rows) is "—".
type pct int

func (p pct) String() string {
	if p < 0 {
		return "—"
	}
	return strconv.Itoa(int(p)/100) + "." + strconv.Itoa(int(p)%100/10) + "%"
}

// Low marks shares below 95%, which the page highlights.
func (p pct) Low() bool { return p >= 0 && p < 9500 }

// Value is the share for a <meter> (0–10000).
func (p pct) Value() int { return max(int(p), 0) }

type qualityFieldRow struct {
	governance.FieldStat
	Name                   string
	Completeness, Validity pct
}

type qualityChildRow struct {
	governance.OrgStat
	Name                   string
	Completeness, Validity pct
	HasChildren            bool
}

type qualityView struct {
	Report               governance.Report
	OrgName              string
	Trail                []orgLink
	Fields               []qualityFieldRow
	Children             []qualityChildRow
	Examples             []qualityExample
	Completeness         pct
	Validity             pct
	Issues               int64
	CanRun, Notice, Busy bool
}

type orgLink struct {
	ID   int64
	Name string
}

type qualityExample struct {
	governance.ExampleAt
	Name, OrgName string
}

// qualityPage shows the subtree of ?org_id= (the user's scope root by
// default); an organisation outside the scope is the 404 page.
func (s *server) qualityPage(w http.ResponseWriter, r *http.Request) {
	var orgID int64
	if v := r.URL.Query().Get("org_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 1 {
			s.notFound(w, r)
			return
		}
		orgID = id
	}
	rep, err := s.Quality.Report(r.Context(), orgID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	entries, err := s.Dictionary.Entries(r.Context(), governance.Filter{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lang := stateOf(r).lang
	names := map[string]string{}
	for _, e := range entries {
		names[e.Table+"."+e.Column] = newEntryRow(e, lang).Name
	}
	orgs, err := s.Orgs.List(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	orgName := func(o org.Org) string {
		if lang == i18n.English && o.NameEN != "" {
			return o.NameEN
		}
		return o.Name
	}
	byID := map[int64]org.Org{}
	parents := map[int64]bool{}
	for _, o := range orgs {
		byID[o.ID] = o
		if o.ParentID != nil {
			parents[*o.ParentID] = true
		}
	}
	v := qualityView{Report: rep, OrgName: orgName(rep.Org), Completeness: pct(rep.Total.Completeness()),
		Validity: pct(rep.Total.Validity()), CanRun: access.Can(stateOf(r).actor.Role, access.GovernanceManage),
		Notice: r.URL.Query().Get("done") == "run", Busy: rep.Running != nil}
	for _, o := range rep.Trail {
		v.Trail = append(v.Trail, orgLink{ID: o.ID, Name: orgName(o)})
	}
	for _, f := range rep.Fields {
		v.Fields = append(v.Fields, qualityFieldRow{FieldStat: f, Name: names[f.Table+"."+f.Column],
			Completeness: pct(f.Completeness()), Validity: pct(f.Validity())})
		v.Issues += f.Issues
	}
	for _, c := range rep.Children {
		v.Children = append(v.Children, qualityChildRow{OrgStat: c, Name: orgName(c.Org), Completeness: pct(c.Completeness()),
			Validity: pct(c.Validity()), HasChildren: !c.Self && parents[c.Org.ID]})
	}
	for _, ex := range rep.Examples {
		v.Examples = append(v.Examples, qualityExample{ExampleAt: ex, Name: names[ex.Table+"."+ex.Column],
			OrgName: orgName(byID[ex.OrgID])})
	}
	s.render(w, r, http.StatusOK, "data_quality", "layout.html", s.newView(w, r, "dq.title", "data-quality", v))
}

// startQualityRun starts a measurement in the background and returns to
// the page it was started from.
func (s *server) startQualityRun(w http.ResponseWriter, r *http.Request) {
	back := "/data-quality?done=run"
	if id, err := strconv.ParseInt(r.PostFormValue("org_id"), 10, 64); err == nil && id > 0 {
		back += "&org_id=" + strconv.FormatInt(id, 10)
	}
	if _, err := s.Quality.StartMeasure(r.Context()); err != nil && kehu.ErrorCode(err) != kehu.ECONFLICT {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
