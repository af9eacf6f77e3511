package web

import (
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"kehu/internal/access"
	"kehu/internal/journey"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/segment"
	"kehu/internal/tag"
)

// journeyRoutes are the 客户旅程 pages (docs/JOURNEYS.md): the list, the
// editor (trigger, thresholds, segment, actions, re-entry; no JavaScript
// needed), a journey's page with its counts, recent firings and
// pause/resume, and its 旅程效果 page (journey_results.go).
func (s *server) journeyRoutes(mux *http.ServeMux) {
	if s.Journeys == nil {
		return
	}
	mux.HandleFunc("GET /journeys", s.signedIn(s.journeysPage))
	mux.HandleFunc("GET /journeys/new", s.signedIn(s.needMarketing(s.newJourneyPage)))
	mux.HandleFunc("POST /journeys", s.signedIn(s.checkCSRF(s.needMarketing(s.createJourney))))
	mux.HandleFunc("GET /journeys/{id}", s.signedIn(s.journeyPage))
	mux.HandleFunc("GET /journeys/{id}/results", s.signedIn(s.journeyResultsPage))
	mux.HandleFunc("POST /journeys/{id}", s.signedIn(s.checkCSRF(s.needMarketing(s.saveJourney))))
	mux.HandleFunc("POST /journeys/{id}/pause", s.signedIn(s.checkCSRF(s.needMarketing(s.journeyStatus(journey.Paused)))))
	mux.HandleFunc("POST /journeys/{id}/resume", s.signedIn(s.checkCSRF(s.needMarketing(s.journeyStatus(journey.Active)))))
}

// journeysView is the list page.
type journeysView struct {
	Journeys []journey.Journey
	CanEdit  bool
}

func (s *server) journeysPage(w http.ResponseWriter, r *http.Request) {
	js, err := s.Journeys.List(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := journeysView{Journeys: js, CanEdit: access.Can(stateOf(r).actor.Role, access.MarketingWrite)}
	s.render(w, r, http.StatusOK, "journeys", "layout.html", s.newView(w, r, "journeys.title", "journeys", v))
}

// journeyForm is the editor as typed. Each action kind appears at most
// once; amounts are in yuan.
type journeyForm struct {
	ID                       int64
	Name, Description        string
	Trigger                  string
	MinAmount                string // yuan
	WindowDays, DaysAhead    string
	ViewDays, InactiveDays   string
	Direction, ToLevel       string
	ProductTypes             []string
	SegmentID                string
	ReentryDays              string
	ProductID                string
	ControlPct               string
	ConversionDays           string
	CostPerMessage           string // yuan
	ValuePerConversion       string // yuan
	Message, Task, Lead, Tag bool
	Channel, TemplateID      string
	TaskKind, TaskTitle      string
	Suggested                string // one per line
	AssignTo, QueueRole      string
	LeadProduct              string
	TagID, TagExpires        string
	Errors                   map[string]bool
}

// journeyEditView is the editor and a journey's page.
type journeyEditView struct {
	Form      journeyForm
	Journey   *journey.Journey
	Results   *journey.Results
	Firings   []journey.Firing
	CanEdit   bool
	Triggers  []string
	Templates []msgtemplate.Template
	Segments  []segment.Segment
	Tags      []tag.Tag
	TaskKinds []string
	Types     []string
	Levels    []string
	// Channels and Directions are the editor's choices.
	Channels   []string
	Directions []string
	Error      string
	ErrorKey   string
	Notice     string
}

var journeyNotices = map[string]string{"created": "journeys.done.created", "saved": "journeys.done.saved",
	"paused": "journeys.done.paused", "resumed": "journeys.done.resumed"}

func (s *server) showJourneyEditor(w http.ResponseWriter, r *http.Request, status int, v journeyEditView) {
	ctx := r.Context()
	var err error
	v.CanEdit = access.Can(stateOf(r).actor.Role, access.MarketingWrite)
	if v.CanEdit && s.Templates != nil {
		if v.Templates, err = s.Templates.List(ctx, ""); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if v.CanEdit && s.Segments != nil {
		if v.Segments, err = s.Segments.List(ctx); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if v.Tags, err = s.Tags.Catalogue(ctx, false); err != nil {
		s.fail(w, r, err)
		return
	}
	v.Tags = slices.DeleteFunc(v.Tags, func(t tag.Tag) bool { return t.Kind == tag.Computed })
	v.Triggers, v.TaskKinds, v.Types, v.Levels = journey.Triggers, journey.TaskKinds, journey.ProductTypes, levelNames
	v.Channels, v.Directions = []string{"sms", "push", "wechat", "email"}, []string{"any", "up", "down"}
	if v.Form.Errors == nil {
		v.Form.Errors = map[string]bool{}
	}
	title := "journeys.new"
	if v.Form.ID != 0 {
		title = "journeys.edit"
	}
	s.render(w, r, status, "journey_edit", "layout.html", s.newView(w, r, title, "journeys", v))
}

// levelNames are the customer levels a level-change journey may target.
var levelNames = []string{"standard", "gold", "platinum", "diamond", "private"}

// DefinitionJSON is the journey's definition as the API shows it, for a
// reader who may not edit.
func (v journeyEditView) DefinitionJSON() string {
	if v.Journey == nil {
		return ""
	}
	b, _ := json.MarshalIndent(v.Journey.Definition, "", "  ")
	return string(b)
}

// HasType reports whether the maturity journey watches product type t.
func (f journeyForm) HasType(t string) bool { return slices.Contains(f.ProductTypes, t) }

func (s *server) newJourneyPage(w http.ResponseWriter, r *http.Request) {
	// The amount starts empty: large_inflow then takes its ¥100,000 default,
	// and a salary journey is not limited by a left-over threshold.
	s.showJourneyEditor(w, r, http.StatusOK, journeyEditView{Form: journeyForm{Trigger: journey.LargeInflow,
		ReentryDays: "30", Message: true, Channel: "sms", AssignTo: "owner",
		QueueRole: access.LobbyManager, Direction: "any"}})
}

func (s *server) loadJourney(w http.ResponseWriter, r *http.Request) (journey.Journey, bool) {
	id, ok := pathInt(r, "id")
	if !ok {
		s.fail(w, r, kehu.Errorf(kehu.ENOTFOUND, "no such journey"))
		return journey.Journey{}, false
	}
	j, err := s.Journeys.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return j, false
	}
	return j, true
}

func (s *server) journeyPage(w http.ResponseWriter, r *http.Request) {
	j, ok := s.loadJourney(w, r)
	if !ok {
		return
	}
	res, err := s.Journeys.Results(r.Context(), j.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	fs, err := s.Journeys.Firings(r.Context(), j.ID, 0, 20)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.showJourneyEditor(w, r, http.StatusOK, journeyEditView{Form: formOfJourney(j), Journey: &j, Results: &res,
		Firings: fs, Notice: journeyNotices[r.URL.Query().Get("done")]})
}

// optYuan shows fen as yuan for the editor ("" for none).
func optYuan(fen int64) string {
	if fen == 0 {
		return ""
	}
	return yuanText(fen)
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func id64(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// formOfJourney fills the editor from a saved journey.
func formOfJourney(j journey.Journey) journeyForm {
	d, c := j.Definition, j.Definition.Conditions
	f := journeyForm{ID: j.ID, Name: j.Name, Description: j.Description, Trigger: d.Trigger,
		WindowDays: itoa(c.WindowDays), DaysAhead: itoa(c.DaysAhead), ViewDays: itoa(c.ViewDays),
		InactiveDays: itoa(c.InactiveDays), Direction: c.Direction, ToLevel: c.ToLevel, ProductTypes: c.ProductTypes,
		SegmentID: id64(d.SegmentID), ReentryDays: strconv.Itoa(d.ReentryDays), ProductID: id64(d.ProductID),
		ControlPct: itoa(d.ControlPct), ConversionDays: itoa(d.ConversionDays), CostPerMessage: optYuan(d.CostPerMessage),
		ValuePerConversion: optYuan(d.ValuePerConversion), AssignTo: "owner", QueueRole: access.LobbyManager}
	f.MinAmount = optYuan(c.MinAmount)
	for _, a := range d.Actions {
		switch a.Kind {
		case journey.ActMessage:
			f.Message, f.Channel, f.TemplateID = true, a.Channel, id64(a.TemplateID)
		case journey.ActTask:
			f.Task, f.TaskKind, f.TaskTitle, f.AssignTo = true, a.TaskKind, a.Title, a.AssignTo
			f.Suggested = strings.Join(a.Suggested, "\n")
			if a.QueueRole != "" {
				f.QueueRole = a.QueueRole
			}
		case journey.ActLead:
			f.Lead, f.LeadProduct = true, id64(a.ProductID)
		case journey.ActTag:
			f.Tag, f.TagID, f.TagExpires = true, id64(a.TagID), itoa(a.ExpiresDays)
		}
	}
	return f
}

func journeyFormOf(r *http.Request) journeyForm {
	_ = r.ParseForm()
	v := r.PostFormValue
	return journeyForm{Name: v("name"), Description: v("description"), Trigger: v("trigger"),
		MinAmount: v("min_amount"), WindowDays: v("window_days"), DaysAhead: v("days_ahead"), ViewDays: v("view_days"),
		InactiveDays: v("inactive_days"), Direction: v("direction"), ToLevel: v("to_level"),
		ProductTypes: r.PostForm["product_types"], SegmentID: v("segment_id"), ReentryDays: v("reentry_days"),
		ProductID: v("product_id"), ControlPct: v("control_pct"), ConversionDays: v("conversion_days"),
		CostPerMessage: v("cost_per_message"), ValuePerConversion: v("value_per_conversion"), Message: v("act_message") != "", Task: v("act_task") != "",
		Lead: v("act_lead") != "", Tag: v("act_tag") != "", Channel: v("channel"), TemplateID: v("template_id"),
		TaskKind: v("task_kind"), TaskTitle: v("task_title"), Suggested: v("suggested"), AssignTo: v("assign_to"),
		QueueRole: v("queue_role"), LeadProduct: v("lead_product"), TagID: v("tag_id"), TagExpires: v("tag_expires"),
		Errors: map[string]bool{}}
}

// definition turns the form into the definition JSON the service checks;
// numbers that do not parse are marked on the form.
func (f *journeyForm) definition() (json.RawMessage, bool) {
	num := func(field, s string) int64 {
		s = strings.TrimSpace(s)
		if s == "" {
			return 0
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			f.Errors[field] = true
		}
		return n
	}
	d := journey.Definition{Trigger: f.Trigger, SegmentID: num("segment_id", f.SegmentID),
		ReentryDays: int(num("reentry_days", f.ReentryDays)), ProductID: num("product_id", f.ProductID)}
	c := &d.Conditions
	fen := func(field, s string) int64 {
		s = strings.TrimSpace(strings.ReplaceAll(s, ",", ""))
		if s == "" {
			return 0
		}
		y, err := strconv.ParseFloat(s, 64)
		if err != nil || y < 0 || y > 1e12 {
			f.Errors[field] = true
		}
		return int64(math.Round(y * 100))
	}
	c.MinAmount = fen("min_amount", f.MinAmount)
	d.ControlPct, d.ConversionDays = int(num("control_pct", f.ControlPct)), int(num("conversion_days", f.ConversionDays))
	d.CostPerMessage = fen("cost_per_message", f.CostPerMessage)
	d.ValuePerConversion = fen("value_per_conversion", f.ValuePerConversion)
	c.WindowDays, c.DaysAhead = int(num("window_days", f.WindowDays)), int(num("days_ahead", f.DaysAhead))
	c.ViewDays, c.InactiveDays = int(num("view_days", f.ViewDays)), int(num("inactive_days", f.InactiveDays))
	if d.Trigger == journey.LevelChange {
		c.Direction, c.ToLevel = f.Direction, f.ToLevel
	}
	if d.Trigger == journey.Maturity {
		c.ProductTypes = f.ProductTypes
	}
	if f.Message {
		d.Actions = append(d.Actions, journey.Action{Kind: journey.ActMessage, Channel: f.Channel,
			TemplateID: num("template_id", f.TemplateID)})
	}
	if f.Task {
		var sug []string
		for _, l := range strings.Split(f.Suggested, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				sug = append(sug, l)
			}
		}
		a := journey.Action{Kind: journey.ActTask, TaskKind: f.TaskKind, Title: f.TaskTitle, Suggested: sug,
			AssignTo: f.AssignTo}
		if a.AssignTo == "queue" {
			a.QueueRole = f.QueueRole
		}
		d.Actions = append(d.Actions, a)
	}
	if f.Lead {
		d.Actions = append(d.Actions, journey.Action{Kind: journey.ActLead, ProductID: num("lead_product", f.LeadProduct)})
	}
	if f.Tag {
		d.Actions = append(d.Actions, journey.Action{Kind: journey.ActTag, TagID: num("tag_id", f.TagID),
			ExpiresDays: int(num("tag_expires", f.TagExpires))})
	}
	b, _ := json.Marshal(d)
	return b, len(f.Errors) == 0
}

// journeyFieldOf maps a service field ("definition.actions[0].template_id")
// to the form field that shows it.
func (f *journeyForm) journeyFieldOf(field string, d journey.Definition) string {
	name := field[strings.LastIndex(field, ".")+1:]
	if i := strings.Index(field, "actions["); i >= 0 {
		n, _ := strconv.Atoi(field[i+8 : i+8+strings.Index(field[i+8:], "]")])
		if n < len(d.Actions) {
			switch d.Actions[n].Kind {
			case journey.ActTask:
				if name == "title" {
					return "task_title"
				}
			case journey.ActLead:
				return "lead_product"
			case journey.ActTag:
				if name == "expires_days" {
					return "tag_expires"
				}
			}
		}
	}
	if j := strings.Index(name, "["); j >= 0 {
		name = name[:j]
	}
	return name
}

func (s *server) journeyRefused(w http.ResponseWriter, r *http.Request, f journeyForm, j *journey.Journey, raw []byte, err error) {
	v := journeyEditView{Form: f, Journey: j}
	switch kehu.ErrorCode(err) {
	case kehu.EINVALID:
		var d journey.Definition
		_ = json.Unmarshal(raw, &d)
		var msgs []string
		for _, fe := range kehu.ErrorFields(err) {
			f.Errors[f.journeyFieldOf(fe.Field, d)] = true
			msgs = append(msgs, fe.Field+": "+fe.Reason)
		}
		v.Form, v.Error, v.ErrorKey = f, strings.Join(msgs, "; "), "journeys.error.invalid"
		s.showJourneyEditor(w, r, http.StatusUnprocessableEntity, v)
	case kehu.ECONFLICT:
		f.Errors["name"] = true
		v.Form, v.ErrorKey = f, "journeys.error.name_taken"
		s.showJourneyEditor(w, r, http.StatusConflict, v)
	default:
		s.fail(w, r, err)
	}
}

func (s *server) createJourney(w http.ResponseWriter, r *http.Request) {
	f := journeyFormOf(r)
	raw, ok := f.definition()
	if !ok {
		s.showJourneyEditor(w, r, http.StatusUnprocessableEntity, journeyEditView{Form: f, ErrorKey: "journeys.error.invalid"})
		return
	}
	j, err := s.Journeys.Create(r.Context(), journey.Input{Name: f.Name, Description: f.Description, Definition: raw})
	if err != nil {
		s.journeyRefused(w, r, f, nil, raw, err)
		return
	}
	http.Redirect(w, r, "/journeys/"+strconv.FormatInt(j.ID, 10)+"?done=created", http.StatusSeeOther)
}

func (s *server) saveJourney(w http.ResponseWriter, r *http.Request) {
	old, ok := s.loadJourney(w, r)
	if !ok {
		return
	}
	f := journeyFormOf(r)
	f.ID = old.ID
	raw, ok := f.definition()
	if !ok {
		s.showJourneyEditor(w, r, http.StatusUnprocessableEntity, journeyEditView{Form: f, Journey: &old,
			ErrorKey: "journeys.error.invalid"})
		return
	}
	if _, err := s.Journeys.Update(r.Context(), old.ID, journey.Input{Name: f.Name, Description: f.Description,
		Definition: raw}); err != nil {
		s.journeyRefused(w, r, f, &old, raw, err)
		return
	}
	http.Redirect(w, r, "/journeys/"+strconv.FormatInt(old.ID, 10)+"?done=saved", http.StatusSeeOther)
}

func (s *server) journeyStatus(status string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		j, ok := s.loadJourney(w, r)
		if !ok {
			return
		}
		if _, err := s.Journeys.SetStatus(r.Context(), j.ID, status); err != nil {
			s.fail(w, r, err)
			return
		}
		done := "resumed"
		if status == journey.Paused {
			done = "paused"
		}
		http.Redirect(w, r, "/journeys/"+strconv.FormatInt(j.ID, 10)+"?done="+done, http.StatusSeeOther)
	}
}
