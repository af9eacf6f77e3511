package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"kehu/internal/campaign"
)

func (a *api) campaignsEnabled() error {
	if a.d.Campaigns == nil {
		return newProblem(http.StatusNotFound, ProblemNotFound, "campaigns are not enabled on this server")
	}
	return nil
}

// campaignBody creates or replaces a campaign. Amounts are fen.
type campaignBody struct {
	Name               string             `json:"name"`
	Description        string             `json:"description"`
	SegmentID          int64              `json:"segment_id"`
	ProductID          *int64             `json:"product_id"`
	Channel            string             `json:"channel"`
	TemplateID         *int64             `json:"template_id"`
	Purpose            string             `json:"purpose"`
	Schedule           campaignScheduleIn `json:"schedule"`
	ControlPct         int                `json:"control_pct"`
	ThrottlePerMinute  int                `json:"throttle_per_minute"`
	ConversionDays     int                `json:"conversion_days"`
	HoldHours          int                `json:"hold_hours"`
	CostPerMessage     int64              `json:"cost_per_message"`
	ValuePerConversion int64              `json:"value_per_conversion"`
}

type campaignScheduleIn struct {
	Kind    string     `json:"kind"`
	StartAt *time.Time `json:"start_at"`
	EndAt   *time.Time `json:"end_at"`
}

func (b campaignBody) input() campaign.Input {
	return campaign.Input{Name: b.Name, Description: b.Description, SegmentID: b.SegmentID, ProductID: b.ProductID,
		Channel: b.Channel, TemplateID: b.TemplateID, Purpose: b.Purpose,
		Schedule:   campaign.Schedule{Kind: b.Schedule.Kind, StartAt: b.Schedule.StartAt, EndAt: b.Schedule.EndAt},
		ControlPct: b.ControlPct, ThrottlePerMinute: b.ThrottlePerMinute, ConversionDays: b.ConversionDays,
		HoldHours: b.HoldHours, CostPerMessage: b.CostPerMessage, ValuePerConversion: b.ValuePerConversion}
}

type campaignList struct {
	Items []campaign.Campaign `json:"items"`
}

func (a *api) listCampaigns(w http.ResponseWriter, r *http.Request) error {
	if err := a.campaignsEnabled(); err != nil {
		return err
	}
	cs, err := a.d.Campaigns.List(r.Context(), r.URL.Query().Get("status"))
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []campaign.Campaign{}
	}
	writeJSON(w, http.StatusOK, campaignList{Items: cs})
	return nil
}

func (a *api) createCampaign(w http.ResponseWriter, r *http.Request) error {
	if err := a.campaignsEnabled(); err != nil {
		return err
	}
	var in campaignBody
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := a.d.Campaigns.Create(r.Context(), in.input())
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/campaigns/"+strconv.FormatInt(c.ID, 10))
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (a *api) updateCampaign(w http.ResponseWriter, r *http.Request) error {
	if err := a.campaignsEnabled(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in campaignBody
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := a.d.Campaigns.Update(r.Context(), id, in.input())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// campaignVerb is the handler of a route that acts on one campaign and
// answers it: get, submit, approve, launch, pause, resume.
func campaignVerb(act func(*campaign.Service, context.Context, int64) (campaign.Campaign, error)) func(*api, http.ResponseWriter, *http.Request) error {
	return func(a *api, w http.ResponseWriter, r *http.Request) error {
		return a.campaignAction(w, r, func(ctx context.Context, id int64) (campaign.Campaign, error) {
			return act(a.d.Campaigns, ctx, id)
		})
	}
}

// campaignAction reads the campaign id, runs act and answers the campaign.
func (a *api) campaignAction(w http.ResponseWriter, r *http.Request,
	act func(ctx context.Context, id int64) (campaign.Campaign, error)) error {
	if err := a.campaignsEnabled(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := act(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// campaignReason is the body of reject (required) and cancel (optional).
type campaignReason struct {
	Reason string `json:"reason"`
}

func (a *api) rejectCampaign(w http.ResponseWriter, r *http.Request) error {
	var in campaignReason
	return a.campaignAction(w, r, func(ctx context.Context, id int64) (campaign.Campaign, error) {
		if err := decodeJSON(w, r, &in); err != nil {
			return campaign.Campaign{}, err
		}
		return a.d.Campaigns.Reject(ctx, id, in.Reason)
	})
}

func (a *api) cancelCampaign(w http.ResponseWriter, r *http.Request) error {
	var in campaignReason
	return a.campaignAction(w, r, func(ctx context.Context, id int64) (campaign.Campaign, error) {
		if err := decodeJSON(w, r, &in); err != nil {
			return campaign.Campaign{}, err
		}
		return a.d.Campaigns.Cancel(ctx, id, in.Reason)
	})
}

type campaignRunList struct {
	Items []campaign.Run `json:"items"`
}

func (a *api) campaignRuns(w http.ResponseWriter, r *http.Request) error {
	if err := a.campaignsEnabled(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	runs, err := a.d.Campaigns.Runs(r.Context(), id)
	if err != nil {
		return err
	}
	if runs == nil {
		runs = []campaign.Run{}
	}
	writeJSON(w, http.StatusOK, campaignRunList{Items: runs})
	return nil
}

type campaignMemberPage struct {
	Items      []campaign.Member `json:"items"`
	NextCursor *string           `json:"next_cursor"`
}

func (a *api) campaignMembers(w http.ResponseWriter, r *http.Request) error {
	if err := a.campaignsEnabled(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	limit, after, issues := pageParams(r, nil)
	run := 0
	if s := r.URL.Query().Get("run"); s != "" {
		if run, err = strconv.Atoi(s); err != nil || run < 1 {
			issues = append(issues, FieldIssue{"run", "must be a run number (1, 2, …)"})
		}
	}
	if len(issues) > 0 {
		return badBody("a query parameter is invalid", issues...)
	}
	p, err := a.d.Campaigns.Members(r.Context(), id, run, after, limit)
	if err != nil {
		return err
	}
	out := campaignMemberPage{Items: p.Items, NextCursor: p.NextCursor.Next()}
	if out.Items == nil {
		out.Items = []campaign.Member{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *api) campaignResults(w http.ResponseWriter, r *http.Request) error {
	if err := a.campaignsEnabled(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	res, err := a.d.Campaigns.Results(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
