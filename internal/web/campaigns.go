package web

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kehu/internal/access"
	"kehu/internal/campaign"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/segment"
)

// campaignRoutes are the 营销活动 pages (docs/CAMPAIGNS.md): the list, the
// editor (segment with its live count, product, channel, template with its
// preview, schedule, control group, throttle, economics), a campaign's page
// with the maker's and the checker's actions, the progress of a launch
// (polled while it runs) and the results.
func (s *server) campaignRoutes(mux *http.ServeMux) {
	if s.Campaigns == nil {
		return
	}
	mux.HandleFunc("GET /campaigns", s.signedIn(s.campaignsPage))
	mux.HandleFunc("GET /campaigns/new", s.signedIn(s.needCampaignManage(s.newCampaignPage)))
	mux.HandleFunc("POST /campaigns", s.signedIn(s.checkCSRF(s.needCampaignManage(s.createCampaign))))
	mux.HandleFunc("GET /campaigns/segment-count", s.signedIn(s.campaignSegmentCount))
	mux.HandleFunc("GET /campaigns/preview", s.signedIn(s.needCampaignManage(s.campaignPreview)))
	mux.HandleFunc("GET /campaigns/{id}", s.signedIn(s.campaignPage))
	mux.HandleFunc("GET /campaigns/{id}/edit", s.signedIn(s.needCampaignManage(s.editCampaignPage)))
	mux.HandleFunc("POST /campaigns/{id}", s.signedIn(s.checkCSRF(s.needCampaignManage(s.saveCampaign))))
	mux.HandleFunc("GET /campaigns/{id}/progress", s.signedIn(s.campaignProgress))
	mux.HandleFunc("POST /campaigns/{id}/{action}", s.signedIn(s.checkCSRF(s.campaignAction)))
}

func (s *server) needCampaignManage(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !access.Can(stateOf(r).actor.Role, access.CampaignManage) {
			s.fail(w, r, kehu.Errorf(kehu.EFORBIDDEN, "your role may not edit campaigns"))
			return
		}
		h(w, r)
	}
}

// campaignsView is the list page.
type campaignsView struct {
	Campaigns []campaign.Campaign
	CanEdit   bool
	Status    string
	Statuses  []string
}

func (s *server) campaignsPage(w http.ResponseWriter, r *http.Request) {
	status := r.URL.Query().Get("status")
	cs, err := s.Campaigns.List(r.Context(), status)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := campaignsView{Campaigns: cs, CanEdit: access.Can(stateOf(r).actor.Role, access.CampaignManage),
		Status: status, Statuses: campaign.Statuses}
	s.render(w, r, http.StatusOK, "campaigns", "layout.html", s.newView(w, r, "campaigns.title", "campaigns", v))
}

// campaignForm is the editor as typed: amounts in yuan, times as the
// browser's datetime-local in Asia/Shanghai.
type campaignForm struct {
	ID                                    int64
	Name, Description                     string
	SegmentID, ProductID, TemplateID      string
	Channel, ScheduleKind, StartAt, EndAt string
	ControlPct, Throttle, ConversionDays  string
	HoldHours                             string
	CostPerMessage, ValuePerConversion    string
	Errors                                map[string]bool
	Messages                              []kehu.FieldError
}

// campaignEditView is the editor page with its pickers.
type campaignEditView struct {
	Form      campaignForm
	Segments  []segment.Segment
	Products  []campaign.Product
	Templates []msgtemplate.Template
	Channels  []string
	Kinds     []string
}

const localLayout = "2006-01-02T15:04"

func yuan(fen int64) string { return strconv.FormatFloat(float64(fen)/100, 'f', 2, 64) }

func (s *server) formOfCampaign(c campaign.Campaign) campaignForm {
	f := campaignForm{ID: c.ID, Name: c.Name, Description: c.Description, SegmentID: strconv.FormatInt(c.SegmentID, 10),
		Channel: c.Channel, ScheduleKind: c.Schedule.Kind, ControlPct: strconv.Itoa(c.ControlPct),
		Throttle: strconv.Itoa(c.ThrottlePerMinute), ConversionDays: strconv.Itoa(c.ConversionDays),
		HoldHours: strconv.Itoa(c.HoldHours), CostPerMessage: yuan(c.CostPerMessage), ValuePerConversion: yuan(c.ValuePerConversion), Errors: map[string]bool{}}
	if c.ProductID != nil {
		f.ProductID = strconv.FormatInt(*c.ProductID, 10)
	}
	if c.TemplateID != nil {
		f.TemplateID = strconv.FormatInt(*c.TemplateID, 10)
	}
	if c.Schedule.StartAt != nil {
		f.StartAt = c.Schedule.StartAt.In(s.loc).Format(localLayout)
	}
	if c.Schedule.EndAt != nil {
		f.EndAt = c.Schedule.EndAt.In(s.loc).Format(localLayout)
	}
	return f
}

func campaignFormOf(r *http.Request) campaignForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return campaignForm{Name: r.PostFormValue("name"), Description: r.PostFormValue("description"),
		SegmentID: v("segment_id"), ProductID: v("product_id"), TemplateID: v("template_id"), Channel: v("channel"),
		ScheduleKind: v("schedule_kind"), StartAt: v("start_at"), EndAt: v("end_at"), ControlPct: v("control_pct"),
		Throttle: v("throttle_per_minute"), ConversionDays: v("conversion_days"), HoldHours: v("hold_hours"), CostPerMessage: v("cost_per_message"),
		ValuePerConversion: v("value_per_conversion"), Errors: map[string]bool{}}
}

// input reads the form into the service's input, naming the fields that
// are not numbers or times (in lang).
func (s *server) campaignInput(f *campaignForm, lang string) (campaign.Input, bool) {
	in := campaign.Input{Name: f.Name, Description: f.Description, Channel: f.Channel,
		Schedule: campaign.Schedule{Kind: f.ScheduleKind}}
	bad := func(field, key string) {
		f.Errors[field] = true
		f.Messages = append(f.Messages, kehu.FieldError{Field: field, Reason: s.i18n.T(lang, key)})
	}
	id := func(field, text string) *int64 {
		if text == "" {
			return nil
		}
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			bad(field, "campaigns.parse.choice")
			return nil
		}
		return &n
	}
	whole := func(field, text string) int {
		if text == "" {
			return 0
		}
		n, err := strconv.Atoi(text)
		if err != nil {
			bad(field, "campaigns.parse.whole")
		}
		return n
	}
	money := func(field, text string) int64 {
		if text == "" {
			return 0
		}
		x, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 1e12 {
			bad(field, "campaigns.parse.money")
			return 0
		}
		return int64(math.Round(x * 100))
	}
	when := func(field, text string) *time.Time {
		if text == "" {
			return nil
		}
		t, err := time.ParseInLocation(localLayout, text, s.loc)
		if err != nil {
			bad(field, "campaigns.parse.time")
			return nil
		}
		u := t.UTC()
		return &u
	}
	if p := id("segment_id", f.SegmentID); p != nil {
		in.SegmentID = *p
	}
	in.ProductID, in.TemplateID = id("product_id", f.ProductID), id("template_id", f.TemplateID)
	in.Schedule.StartAt, in.Schedule.EndAt = when("schedule.start_at", f.StartAt), when("schedule.end_at", f.EndAt)
	in.ControlPct, in.ThrottlePerMinute = whole("control_pct", f.ControlPct), whole("throttle_per_minute", f.Throttle)
	in.ConversionDays, in.HoldHours = whole("conversion_days", f.ConversionDays), whole("hold_hours", f.HoldHours)
	in.CostPerMessage, in.ValuePerConversion = money("cost_per_message", f.CostPerMessage), money("value_per_conversion", f.ValuePerConversion)
	return in, len(f.Messages) == 0
}

func (s *server) showCampaignEditor(w http.ResponseWriter, r *http.Request, status int, f campaignForm) {
	ctx := r.Context()
	v := campaignEditView{Form: f, Channels: campaign.Channels, Kinds: campaign.ScheduleKinds}
	var err error
	if v.Segments, err = s.Segments.List(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	if v.Products, err = s.Campaigns.Products(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.Templates != nil {
		ts, err := s.Templates.List(ctx, "")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, t := range ts {
			if t.Purpose == msgtemplate.Marketing {
				v.Templates = append(v.Templates, t)
			}
		}
	}
	if v.Form.Errors == nil {
		v.Form.Errors = map[string]bool{}
	}
	title := "campaigns.new"
	if f.ID != 0 {
		title = "campaigns.edit"
	}
	s.render(w, r, status, "campaign_edit", "layout.html", s.newView(w, r, title, "campaigns", v))
}

func (s *server) newCampaignPage(w http.ResponseWriter, r *http.Request) {
	s.showCampaignEditor(w, r, http.StatusOK, campaignForm{Channel: campaign.SMS, ScheduleKind: campaign.Once,
		ControlPct: "10", Throttle: "0", ConversionDays: strconv.Itoa(campaign.DefaultConversionDays),
		HoldHours: strconv.Itoa(campaign.DefaultHoldHours), CostPerMessage: "0.05", ValuePerConversion: "0.00"})
}

func (s *server) editCampaignPage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loadCampaign(w, r)
	if !ok {
		return
	}
	s.showCampaignEditor(w, r, http.StatusOK, s.formOfCampaign(c))
}

// saveCampaignForm creates (id 0) or saves the form and goes to the
// campaign's page, or shows the editor again naming what was refused.
func (s *server) saveCampaignForm(w http.ResponseWriter, r *http.Request, id int64) {
	f := campaignFormOf(r)
	f.ID = id
	lang := stateOf(r).lang
	in, ok := s.campaignInput(&f, lang)
	if !ok {
		s.showCampaignEditor(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	var c campaign.Campaign
	var err error
	done := "created"
	if id == 0 {
		c, err = s.Campaigns.Create(r.Context(), in)
	} else {
		c, err = s.Campaigns.Update(r.Context(), id, in)
		done = "saved"
	}
	if ws := campaign.Worded(err); ws != nil {
		// Refused: every reason in the page's language, beside its field.
		for _, fe := range s.campaignReasons(err, lang) {
			if fe.Field != "" {
				f.Errors[fe.Field] = true
			}
			f.Messages = append(f.Messages, fe)
		}
		s.showCampaignEditor(w, r, refusedStatus(err), f)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/campaigns/"+strconv.FormatInt(c.ID, 10)+"?done="+done, http.StatusSeeOther)
}

func (s *server) createCampaign(w http.ResponseWriter, r *http.Request) { s.saveCampaignForm(w, r, 0) }

func (s *server) saveCampaign(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loadCampaign(w, r)
	if !ok {
		return
	}
	s.saveCampaignForm(w, r, c.ID)
}

func (s *server) loadCampaign(w http.ResponseWriter, r *http.Request) (campaign.Campaign, bool) {
	id, ok := pathInt(r, "id")
	if !ok {
		s.fail(w, r, kehu.Errorf(kehu.ENOTFOUND, "no such campaign"))
		return campaign.Campaign{}, false
	}
	c, err := s.Campaigns.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return c, false
	}
	return c, true
}

// campaignReasons words a campaign refusal in lang, one per field ("" for
// the campaign as a whole). The campaign package words every validation
// and lifecycle refusal; a missing permission (refused before the campaign
// is read) is the catalogue's sentence.
func (s *server) campaignReasons(err error, lang string) []kehu.FieldError {
	var out []kehu.FieldError
	for _, w := range campaign.Worded(err) {
		out = append(out, kehu.FieldError{Field: w.Field, Reason: w.Text(lang)})
	}
	switch {
	case out != nil:
	case kehu.ErrorCode(err) == kehu.EFORBIDDEN:
		out = []kehu.FieldError{{Reason: s.i18n.T(lang, "campaigns.error.forbidden")}}
	default:
		out = []kehu.FieldError{{Reason: s.i18n.T(lang, "campaigns.error.refused")}}
	}
	return out
}

// refusedStatus is the HTTP status of a page showing a refusal.
func refusedStatus(err error) int {
	switch kehu.ErrorCode(err) {
	case kehu.ECONFLICT:
		return http.StatusConflict
	case kehu.EFORBIDDEN:
		return http.StatusForbidden
	}
	return http.StatusUnprocessableEntity
}
