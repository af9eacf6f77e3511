package web

import (
	"net/http"
	"slices"
	"strconv"

	"kehu/internal/access"
	"kehu/internal/campaign"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/segment"
)

// campaignView is a campaign's page: its definition and message, the
// actions the user may take now, the runs' progress and the results.
type campaignView struct {
	C       campaign.Campaign
	Runs    []campaign.Run
	Results campaign.Results
	Reasons []reasonCount
	Message *msgtemplate.Rendered
	Version int
	Actions map[string]bool
	Polling bool
	Notice  string
	// Refusal is why an action was refused, in the page's language (a
	// field, if named, is labelled by the template).
	Refusal  []kehu.FieldError
	ErrorKey string
}

// reasonCount is one suppression reason of the results, largest first.
type reasonCount struct {
	Code  string
	Count int64
}

var campaignNotices = map[string]string{"created": "campaigns.done.created", "saved": "campaigns.done.saved",
	"submit": "campaigns.done.submit", "approve": "campaigns.done.approve", "reject": "campaigns.done.reject",
	"launch": "campaigns.done.launch", "pause": "campaigns.done.pause", "resume": "campaigns.done.resume",
	"cancel": "campaigns.done.cancel"}

// campaignActions are what each status allows, and whose permission.
func campaignActions(c campaign.Campaign, role string) map[string]bool {
	manage, approve := access.Can(role, access.CampaignManage), access.Can(role, access.CampaignApprove)
	out := map[string]bool{}
	switch c.Status {
	case campaign.Draft:
		out["edit"], out["submit"], out["cancel"] = manage, manage, manage
	case campaign.Submitted:
		out["approve"], out["reject"], out["edit"], out["cancel"] = approve, approve, manage, manage
	case campaign.Approved:
		out["launch"], out["edit"], out["cancel"] = manage, manage, manage
	case campaign.Scheduled, campaign.Running:
		out["pause"], out["cancel"] = manage, manage
	case campaign.Paused:
		out["resume"], out["cancel"] = manage, manage
	case campaign.Completed:
		// Its throttled backlog, still queued, can be held and released.
		out["pause"] = manage && c.QueuedMessages > 0
	}
	return out
}

func (s *server) campaignViewOf(r *http.Request, c campaign.Campaign) (campaignView, error) {
	ctx := r.Context()
	v := campaignView{C: c, Actions: campaignActions(c, stateOf(r).actor.Role)}
	var err error
	if v.Runs, err = s.Campaigns.Runs(ctx, c.ID); err != nil {
		return v, err
	}
	if v.Results, err = s.Campaigns.Results(ctx, c.ID); err != nil {
		return v, err
	}
	for code, n := range v.Results.Total.Suppressed {
		v.Reasons = append(v.Reasons, reasonCount{code, n})
	}
	slices.SortFunc(v.Reasons, func(a, b reasonCount) int {
		if a.Count != b.Count {
			return int(b.Count - a.Count)
		}
		return compareStrings(a.Code, b.Code)
	})
	v.Polling = c.Status == campaign.Scheduled || c.Status == campaign.Running
	content, version, ok, err := s.Campaigns.Message(ctx, c)
	if err != nil {
		return v, err
	}
	if ok {
		if ch, isMsg := campaign.OutboxChannel(c.Channel); isMsg {
			v.Message, v.Version = s.sample(ch, content, c.ProductName), version
		}
	}
	return v, nil
}

// sample renders content with the editor's sample customer and the
// campaign's product; nil when it cannot render.
func (s *server) sample(ch msgtemplate.Channel, content msgtemplate.Content, product string) *msgtemplate.Rendered {
	d := msgtemplate.Sample()
	if product != "" {
		d.ProductName = product
	}
	var opt msgtemplate.Options
	if s.Templates != nil {
		opt = s.Templates.Options()
	}
	out, err := msgtemplate.Render(ch, content, d, opt)
	if err != nil {
		return nil
	}
	return &out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *server) showCampaign(w http.ResponseWriter, r *http.Request, status int, c campaign.Campaign, block string,
	edit func(*campaignView)) {
	v, err := s.campaignViewOf(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if edit != nil {
		edit(&v)
	}
	view := s.newView(w, r, "campaigns.title", "campaigns", v)
	view.TitleText = c.Name
	s.render(w, r, status, "campaign", block, view)
}

func (s *server) campaignPage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loadCampaign(w, r)
	if !ok {
		return
	}
	s.showCampaign(w, r, http.StatusOK, c, "layout.html", func(v *campaignView) {
		v.Notice = campaignNotices[r.URL.Query().Get("done")]
	})
}

// campaignProgress is the progress section alone, which the page polls
// while a launch is scheduled or running.
func (s *server) campaignProgress(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loadCampaign(w, r)
	if !ok {
		return
	}
	block := "layout.html"
	if r.Header.Get("HX-Request") == "true" {
		block = "campaign_progress"
	}
	s.showCampaign(w, r, http.StatusOK, c, block, nil)
}

// campaignAction is a maker's or checker's button: submit, approve,
// reject (with the reason typed beside it), launch, pause, resume, cancel.
func (s *server) campaignAction(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loadCampaign(w, r)
	if !ok {
		return
	}
	ctx, svc, reason := r.Context(), s.Campaigns, r.PostFormValue("reason")
	var err error
	switch action := r.PathValue("action"); action {
	case "submit":
		_, err = svc.Submit(ctx, c.ID)
	case "approve":
		_, err = svc.Approve(ctx, c.ID)
	case "reject":
		_, err = svc.Reject(ctx, c.ID, reason)
	case "launch":
		_, err = svc.Launch(ctx, c.ID)
	case "pause":
		_, err = svc.Pause(ctx, c.ID)
	case "resume":
		_, err = svc.Resume(ctx, c.ID)
	case "cancel":
		_, err = svc.Cancel(ctx, c.ID, reason)
	default:
		s.fail(w, r, kehu.Errorf(kehu.ENOTFOUND, "no such action"))
		return
	}
	status := http.StatusOK
	switch kehu.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/campaigns/"+strconv.FormatInt(c.ID, 10)+"?done="+r.PathValue("action"), http.StatusSeeOther)
		return
	case kehu.ECONFLICT:
		status = http.StatusConflict
	case kehu.EFORBIDDEN:
		status = http.StatusForbidden
	case kehu.EINVALID:
		status = http.StatusUnprocessableEntity
	default:
		s.fail(w, r, err)
		return
	}
	reasons := s.campaignReasons(err, stateOf(r).lang)
	s.showCampaign(w, r, status, c, "layout.html", func(v *campaignView) { v.Refusal = reasons })
}

// campaignCountView is the editor's live count of the chosen segment.
type campaignCountView struct {
	Count  int64
	Static bool
	Error  string
}

// campaignSegmentCount counts the chosen segment in the user's scope: the
// snapshot of a static segment, the rule now for a dynamic one.
func (s *server) campaignSegmentCount(w http.ResponseWriter, r *http.Request) {
	var v campaignCountView
	id, err := strconv.ParseInt(r.URL.Query().Get("segment_id"), 10, 64)
	if err == nil {
		var g segment.Segment
		if g, err = s.Segments.Get(r.Context(), id); err == nil {
			if g.Kind == segment.Static && g.MemberCount != nil {
				v.Count, v.Static = *g.MemberCount, true
			} else {
				v.Count, err = s.Segments.Count(r.Context(), g.Rule.JSON())
			}
		}
	}
	if err != nil {
		v.Error = kehu.ErrorMessage(err)
	}
	s.render(w, r, http.StatusOK, "campaign_edit", "campaign_count", s.newView(w, r, "campaigns.title", "campaigns", v))
}

// campaignPreviewView is the editor's preview of the chosen template.
type campaignPreviewView struct {
	Rendered *msgtemplate.Rendered
	Error    string
}

// campaignPreview renders the chosen template with the sample customer and
// the chosen product, as the message will read.
func (s *server) campaignPreview(w http.ResponseWriter, r *http.Request) {
	var v campaignPreviewView
	q := r.URL.Query()
	id, err := strconv.ParseInt(q.Get("template_id"), 10, 64)
	if err == nil && s.Templates != nil {
		var t msgtemplate.Template
		if t, err = s.Templates.Get(r.Context(), id); err == nil {
			product := ""
			if pid, perr := strconv.ParseInt(q.Get("product_id"), 10, 64); perr == nil {
				if ps, perr := s.Campaigns.Products(r.Context()); perr == nil {
					for _, p := range ps {
						if p.ID == pid {
							product = p.Name
						}
					}
				}
			}
			if v.Rendered = s.sample(t.Channel, t.Content, product); v.Rendered == nil {
				v.Error = "campaigns.preview.needs_product"
			}
		}
	}
	if err != nil && q.Get("template_id") != "" {
		v.Error = "campaigns.preview.none"
	}
	s.render(w, r, http.StatusOK, "campaign_edit", "campaign_preview", s.newView(w, r, "campaigns.title", "campaigns", v))
}

// numbersView is a results column formatted for the page: rates and lift
// in percent with two decimals, money in yuan.
type numbersView struct {
	campaign.Numbers
	RateT, RateC, Lift, Low, High, ROI string
	Cost, Value, Incremental           int64
}

func pctOf(x float64) string { return strconv.FormatFloat(x*100, 'f', 2, 64) + "%" }

func formatNumbers(n campaign.Numbers) numbersView {
	v := numbersView{Numbers: n, RateT: pctOf(n.RateTreatment), RateC: pctOf(n.RateControl),
		Cost: n.Cost, Value: n.Value, Incremental: n.IncrementalValue}
	if n.Lift.Defined {
		v.Lift, v.Low, v.High = pctOf(n.Lift.Difference), pctOf(n.Lift.Low), pctOf(n.Lift.High)
	}
	if n.ROI != nil {
		v.ROI = pctOf(*n.ROI)
	}
	return v
}

// Total and PerRun format the results for the template.
func (v campaignView) Total() numbersView { return formatNumbers(v.Results.Total) }

// PerRun is each run's formatted numbers.
func (v campaignView) PerRun() []numbersView {
	out := make([]numbersView, len(v.Results.Runs))
	for i, r := range v.Results.Runs {
		out[i] = formatNumbers(r.Numbers)
	}
	return out
}

// Buttons are the plain actions allowed now, in lifecycle order (reject
// and cancel have their own forms with a reason).
func (v campaignView) Buttons() []string {
	var out []string
	for _, a := range []string{"submit", "approve", "launch", "pause", "resume"} {
		if v.Actions[a] {
			out = append(out, a)
		}
	}
	return out
}
