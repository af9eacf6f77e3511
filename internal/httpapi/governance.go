package httpapi

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"kehu/internal/governance"
	"kehu/internal/org"
	"kehu/internal/vault"
)

func (a *api) governanceEnabled() error {
	if a.d.Dictionary == nil || a.d.Quality == nil {
		return newProblem(http.StatusNotFound, ProblemNotFound, "data governance is not enabled on this server")
	}
	return nil
}

// dictionaryEntryJSON is an entry with the kinds of its quality rule.
type dictionaryEntryJSON struct {
	governance.Entry
	Kinds []string `json:"rule_kinds"`
}

func entryView(e governance.Entry) dictionaryEntryJSON {
	if e.Rule.Values == nil {
		e.Rule.Values = []string{}
	}
	k := e.Rule.Kinds()
	if k == nil {
		k = []string{}
	}
	return dictionaryEntryJSON{Entry: e, Kinds: k}
}

type dictionaryPage struct {
	Items []dictionaryEntryJSON `json:"items"`
}

func (a *api) listDictionary(w http.ResponseWriter, r *http.Request) error {
	if err := a.governanceEnabled(); err != nil {
		return err
	}
	q := r.URL.Query()
	f := governance.Filter{Query: q.Get("q"), Table: q.Get("table"), Class: q.Get("class"), Owner: q.Get("owner"),
		Source: q.Get("source")}
	var issues []FieldIssue
	if f.Table != "" && !slices.Contains(governance.Tables, f.Table) {
		issues = append(issues, FieldIssue{"table", "must be one of the described tables"})
	}
	if f.Class != "" && f.Class != string(vault.C1) && f.Class != string(vault.C2) && f.Class != string(vault.C3) {
		issues = append(issues, FieldIssue{"class", "must be C1, C2 or C3"})
	}
	if f.Owner != "" && !slices.Contains(governance.Owners, f.Owner) {
		issues = append(issues, FieldIssue{"owner", "is not a known data owner"})
	}
	if f.Source != "" && !slices.Contains(governance.SourceSystems, f.Source) {
		issues = append(issues, FieldIssue{"source", "is not a known source system"})
	}
	if len([]rune(f.Query)) > 100 {
		issues = append(issues, FieldIssue{"q", "must have at most 100 characters"})
	}
	if len(issues) > 0 {
		return badBody("a query parameter is invalid", issues...)
	}
	entries, err := a.d.Dictionary.Entries(r.Context(), f)
	if err != nil {
		return err
	}
	out := dictionaryPage{Items: []dictionaryEntryJSON{}}
	for _, e := range entries {
		out.Items = append(out.Items, entryView(e))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// dictionaryEntryPage is one entry with its stored versions, newest first.
type dictionaryEntryPage struct {
	Entry    dictionaryEntryJSON  `json:"entry"`
	Versions []governance.Version `json:"versions"`
}

func (a *api) getDictionaryEntry(w http.ResponseWriter, r *http.Request) error {
	if err := a.governanceEnabled(); err != nil {
		return err
	}
	e, vs, err := a.d.Dictionary.Entry(r.Context(), r.PathValue("table"), r.PathValue("column"))
	if err != nil {
		return err
	}
	out := dictionaryEntryPage{Entry: entryView(e), Versions: []governance.Version{}}
	for _, v := range vs {
		if v.Rule.Values == nil {
			v.Rule.Values = []string{}
		}
		out.Versions = append(out.Versions, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// dictionaryEdit is the body of PUT /api/v1/dictionary/{table}/{column}:
// the whole editable metadata, the version it was edited from, and why.
type dictionaryEdit struct {
	DefinitionZH string                  `json:"definition_zh"`
	DefinitionEN string                  `json:"definition_en"`
	SourceSystem string                  `json:"source_system"`
	Owner        string                  `json:"owner"`
	QualityRule  *governance.QualityRule `json:"quality_rule"`
	BaseVersion  *int                    `json:"base_version"`
	Note         string                  `json:"note"`
}

func (a *api) updateDictionaryEntry(w http.ResponseWriter, r *http.Request) error {
	if err := a.governanceEnabled(); err != nil {
		return err
	}
	var in dictionaryEdit
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	var missing []FieldIssue
	if in.QualityRule == nil {
		missing = append(missing, FieldIssue{"quality_rule", "is required"})
	}
	if in.BaseVersion == nil {
		missing = append(missing, FieldIssue{"base_version", "is required: the version you edited"})
	}
	if len(missing) > 0 {
		return newProblem(http.StatusUnprocessableEntity, ProblemValidation, "validation failed", missing...)
	}
	e, err := a.d.Dictionary.Update(r.Context(), r.PathValue("table"), r.PathValue("column"), governance.Edit{
		Metadata: governance.Metadata{DefinitionZH: in.DefinitionZH, DefinitionEN: in.DefinitionEN,
			SourceSystem: in.SourceSystem, Owner: in.Owner, Rule: *in.QualityRule},
		BaseVersion: *in.BaseVersion, Note: in.Note})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, entryView(e))
	return nil
}

// ratio is a share in [0, 1] from basis points, nil when undefined.
func ratio(bp int) *float64 {
	if bp < 0 {
		return nil
	}
	f := float64(bp) / 10_000
	return &f
}

type qualityStatJSON struct {
	Applicable   int64    `json:"applicable"`
	Filled       int64    `json:"filled"`
	Valid        int64    `json:"valid"`
	Completeness *float64 `json:"completeness"`
	Validity     *float64 `json:"validity"`
}

func statView(s governance.Stat) qualityStatJSON {
	return qualityStatJSON{Applicable: s.Applicable, Filled: s.Filled, Valid: s.Valid,
		Completeness: ratio(s.Completeness()), Validity: ratio(s.Validity())}
}

type qualityFieldJSON struct {
	Table    string   `json:"table"`
	Column   string   `json:"column"`
	Required bool     `json:"required"`
	Kinds    []string `json:"rule_kinds"`
	qualityStatJSON
	Issues int64 `json:"issues"`
}

type qualityOrgJSON struct {
	ID     int64  `json:"id"`
	Code   string `json:"code"`
	Name   string `json:"name"`
	NameEN string `json:"name_en"`
	Level  string `json:"level"`
}

func orgView(o org.Org) qualityOrgJSON {
	return qualityOrgJSON{ID: o.ID, Code: o.Code, Name: o.Name, NameEN: o.NameEN, Level: o.Level}
}

type qualityChildJSON struct {
	Org  qualityOrgJSON `json:"org"`
	Self bool           `json:"self"`
	qualityStatJSON
	Issues int64 `json:"issues"`
}

type qualityRunJSON struct {
	ID          int64      `json:"id"`
	Trigger     string     `json:"trigger"`
	Status      string     `json:"status"`
	StartedAt   time.Time  `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	RowsScanned int64      `json:"rows_scanned"`
	Error       string     `json:"error"`
}

func qualityRunView(r *governance.Run) *qualityRunJSON {
	if r == nil {
		return nil
	}
	return &qualityRunJSON{ID: r.ID, Trigger: r.Trigger, Status: r.Status, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		RowsScanned: r.RowsScanned, Error: r.Error}
}

// qualityReportJSON is the body of GET /api/v1/data-quality.
type qualityReportJSON struct {
	Run      *qualityRunJSON        `json:"run"`
	Running  *qualityRunJSON        `json:"running"`
	Org      qualityOrgJSON         `json:"org"`
	Trail    []qualityOrgJSON       `json:"trail"`
	Total    qualityStatJSON        `json:"total"`
	Fields   []qualityFieldJSON     `json:"fields"`
	Children []qualityChildJSON     `json:"children"`
	Examples []governance.ExampleAt `json:"examples"`
}

func (a *api) dataQuality(w http.ResponseWriter, r *http.Request) error {
	if err := a.governanceEnabled(); err != nil {
		return err
	}
	var orgID int64
	if s := r.URL.Query().Get("org_id"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id < 1 {
			return badBody("a query parameter is invalid", FieldIssue{"org_id", "must be a positive integer"})
		}
		orgID = id
	}
	rep, err := a.d.Quality.Report(r.Context(), orgID)
	if err != nil {
		return err
	}
	out := qualityReportJSON{Run: qualityRunView(rep.Run), Running: qualityRunView(rep.Running), Org: orgView(rep.Org),
		Trail: []qualityOrgJSON{}, Total: statView(rep.Total), Fields: []qualityFieldJSON{}, Children: []qualityChildJSON{},
		Examples: append([]governance.ExampleAt{}, rep.Examples...)}
	for _, o := range rep.Trail {
		out.Trail = append(out.Trail, orgView(o))
	}
	for _, f := range rep.Fields {
		k := f.Kinds
		if k == nil {
			k = []string{}
		}
		out.Fields = append(out.Fields, qualityFieldJSON{Table: f.Table, Column: f.Column, Required: f.Required, Kinds: k,
			qualityStatJSON: statView(f.Stat), Issues: f.Issues})
	}
	for _, c := range rep.Children {
		out.Children = append(out.Children, qualityChildJSON{Org: orgView(c.Org), Self: c.Self, qualityStatJSON: statView(c.Stat),
			Issues: c.Issues})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type qualityRunPage struct {
	Items []*qualityRunJSON `json:"items"`
}

func (a *api) listQualityRuns(w http.ResponseWriter, r *http.Request) error {
	if err := a.governanceEnabled(); err != nil {
		return err
	}
	limit, _, issues := pageParams(r, nil)
	if len(issues) > 0 {
		return badBody("a query parameter is invalid", issues...)
	}
	runs, err := a.d.Quality.Runs(r.Context(), limit)
	if err != nil {
		return err
	}
	out := qualityRunPage{Items: []*qualityRunJSON{}}
	for i := range runs {
		out.Items = append(out.Items, qualityRunView(&runs[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// startQualityRun starts a measurement in the background: 202 with the run.
func (a *api) startQualityRun(w http.ResponseWriter, r *http.Request) error {
	if err := a.governanceEnabled(); err != nil {
		return err
	}
	run, err := a.d.Quality.StartMeasure(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, qualityRunView(&run))
	return nil
}
