package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"kehu/internal/access"
	"kehu/internal/governance"
	"kehu/internal/i18n"
	"kehu/internal/kehu"
	"kehu/internal/vault"
)

// dictionaryRoutes adds 数据字典 (docs/GOVERNANCE.md): every customer
// attribute and the main attributes of accounts, holdings, transactions and
// events, searchable; an entry's page with its history and, for data
// stewards, the edit form.
func (s *server) dictionaryRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /dictionary", s.signedIn(s.needDictionary(s.dictionaryPage)))
	mux.HandleFunc("GET /dictionary/{table}/{column}", s.signedIn(s.needDictionary(s.dictionaryEntryPage)))
	mux.HandleFunc("POST /dictionary/{table}/{column}", s.signedIn(s.checkCSRF(s.needDictionary(s.updateDictionaryEntry))))
}

func (s *server) needDictionary(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Dictionary == nil {
			s.notFound(w, r)
			return
		}
		h(w, r)
	}
}

// entryRow is an entry with the words the page shows in its language.
type entryRow struct {
	governance.Entry
	Name       string // the short name: the definition before its first colon
	Definition string
	Kinds      []string
	// ClassCode and MaskCode are the vault's class and masking rule as plain
	// strings, for the catalogue labels.
	ClassCode, MaskCode string
}

func newEntryRow(e governance.Entry, lang string) entryRow {
	def := e.DefinitionZH
	if lang == i18n.English {
		def = e.DefinitionEN
	}
	return entryRow{Entry: e, Name: shortName(def), Definition: def, Kinds: e.Rule.Kinds(), ClassCode: string(e.Class),
		MaskCode: string(e.Mask)}
}

// shortName is the name part of a definition ("手机号码：大陆 11 位…" → 手机号码).
func shortName(def string) string {
	for _, sep := range []string{"：", ": ", "（", " ("} {
		if i := strings.Index(def, sep); i > 0 {
			return def[:i]
		}
	}
	return def
}

// dictionaryForm is the search as typed.
type dictionaryForm struct{ Q, Table, Class, Owner, Source string }

type dictionaryView struct {
	Form                             dictionaryForm
	Tables, Classes, Owners, Sources []string
	Entries                          []entryRow
	Undocumented                     []string
	Invalid                          map[string]bool
}

// dictionaryPage lists the dictionary with the search's filters; an unknown
// filter value is refused (400) with the form, searching nothing.
func (s *server) dictionaryPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := dictionaryView{Form: dictionaryForm{Q: strings.TrimSpace(q.Get("q")), Table: q.Get("table"), Class: q.Get("class"),
		Owner: q.Get("owner"), Source: q.Get("source")}, Tables: governance.Tables, Classes: []string{"C1", "C2"},
		Owners: governance.Owners, Sources: governance.SourceSystems, Invalid: map[string]bool{}}
	check := func(name, val string, set []string) {
		if val != "" && !slices.Contains(set, val) {
			v.Invalid[name] = true
		}
	}
	check("table", v.Form.Table, v.Tables)
	check("class", v.Form.Class, v.Classes)
	check("owner", v.Form.Owner, v.Owners)
	check("source", v.Form.Source, v.Sources)
	if len([]rune(v.Form.Q)) > 100 {
		v.Invalid["q"] = true
	}
	if len(v.Invalid) > 0 {
		s.render(w, r, http.StatusBadRequest, "dictionary", "layout.html", s.newView(w, r, "dict.title", "dictionary", v))
		return
	}
	entries, err := s.Dictionary.Entries(r.Context(), governance.Filter{Query: v.Form.Q, Table: v.Form.Table,
		Class: v.Form.Class, Owner: v.Form.Owner, Source: v.Form.Source})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lang := stateOf(r).lang
	for _, e := range entries {
		v.Entries = append(v.Entries, newEntryRow(e, lang))
	}
	if v.Undocumented, err = s.Dictionary.Undocumented(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	block := "layout.html"
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Target") == "dict-results" {
		block = "dict-results"
	}
	s.render(w, r, http.StatusOK, "dictionary", block, s.newView(w, r, "dict.title", "dictionary", v))
}

// entryForm is the edit form as typed.
type entryForm struct {
	DefinitionZH, DefinitionEN, SourceSystem, Owner string
	Required                                        bool
	AppliesTo, Format, Values, Min, Max, MinDate    string
	NotFuture                                       bool
	Reference, FreshDays                            string
	MatchesID                                       bool
	Note                                            string
	BaseVersion                                     int
}

func formOfEntry(e governance.Entry) entryForm {
	f := entryForm{DefinitionZH: e.DefinitionZH, DefinitionEN: e.DefinitionEN, SourceSystem: e.SourceSystem, Owner: e.Owner,
		Required: e.Rule.Required, AppliesTo: e.Rule.AppliesTo, Format: e.Rule.Format, Values: strings.Join(e.Rule.Values, ", "),
		MinDate: e.Rule.MinDate, NotFuture: e.Rule.NotFuture, Reference: e.Rule.Reference, MatchesID: e.Rule.MatchesID,
		BaseVersion: e.Version}
	if e.Rule.Min != nil {
		f.Min = strconv.FormatInt(*e.Rule.Min, 10)
	}
	if e.Rule.Max != nil {
		f.Max = strconv.FormatInt(*e.Rule.Max, 10)
	}
	if e.Rule.FreshDays > 0 {
		f.FreshDays = strconv.Itoa(e.Rule.FreshDays)
	}
	return f
}

type entryView struct {
	Entry                                entryRow
	Versions                             []governance.Version
	CanEdit                              bool
	Form                                 entryForm
	Formats, References, Owners, Sources []string
	Invalid                              map[string]bool
	ErrorKey, Notice                     string
	Problems                             []string
	Sensitive                            bool // C2: encrypted or masked on screens
}

func (s *server) loadEntry(r *http.Request) (entryView, error) {
	e, vs, err := s.Dictionary.Entry(r.Context(), r.PathValue("table"), r.PathValue("column"))
	if err != nil {
		return entryView{}, err
	}
	return entryView{Entry: newEntryRow(e, stateOf(r).lang), Versions: vs,
		CanEdit: access.Can(stateOf(r).actor.Role, access.GovernanceManage), Form: formOfEntry(e),
		Formats: governance.Formats, References: governance.References, Owners: governance.Owners,
		Sources: governance.SourceSystems, Invalid: map[string]bool{}, Sensitive: e.Class == vault.C2}, nil
}

func (s *server) dictionaryEntryPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.loadEntry(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if r.URL.Query().Get("done") == "saved" {
		v.Notice = "dict.done.saved"
	}
	s.render(w, r, http.StatusOK, "dictionary_entry", "layout.html",
		s.newView(w, r, "dict.entry.title", "dictionary", v))
}

// updateDictionaryEntry saves the form as the entry's next version.
func (s *server) updateDictionaryEntry(w http.ResponseWriter, r *http.Request) {
	v, err := s.loadEntry(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := entryForm{DefinitionZH: r.PostFormValue("definition_zh"), DefinitionEN: r.PostFormValue("definition_en"),
		SourceSystem: r.PostFormValue("source_system"), Owner: r.PostFormValue("owner"),
		Required: r.PostFormValue("required") == "1", AppliesTo: r.PostFormValue("applies_to"),
		Format: r.PostFormValue("format"), Values: r.PostFormValue("values"), Min: strings.TrimSpace(r.PostFormValue("min")),
		Max: strings.TrimSpace(r.PostFormValue("max")), MinDate: strings.TrimSpace(r.PostFormValue("min_date")),
		NotFuture: r.PostFormValue("not_future") == "1", Reference: r.PostFormValue("reference"),
		FreshDays: strings.TrimSpace(r.PostFormValue("fresh_days")), MatchesID: r.PostFormValue("matches_id") == "1",
		Note: r.PostFormValue("note")}
	f.BaseVersion, _ = strconv.Atoi(r.PostFormValue("base_version"))
	v.Form = f
	rule := governance.QualityRule{Required: f.Required, AppliesTo: f.AppliesTo, Format: f.Format, MinDate: f.MinDate,
		NotFuture: f.NotFuture, Reference: f.Reference, MatchesID: f.MatchesID}
	for _, x := range strings.FieldsFunc(f.Values, func(c rune) bool { return c == ',' || c == '，' || c == '、' }) {
		rule.Values = append(rule.Values, strings.TrimSpace(x))
	}
	num := func(name, text string, dst **int64) {
		if text == "" {
			return
		}
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			v.Invalid[name] = true
			return
		}
		*dst = &n
	}
	num("min", f.Min, &rule.Min)
	num("max", f.Max, &rule.Max)
	if f.FreshDays != "" {
		n, err := strconv.Atoi(f.FreshDays)
		if err != nil {
			v.Invalid["fresh_days"] = true
		}
		rule.FreshDays = n
	}
	status := http.StatusUnprocessableEntity
	if len(v.Invalid) == 0 {
		_, err = s.Dictionary.Update(r.Context(), v.Entry.Table, v.Entry.Column, governance.Edit{
			Metadata: governance.Metadata{DefinitionZH: f.DefinitionZH, DefinitionEN: f.DefinitionEN,
				SourceSystem: f.SourceSystem, Owner: f.Owner, Rule: rule}, BaseVersion: f.BaseVersion, Note: f.Note})
		switch kehu.ErrorCode(err) {
		case "":
			http.Redirect(w, r, "/dictionary/"+v.Entry.Table+"/"+v.Entry.Column+"?done=saved", http.StatusSeeOther)
			return
		case kehu.EINVALID:
			for _, fe := range kehu.ErrorFields(err) {
				name := strings.TrimPrefix(fe.Field, "quality_rule.")
				v.Invalid[name] = true
				v.Problems = append(v.Problems, fe.Field+": "+fe.Reason)
			}
		case kehu.ECONFLICT:
			status = http.StatusConflict
			v.ErrorKey = "dict.error.conflict"
		default:
			s.fail(w, r, err)
			return
		}
	}
	if v.ErrorKey == "" {
		v.ErrorKey = "dict.error.invalid"
	}
	s.render(w, r, status, "dictionary_entry", "layout.html", s.newView(w, r, "dict.entry.title", "dictionary", v))
}
